"""Many readers at once against a real `contactgroup serve` on the demo: N concurrent `GET /proposals` while a
witness polls `GET /checkpoint`. Prints a Markdown table for docs/reliability.md.

Usage: .venv/bin/python bench/http_load.py [--clients 400] [--rounds 3]

Before the state store, every `GET /proposals` loaded the whole state: 400 at once took 64 s each and starved the
witness's `/checkpoint`. Now each reads the published snapshot, and `/checkpoint` never writes.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _timed(client: httpx.AsyncClient, path: str) -> float:
    started = time.perf_counter()
    response = await client.get(path)
    response.raise_for_status()
    return time.perf_counter() - started


async def _round(base: str, clients: int) -> tuple[list[float], list[float]]:
    limits = httpx.Limits(max_connections=clients + 5)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:
        async def witness() -> list[float]:
            polls = []
            while not readers.done():
                polls.append(await _timed(client, "/checkpoint"))
                await asyncio.sleep(0.05)
            return polls

        readers = asyncio.gather(*(_timed(client, "/proposals") for _ in range(clients)))
        polls = await witness()
        return list(await readers), polls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "demo.db"
        subprocess.run([sys.executable, "-m", "contactgroup", "demo", "--db", str(db)], check=True,
                       capture_output=True)
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "contactgroup", "serve", "--db", str(db), "--port", str(port),
                                   "--max-connections", str(args.clients + 50)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/checkpoint").raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print("| round | concurrent GET /proposals | each: median | each: max | all done in "
                  "| GET /checkpoint during it: median | max |")
            print("|---|---|---|---|---|---|---|")
            for number in range(1, args.rounds + 1):
                started = time.perf_counter()
                reads, polls = asyncio.run(_round(base, args.clients))
                total = time.perf_counter() - started
                print(f"| {number} | {args.clients} | {statistics.median(reads):.2f} s | {max(reads):.2f} s "
                      f"| {total:.2f} s | {statistics.median(polls) * 1000:.0f} ms | {max(polls) * 1000:.0f} ms |")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
