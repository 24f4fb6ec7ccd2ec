"""Many desk officers at once against a real `contactgroup serve` (issue 11's load proof): 50 clients writing and
reading for 60 s on 127.0.0.1, every acknowledged write recorded, then checked against the record, then
`contactgroup verify`.

Each client signs in with its own write token (desk officers of different members, in turn) and, until the time is
up, sends one request after another: a draft offer of its member (`POST /api/v1/offers` with an Idempotency-Key,
retried with the same key if the connection fails), the offer it last wrote (`GET /api/v1/offers/{id}`: it must be
there at once, whatever the server did meanwhile), its member's drafts, or the first page of every offer it may see.
Afterwards, with the server stopped: every acknowledged offer must be in the database as it was sent (its end use
names the client and the write), no write may be there twice, and `contactgroup verify` (log, tree, every
projection rebuilt from the log) must pass. Prints a Markdown table for docs/performance.md.

Usage: .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--engine sqlite,postgresql]
PostgreSQL: CONTACTGROUP_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/test); the bench works in a
fresh schema of that database and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from contactgroup.domain.model import Role
from contactgroup.services import tokens
from contactgroup.services.clock import SystemClock
from contactgroup.storage.database import Database

PG_SERVER = os.environ.get("CONTACTGROUP_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CONTACTGROUP = [sys.executable, "-m", "contactgroup"]
# What a client does next, and how often: (kind, weight).
MIX = (("write", 3), ("own", 2), ("drafts", 1), ("list", 4))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database(engine: str, folder: Path) -> Iterator[str]:
    """A URL to an empty database: an SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if engine == "sqlite":
        yield f"sqlite:///{folder / 'load.db'}"
        return
    schema = f"load_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def serving(url: str, port: int, log_key: Path) -> Iterator[None]:
    server = subprocess.Popen([*CONTACTGROUP, "serve", "--db", url, "--port", str(port), "--log-key", str(log_key),
                               "--max-connections", "200"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                httpx.get(f"http://127.0.0.1:{port}/checkpoint", timeout=5)
                break
            except httpx.HTTPError:
                if server.poll() is not None:
                    raise SystemExit(f"the server stopped at start (exit {server.returncode})") from None
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=60)


@dataclass(frozen=True, slots=True)
class Desk:
    """A client's identity: a desk officer, its member, and an offer of that member to model its drafts on."""

    user: str
    member: str
    item: str
    depot: str
    token: str


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind, _ in MIX})
    refused: Counter[str] = field(default_factory=Counter)  # "kind status" of every answer that was not a success
    acknowledged: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # offer id -> (member, qty, end use)
    unread: list[str] = field(default_factory=list)  # own writes a following read did not find
    retries: int = 0


def desks(url: str, clients: int) -> list[Desk]:
    """One write token per client, for the demo's desk officers in turn (each of a member that has offers)."""
    db = Database(url)
    state = db.state()
    model = {}
    for offer in state.offers.values():
        model.setdefault(offer.member, offer)
    officers = sorted((u for u in state.users.values()
                       if u.role is Role.DESK_OFFICER and u.active and u.party in model), key=lambda u: u.name)
    now = SystemClock().now()
    found = []
    for i in range(clients):
        user = officers[i % len(officers)]
        issued = tokens.issue(db, state, user.name, now=now, scope=tokens.Scope.WRITE, days=1, label="bench/load.py")
        found.append(Desk(user.name, user.party, model[user.party].item, model[user.party].depot, issued.token))
    db.engine.dispose()
    return found


