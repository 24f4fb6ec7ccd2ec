"""The database: engine set-up for SQLite and PostgreSQL, migrations, and the unit of work that appends events.

One command = one transaction: load the state, decide, append the events, update the projections, commit.
SQLite writers take `BEGIN IMMEDIATE`; PostgreSQL writers queue on an advisory lock (for at most the lock timeout),
run SERIALIZABLE and are retried on 40001 by `retrying`, the one runner every adapter goes through.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection as Connection  # re-exported: services type their connections with it
from sqlalchemy.engine import Engine

from contactgroup.domain.errors import ContactGroupError, DatabaseBusy, DatabaseUnavailable, IntegrityError
from contactgroup.domain.event import Event, evolve
from contactgroup.domain.state import TABLES, State
from contactgroup.encoding.canonical import canonical_bytes
from contactgroup.ledger.leaf import ACTOR_COMMITTED, ACTOR_NONCE_BYTES, event_leaf_hash
from contactgroup.ledger.leaf import body_version as body_version  # re-exported: callers read versions here
from contactgroup.ledger.merkle import append_nodes
from contactgroup.ledger.merkle import leaf_hash as leaf_hash  # re-exported: older callers import it here
from contactgroup.storage import schema

DEFAULT_URL = "sqlite:///contactgroup.db"
WRITER_LOCK = 0x636F6E74  # the PostgreSQL advisory lock writers queue on ("cont")
MIGRATIONS = Path(__file__).parent / "migrations"
# 2: the writer stamps event times that never go backwards (`UnitOfWork.record`); `verify` holds every event of
# version 2 or later to it. Version 1 logs may step back in time (a clock that was set back, the old demo).
# 3: the body carries a random `actor_nonce` and its leaf data commits to the actor instead of naming it
# (`ledger.leaf.leaf_data`): a public release shows the events without the accounts that recorded them.
BODY_VERSION = 3
LOCK_TIMEOUT = 30.0  # seconds a writer waits for the writer lock (SQLite's busy timeout, PostgreSQL's lock_timeout)
STATEMENT_TIMEOUT = 120.0  # seconds one PostgreSQL statement may run
R = TypeVar("R")

# The driver errors adapters render (a lost serialization race, a locked or unreachable database), named here so
# that no adapter imports SQLAlchemy: `DatabaseError` is any error the database raised, `OperationalError` one
# about reaching or using it rather than about the data.
DatabaseError = sa.exc.DBAPIError
OperationalError = sa.exc.OperationalError


def resolve_url(db: str | None) -> str:
    """`--db` wins, then CONTACTGROUP_DB, then ./contactgroup.db. A plain path means an SQLite file."""
    url = db or os.environ.get("CONTACTGROUP_DB") or DEFAULT_URL
    return url if "://" in url else f"sqlite:///{url}"


def encode(event: Event, salt: bytes | None = None, actor_nonce: bytes | None = None) -> bytes:
    """The canonical bytes of an event as the log stores them; the leaf hashes `leaf_data` of them. The salt hides
    confidential content from a leaf hash; the actor nonce hides the actor behind its commitment in the leaf."""
    body = event.envelope()
    body["salt"] = (salt if salt is not None else secrets.token_bytes(16)).hex()
    if BODY_VERSION >= ACTOR_COMMITTED:
        body["actor_nonce"] = (actor_nonce if actor_nonce is not None else secrets.token_bytes(ACTOR_NONCE_BYTES)).hex()
    body["v"] = BODY_VERSION
    return canonical_bytes(body)


def decode(body: bytes) -> Event:
    """The event of a stored body (which names its actor)."""
    d = json.loads(body)
    return Event(d["type"], d["data"], d["actor"], d["party"], d["authority"], datetime.fromisoformat(d["at"]))


def decode_leaf(data: bytes) -> Event:
    """The event of a leaf form, as a public release shows it: its actor is not known (""); a whole body decodes
    with its actor, as `decode` gives it."""
    d = json.loads(data)
    return Event(d["type"], d["data"], d.get("actor", ""), d["party"], d["authority"],
                 datetime.fromisoformat(d["at"]))


class TreeNodes:
    """A `merkle.NodeStore` over the `tree_nodes` table of one connection.

    Nodes written in this transaction (`put`) and nodes read once are cached, so appending a batch reads
    each older left sibling at most once (on average less than one read per event). `known`: committed nodes
    already at hand (a long-running writer's right edge, `right_edge`), read from there instead of the table.
    """

    def __init__(self, conn: Connection, known: Mapping[tuple[int, int], bytes] | None = None) -> None:
        self.conn = conn
        self.cache: dict[tuple[int, int], bytes] = dict(known or {})

    def get(self, level: int, index: int) -> bytes:
        key = (level, index)
        found = self.cache.get(key)
        if found is None:
            row = self.conn.execute(_TREE_NODE, {"level": level, "idx": index}).first()
            if row is None:
                raise KeyError(f"no tree node at level {level}, index {index}")
            found = self.cache[key] = bytes(row[0])
        return found

    def put(self, level: int, index: int, hash_: bytes) -> None:
        self.cache[(level, index)] = hash_

    def right_edge(self, size: int) -> dict[tuple[int, int], bytes]:
        """The complete subtrees along the right edge of the tree of `size` leaves, one per set bit of `size`: the
        only nodes the next appends read. Those not at hand are read, in one query."""
        keys = [(level, (size >> level) - 1) for level in range(size.bit_length()) if size >> level & 1]
        missing = [key for key in keys if key not in self.cache]
        if missing:
            t = schema.tree_nodes
            for level, index, hash_ in self.conn.execute(
                    sa.select(t.c.level, t.c.idx, t.c.hash).where(sa.tuple_(t.c.level, t.c.idx).in_(missing))):
                self.cache[(level, index)] = bytes(hash_)
        return {key: self.cache[key] for key in keys}


# Built once, as `_LAST_EVENT`: building a statement cost more than running it.
_INSERT_EVENTS, _INSERT_NODES = schema.events.insert(), schema.tree_nodes.insert()
_INSERTS = {name: table.insert() for name, table in schema.projections.items()}
_TREE_NODE = sa.select(schema.tree_nodes.c.hash).where(schema.tree_nodes.c.level == sa.bindparam("level"),
                                                       schema.tree_nodes.c.idx == sa.bindparam("idx"))


class Persisted:
    """Which rows the projection tables hold: those of the state the unit of work started from (a published
    state, never changed) and those it inserted since."""

    def __init__(self, base: Mapping[str, Mapping[Any, Any]]) -> None:
        self.base = dict(base)
        self.added: set[tuple[str, Any]] = set()

    def __contains__(self, row: tuple[str, Any]) -> bool:
        return row[1] in self.base[row[0]] or row in self.added

    def add(self, row: tuple[str, Any]) -> None:
        self.added.add(row)


class UnitOfWork:
    """The state as of this transaction, and the events recorded in it (applied at once, written at flush).

    Event times never go backwards: the writer holds the writer lock, so it stamps each event with the later of
    the time it was decided at and the previous event's time (`last_at`). What happened earlier is told by the
    effective dates events carry (committed_on, dispatched_on, received_on), never by going back in time."""

    def __init__(self, conn: Connection, state: State, next_seq: int, persisted: Persisted,
                 last_at: datetime | None = None, edge: Mapping[tuple[int, int], bytes] | None = None) -> None:
        """`edge`: the tree's right edge at `next_seq` leaves, if the caller has it (`TreeNodes.right_edge`)."""
        self.conn = conn
        self.state = state
        self.next_seq = next_seq
        self.last_at = last_at
        self.pending: list[Event] = []
        self.nodes = TreeNodes(conn, edge)
        self.edge = edge  # the right edge at `next_seq`, once known
        self._persisted = persisted

    def record(self, events: Iterable[Event]) -> None:
        for event in events:
            if self.last_at is not None and event.at < self.last_at:
                event = dataclasses.replace(event, at=self.last_at)
            self.last_at = event.at
            evolve(self.state, event)
            self.pending.append(event)

    def flush(self) -> None:
        if self.pending:
            rows = []
            nodes: list[dict[str, Any]] = []
            store = self.nodes
            for event in self.pending:
                body = encode(event)
                leaf = event_leaf_hash(body)
                rows.append({"seq": self.next_seq, "type": event.type, "actor": event.actor, "party": event.party,
                             "authority": event.authority, "at": event.at, "body": body, "leaf_hash": leaf})
                # Event seq n is leaf n: the tree grows in the same transaction as the log.
                for node in append_nodes(store, self.next_seq, leaf):
                    store.put(node.level, node.index, node.hash)
                    nodes.append({"level": node.level, "idx": node.index, "hash": node.hash})
                self.next_seq += 1
            self.conn.execute(_INSERT_EVENTS, rows)
            self.conn.execute(_INSERT_NODES, nodes)
            self.pending.clear()
            self.edge = self.nodes.right_edge(self.next_seq)
        write_projections(self.conn, self.state, self._persisted)
        self.state.in_key_order()


def write_projections(conn: Connection, state: State, persisted: Persisted | set[tuple[str, Any]]) -> None:
    inserts: dict[str, list[dict[str, Any]]] = {}
    for table, key, entity in state.changed():
        row = schema.to_row(entity)
        if (table, key) in persisted:
            t = schema.projections[table]
            where = sa.and_(*(t.c[k] == row[k] for k in TABLES[table].key))
            conn.execute(t.update().where(where).values(**row))
        else:
            inserts.setdefault(table, []).append(row)
            persisted.add((table, key))
    for table, rows in inserts.items():
        conn.execute(_INSERTS[table], rows)
    state.flushed()


def load_state(conn: Connection) -> tuple[State, Persisted]:
    """The state in the projection tables, and which rows they hold (every row of that state: a unit of work
    changes a `fork()` of it)."""
    state = State()
    for name, spec in TABLES.items():
        table = schema.projections[name]
        read = schema.ROW_READERS[name]
        at = [list(table.columns.keys()).index(k) for k in spec.key]
        loaded = {}
        for row in conn.execute(sa.select(table)).all():
            key = row[at[0]] if len(at) == 1 else tuple(row[i] for i in at)
            loaded[key] = read(row)
        # In key order, the same on every engine: sums of Decimals (reports) depend on the order they are added in.
        state.tables[name] = dict(sorted(loaded.items()))
    return state, Persisted(state.tables)


# Built once: every API request asks it, and building the statement cost more than running it.
_LAST_EVENT = sa.select(schema.events.c.seq, schema.events.c.at).order_by(schema.events.c.seq.desc()).limit(1)


def last_event(conn: Connection) -> tuple[int, datetime | None]:
    """(next seq, time of the last event): where the log ends, in one query on its primary key."""
    row = conn.execute(_LAST_EVENT).first()
    return (0, None) if row is None else (int(row[0]) + 1, row[1])


class Database:
    def __init__(self, url: str | None = None, *, lock_timeout: float | None = None) -> None:
        """`lock_timeout`: seconds a writer waits for another writer (default CONTACTGROUP_LOCK_TIMEOUT, or 30)."""
        self.url = resolve_url(url)
        self.lock_timeout = lock_timeout if lock_timeout is not None else _seconds("CONTACTGROUP_LOCK_TIMEOUT",
                                                                                    LOCK_TIMEOUT)
        self.engine = create_engine(self.url, self.lock_timeout, _seconds("CONTACTGROUP_STATEMENT_TIMEOUT",
                                                                          STATEMENT_TIMEOUT))
        self._unwaiting: Engine | None = None  # `unwaiting_reader`'s, made at its first use

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (creates it in an empty database)."""
        from alembic import command  # imported here: only init and migrate pay for Alembic

        config = _alembic_config()
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def is_initialised(self) -> bool:
        path = self.engine.url.database
        if self.is_sqlite and path and path != ":memory:" and not Path(path).exists():
            return False  # do not let the check itself create an empty file
        return sa.inspect(self.engine).has_table("events")

    def require_initialised(self) -> None:
        if not self.is_initialised():
            raise ContactGroupError(f"no contactgroup database at {self.url}", code="no-database")
        with self.engine.connect() as conn:
            current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        if current != SCHEMA_REVISION:
            raise ContactGroupError(
                f"the database at {self.url} has schema revision {current}, this version of contactgroup needs "
                f"{SCHEMA_REVISION}", code="schema-behind"
            )

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A writer's unit of work: everything recorded in it is committed together, or nothing is.

        Whoever calls this owns the transaction (services never commit); to be retried when the database is busy
        it runs inside `retrying` (`run` does both)."""
        self.require_initialised()
        with self.writer_transaction() as conn:
            base, persisted = load_state(conn)
            seq, last_at = last_event(conn)
            uow = UnitOfWork(conn, base.fork(), seq, persisted, last_at)
            yield uow
            uow.flush()

    def run(self, work: Callable[[UnitOfWork], R]) -> R:
        """The unit-of-work runner: `work` in one writer transaction, committed when it returns, run again from
        the start while the database is busy (`retrying`)."""

        def once() -> R:
            with self.transaction() as uow:
                return work(uow)

        return retrying(once, self.lock_timeout)

    @contextmanager
    def writer_transaction(self) -> Iterator[Connection]:
        """A writer's open transaction (SERIALIZABLE on PostgreSQL), committed on leaving the block."""
        with self._writer_connection() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="SERIALIZABLE")
            with conn.begin():
                yield conn

    @contextmanager
    def writer(self, *, checked: bool = True) -> Iterator[Connection]:
        """A writer's connection with no unit of work, for the record's own tables (checkpoints, cosignatures).
        `checked`: first check that the database is initialised at the expected schema (as `reader`)."""
        if checked:
            self.require_initialised()
        with self._writer_connection() as conn, conn.begin():
            yield conn

    @contextmanager
    def _writer_connection(self) -> Iterator[Connection]:
        """A connection that writers take one at a time.

        SQLite queues writers itself (BEGIN IMMEDIATE). On PostgreSQL every writer appends to the same log, so
        concurrent SERIALIZABLE writers would mostly fail and retry; instead each first takes a session-level
        advisory lock, outside its transaction so that the transaction's snapshot is taken after the lock is
        held. The lock goes with the session if the process dies.
        """
        with self.engine.connect() as conn:
            conn = conn.execution_options(writer=True)
            if self.is_sqlite:
                yield conn
                return
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": WRITER_LOCK})
            conn.commit()
            try:
                yield conn
            finally:
                try:
                    conn.rollback()
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": WRITER_LOCK})
                    conn.commit()
                except sa.exc.DBAPIError:
                    conn.invalidate()  # the session, and with it the lock, ends with the connection

    @contextmanager
    def reader(self, *, checked: bool = True) -> Iterator[Connection]:
        """A read-only snapshot (a deferred transaction on SQLite, REPEATABLE READ on PostgreSQL). `checked`: first
        check that the database is initialised at the expected schema (the state store did so once)."""
        if checked:
            self.require_initialised()
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def unwaiting_reader(self) -> Iterator[Connection]:
        """Reads of an SQLite database that never wait: each thread's connection of its own with no busy timeout,
        so a database locked for a moment raises `DatabaseError` at once. Each statement reads a snapshot of its
        own (no BEGIN and COMMIT around them: short reads that need no common snapshot). For a request's look on
        the event loop's thread (`StateStore.read_at_once`), where waiting would hold up every other request."""
        if not self.is_sqlite:
            raise ValueError("only an SQLite database is read without waiting")
        if self._unwaiting is None:
            self._unwaiting = create_engine(self.url, lock_timeout=0, transactions=False,
                                            poolclass=sa.pool.SingletonThreadPool)
        with self._unwaiting.connect() as conn:
            yield conn

    def state(self) -> State:
        with self.reader() as conn:
            return load_state(conn)[0]


