"""The unit-of-work runner and the writer's guarantees: a lost race runs again, a busy database is a Conflict-class
error (exit 5, HTTP 503) that wrote nothing, writers wait for the lock a bounded time, event times never go back,
and the SQLite file is its owner's alone."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from contactgroup.api.app import create_app
from contactgroup.domain.errors import Conflict, DatabaseBusy
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.services.verify import verify
from contactgroup.storage import database, log_tables
from contactgroup.storage.database import WRITER_LOCK, Database, UnitOfWork, last_event, load_state, retrying
from tests.conftest import postgres_schema
from tests.factories import World
from tests.storage.test_store import GUARD, _offer


@contextmanager
def writer_lock_held(db: Database) -> Iterator[None]:
    """Another process's writer, holding the writer lock (SQLite: a write transaction; PostgreSQL: the advisory
    lock) until the block ends."""
    if db.is_sqlite:
        other = sqlite3.connect(str(db.engine.url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = sa.create_engine(db.url)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": WRITER_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": WRITER_LOCK})
            conn.commit()
    engine.dispose()


class TestBusy:
    def test_a_writer_waits_at_most_the_lock_timeout_then_exits_5_having_written_nothing(
        self, world: World, db_url: str
    ) -> None:
        before = len(world.db.state().offers)
        with writer_lock_held(world.db):
            done = subprocess.run(
                [sys.executable, "-m", "contactgroup", "offer", "add", "--member", "DEU", "--item", "155-a",
                 "--quantity", "5", "--available-from", "2024-08-01", "--depot", "DEU", "--db", db_url, "--as", "deu"],
                capture_output=True, text=True, timeout=GUARD, env={**os.environ, "CONTACTGROUP_LOCK_TIMEOUT": "1"})
        assert done.returncode == 5, done.stderr
        assert "nothing was written" in done.stderr and "Traceback" not in done.stderr
        assert len(world.db.state().offers) == before

    def test_the_runner_raises_a_conflict_class_error_for_a_busy_database(self, world: World, db_url: str) -> None:
        db = Database(db_url, lock_timeout=0.5)
        with writer_lock_held(db), pytest.raises(DatabaseBusy) as caught:
            db.run(lambda uow: svc.enter_offer(uow, world.caller("deu"), _offer(9)))
        assert isinstance(caught.value, Conflict) and caught.value.exit_code == 5
        db.engine.dispose()

    def test_the_api_answers_503_with_retry_after_for_a_busy_database(
        self, world: World, db_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CONTACTGROUP_LOCK_TIMEOUT", "0.5")
        client = TestClient(create_app(db_url, clock=world.clock, approvals_as="admin"))
        with writer_lock_held(world.db):
            answer = client.post("/proposals/P-00001/approvals", content="a note")
        assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
        assert answer.headers["content-type"] == "application/problem+json"
        assert "nothing was written" in answer.json()["detail"]


class TestPostgreSQL:
    @pytest.fixture
    def pg(self) -> Iterator[Database]:
        with postgres_schema() as url:
            db = Database(url)
            yield db
            db.engine.dispose()

    def test_timeouts_are_set_on_every_connection(self, pg: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        with pg.engine.connect() as conn:
            assert conn.execute(sa.text("SHOW lock_timeout")).scalar() == "30s"
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "2min"
            assert conn.execute(sa.text("SHOW search_path")).scalar() != '"$user", public'  # the URL's kept
        monkeypatch.setenv("CONTACTGROUP_STATEMENT_TIMEOUT", "5")
        other = Database(pg.url, lock_timeout=2)
        with other.engine.connect() as conn:
            assert conn.execute(sa.text("SHOW lock_timeout")).scalar() == "2s"
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "5s"
        other.engine.dispose()

    def test_a_lost_serialization_race_runs_again(self, pg: Database) -> None:
        engine = pg.engine
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE race (n integer)"))
        attempts: list[int] = []

        def write_skew() -> int:
            attempts.append(1)
            with engine.connect().execution_options(isolation_level="SERIALIZABLE") as a, a.begin():
                a.execute(sa.text("SELECT count(*) FROM race")).scalar()
                if len(attempts) == 1:  # another writer reads and writes the same rows and commits first
                    with engine.connect().execution_options(isolation_level="SERIALIZABLE") as b, b.begin():
                        b.execute(sa.text("SELECT count(*) FROM race")).scalar()
                        b.execute(sa.text("INSERT INTO race VALUES (2)"))
                a.execute(sa.text("INSERT INTO race VALUES (1)"))
            return len(attempts)

        assert retrying(write_skew) == 2
        with engine.connect() as conn:
            assert sorted(conn.execute(sa.text("SELECT n FROM race")).scalars()) == [1, 2]


def _event_times(db: Database) -> list[object]:
    with db.reader() as conn:
        return [row.at for row in log_tables.event_rows(conn)]


def _unstamped_write(db: Database, world: World) -> None:
    """A writer that stamps events with its own clock only (as before event times were kept in order)."""
    with db.writer_transaction() as conn:
        base, persisted = load_state(conn)
        seq, _ = last_event(conn)
        uow = UnitOfWork(conn, base.fork(), seq, persisted, last_at=None)
        svc.enter_offer(uow, world.caller("deu"), _offer(1))
        uow.flush()


class TestEventTimes:
    def test_a_clock_set_back_does_not_take_event_times_back(self, world: World, clock: FixedClock) -> None:
        first = world.do(svc.enter_offer, "deu", _offer(1), status="committed")
        then = clock.at
        clock.at = then - timedelta(days=2)
        second = world.do(svc.enter_offer, "deu", _offer(2), status="committed")
        times = _event_times(world.db)
        assert times == sorted(times) and times[-1] == then
        # What happened when is told by the effective dates, from the clock that decided:
        assert first.committed_on == then.date() and second.committed_on == (then - timedelta(days=2)).date()
        assert verify(world.db).ok

    def test_verify_fails_a_step_back_in_events_stamped_in_order(self, world: World, clock: FixedClock) -> None:
        world.do(svc.enter_offer, "deu", _offer(1))
        clock.at -= timedelta(hours=1)
        _unstamped_write(world.db, world)
        report = verify(world.db)
        assert not report.ok
        assert any("times go backwards" in f.message for f in report.findings), report.findings

    def test_verify_notes_a_step_back_in_an_older_log_without_failing(
        self, world: World, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(database, "BODY_VERSION", 1)
        world.do(svc.enter_offer, "deu", _offer(1))
        clock.at -= timedelta(hours=1)
        _unstamped_write(world.db, world)
        report = verify(world.db)
        assert report.ok, report.findings
        assert report.older_steps_back == 1


def test_the_sqlite_database_and_its_wal_are_created_readable_by_their_owner_only(
    tmp_path: Path, clock: FixedClock
) -> None:
    old = os.umask(0o022)  # the usual default, which gave 0644
    try:
        db = Database(f"sqlite:///{tmp_path / 'private.db'}")
        init_coordination(db, clock)
        with db.reader() as conn:  # a connection open: the -wal and -shm files exist
            conn.execute(sa.text("SELECT 1"))
            files = [tmp_path / name for name in ("private.db", "private.db-wal", "private.db-shm")]
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
        db.engine.dispose()
    finally:
        os.umask(old)
    assert modes == {"private.db": 0o600, "private.db-wal": 0o600, "private.db-shm": 0o600}