async def client(base: str, desk: Desk, number: int, run: str, deadline: float, tally: Tally) -> None:
    rng = random.Random(number)
    kinds, weights = zip(*MIX, strict=True)
    last: str | None = None  # the offer this client last wrote
    writes = 0
    headers = {"Authorization": f"Bearer {desk.token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        while time.perf_counter() < deadline:
            kind = rng.choices(kinds, weights)[0]
            if kind == "own" and last is None:
                kind = "write"
            started = time.perf_counter()
            if kind == "write":
                writes += 1
                end_use = f"{run} client {number} write {writes}"
                quantity = rng.randint(1, 500)
                body = {"member": desk.member, "item": desk.item, "quantity": quantity,
                        "available_from": "2026-01-15", "depot": desk.depot, "status": "draft", "end_use": end_use}
                answer = await _post(http, body, tally)
                if answer is not None and answer.status_code == 201:
                    last = answer.json()["id"]
                    tally.acknowledged[last] = (desk.member, quantity, end_use)
            elif kind == "own":
                answer = await http.get(f"/api/v1/offers/{last}")
                if answer.status_code == 404:
                    tally.unread.append(str(last))
            elif kind == "drafts":
                answer = await http.get("/api/v1/offers", params={"member": desk.member, "status": "draft",
                                                                 "limit": 50})
            else:
                answer = await http.get("/api/v1/offers", params={"limit": 50})
            if answer is None or answer.status_code >= 300:
                tally.refused[f"{kind} {answer.status_code if answer is not None else 'no answer'}"] += 1
            else:
                tally.latencies[kind].append(time.perf_counter() - started)


async def _post(http: httpx.AsyncClient, body: dict[str, object], tally: Tally) -> httpx.Response | None:
    """The write, sent again with the same Idempotency-Key while the connection fails (at most 3 times): the
    server answers a retry with the first answer and writes nothing more."""
    key = uuid.uuid4().hex
    for attempt in range(3):
        try:
            answer = await http.post("/api/v1/offers", json=body, headers={"Idempotency-Key": key})
            if answer.status_code != 409 or "still being answered" not in answer.text:
                return answer
        except httpx.TransportError:
            pass
        tally.retries += 1
        await asyncio.sleep(0.2 * (attempt + 1))
    return None


async def load(base: str, found: list[Desk], seconds: float, run: str) -> tuple[Tally, float]:
    tally = Tally()
    started = time.perf_counter()
    await asyncio.gather(*(client(base, desk, i, run, started + seconds, tally) for i, desk in enumerate(found)))
    return tally, time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class Checked:
    lost: list[str]  # acknowledged, but not in the record as sent
    twice: int  # writes of this run in the record more than once
    unacknowledged: int  # in the record, but their answer never reached the client (allowed: never acknowledged)
    verified: bool
    verify_output: str


def check(url: str, tally: Tally, run: str) -> Checked:
    db = Database(url)
    state = db.state()
    db.engine.dispose()
    lost = [ident for ident, sent in tally.acknowledged.items()
            if (o := state.offers.get(ident)) is None or (o.member, o.quantity, o.end_use) != sent]
    ours = Counter(o.end_use for o in state.offers.values() if o.end_use.startswith(f"{run} "))
    acknowledged = {end_use for _, _, end_use in tally.acknowledged.values()}
    verify = subprocess.run([*CONTACTGROUP, "verify", "--db", url], capture_output=True, text=True)
    return Checked(lost, sum(n - 1 for n in ours.values() if n > 1), len(set(ours) - acknowledged),
                   verify.returncode == 0, (verify.stdout + verify.stderr).strip())


def _ms(values: list[float], q: int) -> str:
    if len(values) < 2:
        return "–"
    return f"{statistics.quantiles(values, n=100)[q - 1] * 1000:,.0f} ms"


def run_engine(engine: str, clients: int, seconds: float) -> tuple[str, str, bool]:
    with tempfile.TemporaryDirectory() as tmp, database(engine, Path(tmp)) as url:
        folder = Path(tmp)
        log_key = folder / "log.key"
        print(f"{engine}: building the demo ...", file=sys.stderr)
        subprocess.run([*CONTACTGROUP, "demo", "--db", url, "--log-key", str(log_key)], check=True,
                       capture_output=True)
        found = desks(url, clients)
        port = _free_port()
        run = f"load-{uuid.uuid4().hex[:8]}"
        print(f"{engine}: {clients} clients for {seconds:g} s ...", file=sys.stderr)
        with serving(url, port, log_key):
            tally, elapsed = asyncio.run(load(f"http://127.0.0.1:{port}", found, seconds, run))
        print(f"{engine}: checking every acknowledged write, then verify ...", file=sys.stderr)
        checked = check(url, tally, run)
    answered = sum(len(v) for v in tally.latencies.values())
    every = [x for v in tally.latencies.values() for x in v]
    writes = tally.latencies["write"]
    reads = [x for kind, v in tally.latencies.items() if kind != "write" for x in v]
    refused = ", ".join(f"{k}: {n}" for k, n in sorted(tally.refused.items())) or "none"
    if not checked.verified:
        print(checked.verify_output, file=sys.stderr)
    ok = checked.verified and not checked.lost and not checked.twice and not tally.unread
    return (
        f"| {engine} | {answered + sum(tally.refused.values()):,} | {answered / elapsed:,.0f} "
        f"| {len(tally.acknowledged):,} | {len(tally.acknowledged) / elapsed:,.1f} "
        f"| {_ms(every, 50)} / {_ms(every, 99)} | {_ms(reads, 50)} / {_ms(reads, 99)} "
        f"| {_ms(writes, 50)} / {_ms(writes, 99)} | {len(checked.lost)} | {checked.twice} | {len(tally.unread)} "
        f"| {'passes' if checked.verified else 'FAILS'} |",
        f"  {engine}: not a success: {refused}; retries after a failed connection: {tally.retries}; "
        f"in the record without an answer: {checked.unacknowledged}",
        ok,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--engine", default="sqlite,postgresql", help="sqlite, postgresql, or both (comma)")
    args = parser.parse_args()
    if not 1 <= args.clients <= 500 or not 0 < args.seconds <= 600:
        parser.error("--clients 1 to 500, --seconds up to 600: the bench is bounded")
    rows = [run_engine(engine.strip(), args.clients, args.seconds) for engine in args.engine.split(",")]
    print(f"{args.clients} clients for {args.seconds:g} s each (writes {MIX[0][1]}, own-offer reads {MIX[1][1]}, "
          f"drafts lists {MIX[2][1]}, first pages {MIX[3][1]} in 10):\n")
    print("| engine | requests | answered/s | writes acknowledged | writes/s | p50 / p99 all | p50 / p99 reads "
          "| p50 / p99 writes | lost | twice | own write unread | verify |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row, _, _ in rows:
        print(row)
    print()
    for _, note, _ in rows:
        print(note)
    if not all(ok for _, _, ok in rows):
        sys.exit(1)  # a lost or doubled write, an own write unread, or verify failed


if __name__ == "__main__":
    main()
