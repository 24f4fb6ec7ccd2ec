"""`contactgroup place add|list` and destinations at `requirement add`: a known place or a clear refusal."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli
from tests.factories import World

REQUIREMENT = ("requirement", "add", "--class", "155mm", "--quantity", "10", "--priority", "1",
               "--needed-by", "2024-09-01", "--on", "2024-07-01")


class TestPlace:
    def test_add_then_list(self, world: World, cli: Cli) -> None:
        added = cli("place", "add", "RZESZOW-HP", "--name", "Rzeszów handover point", "--country", "POL",
                    "--kind", "handover-point", user="admin")
        assert added.exit_code == 0, added.output
        assert added.stdout == "place RZESZOW-HP defined (handover_point in POL)\n"
        added = cli("place", "add", "LVIV-HP", "--name", "Lviv [/] point", "--country", "UKR", "--region", "West",
                    user="admin")
        assert added.exit_code == 0 and "(handover_point in UKR-West)" in added.stdout, added.output
        listed = json.loads(cli("place", "list", "--format", "json", user="analyst").stdout)
        assert listed == [
            {"code": "LVIV-HP", "name": "Lviv [/] point", "kind": "handover_point", "country": "UKR",
             "region": "West", "lat": "", "lon": "", "capacity": ""},
            {"code": "RZESZOW-HP", "name": "Rzeszów handover point", "kind": "handover_point", "country": "POL",
             "region": "", "lat": "", "lon": "", "capacity": ""}]
        table = cli("place", "list")
        assert table.exit_code == 0 and "Lviv [/] point" in table.stdout  # a name's markup shows as text

    def test_a_bad_place_names_the_field_exits_2_and_writes_nothing(self, world: World, cli: Cli) -> None:
        before = cli.events()
        result = cli("place", "add", "POL-RZE", "--name", "Rzeszów", "--country", "pol", user="admin")
        assert result.exit_code == 2
        assert "code: 'POL-RZE' reads as a destination in the country POL" in result.output
        assert "country: 'pol' is not an ISO 3166 alpha-3 country code" in result.output
        assert cli.events() == before

    def test_an_unknown_kind_names_the_choices(self, world: World, cli: Cli) -> None:
        result = cli("place", "add", "HUB-1", "--name", "Hub", "--country", "POL", "--kind", "harbour", user="admin")
        assert result.exit_code == 2 and "'harbour' is not a kind of place; choose depot, port" in result.output

    def test_a_network_place_has_coordinates_and_a_daily_capacity(self, world: World, cli: Cli) -> None:
        result = cli("place", "add", "RZE-HUB", "--name", "Rzeszów hub", "--country", "POL", "--kind",
                     "logistics-hub", "--lat", "50.11", "--lon", "22.02", "--capacity", "500", "--capacity-unit", "t",
                     user="admin")
        assert result.exit_code == 0, result.output
        listed = cli("place", "list", "--format", "csv", user="deu")
        assert "RZE-HUB,Rzeszów hub,logistics_hub,POL,,50.11,22.02,500 t/day" in listed.stdout

    def test_only_a_coordinator_defines_places(self, world: World, cli: Cli) -> None:
        result = cli("place", "add", "HUB-1", "--name", "Hub", "--country", "POL", user="deu")
        assert result.exit_code == 4 and "place:define" in result.output


class TestRequirementDestination:
    def test_a_defined_place_is_taken(self, world: World, cli: Cli) -> None:
        assert cli("place", "add", "RZESZOW-HP", "--name", "Rzeszów", "--country", "POL", user="admin").exit_code == 0
        result = cli(*REQUIREMENT, "--destination", "RZESZOW-HP", user="ukr")
        assert result.exit_code == 0, result.output

    def test_an_unknown_place_is_refused_naming_the_field(self, world: World, cli: Cli) -> None:
        before = cli.events()
        result = cli(*REQUIREMENT, "--destination", "Lviv depot", user="ukr")
        assert result.exit_code == 2
        assert "destination: 'Lviv depot' is not a place the record knows: write a country code" in result.output
        assert cli.events() == before
