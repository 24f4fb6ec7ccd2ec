"""Benchmark of the state store: sequential `offer add`-sized commands in process, against a one-row INSERT +
COMMIT loop on the same SQLite file; and the CLI's `offer list --as deu-desk --format json` beyond start-up.

Usage: .venv/bin/python bench/store.py [--demo PATH] [--commands 200] [--repeat 5] [--path store|uow|both]

`--demo` reuses a demo database (copied, never changed); without it one is built (about 10 s). Every figure is
the median of --repeat runs, and the ratios are taken in one run (the machine is shared). `--path uow` measures
the per-command path that loads the whole state in each transaction (the only path before the store).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from contactgroup.domain.model import Offer, OfferStatus, Source, Visibility
from contactgroup.services import coordination as svc
from contactgroup.services.clock import SystemClock
from contactgroup.services.demo import build_demo
from contactgroup.storage.database import Database

CONTACTGROUP = str(Path(sys.executable).with_name("contactgroup"))


def median(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def offer() -> Offer:
    return Offer(id="", member="DEU", item="winter-gear-b", quantity=10, available_from=date(2026, 5, 1),
                   depot="DEU", source=Source.STOCKS, status=OfferStatus.DRAFT, visibility=Visibility.MEMBER)


def insert_loop(path: Path, n: int) -> None:
    """n one-row INSERT + COMMIT on the file, with the settings the platform uses (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, body TEXT)")
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bench_rows (body) VALUES (?)", (f"row {i}",))
        conn.execute("COMMIT")
    conn.close()


def uow_loop(path: Path, n: int) -> None:
    """n offer entries, each in its own transaction that loads the state (the CLI's path)."""
    db = Database(str(path))
    caller = svc.Caller("deu-desk", SystemClock())
    for _ in range(n):
        with db.transaction() as uow:
            svc.enter_offer(uow, caller, offer())


def store_loop(path: Path, n: int) -> None:
    """n offer entries through one state store (a long-running process's path); the first load not counted."""
    from contactgroup.storage.store import StateStore

    store = StateStore(Database(str(path)))
    store.snapshot()
    caller = svc.Caller("deu-desk", SystemClock())
    start = time.perf_counter()
    for _ in range(n):
        store.run(lambda uow: svc.enter_offer(uow, caller, offer()))
    store_loop.elapsed = time.perf_counter() - start  # type: ignore[attr-defined]


def writes(demo: Path, n: int, repeat: int, paths: list[str]) -> None:
    rows: dict[str, list[float]] = {"insert": [], **{p: [] for p in paths}}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / "bench.db"
            shutil.copy(demo, file)
            start = time.perf_counter()
            insert_loop(file, n)
            rows["insert"].append(n / (time.perf_counter() - start))
            if "uow" in paths:
                start = time.perf_counter()
                uow_loop(file, max(1, n // 10))  # slow: a tenth of the commands
                rows["uow"].append(max(1, n // 10) / (time.perf_counter() - start))
            if "store" in paths:
                store_loop(file, n)
                rows["store"].append(n / store_loop.elapsed)  # type: ignore[attr-defined]
    base = statistics.median(rows["insert"])
    print(f"| one-row INSERT + COMMIT (WAL, synchronous=FULL) | {base:,.0f}/s | 100% |")
    for p in paths:
        rate = statistics.median(rows[p])
        label = {"uow": "offer entry, a transaction that loads the state (CLI path)",
                 "store": "offer entry through the state store"}[p]
        print(f"| {label} | {rate:,.0f}/s | {100 * rate / base:.0f}% |")


def _run(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run of the command line."""
    start = time.perf_counter()
    child = subprocess.Popen([CONTACTGROUP, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    assert os.waitstatus_to_exitcode(status) == 0, args
    return wall, usage.ru_utime + usage.ru_stime


def cli(demo: Path, repeat: int) -> None:
    """Start-up and the listing, run in turns (so that both see the same load on a shared machine); wall time
    and the child's CPU time (less sensitive to other work on the machine), medians."""
    listing_args = ["offer", "list", "--as", "deu-desk", "--format", "json", "--db", str(demo)]
    startup, listing = [], []
    for _ in range(repeat):
        startup.append(_run(["--version"]))
        listing.append(_run(listing_args))
    for label, runs in (("`contactgroup --version`", startup),
                        ("`contactgroup offer list --as deu-desk --format json`", listing)):
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        print(f"| {label} | {wall:.3f} s | {cpu:.3f} s |")
    beyond_wall = statistics.median(r[0] for r in listing) - statistics.median(r[0] for r in startup)
    beyond_cpu = statistics.median(r[1] for r in listing) - statistics.median(r[1] for r in startup)
    print(f"| beyond start-up | {beyond_wall:.3f} s | {beyond_cpu:.3f} s |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", type=Path, help="an existing demo database (copied, never changed)")
    ap.add_argument("--commands", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--path", choices=("store", "uow", "both"), default="both")
    args = ap.parse_args()
    paths = ["uow", "store"] if args.path == "both" else [args.path]
    with tempfile.TemporaryDirectory() as tmp:
        demo = args.demo
        if demo is None:
            demo = Path(tmp) / "demo.db"
            build_demo(Database(str(demo)), log_key=str(Path(tmp) / "log.key"))
        print(f"demo: {demo}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, median of {args.repeat}\n")
        print("| commands in process | per second | of INSERT loop |\n|---|---|---|")
        writes(demo, args.commands, args.repeat, paths)
        print("\n| CLI on the demo | median wall | median CPU |\n|---|---|---|")
        cli(demo, args.repeat)


if __name__ == "__main__":
    main()
