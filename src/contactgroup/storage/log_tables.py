"""The record's tables: event rows, tree nodes, checkpoints, cosignatures, settings — read and append.

Small named queries over one `Connection`, so the services that sign, prove and verify the record need no SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contactgroup.domain.state import TABLES, from_data
from contactgroup.storage import schema

# --- settings and projections ---------------------------------------------------------------------------------


def settings(conn: Connection) -> dict[str, str]:
    """Every setting as name → value, from the `settings` projection."""
    t = schema.projections["settings"]
    return {str(n): str(v) for n, v in conn.execute(sa.select(t.c.name, t.c.value))}


def entities(conn: Connection, table: str) -> list[Any]:
    """Every entity of a projection table (witnesses, quorum rules), in key order."""
    t = schema.projections[table]
    order = [t.c[k] for k in TABLES[table].key]
    return [from_data(TABLES[table].entity, row) for row in conn.execute(sa.select(t).order_by(*order)).mappings()]


def projection_rows(conn: Connection, table: str) -> dict[str, str]:
    """Rows of a projection table by key, in an engine-independent text form."""
    spec = TABLES[table]
    rows = {}
    for row in conn.execute(sa.select(schema.projections[table])).mappings():
        key = "/".join(str(row[k]) for k in spec.key)
        rows[key] = schema.normalised(schema.to_row(from_data(spec.entity, row)))
    return rows


def projection_rows_one_by_one(conn: Connection, table: str) -> tuple[dict[str, str], dict[str, str]]:
    """`projection_rows` for a table holding a value that cannot be read: (readable rows by key, error by key).

    Slow (one query per row); for naming the bad rows after `projection_rows` failed."""
    spec = TABLES[table]
    t = schema.projections[table]
    key_columns = [sa.cast(t.c[k], sa.String) for k in spec.key]
    rows, errors = {}, {}
    for values in conn.execute(sa.select(*key_columns)).all():
        key = "/".join(str(v) for v in values)
        where = [sa.cast(t.c[k], sa.String) == v for k, v in zip(spec.key, values, strict=True)]
        try:
            row = conn.execute(sa.select(t).where(*where)).mappings().one()
            rows[key] = schema.normalised(schema.to_row(from_data(spec.entity, row)))
        except Exception as exc:  # any unreadable value is the caller's finding
            errors[key] = f"{type(exc).__name__}: {exc}"
    return rows, errors


# --- event rows -----------------------------------------------------------------------------------------------


class EventRow(NamedTuple):
    """An event row's indexed columns and its canonical bytes."""

    seq: int
    type: str
    actor: str
    party: str
    authority: str
    at: datetime
    body: bytes


def event_rows(conn: Connection, start: int = 0) -> Iterator[EventRow]:
    """Every event row (from seq `start`) with its indexed columns, in log order."""
    e = schema.events
    q = sa.select(e.c.seq, e.c.type, e.c.actor, e.c.party, e.c.authority, e.c.at, e.c.body).where(
        e.c.seq >= start).order_by(e.c.seq)
    for seq, type_, actor, party, authority, at, body in conn.execute(q):
        yield EventRow(int(seq), type_, actor, party, authority, at, bytes(body))


def events_of_type(conn: Connection, type_: str, before: int) -> list[tuple[int, bytes]]:
    """(seq, body) of the events of one type with seq < `before`, in log order."""
    e = schema.events
    q = sa.select(e.c.seq, e.c.body).where(e.c.type == type_, e.c.seq < before).order_by(e.c.seq)
    return [(int(seq), bytes(body)) for seq, body in conn.execute(q)]


def size_before(conn: Connection, at: datetime) -> int:
    """How many events the log held just before `at`: the seq of its first event at or after `at`, else all of
    them (the writer stamps times that never go backwards, so the events before `at` are this prefix)."""
    e = schema.events
    first = conn.execute(sa.select(sa.func.min(e.c.seq)).where(e.c.at >= at)).scalar()
    return tree_size(conn) if first is None else int(first)


def time_of(conn: Connection, seq: int) -> datetime | None:
    """The record time of event `seq`, or None when there is no such event."""
    e = schema.events
    at: datetime | None = conn.execute(sa.select(e.c.at).where(e.c.seq == seq)).scalar()
    return at


# --- tree nodes -----------------------------------------------------------------------------------------------


def tree_size(conn: Connection) -> int:
    """Leaves in the stored tree: one more than the highest stored leaf index (0 when empty)."""
    t = schema.tree_nodes
    last = conn.execute(sa.select(sa.func.max(t.c.idx)).where(t.c.level == 0)).scalar()
    return 0 if last is None else int(last) + 1


def leaf_hashes(conn: Connection, start: int, end: int) -> list[bytes]:
    """The stored leaf hashes with index in [start, end), in order."""
    t = schema.tree_nodes
    q = sa.select(t.c.hash).where(t.c.level == 0, t.c.idx >= start, t.c.idx < end).order_by(t.c.idx)
    return [bytes(h) for (h,) in conn.execute(q)]


