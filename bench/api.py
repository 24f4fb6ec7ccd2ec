"""The HTTP API against bare FastAPI routes on the same server set-up, measured in one run (issue 11's targets).

1. Single writes, one after another from one client: `POST /api/v1/offers` (a draft offer, as DEU's desk officer,
   signed in with a write token), without and with an `Idempotency-Key` (a new one each), against a bare `POST`
   route that inserts one row and commits, in an SQLite file in WAL mode with synchronous=FULL (as contactgroup's
   own). The three take turns, in many short rounds on connections kept open, so that a change in the disk's
   speed (a commit's sync took 1 to 4 ms on these shared disks from one second to the next) meets all three.
   Beside the rate, the CPU time each server process spent per write (from /proc/PID/stat): what the disk's sync
   does not decide.
2. Reads: `GET /api/v1/offers?limit=50` on the demo against a bare route that returns the same bytes, with 8 and
   with 50 concurrent clients: requests per second and p99 latency.

Both servers are uvicorn processes on 127.0.0.1 with one worker; the client is this process (httpx, asyncio).
Prints Markdown tables for docs/performance.md.

Usage: .venv/bin/python bench/api.py [--seconds 10] [--writes 200] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

MAX_CONNECTIONS = 200  # each server's cap, above the most clients the reads run with

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bare_server(port: int, db: str, body_file: str) -> None:
    """The reference: FastAPI with two plain routes, served as `contactgroup serve` serves the API (the same uvicorn
    configuration, its access log included)."""
    import uvicorn
    from fastapi import FastAPI, Response

    from contactgroup.api.server import Listening, uvicorn_config

    body = Path(body_file).read_bytes()
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(db, isolation_level=None)
            local.conn.execute("PRAGMA journal_mode=WAL")
            local.conn.execute("PRAGMA synchronous=FULL")
        return local.conn

    app = FastAPI()

    @app.get("/same")
    def same() -> Response:
        return Response(body, media_type="application/json")

    @app.post("/row", status_code=201)
    def row() -> dict[str, int]:
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.execute("INSERT INTO t (x) VALUES (1)")
        conn.execute("COMMIT")
        return {"id": int(cursor.lastrowid or 0)}

    uvicorn.Server(uvicorn_config(app, Listening(port=port, max_connections=MAX_CONNECTIONS))).run()


@contextmanager
def running(command: list[str], probe: str) -> Iterator[int]:
    """A server started with `command`, once `probe` answers; its process id."""
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                httpx.get(probe)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has spent so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Writes:
    """One route's single writes, one after another, over many turns: their time and the server's CPU time."""

    def __init__(self, name: str, url: str, headers: dict[str, str], body: dict[str, object] | None, pid: int,
                 keyed: bool = False) -> None:
        self.name, self.url, self.body, self.pid, self.keyed = name, url, body, pid, keyed
        self.client = httpx.Client(headers=headers, timeout=60)
        self.client.post(self.url, json=self.body, headers=self._key()).raise_for_status()  # the connection opened
        self.count, self.seconds, self.cpu = 0, 0.0, 0.0

    def turn(self, count: int) -> None:
        cpu, started = cpu_seconds(self.pid), time.perf_counter()
        for _ in range(count):
            self.client.post(self.url, json=self.body, headers=self._key()).raise_for_status()
        self.seconds += time.perf_counter() - started
        self.cpu += cpu_seconds(self.pid) - cpu
        self.count += count

    def _key(self) -> dict[str, str]:
        return {"Idempotency-Key": str(uuid.uuid4())} if self.keyed else {}

    @property
    def rate(self) -> float:
        return self.count / self.seconds


async def _reads(url: str, headers: dict[str, str], clients: int, seconds: float) -> tuple[float, float]:
    """(requests per second, p99 seconds) with `clients` each sending one request after another."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:
        deadline = time.perf_counter() + seconds

        async def one_client() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                (await client.get(url)).raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, statistics.quantiles(latencies, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each read run")
    parser.add_argument("--writes", type=int, default=200, help="writes of each route, over all rounds")
    parser.add_argument("--rounds", type=int, default=20, help="turns each write route takes")
    parser.add_argument("--bare", nargs=3, metavar=("PORT", "DB", "BODY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (args.seconds > 0 and 1 <= args.rounds <= args.writes):
        parser.error("--seconds must be positive, and --rounds from 1 to --writes")
    if args.bare:
        bare_server(int(args.bare[0]), args.bare[1], args.bare[2])
        return
    with tempfile.TemporaryDirectory() as folder:
        demo, bare_db, body = Path(folder) / "demo.db", Path(folder) / "bare.db", Path(folder) / "offers.json"
        contactgroup = [sys.executable, "-m", "contactgroup"]
        subprocess.run([*contactgroup, "demo", "--db", str(demo)], check=True, capture_output=True)
        token = subprocess.run([*contactgroup, "token", "issue", "--as", "deu-desk", "--scope", "write", "--db",
                                str(demo)], check=True, capture_output=True, text=True).stdout.strip()
        with sqlite3.connect(bare_db) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)")
        api_port, bare_port = _free_port(), _free_port()
        api, bare = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
        signed = {"Authorization": f"Bearer {token}"}
        with running([*contactgroup, "serve", "--db", str(demo), "--port", str(api_port), "--max-connections",
                      str(MAX_CONNECTIONS)], f"{api}/checkpoint") as api_pid:
            body.write_bytes(httpx.get(f"{api}/api/v1/offers?limit=50", headers=signed).content)
            with running([sys.executable, __file__, "--bare", str(bare_port), str(bare_db), str(body)],
                         f"{bare}/same") as bare_pid:
                item = json.loads(body.read_bytes())["items"][0]["item"]  # an item of the catalogue
                offer = {"member": "DEU", "item": item, "quantity": 1, "available_from": "2024-07-01",
                         "depot": "DEU", "status": "draft"}
                routes = [Writes("bare POST, one row + COMMIT", f"{bare}/row", {}, None, bare_pid),
                          Writes("POST /api/v1/offers", f"{api}/api/v1/offers", signed, offer, api_pid),
                          Writes("POST /api/v1/offers, Idempotency-Key", f"{api}/api/v1/offers", signed, offer,
                                 api_pid, keyed=True)]
                for turn in range(args.rounds):
                    for route in routes:
                        route.turn(args.writes // args.rounds + (turn < args.writes % args.rounds))
                for route in routes:
                    route.client.close()
                bare_rate = routes[0].rate
                print(f"Single writes, {args.writes} of each route one after another, in {args.rounds} rounds:\n")
                print("| route | writes/s | ratio to bare | server CPU per write |\n|---|---|---|---|")
                for route in routes:
                    print(f"| {route.name} | {route.rate:,.0f} | {route.rate / bare_rate:.2f} "
                          f"| {route.cpu / route.count * 1000:.2f} ms |")
                print(f"\nReads of the same {len(body.read_bytes()):,} bytes, {args.seconds:g} s each:\n")
                print("| clients | bare req/s | API req/s | ratio | bare p99 | API p99 | p99 ratio |")
                print("|---|---|---|---|---|---|---|")
                for clients in (8, 50):
                    b_rate, b_p99 = asyncio.run(_reads(f"{bare}/same", {}, clients, args.seconds))
                    a_rate, a_p99 = asyncio.run(_reads(f"{api}/api/v1/offers?limit=50", signed, clients,
                                                       args.seconds))
                    print(f"| {clients} | {b_rate:,.0f} | {a_rate:,.0f} | {a_rate / b_rate:.2f} "
                          f"| {b_p99 * 1000:.0f} ms | {a_p99 * 1000:.0f} ms | {a_p99 / b_p99:.2f} |")


if __name__ == "__main__":
    main()
