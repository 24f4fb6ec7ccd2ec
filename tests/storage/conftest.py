from __future__ import annotations

import pytest

from contactgroup.services.clock import FixedClock
from contactgroup.storage.database import Database
from tests.factories import World, build_world


@pytest.fixture
def world(founded_db: Database, clock: FixedClock) -> World:
    return build_world(founded_db, clock)
