"""Benchmark of the coordination core: demo build, state load, one command, reports and `verify`, on SQLite
and (if reachable) PostgreSQL. Prints a Markdown table for docs/performance.md.

Usage: .venv/bin/python bench/core.py [--seed 2024] [--repeat 3] [--no-postgres]

Each figure is the best of --repeat runs (the machine is shared); sizes are of the SQLite file after a
checkpoint of its write-ahead log.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from contactgroup.reports.burden import burden
from contactgroup.reports.coverage import coverage
from contactgroup.reports.gaps import gaps
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.services.demo import build_demo
from contactgroup.services.verify import verify
from contactgroup.storage.database import Database

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def measure(engine: str, url: str, seed: int, repeat: int) -> list[tuple[str, str]]:
    db = Database(url)
    start = time.perf_counter()
    summary = build_demo(db, seed)
    built = time.perf_counter() - start
    rows = [(f"{engine}: build the demo ({summary.events:,} events, {summary.offers:,} offers)", f"{built:.2f} s")]
    rows.append((f"{engine}: load the whole state", f"{best(repeat, db.state):.3f} s"))
    clock = FixedClock(datetime(2026, 5, 1, tzinfo=UTC))
    state = db.state()

    def one_command() -> None:
        with db.transaction() as uow:
            svc.record_setting(uow, svc.Caller("admin", clock), "bench", str(time.perf_counter()))

    rows.append((f"{engine}: one command (load, decide, append, commit)", f"{best(repeat, one_command):.3f} s"))
    rows.append((f"{engine}: reports coverage + burden + gaps",
                 f"{best(repeat, lambda: (coverage(state, 'tier'), burden(state), gaps(state))):.3f} s"))
    report = verify(db)
    assert report.ok, report.findings[:3]
    rows.append((f"{engine}: verify ({report.events:,} events, {report.rows:,} rows)",
                 f"{best(repeat, lambda: verify(db)):.2f} s"))
    if db.is_sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        size = Path(db.engine.url.database or "").stat().st_size
        rows.append((f"{engine}: database file size", f"{size / 1e6:.1f} MB"))
    db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows = []
    with sqlite_url() as url:
        rows += measure("SQLite", url, args.seed, args.repeat)
    if not args.no_postgres:
        with postgres_url() as url:
            rows += measure("PostgreSQL", url, args.seed, args.repeat)
    print("| measurement | best of runs |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