# The newest migration in migrations/versions (a test checks they agree); kept here so that an ordinary
# command need not load Alembic to check the schema.
SCHEMA_REVISION = "0015_mob_plan"


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration shipped in migrations/versions, as Alembic sees it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def next_seq(conn: Connection) -> int:
    last = conn.execute(sa.select(sa.func.max(schema.events.c.seq))).scalar()
    return 0 if last is None else int(last) + 1


def read_events(conn: Connection, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes, bytes]]:
    """(seq, body, leaf_hash) in log order."""
    q = sa.select(schema.events.c.seq, schema.events.c.body, schema.events.c.leaf_hash).where(
        schema.events.c.seq >= start).order_by(schema.events.c.seq)
    if end is not None:
        q = q.where(schema.events.c.seq < end)
    for seq, body, leaf in conn.execute(q):
        yield int(seq), bytes(body), bytes(leaf)


def replay_log(bodies: Sequence[bytes]) -> State:
    state = State()
    for i, body in enumerate(bodies):
        try:
            evolve(state, decode(body))
        except (ContactGroupError, KeyError, ValueError) as exc:
            raise IntegrityError(f"event {i} cannot be replayed: {exc}") from exc
    state.in_key_order()
    return state


def rebuild_projections(conn: Connection, tables: Sequence[str]) -> None:
    """Rewrite projection `tables` from the log replayed under today's rules: what a migration does when a rule
    changed what the events mean (the events themselves are never touched)."""
    state = replay_log([body for _, body, _ in read_events(conn)])
    for name in tables:
        table = schema.projections[name]
        conn.execute(table.delete())
        rows = [schema.to_row(entity) for _, entity in sorted(state.tables[name].items())]
        if rows:
            conn.execute(table.insert(), rows)


