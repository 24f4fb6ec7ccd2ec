from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database
from tests.conftest import DatabaseCopies
from tests.factories import World, build_world
from tests.reports.scenario import Scenario, build_scenario


def copied_scenario(w: World, directory: Path, copies: DatabaseCopies) -> Scenario:
    """`build_scenario(w)` on `w`'s database, which holds the founded coordination (`founded_db`) and the world
    (`build_world`): all three are built once per session and copied over it; the clock is moved on as building
    the scenario moves it."""

    def build(db: Database, _directory: Path) -> tuple[tuple[str | tuple[str, ...], ...], datetime]:
        clock = FixedClock(w.clock.at)
        init_coordination(db, clock)
        built = build_scenario(build_world(db, clock))
        return (built.r1, built.r2, built.r3, built.r4, built.offers), clock.at

    ids, at = copies.rebuild(w.db, directory, ("scenario", w.clock.at), build)
    w.clock.at = at
    return Scenario(w, *ids)


@pytest.fixture
def scenario(founded_db: Database, clock: FixedClock, tmp_path: Path, database_copies: DatabaseCopies) -> Scenario:
    return copied_scenario(World(founded_db, clock), tmp_path, database_copies)
