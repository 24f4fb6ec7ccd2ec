"""A writer killed with SIGKILL in the middle of a large import leaves an intact database: every acknowledged
command is there, nothing of the import is, and `verify` passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from contactgroup.domain.text import MAX_IMPORT_ROWS
from contactgroup.services.verify import verify
from contactgroup.storage.database import Database
from tests.factories import World, enter_offer

ROWS = MAX_IMPORT_ROWS  # the largest import a desk may send: the writer holds the lock longest


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "contactgroup", *args, "--db", url], capture_output=True, text=True,
                          timeout=120, check=False)


def _writing(db: Database, url: str) -> bool:
    """True once the importer has written uncommitted rows (it flushes every 1,000 rows)."""
    if db.is_sqlite:
        wal = Path(f"{db.engine.url.database}-wal")
        return wal.exists() and wal.stat().st_size > 500_000
    schema = url.rsplit("search_path%3D", 1)[1]
    with db.engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON l.relation = c.oid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'events' AND n.nspname = :s AND l.mode = 'RowExclusiveLock'"), {"s": schema}).scalar())


@pytest.mark.slow
def test_sigkill_during_a_large_import(world: World, db_url: str, tmp_path: Path) -> None:
    # Committed before the import starts, each in its own transaction (in this process: a `contactgroup`
    # process per command would only add its start-up, seconds on a busy machine, to what this test proves).
    acknowledged = [enter_offer(world, quantity=quantity) for quantity in (11, 22, 33)]
    events_before = world.event_count()
    big = tmp_path / "offers.csv"
    big.write_text("member,item,quantity,available_from,depot\n"
                   + "DEU,155-b,5,2024-09-01,DEU\n" * ROWS, encoding="utf-8")

    importer = subprocess.Popen([sys.executable, "-m", "contactgroup", "import", "offers", str(big), "--db", db_url,
                                 "--as", "deu"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not _writing(world.db, db_url):
        assert importer.poll() is None, "the import finished before it could be killed: make the file larger"
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.02)
    os.kill(importer.pid, signal.SIGKILL)
    importer.wait(timeout=30)
    assert importer.returncode == -signal.SIGKILL

    fresh = Database(db_url)
    if fresh.is_sqlite:
        with fresh.engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
    report = verify(fresh)
    assert report.ok, report.findings
    assert report.events == events_before
    state = fresh.state()
    assert [state.offers[o].quantity for o in acknowledged] == [11, 22, 33]
    assert len(state.offers) == 3
    # The database is usable at once: the lock died with the writer.
    done = cli(db_url, "offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "44",
               "--available-from", "2024-08-01", "--depot", "DEU", "--as", "deu")
    assert done.returncode == 0, done.stderr
    fresh.engine.dispose()
