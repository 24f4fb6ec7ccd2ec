"""A longer schemathesis run over `/api/v1` than the test suite's: the same test (tests/api/test_api_schema.py:
signed in as the coordinator and as a desk officer, every operation, positive and negative data, no 5xx and
every answer as its schema says), with more examples per operation.

Usage: .venv/bin/python bench/api_schema.py [--examples 200] [--engine sqlite|postgresql] [--workers 2]

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
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "CONTACTGROUP_SCHEMA_EXAMPLES": str(args.examples), "CONTACTGROUP_SCHEMA_ENGINE": args.engine}
    command = [sys.executable, "-m", "pytest", "-q", "-n", str(args.workers), "tests/api/test_api_schema.py"]
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
