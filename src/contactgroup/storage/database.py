"""The database: engine set-up for SQLite and PostgreSQL, migrations, and the unit of work that appends events.

One command = one transaction: load the state, decide, append the events, update the projections, commit.
SQLite writers take `BEGIN IMMEDIATE`; PostgreSQL writers queue on an advisory lock, run SERIALIZABLE and are
retried on 40001.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection as Connection  # re-exported: services type their connections with it
from sqlalchemy.engine import Engine

from contactgroup.domain.errors import ContactGroupError, IntegrityError
from contactgroup.domain.event import Event, evolve
from contactgroup.domain.state import TABLES, State, from_data
from contactgroup.encoding.canonical import canonical_bytes
from contactgroup.ledger.merkle import append_nodes
from contactgroup.ledger.merkle import leaf_hash as leaf_hash  # re-exported: older callers import it here
from contactgroup.storage import schema

DEFAULT_URL = "sqlite:///contactgroup.db"
WRITER_LOCK = 0x636F6E74  # the PostgreSQL advisory lock writers queue on ("cont")
MIGRATIONS = Path(__file__).parent / "migrations"
BODY_VERSION = 1

# The driver errors adapters render (a lost serialization race, a locked or unreachable database), named here so
# that no adapter imports SQLAlchemy: `DatabaseError` is any error the database raised, `OperationalError` one
# about reaching or using it rather than about the data.
DatabaseError = sa.exc.DBAPIError
OperationalError = sa.exc.OperationalError


def resolve_url(db: str | None) -> str:
    """`--db` wins, then CONTACTGROUP_DB, then ./contactgroup.db. A plain path means an SQLite file."""
    url = db or os.environ.get("CONTACTGROUP_DB") or DEFAULT_URL
    return url if "://" in url else f"sqlite:///{url}"


def encode(event: Event, salt: bytes | None = None) -> bytes:
    """The canonical bytes of an event: the Merkle leaf's data. The salt hides confidential content."""
    body = event.envelope()
    body["salt"] = (salt if salt is not None else secrets.token_bytes(16)).hex()
    body["v"] = BODY_VERSION
    return canonical_bytes(body)


def decode(body: bytes) -> Event:
    d = json.loads(body)
    return Event(d["type"], d["data"], d["actor"], d["party"], d["authority"], datetime.fromisoformat(d["at"]))


class TreeNodes:
    """A `merkle.NodeStore` over the `tree_nodes` table of one connection.

    Nodes written in this transaction (`put`) and nodes read once are cached, so appending a batch reads
    each older left sibling at most once (on average less than one read per event).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cache: dict[tuple[int, int], bytes] = {}

    def get(self, level: int, index: int) -> bytes:
        key = (level, index)
        found = self.cache.get(key)
        if found is None:
            t = schema.tree_nodes
            row = self.conn.execute(sa.select(t.c.hash).where(t.c.level == level, t.c.idx == index)).first()
            if row is None:
                raise KeyError(f"no tree node at level {level}, index {index}")
            found = self.cache[key] = bytes(row[0])
        return found

    def put(self, level: int, index: int, hash_: bytes) -> None:
        self.cache[(level, index)] = hash_


class UnitOfWork:
    """The state as of this transaction, and the events recorded in it (applied at once, written at flush)."""

    def __init__(self, conn: Connection, state: State, next_seq: int, persisted: set[tuple[str, Any]]) -> None:
        self.conn = conn
        self.state = state
        self.next_seq = next_seq
        self.pending: list[Event] = []
        self._persisted = persisted

    def record(self, events: Iterable[Event]) -> None:
        for event in events:
            evolve(self.state, event)
            self.pending.append(event)

    def flush(self) -> None:
        if self.pending:
            rows = []
            nodes: list[dict[str, Any]] = []
            store = TreeNodes(self.conn)
            for event in self.pending:
                body = encode(event)
                leaf = leaf_hash(body)
                rows.append({"seq": self.next_seq, "type": event.type, "actor": event.actor, "party": event.party,
                             "authority": event.authority, "at": event.at, "body": body, "leaf_hash": leaf})
                # Event seq n is leaf n: the tree grows in the same transaction as the log.
                for node in append_nodes(store, self.next_seq, leaf):
                    store.put(node.level, node.index, node.hash)
                    nodes.append({"level": node.level, "idx": node.index, "hash": node.hash})
                self.next_seq += 1
            self.conn.execute(schema.events.insert(), rows)
            self.conn.execute(schema.tree_nodes.insert(), nodes)
            self.pending.clear()
        write_projections(self.conn, self.state, self._persisted)


def write_projections(conn: Connection, state: State, persisted: set[tuple[str, Any]]) -> None:
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
        conn.execute(schema.projections[table].insert(), rows)
    state.flushed()


def load_state(conn: Connection) -> tuple[State, set[tuple[str, Any]]]:
    state = State()
    persisted: set[tuple[str, Any]] = set()
    for name, spec in TABLES.items():
        store = state.tables[name]
        loaded = {}
        for row in conn.execute(sa.select(schema.projections[name])).mappings():
            key = row[spec.key[0]] if len(spec.key) == 1 else tuple(row[k] for k in spec.key)
            loaded[key] = from_data(spec.entity, row)
        # In key order, the same on every engine: sums of Decimals (reports) depend on the order they are added in.
        for key in sorted(loaded):
            store[key] = loaded[key]
            persisted.add((name, key))
    return state, persisted


class Database:
    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        self.engine = create_engine(self.url)

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
            raise ContactGroupError(
                f"no contactgroup database at {self.url}: run `contactgroup init` (or `contactgroup demo`) first"
            )
        with self.engine.connect() as conn:
            current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        if current != SCHEMA_REVISION:
            raise ContactGroupError(
                f"the database at {self.url} has schema revision {current}, this version of contactgroup needs "
                f"{SCHEMA_REVISION}: back it up, then run `contactgroup migrate`"
            )

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A writer's unit of work: everything recorded in it is committed together, or nothing is."""
        self.require_initialised()
        with self._writer_connection() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="SERIALIZABLE")
            with conn.begin():
                state, persisted = load_state(conn)
                uow = UnitOfWork(conn, state, next_seq(conn), persisted)
                yield uow
                uow.flush()

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A writer's connection with no unit of work, for the record's own tables (checkpoints, cosignatures)."""
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
    def reader(self) -> Iterator[Connection]:
        """A read-only snapshot (a deferred transaction on SQLite, REPEATABLE READ on PostgreSQL)."""
        self.require_initialised()
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def state(self) -> State:
        with self.reader() as conn:
            return load_state(conn)[0]


# The newest migration in migrations/versions (a test checks they agree); kept here so that an ordinary
# command need not load Alembic to check the schema.
SCHEMA_REVISION = "0004"


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
    return state


def create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa_event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @sa_event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)