def _seconds(variable: str, default: float) -> float:
    value = os.environ.get(variable)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ContactGroupError(f"{variable}: {value!r} is not a number of seconds") from None
    if not seconds > 0:
        raise ContactGroupError(f"{variable}: {value!r} must be a positive number of seconds")
    return seconds


# --- the unit-of-work runner: retries and database errors as domain errors ------------------------------------

RETRIES = 5
RETRIED_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock: the loser wrote nothing
LOCK_TIMEOUT_SQLSTATE = "55P03"  # lock_not_available: waited lock_timeout for the writer lock


def retrying(work: Callable[[], R], lock_timeout: float = LOCK_TIMEOUT, attempts: int = RETRIES) -> R:
    """Run `work` (which opens and commits its own transaction) and run it again from the start, after a random
    pause so that the losers do not meet again, when the database says it wrote nothing because of another
    writer: a PostgreSQL serialization failure or deadlock, or an SQLite "busy" that came at once (a snapshot
    that cannot be upgraded) rather than after waiting out the busy timeout. Every other database error, and the
    last attempt's, is raised as an error of the domain tree (`DatabaseBusy`, `DatabaseUnavailable`)."""
    for attempt in range(attempts):
        started = time.monotonic()
        try:
            return work()
        except DatabaseError as exc:
            waited = time.monotonic() - started
            if attempt < attempts - 1 and _retryable(exc, waited, lock_timeout):
                time.sleep(random.uniform(0.05, 0.1) * 2**attempt)
                continue
            raise database_error(exc, waited) from exc
    raise AssertionError("unreachable")


