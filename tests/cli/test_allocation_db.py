"""`contactgroup transit ...` and `contactgroup allocate` on the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.domain.model import Visibility
from tests.cli.conftest import Cli
from tests.factories import World, enter_offer, open_requirement


class TestTransit:
    def test_set_then_list(self, cli: Cli, world: World) -> None:
        assert cli("transit", "set", "DEU", "UKR-West", "4", user="admin").exit_code == 0
        assert cli("transit", "set", "DEU", "UKR-West", "5", user="admin").exit_code == 0  # a later value wins
        result = cli("transit", "list", "--format", "csv")
        assert result.stdout == "origin,destination,days\nDEU,UKR-West,5\n"

    def test_only_the_coordinator_sets_it(self, cli: Cli, world: World) -> None:
        result = cli("transit", "set", "DEU", "UKR", "4", user="fra-lead")
        assert result.exit_code == 4
        assert "may not transit:set" in result.stderr

    def test_bad_values_are_named(self, cli: Cli, world: World) -> None:
        result = cli("transit", "set", "deu", "UKR", "4000", user="admin")
        assert result.exit_code == 2
        assert "origin: must be an ISO 3166 alpha-3 country code" in result.stderr
        assert "days: must be a whole number of days from 0 to 3650, got 4000" in result.stderr

    def test_import_is_all_or_nothing_and_names_row_and_column(self, cli: Cli, world: World, tmp_path: Path) -> None:
        bad = tmp_path / "bad.csv"
        bad.write_text("origin,destination,days\nDEU,UKR,3\nUSA,UKR,x\nFRA,,2\nDEU,UKR,4\n")
        before = cli.events()
        result = cli("transit", "import", str(bad), user="admin")
        assert result.exit_code == 2
        for line in (f"{bad}: row 3, column days: must be a whole number of days",
                     f"{bad}: row 4, column destination: must not be empty",
                     f"{bad}: row 5, column (row): route DEU -> UKR repeats row 2"):
            assert line in result.stderr
        assert cli.events() == before
        good = tmp_path / "good.csv"
        good.write_text("origin,destination,days\nDEU,UKR,3\nUSA,UKR-West,12\n")
        assert cli("transit", "import", str(good), user="admin").exit_code == 0
        assert cli("transit", "list", "--format", "csv").stdout.splitlines()[1:] == ["DEU,UKR,3", "USA,UKR-West,12"]

    def test_an_origin_that_is_no_country_is_refused(self, cli: Cli, world: World) -> None:
        result = cli("transit", "set", "XXX", "UKR", "7", user="admin")
        assert result.exit_code == 2
        assert "origin: must be an ISO 3166 alpha-3 country code" in result.stderr and "'XXX'" in result.stderr
        assert cli("transit", "set", "XKX", "UKR", "7", user="admin").exit_code == 0  # as an offer depot may be

    def test_import_names_the_file_line_and_column_of_every_bad_row(
        self, cli: Cli, world: World, tmp_path: Path
    ) -> None:
        path = tmp_path / "routes.csv"
        path.write_text("origin,destination,days\n\nDEU,UKR,3\nXX,UKR,5\n\nPOL,UKR,abc\nQQQ,UKR,1\n")
        before = cli.events()
        result = cli("transit", "import", str(path), user="admin")
        assert result.exit_code == 2
        assert "3 problems" in result.stderr
        for line in (f"{path}: row 4, column origin:", f"{path}: row 6, column days:",
                     f"{path}: row 7, column origin:"):
            assert line in result.stderr
        assert cli.events() == before

    def test_a_wrong_header_is_one_finding(self, cli: Cli, world: World, tmp_path: Path) -> None:
        path = tmp_path / "t.csv"
        path.write_text("from,to,days\nDEU,UKR,3\n")
        result = cli("transit", "import", str(path), user="admin")
        assert result.exit_code == 2
        assert "header: must be origin,destination,days (missing origin, destination; unknown from, to)" in (
            result.stderr)


class TestAllocate:
    def test_a_lead_allocates_its_area_twice_and_sees_what_was_recorded(self, cli: Cli, world: World) -> None:
        open_requirement(world, quantity=10, priority=5)
        enter_offer(world, quantity=10, visibility=Visibility.COALITION)
        assert cli("allocate", "--area", "artillery", user="fra-lead").exit_code == 0
        open_requirement(world, quantity=10, priority=1)
        first = cli.events()
        result = cli("allocate", "--area", "artillery", user="fra-lead")
        assert result.exit_code == 0, result.output
        assert "1 allocations proposed, 0 earlier proposals kept, 1 superseded" in result.stdout
        assert f"recorded as events {first:,} to {first + 1:,}" in result.stdout
        assert "earlier proposals not yet accepted" in result.stdout

    def test_a_lead_outside_its_area_is_refused(self, cli: Cli, world: World) -> None:
        result = cli("allocate", "--area", "drones", user="fra-lead")
        assert result.exit_code == 4
        assert "fra-lead (FRA) does not lead the capability coalition for drones" in result.stderr

    def test_an_unknown_area_lists_the_known_ones(self, cli: Cli, world: World) -> None:
        result = cli("allocate", "--area", "nonsense", user="admin")
        assert result.exit_code != 0
        assert "no capability area 'nonsense'; known areas: artillery, drones" in result.stderr

    def test_the_summary_fits_eighty_columns(self, cli: Cli, world: World) -> None:
        open_requirement(world, quantity=1_000_000, priority=1)
        enter_offer(world, quantity=600_000)
        result = _narrow(cli, "allocate", user="admin")
        assert result.exit_code == 0, result.output
        assert "…" not in result.stdout
        assert "1,000,000" in result.stdout and "600,000" in result.stdout
        assert max(len(line) for line in result.stdout.splitlines()) <= 80


def _narrow(cli: Cli, *args: str, user: str) -> Result:
    env = {"CONTACTGROUP_DB": cli.db.url, "COLUMNS": "80", "CONTACTGROUP_USER": user}
    return CliRunner().invoke(app, list(args), env=env)
