"""The state kept in memory by a long-running process: a published snapshot (state, events applied) that readers
take without waiting, and one writer that decides on a fork of it, commits, then publishes the fork.

The log is the change feed: before deciding, the writer applies (`evolve`) the events another process appended
since its snapshot; a read does the same when the log's head has grown (one query on the log's primary key).

A write for a request sent with an idempotency key is held open once done, still holding the writer lock, until the
request's answer is known: it then commits with the key's answer (`storage.idempotency`), one commit for both, or
rolls back. So a key is never answered without its write, nor a write kept without its key's answer.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from contactgroup.domain.event import evolve
from contactgroup.domain.state import State
from contactgroup.storage.database import (
    Connection,
    Database,
    DatabaseError,
    Persisted,
    UnitOfWork,
    decode,
    last_event,
    load_state,
    read_events,
    retrying,
)
from contactgroup.storage.idempotency import Answer, Keyed, claim, keep

R = TypeVar("R")
FORGET_KEYS_EVERY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A state no one changes any more, and how far into the log it is: `index` events applied. `edge`: the Merkle
    tree's right edge at `index` leaves (`TreeNodes.right_edge`), when this process wrote it: the next write reads
    its left siblings from here, not from the table."""

    state: State
    index: int
    last_at: datetime | None
    edge: Mapping[tuple[int, int], bytes] | None = None


class StateStore:
    """One coordination's state in memory, for a process that serves many requests (the API, a long CLI run)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._writer = threading.Lock()  # one writer at a time in this process (others wait on the database's lock)
        self._publish = threading.Lock()  # held only to swap the snapshot, never while reading the database
        self._published: Snapshot | None = None
        self._keys_forgotten_at: datetime | None = None

    def snapshot(self) -> State:
        """The newest state: the published one, caught up first if another process has appended since. Never waits
        for a writer of this process; the state returned must not be changed."""
        return self.read(lambda _, state: state)

    def read(self, work: Callable[[Connection, State], R]) -> R:
        """`work` on the newest state (as `snapshot`) and the read transaction that found it, so that a request
        reads what else it needs (its caller's token) in the same transaction: one per request, not one each."""
        published = self._published
        with self.db.reader(checked=published is None) as conn:
            head, last_at = last_event(conn)
            if published is not None and published.index == head:
                return work(conn, published.state)
            fresh = self._caught_up(conn, published, head, last_at)
            self._offer(fresh)
            return work(conn, fresh.state)

    def read_at_once(self, work: Callable[[Connection, State], R], *, at_head: bool = True) -> R | None:
        """`work` on the newest state, if that takes no waiting; None if it would (then `read` it on a worker
        thread). It would unless the database is SQLite, whose readers take no lock a writer holds (WAL), and the
        published state is at the log's head (catching up may take long). For the event loop's thread: a read this
        short costs less than the hop to a worker thread and back. Unlike `read`, each of `work`'s statements reads
        a snapshot of its own (`Database.unwaiting_reader`): for reads of rows that no event changes (a token).
        Without `at_head`, on the state published even if another process appended since (for a caller that reads
        no state, one statement fewer)."""
        published = self._published
        if published is None or not self.db.is_sqlite:
            return None
        try:
            with self.db.unwaiting_reader() as conn:
                if at_head and last_event(conn)[0] != published.index:
                    return None
                return work(conn, published.state)
        except DatabaseError:  # locked for a moment (a checkpoint of the WAL): the worker thread's read waits
            return None

    def run(self, work: Callable[[UnitOfWork], R], keyed: Keyed | None = None) -> R:
        """`work` in one writer transaction on a fork of the caught-up state; once committed, the fork is published.
        Run again from the start while the database is busy (`retrying`).

        With `keyed` (a request's idempotency key) the key is claimed in the transaction first (`KeyAnswered` if it
        was answered before: nothing is written), and the transaction is left open once `work` is done, holding
        the writer lock, as `keyed.held`: its `commit(answer)` keeps the answer and commits both, `roll_back()`
        ends it. One of the two must follow, soon: every other writer waits for it."""
        return retrying(lambda: self._write(work, keyed), self.db.lock_timeout)

    def _write(self, work: Callable[[UnitOfWork], R], keyed: Keyed | None) -> R:
        if self._published is None:
            self.db.require_initialised()
        if keyed is not None and keyed.held is not None:
            raise RuntimeError("a keyed request writes once: its first write is still held for its answer")
        with contextlib.ExitStack() as transaction:
            transaction.enter_context(self._writer)
            conn = transaction.enter_context(self.db.writer_transaction())
            if keyed is not None:
                claim(conn, keyed, forget_old=self._forget_old_keys(keyed.now))
            uow = self._unit_of_work(conn)
            result = work(uow)
            uow.flush()
            if keyed is not None:
                keyed.held = _HeldWrite(self, transaction.pop_all(), uow, keyed)
                return result
        # Committed: from here on the fork is a state no one changes.
        self._published_after(uow)
        return result

    def _forget_old_keys(self, now: datetime) -> bool:
        """Whether a keyed write should forget everyone's expired idempotency keys: now and then, not each time."""
        if self._keys_forgotten_at is not None and now - self._keys_forgotten_at < FORGET_KEYS_EVERY:
            return False
        self._keys_forgotten_at = now
        return True

    def _unit_of_work(self, conn: Connection) -> UnitOfWork:
        """A unit of work on a fork of the state at the log's head (caught up first if another process appended)."""
        base = self._published
        head, last_at = last_event(conn)
        if base is None or base.index != head:
            base = self._caught_up(conn, base, head, last_at)
        return UnitOfWork(conn, base.state.fork(), head, Persisted(base.state.tables), last_at, base.edge)

    def _published_after(self, uow: UnitOfWork) -> None:
        self._offer(Snapshot(uow.state, uow.next_seq, uow.last_at, uow.edge))

    def _caught_up(self, conn: Connection, base: Snapshot | None, head: int, last_at: datetime | None) -> Snapshot:
        """The state at `head`: `base` with the events after it applied, or loaded from the tables."""
        if base is None or base.index > head:  # first use, or the database is not the one we had (restored)
            state, _ = load_state(conn)
            return Snapshot(state, head, last_at)
        state = base.state.fork()
        for _, body, _ in read_events(conn, base.index, head):
            evolve(state, decode(body))
        state.in_key_order()
        state.flushed()
        return Snapshot(state, head, last_at)

    def _offer(self, fresh: Snapshot) -> None:
        """Publish `fresh` unless a newer state already was (a reader and the writer may both have caught up)."""
        with self._publish:
            if self._published is None or fresh.index >= self._published.index:
                self._published = fresh


class _Abandoned(Exception):
    """Leaves a held transaction by the exception path, which rolls it back."""


class _HeldWrite:
    """A keyed request's write, done and held open (the writer lock and the transaction, in `transaction`) until
    the request's answer is known."""

    def __init__(self, store: StateStore, transaction: contextlib.ExitStack, uow: UnitOfWork, keyed: Keyed) -> None:
        self._store, self._transaction, self._uow, self._keyed = store, transaction, uow, keyed

    def commit(self, answer: Answer) -> None:
        """Keep `answer` for the key and commit it with the write, then publish the state written (the answer is
        sent after this returns, so a read that follows it finds the write). A commit that fails wrote nothing."""
        with self._transaction:
            keep(self._uow.conn, self._keyed, answer)
        self._store._published_after(self._uow)

    def roll_back(self) -> None:
        with contextlib.suppress(_Abandoned), self._transaction:
            raise _Abandoned
