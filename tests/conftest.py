"""Shared fixtures: every database test runs on SQLite and on PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database

# Shared, busy machines: no per-example time limit (speed is measured in bench/, never asserted in tests).
settings.register_profile("contactgroup", deadline=None)
settings.load_profile("contactgroup")

PG_SERVER = os.environ.get("CONTACTGROUP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# The project's shared reference data: ../shared beside the repository, or CONTACTGROUP_SHARED; the Kiel release
# directory alone can be pointed elsewhere with CONTACTGROUP_KIEL_DIR.
SHARED = Path(os.environ.get("CONTACTGROUP_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
KIEL_R29 = Path(os.environ.get("CONTACTGROUP_KIEL_DIR") or SHARED / "data" / "kiel-ust-r29")


def _pg_available() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(PG_SERVER)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: not available
        return str(exc).splitlines()[0]


_PG_PROBLEM: list[str | None] = []


def require_postgres() -> None:
    """Skip without PostgreSQL on a developer machine; fail in CI, where no test may be skipped."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_pg_available())
    problem = _PG_PROBLEM[0]
    if problem is not None:
        message = f"PostgreSQL at {PG_SERVER} is not reachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: an SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'contactgroup.db'}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL to a fresh PostgreSQL schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 7, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def founded_db(db_url: str, clock: FixedClock) -> Iterator[Database]:
    """A coordination for UKR chaired by IDCC (coordinator `admin`) with the 52 reference members."""
    db = Database(db_url)
    init_coordination(db, clock)
    yield db
    db.engine.dispose()


@pytest.fixture
def kiel_dir() -> Path:
    if not (KIEL_R29 / "data_explorer.csv").exists():
        pytest.fail(f"the Kiel Release 29 files are expected in {KIEL_R29} (../shared beside the repository)")
    return KIEL_R29
