"""Backup and restore as docs/deployment.md tells them, taken while the server runs: a copy restored into a new
database passes `verify` and holds every event, on SQLite (`contactgroup backup`) and on PostgreSQL (pg_dump,
pg_restore)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database
from tests.conftest import PG_SERVER, _pg_schema, postgres_schema
from tests.ledger_integration.conftest import Log, cli, serving

PG_TOOLS = 120  # seconds pg_dump or pg_restore may take before the test fails rather than hangs
LIBPQ = PG_SERVER.replace("postgresql+psycopg://", "postgresql://", 1)


def _events(url: str) -> int:
    db = Database(url)
    try:
        with db.reader() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one())
    finally:
        db.engine.dispose()


@contextmanager
def _new_postgres_database() -> Iterator[str]:
    """The name of a new, empty PostgreSQL database, dropped afterwards."""
    name = f"restore_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _restored_sqlite(log: Log, tmp_path: Path) -> str:
    dest = tmp_path / "backup" / "cg.db"
    dest.parent.mkdir()
    code, output = cli("backup", str(dest), "--db", log.url)
    assert code == 0 and f"to {dest}" in output, output
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600  # confidential offers in plain text
    restored = tmp_path / "restored" / "cg.db"  # a new database: the backup put in place elsewhere
    restored.parent.mkdir()
    shutil.copy2(dest, restored)
    return f"sqlite:///{restored}"


def _require_pg_tools() -> None:
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        message = f"{' and '.join(missing)} not installed (Debian: apt-get install postgresql-client)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _restored_postgresql(log: Log, tmp_path: Path, database: str) -> str:
    _require_pg_tools()
    schema = _pg_schema(log.url)
    dump = tmp_path / "cg.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", f"--dbname={LIBPQ}"],
                   check=True, timeout=PG_TOOLS, capture_output=True)
    target = LIBPQ.rsplit("/", 1)[0] + f"/{database}"
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)],
                   check=True, timeout=PG_TOOLS, capture_output=True)
    return PG_SERVER.rsplit("/", 1)[0] + f"/{database}?options=-csearch_path%3D{schema}"


@pytest.mark.slow  # on PostgreSQL: CREATE and DROP DATABASE wait on the server's other sessions
def test_a_backup_taken_while_serving_restores_into_a_new_database_that_verifies(log: Log, tmp_path: Path) -> None:
    with serving(log.url, log.key):  # signs a checkpoint, and keeps its connections open while the copy is taken
        if log.db.is_sqlite:
            restored = _restored_sqlite(log, tmp_path)
            code, output = cli("verify", "--db", restored)
        else:
            with _new_postgres_database() as database:
                restored = _restored_postgresql(log, tmp_path, database)
                code, output = cli("verify", "--db", restored)
                assert _events(restored) == _events(log.url)
    assert code == 0 and "latest signed checkpoint" in output, output
    if log.db.is_sqlite:
        assert _events(restored) == _events(log.url)


def test_a_backup_never_overwrites_a_file(tmp_path: Path, clock: FixedClock) -> None:
    url = f"sqlite:///{tmp_path / 'cg.db'}"
    init_coordination(Database(url), clock)
    (tmp_path / "keep.db").write_text("someone's file")
    code, output = cli("backup", str(tmp_path / "keep.db"), "--db", url)
    assert code == 5 and "keep.db exists: a backup never overwrites a file" in output
    assert (tmp_path / "keep.db").read_text() == "someone's file"
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name]  # nothing half-written left behind


def test_a_postgresql_database_is_sent_to_pg_dump(tmp_path: Path) -> None:
    with postgres_schema() as url:
        code, output = cli("backup", str(tmp_path / "b.db"), "--db", url)
    assert code == 1 and "back it up with pg_dump" in output and "postgres@" not in output
    assert not (tmp_path / "b.db").exists()
