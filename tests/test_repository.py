"""The repository's root holds what a reader expects there, and nothing stray (a scratch file, a database)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What may stand at the root of the repository, and why.
ALLOWED = {
    ".ci": "the CI entry point",
    ".gitignore": "what git leaves alone",
    "LICENSE": "the Apache-2.0 text pyproject.toml declares",
    "README.md": "the two commands and a first session",
    "bench": "benchmarks that print figures",
    "docs": "documentation",
    "pyproject.toml": "the package",
    "src": "the code",
    "tests": "the tests",
}


def test_the_root_holds_only_what_it_should() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    top = {line.split("/", 1)[0] for line in tracked.splitlines()}
    stray = sorted(top - ALLOWED.keys())
    assert not stray, f"unexpected at the repository root: {', '.join(stray)} (add it to ALLOWED with a reason)"


def test_the_declared_licence_is_there() -> None:
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()
