"""A consistent copy of an SQLite database taken while servers and commands keep using it.

Why not `cp`: in WAL mode the newest commits may live only in the -wal file, and a file copied while a writer
commits can be torn. SQLite's online backup copies the pages of one read snapshot, so the copy is the database as
it was at one commit. PostgreSQL has its own tools for this (pg_dump, see docs/deployment.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from contactgroup.domain.errors import Conflict, ContactGroupError
from contactgroup.storage.database import Database, last_event


def backup_sqlite(db: Database, dest: Path) -> int:
    """Copy the SQLite database `db` into the new file `dest` (mode 0600: it holds confidential offers in plain
    text); returns how many events the copy holds. An existing `dest` is never overwritten, and a copy that fails
    leaves no file behind."""
    if not db.is_sqlite:
        raise ContactGroupError("this is a PostgreSQL database: back it up with pg_dump (and restore it with "
                                "pg_restore)", code="backup-postgresql")
    db.require_initialised()
    if dest.exists():
        raise Conflict(f"{dest} exists: a backup never overwrites a file", code="backup-exists")
    partial = dest.with_name(f".{dest.name}.partial")
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        _copy(db, partial)
        os.link(partial, dest)  # fails, rather than replaces, if dest appeared meanwhile
    except FileExistsError:
        raise Conflict(f"{dest} exists: a backup never overwrites a file", code="backup-exists") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    copy = Database(f"sqlite:///{dest}")
    try:
        with copy.reader() as conn:
            return last_event(conn)[0]
    finally:
        copy.engine.dispose()


def _copy(db: Database, target_path: Path) -> None:
    raw = db.engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        with contextlib.closing(sqlite3.connect(target_path)) as target:
            source.backup(target)
            if target.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise ContactGroupError(f"the copy in {target_path} failed SQLite's integrity check",
                                        code="backup-corrupt")
    finally:
        raw.close()
