"""The HTTP API against bare FastAPI routes on the same server set-up, measured in one run (issue 11's targets).

1. Single writes, one after another from one client: `POST /api/v1/offers` (a draft offer, as DEU's desk officer,
   signed in with a write token) against a bare `POST` route that inserts one row and commits, in an SQLite file in
   WAL mode with synchronous=FULL (as contactgroup's own).
2. Reads: `GET /api/v1/offers?limit=50` on the demo against a bare route that returns the same bytes, with 8 and
   with 50 concurrent clients: requests per second and p99 latency.

Both servers are uvicorn processes on 127.0.0.1 with one worker; the client is this process (httpx, asyncio).
Prints Markdown tables for docs/performance.md.

Usage: .venv/bin/python bench/api.py [--seconds 10] [--writes 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bare_server(port: int, db: str, body_file: str) -> None:
    """The reference: FastAPI with two plain routes, served as `contactgroup serve` serves the API."""
    import uvicorn
    from fastapi import FastAPI, Response

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

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@contextmanager
def running(command: list[str], probe: str) -> Iterator[None]:
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                httpx.get(probe)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def writes(url: str, headers: dict[str, str], count: int, body: dict[str, object] | None) -> float:
    """Writes per second, one after another."""
    with httpx.Client(headers=headers, timeout=60) as client:
        started = time.perf_counter()
        for _ in range(count):
            client.post(url, json=body).raise_for_status()
        return count / (time.perf_counter() - started)


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
    parser.add_argument("--writes", type=int, default=200, help="writes in each write run")
    parser.add_argument("--bare", nargs=3, metavar=("PORT", "DB", "BODY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
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
                      "200"], f"{api}/checkpoint"):
            body.write_bytes(httpx.get(f"{api}/api/v1/offers?limit=50", headers=signed).content)
            with running([sys.executable, __file__, "--bare", str(bare_port), str(bare_db), str(body)],
                         f"{bare}/same"):
                item = json.loads(body.read_bytes())["items"][0]["item"]  # an item of the catalogue
                offer = {"member": "DEU", "item": item, "quantity": 1, "available_from": "2024-07-01",
                         "depot": "DEU", "status": "draft"}
                api_writes = writes(f"{api}/api/v1/offers", signed, args.writes, offer)
                bare_writes = writes(f"{bare}/row", {}, args.writes, None)
                print(f"Single writes, {args.writes} one after another (requests/s):\n")
                print("| route | writes/s | ratio to bare |\n|---|---|---|")
                print(f"| bare POST, one row + COMMIT | {bare_writes:,.0f} | 1.00 |")
                print(f"| POST /api/v1/offers | {api_writes:,.0f} | {api_writes / bare_writes:.2f} |")
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