def _sqlstate(exc: DatabaseError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _is_sqlite_busy(exc: DatabaseError) -> bool:
    text = str(exc.orig)
    return "database is locked" in text or "database is busy" in text


def _retryable(exc: DatabaseError, waited: float, lock_timeout: float) -> bool:
    if _sqlstate(exc) in RETRIED_SQLSTATES:
        return True
    return _is_sqlite_busy(exc) and waited < min(1.0, lock_timeout)


def database_error(exc: DatabaseError, waited: float = 0.0) -> ContactGroupError:
    """A driver's error as one of the domain tree's, with the driver's first line as `detail`."""
    text = str(exc.orig).strip()
    detail = text.splitlines()[0] if text else type(exc.orig).__name__
    if _sqlstate(exc) == LOCK_TIMEOUT_SQLSTATE:
        return DatabaseBusy(f"another writer held the writer lock for longer than this one waits ({waited:.0f} s); "
                            "nothing was written", reason="lock-timeout", detail=detail, waited=waited)
    if _sqlstate(exc) in RETRIED_SQLSTATES or _is_sqlite_busy(exc):
        return DatabaseBusy(f"the database is busy with another writer ({detail}); nothing was written",
                            detail=detail, waited=waited)
    if "file is not a database" in detail:
        return DatabaseUnavailable(f"not a contactgroup database ({detail}); nothing was read or written",
                                   reason="not-a-database", detail=detail)
    if isinstance(exc, OperationalError):
        return DatabaseUnavailable(f"cannot use the database ({detail}); nothing was written", detail=detail)
    return DatabaseUnavailable(f"the database refused the change ({detail}); nothing was written",
                               reason="refused", detail=detail)


def _create_private(path: str) -> None:
    """Create an empty SQLite file readable by its owner only (0600): it holds confidential offers in plain text.
    SQLite gives its -wal and -shm files the database file's permissions."""
    if path and path != ":memory:" and not path.startswith("file:") and not os.path.exists(path):
        with contextlib.suppress(FileExistsError):  # another process created it first
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def create_engine(url: str, lock_timeout: float = LOCK_TIMEOUT, statement_timeout: float = STATEMENT_TIMEOUT,
                  *, transactions: bool = True, **options: Any) -> Engine:
    """An engine for `url`; `options` go to SQLAlchemy's (an SQLite engine's pool class). Without `transactions`,
    each statement on SQLite is a transaction of its own (its autocommit): no BEGIN and COMMIT around a read."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": lock_timeout}, **options)

        @sa_event.listens_for(engine, "do_connect")
        def _private(_dialect: Any, _record: Any, cargs: Any, _cparams: Any) -> None:
            _create_private(str(cargs[0]) if cargs else "")

        @sa_event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        if transactions:
            @sa_event.listens_for(engine, "begin")
            def _begin(conn: Connection) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")

        return engine
    # A writer waits for the writer lock at most lock_timeout (then 55P03: nothing was written); no statement runs
    # longer than statement_timeout.
    timeouts = f"-c lock_timeout={int(lock_timeout * 1000)} -c statement_timeout={int(statement_timeout * 1000)}"
    engine = sa.create_engine(url, pool_pre_ping=True)

    @sa_event.listens_for(engine, "do_connect")
    def _timeouts(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["options"] = f"{cparams.get('options', '')} {timeouts}".strip()  # beside any the URL gives

    return engine
