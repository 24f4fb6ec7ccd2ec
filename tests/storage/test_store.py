"""The state store: readers take the published snapshot and never wait for the writer; the writer catches up from
the log when another process appended; a write changes a fork, never the snapshot readers hold."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from datetime import date, timedelta

import pytest

from contactgroup.domain.errors import Forbidden
from contactgroup.domain.model import Offer, OfferStatus, Source, Visibility
from contactgroup.services import coordination as svc
from contactgroup.services.verify import verify
from contactgroup.storage import idempotency
from contactgroup.storage.database import UnitOfWork
from contactgroup.storage.idempotency import Answer, Answered, KeyAnswered, Keyed
from contactgroup.storage.store import StateStore
from tests.factories import World

GUARD = 120  # seconds: only so that a hang fails the test instead of stalling the suite


def _offer(quantity: int) -> Offer:
    return Offer(id="", member="DEU", item="155-a", quantity=quantity, available_from=date(2024, 8, 1),
                   depot="DEU", source=Source.STOCKS, status=OfferStatus.DRAFT, visibility=Visibility.MEMBER)


def _cli_offer_add(db_url: str, quantity: int) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "contactgroup", "offer", "add", "--member", "DEU", "--item", "155-a", "--quantity",
         str(quantity), "--available-from", "2024-08-01", "--depot", "DEU", "--db", db_url, "--as", "deu"],
        capture_output=True, text=True, timeout=GUARD)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


class TestReads:
    def test_an_append_by_a_cli_in_another_process_is_seen_by_the_next_read(self, world: World, db_url: str) -> None:
        store = StateStore(world.db)
        before = store.snapshot()
        offer_id = _cli_offer_add(db_url, 777)
        after = store.snapshot()
        assert after.offers[offer_id].quantity == 777
        assert offer_id not in before.offers  # the snapshot a reader already holds does not change under it

    def test_a_read_during_a_held_writer_lock_returns_the_previous_snapshot_at_once(self, world: World) -> None:
        store = StateStore(world.db)
        store.snapshot()
        recorded, release = threading.Event(), threading.Event()
        caller = world.caller("deu")

        def slow_write(uow: UnitOfWork) -> Offer:
            offer = svc.enter_offer(uow, caller, _offer(555))
            recorded.set()
            assert release.wait(GUARD)  # holds the writer lock (and the database's) until the reader has read
            return offer

        writer = threading.Thread(target=lambda: store.run(slow_write))
        writer.start()
        try:
            assert recorded.wait(GUARD)
            read: list[object] = []
            reader = threading.Thread(target=lambda: read.append(store.snapshot()))
            reader.start()
            reader.join(GUARD)
            assert read, "the read waited for the writer"
            assert writer.is_alive()  # the writer was still holding its lock when the read returned
            assert 555 not in {o.quantity for o in read[0].offers.values()}  # type: ignore[attr-defined]
        finally:
            release.set()
            writer.join(GUARD)
        assert 555 in {o.quantity for o in store.snapshot().offers.values()}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
class TestReadsAtOnce:
    """`read_at_once`, the event loop's read: at once or not at all (then the caller reads on a worker thread)."""

    def test_only_a_state_at_the_head_of_the_log_is_read_at_once(self, world: World, db_url: str) -> None:
        store = StateStore(world.db)
        assert store.read_at_once(lambda _, state: state) is None  # nothing published yet: loading is no quick read
        published = store.snapshot()
        assert store.read_at_once(lambda _, state: state) is published
        offer_id = _cli_offer_add(db_url, 404)
        assert store.read_at_once(lambda _, state: state) is None  # behind the head: catching up may take long
        assert offer_id in store.snapshot().offers
        caught_up = store.read_at_once(lambda _, state: state)
        assert caught_up is not None and offer_id in caught_up.offers

    def test_a_locked_database_is_not_waited_for(self, world: World) -> None:
        store = StateStore(world.db)
        store.snapshot()
        world.db.engine.dispose()  # the pool's idle connections would keep the locker below from the whole file
        locker = sqlite3.connect(str(world.db.engine.url.database), isolation_level=None)
        try:
            locker.execute("PRAGMA locking_mode=EXCLUSIVE")
            locker.execute("SELECT count(*) FROM events").fetchone()  # holds the file, until it closes
            assert store.read_at_once(lambda _, state: state) is None
        finally:
            locker.close()
        assert store.read_at_once(lambda _, state: state) is not None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_is_never_read_at_once(world: World) -> None:
    store = StateStore(world.db)
    store.snapshot()
    assert store.read_at_once(lambda _, state: state) is None  # across a network: the event loop never waits on it


