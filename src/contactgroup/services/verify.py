"""`verify`: prove the projections are exactly what the event log says, and that the log is intact.

The log is read in order; every leaf hash is recomputed from the stored bytes; the events are replayed into a
scratch SQLite database built by the same migrations; every projection table is compared row by row.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.event import evolve
from contactgroup.domain.state import TABLES, State, from_data
from contactgroup.storage import schema
from contactgroup.storage.database import Database, decode, leaf_hash, read_events, write_projections


@dataclass
class Finding:
    where: str  # "events[12]" or "offers[O-00012]"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class VerifyReport:
    events: int = 0
    rows: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    leaf_hashes: list[bytes] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _rows(conn: Connection, table: str) -> dict[str, str]:
    """Rows of a projection table by key, in an engine-independent text form."""
    spec = TABLES[table]
    rows = {}
    for row in conn.execute(sa.select(schema.projections[table])).mappings():
        key = "/".join(str(row[k]) for k in spec.key)
        rows[key] = schema.normalised(schema.to_row(from_data(spec.entity, row)))
    return rows


def _check_log(conn: Connection, report: VerifyReport, progress: Callable[[int], None] | None) -> State:
    state = State()
    expected_seq = 0
    for seq, body, stored_leaf in read_events(conn):
        where = f"events[{seq}]"
        if seq != expected_seq:
            kind = "missing (deleted?)" if seq > expected_seq else "duplicated"
            report.findings.append(Finding(f"events[{expected_seq}]", f"event {kind}: the next stored seq is {seq}"))
            expected_seq = seq
        leaf = leaf_hash(body)
        if leaf != stored_leaf:
            report.findings.append(Finding(where, "stored leaf hash does not match the event's bytes (edited?)"))
        report.leaf_hashes.append(leaf)
        try:
            evolve(state, decode(body))
        except (ContactGroupError, KeyError, ValueError, TypeError) as exc:
            report.findings.append(Finding(where, f"cannot be replayed: {exc}"))
        expected_seq += 1
        report.events += 1
        if progress is not None:
            progress(1)
    _check_columns(conn, report)
    return state


def _check_columns(conn: Connection, report: VerifyReport) -> None:
    """The indexed columns of each event row must say what its canonical bytes say."""
    e = schema.events
    for seq, type_, actor, party, authority, at, body in conn.execute(
        sa.select(e.c.seq, e.c.type, e.c.actor, e.c.party, e.c.authority, e.c.at, e.c.body).order_by(e.c.seq)
    ):
        ev = decode(bytes(body))
        if (ev.type, ev.actor, ev.party, ev.authority, ev.at) != (type_, actor, party, authority, at):
            report.findings.append(Finding(f"events[{seq}]", "row columns differ from the event's canonical bytes"))


def verify(db: Database, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Check the record and rebuild every projection from it; findings name the table and key that differ."""
    start = time.perf_counter()
    report = VerifyReport()
    with db.reader() as conn:
        state = _check_log(conn, report, progress)
        live = {table: _rows(conn, table) for table in TABLES}
    with tempfile.TemporaryDirectory(prefix="contactgroup-verify-") as tmp:
        scratch = Database(f"sqlite:///{Path(tmp) / 'rebuilt.db'}")
        scratch.migrate()
        with scratch.engine.begin() as conn:
            state.dirty = {(t, k) for t, entities in state.tables.items() for k in entities}
            write_projections(conn, state, set())
            rebuilt = {table: _rows(conn, table) for table in TABLES}
        scratch.engine.dispose()
    for table in TABLES:
        _compare(table, live[table], rebuilt[table], report)
        report.rows += len(live[table])
    report.seconds = time.perf_counter() - start
    return report


def _compare(table: str, live: dict[str, Any], rebuilt: dict[str, Any], report: VerifyReport) -> None:
    for key in sorted(live.keys() | rebuilt.keys()):
        where = f"{table}[{key}]"
        if key not in rebuilt:
            report.findings.append(Finding(where, "row exists in the database but no event created it"))
        elif key not in live:
            report.findings.append(Finding(where, "the log creates this row but it is missing from the database"))
        elif live[key] != rebuilt[key]:
            report.findings.append(Finding(where, f"differs from the log: stored {live[key]} "
                                                  f"but the log gives {rebuilt[key]}"))
