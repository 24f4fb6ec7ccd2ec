from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.services.clock import FixedClock
from contactgroup.storage.database import Database
from tests.conftest import DatabaseCopies
from tests.factories import World, build_world
from tests.reports.conftest import copied_scenario
from tests.reports.scenario import Scenario


@dataclass
class Cli:
    """Runs `contactgroup` against one database, with a wide terminal so tables do not fold."""

    db: Database

    def __call__(self, *args: str, user: str | None = None) -> Result:
        env = {"CONTACTGROUP_DB": self.db.url, "COLUMNS": "200"}
        if user:
            env["CONTACTGROUP_USER"] = user
        return CliRunner().invoke(app, list(args), env=env)

    def events(self) -> int:
        with self.db.transaction() as uow:
            return uow.next_seq


def build_demo_through_cli(db: Database, _directory: Path) -> None:
    """`contactgroup demo` into `db`, a new file (a `DatabaseCopies` build: tests copy it instead of running it
    again); it says what it built."""
    result = CliRunner().invoke(app, ["demo", "--db", db.url])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC demo (seed 2024)" in result.output


@pytest.fixture
def world(founded_db: Database, clock: FixedClock) -> World:
    return build_world(founded_db, clock)


@pytest.fixture
def scenario(world: World, tmp_path: Path, database_copies: DatabaseCopies) -> Scenario:
    return copied_scenario(world, tmp_path, database_copies)


@pytest.fixture
def cli(founded_db: Database) -> Cli:
    return Cli(founded_db)