def tree_level(conn: Connection, level: int) -> dict[int, bytes]:
    """The stored nodes of one level of the tree, index → hash."""
    t = schema.tree_nodes
    q = sa.select(t.c.idx, t.c.hash).where(t.c.level == level).order_by(t.c.idx)
    return {int(i): bytes(h) for i, h in conn.execute(q)}


# --- checkpoints ----------------------------------------------------------------------------------------------


def latest_checkpoint(conn: Connection) -> tuple[int, str] | None:
    """(size, signed note) of the largest stored checkpoint, or None."""
    t = schema.checkpoints
    row = conn.execute(sa.select(t.c.size, t.c.note).order_by(t.c.size.desc()).limit(1)).first()
    return None if row is None else (int(row[0]), str(row[1]))


def checkpoint_at(conn: Connection, size: int) -> str | None:
    """The signed note of the stored checkpoint of `size`, or None."""
    t = schema.checkpoints
    note = conn.execute(sa.select(t.c.note).where(t.c.size == size)).scalar()
    return None if note is None else str(note)


def checkpoints(conn: Connection) -> list[tuple[int, str]]:
    """(size, signed note) of every stored checkpoint, smallest first."""
    t = schema.checkpoints
    return [(int(s), str(n)) for s, n in conn.execute(sa.select(t.c.size, t.c.note).order_by(t.c.size))]


def first_checkpoint_from(conn: Connection, size: int) -> tuple[int, str] | None:
    """(size, signed note) of the smallest stored checkpoint of `size` leaves or more, or None."""
    t = schema.checkpoints
    row = conn.execute(sa.select(t.c.size, t.c.note).where(t.c.size >= size).order_by(t.c.size).limit(1)).first()
    return None if row is None else (int(row[0]), str(row[1]))


def checkpoints_after(conn: Connection, size: int) -> Iterator[tuple[int, str]]:
    """(size, signed note) of the stored checkpoints larger than `size`, largest first (read as iterated)."""
    t = schema.checkpoints
    q = sa.select(t.c.size, t.c.note).where(t.c.size > size).order_by(t.c.size.desc())
    for found, note in conn.execute(q):
        yield int(found), str(note)


def checkpoint_signed_at(conn: Connection, size: int) -> datetime | None:
    """When the stored checkpoint of `size` was signed, or None."""
    t = schema.checkpoints
    at: datetime | None = conn.execute(sa.select(t.c.signed_at).where(t.c.size == size)).scalar()
    return at


def insert_checkpoint(conn: Connection, size: int, note: str, signed_at: datetime) -> None:
    """Store the signed note of the checkpoint of `size`."""
    conn.execute(schema.checkpoints.insert().values(size=size, note=note, signed_at=signed_at))


# --- cosignatures ---------------------------------------------------------------------------------------------


def cosignature_lines(conn: Connection, size: int) -> list[str]:
    """The stored cosignature lines of the checkpoint of `size`, by witness name."""
    t = schema.cosignatures
    q = sa.select(t.c.line).where(t.c.size == size).order_by(t.c.witness)
    return [str(line) for (line,) in conn.execute(q)]


def cosignatures(conn: Connection) -> list[tuple[int, str, str, datetime]]:
    """Every stored cosignature as (checkpoint size, witness name, line, received at), in order."""
    t = schema.cosignatures
    q = sa.select(t.c.size, t.c.witness, t.c.line, t.c.received_at).order_by(t.c.size, t.c.witness)
    return [(int(size), str(witness), str(line), at) for size, witness, line, at in conn.execute(q)]


def last_cosigned(conn: Connection) -> dict[str, tuple[int, datetime]]:
    """Each witness's largest cosigned checkpoint size and when that cosignature was received."""
    t = schema.cosignatures
    largest = sa.select(t.c.witness, sa.func.max(t.c.size).label("size")).group_by(t.c.witness).subquery()
    q = sa.select(t.c.witness, t.c.size, t.c.received_at).join(
        largest, sa.and_(t.c.witness == largest.c.witness, t.c.size == largest.c.size))
    return {str(w): (int(size), at) for w, size, at in conn.execute(q)}


def has_cosignature(conn: Connection, size: int, witness: str) -> bool:
    """Whether a cosignature by `witness` of the checkpoint of `size` is stored."""
    t = schema.cosignatures
    return conn.execute(sa.select(t.c.line).where(t.c.size == size, t.c.witness == witness)).first() is not None


def insert_cosignature(conn: Connection, size: int, witness: str, line: str, received_at: datetime) -> None:
    """Store a witness's verified cosignature line of the checkpoint of `size`."""
    conn.execute(schema.cosignatures.insert().values(size=size, witness=witness, line=line, received_at=received_at))
