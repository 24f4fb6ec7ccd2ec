"""Many writers at once: every command succeeds (SQLite queues writers, PostgreSQL retries serialization
failures), no update is lost, ids stay unique, and the record verifies."""

from __future__ import annotations

import subprocess
import sys

from contactgroup.services.verify import verify
from tests.factories import World

WRITERS = 8


def test_parallel_writers_lose_nothing(world: World, db_url: str) -> None:
    before = len(world.db.state().offers)
    procs = [
        subprocess.Popen([sys.executable, "-m", "contactgroup", "offer", "add", "--member", "DEU", "--item", "155-a",
                          "--quantity", str(100 + i), "--available-from", "2024-08-01", "--depot", "DEU",
                          "--db", db_url, "--as", "deu"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(WRITERS)
    ]
    results = [(p.wait(timeout=120), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
               for p in procs]
    assert all(code == 0 for code, _, _ in results), results
    state = world.db.state()
    assert len(state.offers) == before + WRITERS
    assert sorted(o.quantity for o in state.offers.values())[-WRITERS:] == [100 + i for i in range(WRITERS)]
    printed = {out.split()[-1] for _, out, _ in results}
    assert len(printed) == WRITERS and printed <= set(state.offers)
    assert verify(world.db).ok
