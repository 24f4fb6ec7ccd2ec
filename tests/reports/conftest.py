from __future__ import annotations

import pytest

from contactgroup.services.clock import FixedClock
from contactgroup.storage.database import Database
from tests.factories import build_world
from tests.reports.scenario import Scenario, build_scenario


@pytest.fixture
def scenario(founded_db: Database, clock: FixedClock) -> Scenario:
    return build_scenario(build_world(founded_db, clock))
