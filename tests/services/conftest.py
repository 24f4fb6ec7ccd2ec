from __future__ import annotations

from pathlib import Path

import pytest

from contactgroup.domain.state import State
from contactgroup.services.clock import FixedClock
from contactgroup.services.demo import build_demo
from contactgroup.storage.database import Database
from tests.factories import World, build_world


@pytest.fixture
def world(founded_db: Database, clock: FixedClock) -> World:
    return build_world(founded_db, clock)


def build_demo_11(db: Database, _directory: Path) -> None:
    """The demo of seed 11 (a `DatabaseCopies` build, copied by the governance and the as-of tests)."""
    build_demo(db, seed=11)


@pytest.fixture(scope="session")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> State:
    """The demo coordination's state, built once: rules over reads and refusals run on it without a database."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    build_demo(db)
    return db.state()
