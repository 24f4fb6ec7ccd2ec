"""Crash and concurrency runs against real `contactgroup` processes: writers killed with SIGKILL at random moments,
and many writers at once. After each run: every acknowledged write is in the record, and `verify` passes.
Prints a Markdown table for docs/reliability.md.

Usage: .venv/bin/python bench/reliability.py [--kills 200] [--writers 40] [--engines sqlite,postgresql] [--seed 1]

A write is acknowledged when its command exited 0 and printed the new offer's id: that is the promise a desk
relies on. A killed command promised nothing; whether it landed is counted, not judged.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from contactgroup.services.clock import SystemClock
from contactgroup.services.setup import init_coordination
from contactgroup.services.verify import verify
from contactgroup.storage.database import Database

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def database(engine: str) -> Iterator[str]:
    """The URL of a fresh coordination on `engine`, removed afterwards."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/cg.db"
            _found(url)
            yield url
        return
    schema = f"rel_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{PG}?options=-csearch_path%3D{schema}"
        _found(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _cli(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "contactgroup", *args, "--db", url]


def _found(url: str) -> None:
    db = Database(url)
    init_coordination(db, SystemClock(), with_members=True)
    db.engine.dispose()
    for args in (("user", "add", "deu-desk", "--party", "DEU", "--role", "desk_officer", "--as", "admin"),
                 ("catalogue", "add-item", "155-a", "--name", "155 mm shell", "--category", "military",
                  "--unit", "round", "--as", "admin")):
        subprocess.run(_cli(url, *args), check=True, capture_output=True)


def _offer(url: str, quantity: int) -> list[str]:
    return _cli(url, "offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", str(quantity),
                "--available-from", "2025-01-01", "--depot", "DEU", "--as", "deu-desk")


@dataclass
class Outcome:
    run: str
    engine: str
    attempts: int
    acknowledged: int
    lost: int
    killed_landed: int
    refused_busy: int
    verify_ok: bool
    seconds: float


def _check(url: str, acknowledged: dict[str, int], attempted: set[int]) -> tuple[int, int, bool]:
    """Lost acknowledged writes, killed writes that landed anyway, and whether verify passed."""
    db = Database(url)
    offers = db.state().offers
    lost = sum(1 for oid, quantity in acknowledged.items() if oid not in offers or offers[oid].quantity != quantity)
    landed = sum(1 for o in offers.values() if o.quantity in attempted and o.id not in acknowledged)
    report = verify(db)
    db.engine.dispose()
    return lost, landed, report.ok


def kills(engine: str, count: int, rng: random.Random) -> Outcome:
    """`count` writers, each SIGKILLed after a random delay (some finish first and are acknowledged)."""
    started = time.monotonic()
    with database(engine) as url:
        acknowledged: dict[str, int] = {}
        attempted: set[int] = set()
        lives = []
        for quantity in (1, 2, 3):  # how long one command lives here, now: kill moments spread around it
            begun = time.monotonic()
            done = subprocess.run(_offer(url, quantity), capture_output=True, text=True, check=True)
            lives.append(time.monotonic() - begun)
            acknowledged[done.stdout.split()[-1]] = quantity
        life = sorted(lives)[1]
        for i in range(count):
            quantity = 1000 + i
            attempted.add(quantity)
            proc = subprocess.Popen(_offer(url, quantity), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(0.3 * life, 1.3 * life))  # start-up, load, decide, commit: any of them
            proc.send_signal(signal.SIGKILL)
            out, _ = proc.communicate()
            if proc.returncode == 0:
                acknowledged[out.split()[-1]] = quantity
            print(f"\r{engine}: killed {i + 1}/{count}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        lost, landed, ok = _check(url, acknowledged, attempted)
    return Outcome("SIGKILL at a random moment", engine, count + 3, len(acknowledged), lost, landed, 0, ok,
                   time.monotonic() - started)


def crowd(engine: str, writers: int) -> Outcome:
    """`writers` commands started at once against one database."""
    started = time.monotonic()
    with database(engine) as url:
        procs = {2000 + i: subprocess.Popen(_offer(url, 2000 + i), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            text=True) for i in range(writers)}
        acknowledged: dict[str, int] = {}
        busy = 0
        for quantity, proc in procs.items():
            out, _ = proc.communicate(timeout=600)
            if proc.returncode == 0:
                acknowledged[out.split()[-1]] = quantity
            elif proc.returncode == 5:
                busy += 1  # refused, having written nothing
            else:
                raise SystemExit(f"writer {quantity} failed with exit {proc.returncode}")
        lost, _, ok = _check(url, acknowledged, set(procs))
    return Outcome(f"{writers} writers at once", engine, writers, len(acknowledged), lost, 0, busy, ok,
                   time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--writers", type=int, default=40)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    outcomes = []
    for engine in args.engines.split(","):
        outcomes.append(kills(engine, args.kills, rng))
        outcomes.append(crowd(engine, args.writers))
    print("| run | engine | commands | acknowledged | lost acknowledged | killed but landed | refused (busy) "
          "| verify | time |")
    print("|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        print(f"| {o.run} | {o.engine} | {o.attempts} | {o.acknowledged} | {o.lost} | {o.killed_landed} "
              f"| {o.refused_busy} | {'passes' if o.verify_ok else 'FAILS'} | {o.seconds:.0f} s |")
    if any(o.lost or not o.verify_ok for o in outcomes):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
