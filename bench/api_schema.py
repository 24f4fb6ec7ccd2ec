"""A longer schemathesis run over `/api/v1` than the test suite's: the same tests (tests/api/test_api_schema.py:
signed in as the coordinator and as a desk officer, no 5xx and every answer as its schema says), with more
examples per operation; with `--stateful`, the stateful test instead — sequences that follow the OpenAPI links
from what a step created (api/links.py) — with more and longer scenarios, over every operation of `/api/v1`.

Usage: .venv/bin/python bench/api_schema.py [--examples 200] [--engine sqlite|postgresql] [--workers 2]
       .venv/bin/python bench/api_schema.py --stateful [--scenarios 100] [--steps 30] [--engine ...]

Needs CONTACTGROUP_SHARED (the reference data) as the tests do; PostgreSQL on 127.0.0.1:5432 for that engine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="examples per operation and user")
    parser.add_argument("--stateful", action="store_true", help="run the stateful test (links) instead")
    parser.add_argument("--scenarios", type=int, default=100, help="--stateful: scenarios per user")
    parser.add_argument("--steps", type=int, default=30, help="--stateful: most steps of one scenario")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "CONTACTGROUP_SCHEMA_EXAMPLES": str(args.examples), "CONTACTGROUP_SCHEMA_ENGINE": args.engine,
           "CONTACTGROUP_STATEFUL_SCENARIOS": str(args.scenarios), "CONTACTGROUP_STATEFUL_STEPS": str(args.steps),
           "CONTACTGROUP_STATEFUL_PATHS": "^/api/v1/"}
    chosen = ["-k", "linked"] if args.stateful else ["-k", "not linked"]
    command = [sys.executable, "-m", "pytest", "-q", "-n", str(args.workers), "--durations=5",
               "tests/api/test_api_schema.py", *chosen]
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