class TestWrites:
    def test_the_writer_catches_up_with_a_cli_append_before_deciding(self, world: World, db_url: str) -> None:
        store = StateStore(world.db)
        store.snapshot()
        from_cli = _cli_offer_add(db_url, 101)
        mine = store.run(lambda uow: svc.enter_offer(uow, world.caller("deu"), _offer(202)))
        assert mine.id != from_cli  # decided on the caught-up state: the next id, not a second one of the same
        state = world.db.state()
        assert state.offers[from_cli].quantity == 101 and state.offers[mine.id].quantity == 202
        assert verify(world.db).ok

    def test_the_merkle_edge_kept_between_writes_is_never_used_once_another_process_appended(
            self, world: World, db_url: str) -> None:
        store = StateStore(world.db)
        for quantity in range(1, 4):
            store.run(lambda uow, q=quantity: svc.enter_offer(uow, world.caller("deu"), _offer(q)))
        _cli_offer_add(db_url, 10)  # the tree grew without this process: its edge of three writes ago is stale
        for quantity in range(11, 16):  # past a power of two: the new leaves complete subtrees over the CLI's leaf
            store.run(lambda uow, q=quantity: svc.enter_offer(uow, world.caller("deu"), _offer(q)))
        assert verify(world.db).ok

    def test_a_write_changes_a_fork_and_shares_the_tables_it_did_not_touch(self, world: World) -> None:
        store = StateStore(world.db)
        before = store.snapshot()
        offers_before = dict(before.offers)
        store.run(lambda uow: svc.enter_offer(uow, world.caller("deu"), _offer(303)))
        after = store.snapshot()
        assert before.offers == offers_before  # readers' snapshot untouched
        assert len(after.offers) == len(before.offers) + 1
        assert after.tables["members"] is before.tables["members"]  # no copy of what the command did not change

    def test_a_refused_command_publishes_nothing(self, world: World) -> None:
        store = StateStore(world.db)
        before = store.snapshot()
        with pytest.raises(Forbidden):
            store.run(lambda uow: svc.enter_offer(uow, world.caller("fra"), _offer(404)))  # FRA may not offer DEU's
        assert store.snapshot() is before
        assert len(world.db.state().offers) == len(before.offers)


def _keyed(world: World, key: str = "k-1") -> Keyed:
    now = world.clock.now()
    return Keyed("deu", key, b"h" * 32, now, now - timedelta(hours=24))


def _kept(world: World, keyed: Keyed) -> Answered | None:
    with world.db.reader() as conn:
        return idempotency.find(conn, keyed.user, keyed.key, keyed.since)


class TestKeyedWrites:
    """A write sent with an idempotency key commits once, with the key's answer, or not at all."""

    def test_the_write_and_the_answer_are_committed_together(self, world: World) -> None:
        store, keyed = StateStore(world.db), _keyed(world)
        before = store.snapshot()
        offer = store.run(lambda uow: svc.enter_offer(uow, world.caller("deu"), _offer(606)), keyed)
        assert keyed.held is not None
        assert offer.id not in world.db.state().offers and _kept(world, keyed) is None, "held, not committed"
        assert store.snapshot() is before, "nothing published before the commit"
        keyed.held.commit(Answer(201, "{}", b"first"))
        assert offer.id in world.db.state().offers and offer.id in store.snapshot().offers
        kept = _kept(world, keyed)
        assert kept is not None and (kept.status, kept.body) == (201, b"first")

    def test_a_write_that_fails_after_claiming_its_key_leaves_the_key_free(self, world: World) -> None:
        store, keyed = StateStore(world.db), _keyed(world)
        events, offers = world.event_count(), len(world.db.state().offers)

        def dies_once_written(uow: UnitOfWork) -> Offer:
            svc.enter_offer(uow, world.caller("deu"), _offer(707))
            raise RuntimeError("the server stopped")

        with pytest.raises(RuntimeError):
            store.run(dies_once_written, keyed)
        assert keyed.held is None and _kept(world, keyed) is None and world.event_count() == events
        store.run(lambda uow: svc.enter_offer(uow, world.caller("deu"), _offer(707)), keyed)  # the retry runs
        assert keyed.held is not None
        keyed.held.commit(Answer(201, "{}", b"retried"))
        assert len(world.db.state().offers) == offers + 1

    def test_a_write_rolled_back_for_its_answer_leaves_nothing(self, world: World) -> None:
        store, keyed = StateStore(world.db), _keyed(world)
        before, events = store.snapshot(), world.event_count()
        store.run(lambda uow: svc.enter_offer(uow, world.caller("deu"), _offer(808)), keyed)
        assert keyed.held is not None
        keyed.held.roll_back()
        assert world.event_count() == events and _kept(world, keyed) is None and store.snapshot() is before
        store.run(lambda uow: svc.enter_offer(uow, world.caller("deu"), _offer(809)))  # the writer lock is free

    def test_a_key_answered_before_writes_nothing(self, world: World) -> None:
        store, keyed = StateStore(world.db), _keyed(world)
        store.run(lambda uow: svc.enter_offer(uow, world.caller("deu"), _offer(909)), keyed)
        assert keyed.held is not None
        keyed.held.commit(Answer(201, "{}", b"first"))
        events, again = world.event_count(), _keyed(world)
        with pytest.raises(KeyAnswered) as answered:
            store.run(lambda uow: svc.enter_offer(uow, world.caller("deu"), _offer(909)), again)
        assert answered.value.earlier.body == b"first" and world.event_count() == events and again.held is None
