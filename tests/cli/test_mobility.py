"""`contactgroup mobility compare`: the comparison as a table, JSON, CSV and an SVG chart, and a bad zone refused.

The figures themselves are proved in tests/services/test_movement.py on a plain State; here the commands run on the
reference network recorded as the demo records it (real places), so that each is tried whole."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from contactgroup.domain.model import Leg, Mode
from contactgroup.services import coordination as svc
from contactgroup.services import mobility, movement, queries
from contactgroup.services.mobility import network_of
from tests.cli.conftest import Cli
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


@pytest.fixture
def corridor(world: World) -> None:
    world.do(mobility.load_reference, "admin")


# The figures are of Saturday 5 December 2026 (working days and the network's dated rules), whatever day the tests
# run on.
FROM = ("--from", "2026-12-05")


def placed(world: World) -> str:
    """60 units from Duisburg's rail terminal to the Lviv handover point, confirmed: both ends places."""
    return confirmed_allocation(world, enter_offer(world, "deu", depot="DUI-RAIL"),
                                open_requirement(world, 100, destination="LVIV-HP"), 60)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
class TestCompare:
    def test_every_level_in_json_and_csv_and_a_chart(self, world: World, cli: Cli, corridor: None,
                                                     tmp_path: Path) -> None:
        allocated = confirmed_allocation(world, enter_offer(world, "deu"), open_requirement(world, 100), 60)
        chart = tmp_path / "zone.svg"
        result = cli("mobility", "compare", "--zone", "NLD,DEU,POL", *FROM, "--format", "json", "--chart", str(chart),
                     user="deu")
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        # The world's offers ship from a country (DEU) to a region (UKR-West): listed, with the reason, not routed.
        assert rows[0] == {**rows[0], "level": "shipment", "key": allocated, "units": 60,
                           "note": "depot 'DEU' and destination 'UKR-West' are not places of the network"}
        # Tiers and members tally the routed shipments: none here, so the total alone.
        assert [(r["level"], r["key"], r["shipments"], r["days_saved"]) for r in rows[1:]] == [("total", "all", 0, 0)]
        ET.fromstring(chart.read_bytes())  # a whole SVG document
        table = cli("mobility", "compare", "--zone", "NLD,DEU,POL", *FROM, "--format", "csv", user="fra")
        listed = list(csv.DictReader(io.StringIO(table.stdout)))
        assert [r["level"] for r in listed] == ["total"]  # France may not see Germany's shipment: counted only

    def test_each_side_s_schedule_and_gaps_shown_and_the_same_every_run(self, world: World, cli: Cli,
                                                                       corridor: None) -> None:
        # The last leg into Lviv takes one shipment a day, so both sides have a schedule to make.
        world.do(mobility.set_leg, "admin", Leg("HREBENNE-XING", "LVIV-HP", Mode.ROAD, 1, capacity=1))
        shipments = [placed(world), placed(world)]
        # A zone the record lacks: "without" is the record's network, scheduled as `delivery plan` schedules.
        runs = [cli("mobility", "compare", "--zone", "CZE,SVK", *FROM, "--format", "json", user="deu")
                for _ in range(2)]
        assert runs[0].exit_code == 0, runs[0].output
        assert runs[0].stdout == runs[1].stdout  # deterministic: one worker, CP-SAT's deterministic time
        rows = json.loads(runs[0].stdout)
        stages = [r for r in rows if r["level"] == "stage"]
        # A small instance: every stage of each side proved optimal, gap 0.
        assert [(r["key"], r["objective"]) for r in stages] == [
            (side, objective) for side in ("without", "with") for objective in ("on time, priority 1", "days late")]
        assert all(r["status"] == "optimal" and r["value"] == r["bound"] and r["gap_percent"] == "0.00"
                   for r in stages)
        plans = {a: json.loads(cli("delivery", "plan", a, *FROM, "--format", "json", user="deu").stdout)[0]["eta"]
                 for a in shipments}
        assert {r["key"]: r["eta_without"] for r in rows if r["level"] == "shipment"} == plans
        table = cli("mobility", "compare", "--zone", "CZE,SVK", *FROM, user="deu")
        assert "schedule without the zone: optimal; with: optimal" in " ".join(table.stdout.split())

    def test_the_table_names_the_zone_and_its_start(self, world: World, cli: Cli, corridor: None) -> None:
        result = cli("mobility", "compare", "--zone", "nld, deu ,POL", *FROM, "--zone-starts", "2027-01-04",
                     user="deu")
        assert result.exit_code == 0, result.output
        # The network's own NL-DE-PL zone, moved to start later.
        assert "Zone DEU, NLD, POL (no per-movement permission, from 2027-01-04), planned on 2026-12-05" in (
            result.stdout)
        assert "per priority tier" in result.stdout and "in total" in result.stdout

    def test_the_planning_day_moves_every_shipment_and_the_zone_s_start(self, world: World, cli: Cli,
                                                                         corridor: None) -> None:
        allocated = placed(world)
        later = json.loads(cli("mobility", "compare", "--zone", "NLD,DEU,POL", "--from", "2026-12-12", "--format",
                               "json", user="deu").stdout)
        earlier = json.loads(cli("mobility", "compare", "--zone", "NLD,DEU,POL", *FROM, "--format", "json",
                                 user="deu").stdout)
        # Planned a week later, it leaves a week later (no holiday between): its ETA is a week later too.
        eta = {run: next(r["eta_with"] for r in rows if r["key"] == allocated)
               for run, rows in (("later", later), ("earlier", earlier))}
        assert date.fromisoformat(eta["later"]) - date.fromisoformat(eta["earlier"]) == timedelta(days=7)
        # A zone the network does not have starts on the planning day.
        zoned = cli("mobility", "compare", "--zone", "NLD,DEU", "--from", "2026-12-12", user="deu")
        assert "Zone DEU, NLD (no per-movement permission, from 2026-12-12), planned on 2026-12-12" in zoned.stdout

    @pytest.mark.parametrize(("command", "given", "said"), [
        (("mobility", "compare", "--zone", "NLD,DEU"), "2026-02-30", "'2026-02-30' is not a date (YYYY-MM-DD)"),
        (("mobility", "map"), "5 Dec", "'5 Dec' is not a date"),
        (("delivery", "plan", "A-1"), "3100-01-01", "3100-01-01 is outside 1900-01-01..2999-12-31")])
    def test_a_bad_planning_day_is_refused_naming_the_option(self, world: World, cli: Cli, command: tuple[str, ...],
                                                             given: str, said: str) -> None:
        result = cli(*command, "--from", given, user="deu")
        assert result.exit_code == 2
        assert "--from" in result.output and said in " ".join(result.output.replace("│", " ").split())

    def test_a_zone_with_an_unknown_country_is_refused(self, world: World, cli: Cli, corridor: None) -> None:
        result = cli("mobility", "compare", "--zone", "NLD,XYZ,POL", user="deu")
        assert result.exit_code == 2
        assert "zone: 'XYZ' is not an ISO 3166 alpha-3 country code" in result.output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
class TestMap:
    def test_the_network_and_a_shipment_s_route_as_svg(self, world: World, cli: Cli, corridor: None,
                                                       tmp_path: Path) -> None:
        allocated = confirmed_allocation(world, enter_offer(world, "deu"), open_requirement(world, 100), 60)
        whole = cli("mobility", "map", user="analyst")
        assert whole.exit_code == 0, whole.output
        root = ET.fromstring(whole.stdout.encode())
        assert root.get("aria-label") == "Transport network"
        drawn = tmp_path / "route.svg"
        result = cli("mobility", "map", "--shipment", allocated, *FROM, "-o", str(drawn), user="deu")
        assert result.exit_code == 0 and result.stdout == f"map written to {drawn}\n", result.output
        texts = ["".join(t.itertext()) for t in ET.fromstring(drawn.read_bytes()).iter(
            "{http://www.w3.org/2000/svg}text")]
        assert ("No route: depot 'DEU' and destination 'UKR-West' are not places of the network") in texts

    def test_a_shipment_the_reader_may_not_see_is_not_found_like_an_unknown_one(
            self, world: World, cli: Cli, corridor: None) -> None:
        allocated = confirmed_allocation(world, enter_offer(world, "deu"), open_requirement(world, 100), 60)
        hidden = cli("mobility", "map", "--shipment", allocated, user="fra")
        unknown = cli("mobility", "map", "--shipment", "A-999", user="fra")
        assert hidden.exit_code == unknown.exit_code == 3
        assert hidden.output.replace(allocated, "X") == unknown.output.replace("A-999", "X")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
class TestDeliveryPlan:
    def test_legs_permissions_and_eta(self, world: World, cli: Cli, corridor: None) -> None:
        allocated = placed(world)
        result = cli("delivery", "plan", allocated, *FROM, "--format", "json", user="deu")
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        # By rail across Germany into Poland, where the NL-DE-PL zone waives the permission, then by road into
        # Ukraine at Hrebenne, which needs Ukraine's clearance of 2 working days.
        assert [(r["leg"], r["mode"], r["permission"]) for r in rows] == [
            ("DUI-RAIL → HAJ-RAIL", "road", ""), ("HAJ-RAIL → MAG-RAIL", "rail", ""),
            ("MAG-RAIL → FFO-RAIL", "rail", ""), ("FFO-RAIL → POZ-HUB", "rail", "none: zone NL-DE-PL"),
            ("POZ-HUB → LUB-HUB", "rail", ""), ("LUB-HUB → HREBENNE-XING", "road", ""),
            ("HREBENNE-XING → LVIV-HP", "road", "UKR 2 working days")]
        assert all(r["departs"] >= r["ready"] for r in rows if r["ready"])
        assert all(b["reached"] == a["arrives"] for a, b in itertools.pairwise(rows))
        assert rows[0]["eta"] == rows[-1]["arrives"]
        table = cli("delivery", "plan", allocated, *FROM, user="deu")
        assert f"{allocated}: 60 units DUI-RAIL → LVIV-HP" in table.stdout and "needed by 2024-09-01" in table.stdout

    def test_the_eta_waits_where_a_leg_is_full(self, world: World, cli: Cli, corridor: None) -> None:
        # The last leg into Lviv takes one shipment a day: of two shipments on the same route, one waits a day.
        world.do(mobility.set_leg, "admin", Leg("HREBENNE-XING", "LVIV-HP", Mode.ROAD, 1, capacity=1))
        first, second = placed(world), placed(world)
        plans = [json.loads(cli("delivery", "plan", a, *FROM, "--format", "json", user="deu").stdout)[0]
                 for a in (first, second)]
        waits = sorted(p["waited_for_room"] for p in plans)
        assert waits[0] == "" and waits[1].startswith("HREBENNE-XING>LVIV-HP/road full ")
        assert waits[1].endswith(": 1 day")
        on_time, waited = sorted(plans, key=lambda p: p["waited_for_room"])
        assert date.fromisoformat(waited["eta"]) == date.fromisoformat(on_time["eta"]) + timedelta(days=1)

    def test_no_route_says_why(self, world: World, cli: Cli, corridor: None) -> None:
        allocated = confirmed_allocation(world, enter_offer(world, "deu"), open_requirement(world, 100), 60)
        result = cli("delivery", "plan", allocated, *FROM, user="deu")
        assert result.exit_code == 1
        assert "no route on the network: depot 'DEU' and destination 'UKR-West' are not places" in result.output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
class TestPermissions:
    def test_a_shipment_under_way_refused_at_the_border_waits_there(self, world: World, cli: Cli,
                                                                     corridor: None) -> None:
        allocated = confirmed_allocation(world, enter_offer(world, "fra", member="FRA", depot="ANR-PORT"),
                                         open_requirement(world, 100, destination="LVIV-HP"), 60, donor="fra")
        world.clock.at = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)  # Wednesday
        d = world.do(svc.dispatch, "fra", allocation=allocated, quantity=60, dispatched_on=date(2026, 12, 7))
        network = network_of(world.db.state(), date(2026, 12, 16))
        world.do(movement.record_position, "fra", d.id, "KORCZOWA-XING", date(2026, 12, 16), network)
        [into] = world.do(movement.request_permissions, "fra", d.id, network)
        assert into.key == f"{d.id}/UKR/road"
        world.do(movement.decide_permission, "ukr", into.key, False, "crossing closed")
        # The plan goes round: back to the Rzeszów hub, to Medyka and by rail into Ukraine. Refused too.
        [by_rail] = world.do(movement.request_permissions, "fra", d.id, network)
        assert by_rail.key == f"{d.id}/UKR/rail"
        world.do(movement.decide_permission, "ukr", by_rail.key, False, "no wagons")
        # Planned as of a past day, it is planned from where it is: at the crossing since Wednesday 16 December.
        # Every way into Ukraine is refused, so it waits for Ukraine's clearance asked again on the day it was
        # refused: 2 working days → Friday 18 December; then a day's road to Lviv, Saturday 19 (by rail from
        # Medyka it would arrive the same day: of equal routes, the one found first is kept).
        plan = cli("delivery", "plan", d.id, "--from", "2026-12-07", user="fra")
        assert plan.exit_code == 0, plan.output
        said = " ".join(plan.stdout.split())
        assert f"{d.id}: 60 units KORCZOWA-XING → LVIV-HP, leaving 2026-12-16; ETA 2026-12-19" in said
        assert ("it waits at Korczowa–Krakovets crossing, A4 for a new UKR permission: refused 16 December, new "
                "request ready 18 December") in said
        [step] = json.loads(cli("delivery", "plan", d.id, "--from", "2026-12-07", "--format", "json",
                                user="fra").stdout)
        assert (step["waited"], step["permission"], step["status"]) == (
            2, "UKR 2 working days, asked again: refused 2026-12-16", "refused")
        assert step["waits_for_permission"].startswith("waits at Korczowa")
        # The recipient's inbox lists it to receive, late (it was needed long ago), and says why.
        state = world.db.state()
        [entry] = [e for e in queries.inbox(state, state.users["ukr"], world.clock.at).entries if e.id == d.id]
        assert entry.detail.endswith("(waits at Korczowa–Krakovets crossing, A4 for a new UKR permission: refused "
                                     "16 December, new request ready 18 December)")

    def test_request_refuse_and_the_plan_shows_where_each_stands(self, world: World, cli: Cli,
                                                                 corridor: None) -> None:
        # France ships from Antwerp: entering Germany by rail needs Germany's permission (France is no national).
        allocated = confirmed_allocation(world, enter_offer(world, "fra", member="FRA", depot="ANR-PORT"),
                                         open_requirement(world, 100, destination="LVIV-HP"), 60, donor="fra")
        plan = json.loads(cli("delivery", "plan", allocated, *FROM, "--format", "json", user="fra").stdout)
        assert (plan[0]["leg"], plan[0]["mode"], plan[0]["status"]) == ("ANR-PORT → DUI-RAIL", "rail", "to request")
        asked = cli("delivery", "permission", "request", allocated, user="fra")
        assert asked.exit_code == 0 and f"requested {allocated}/DEU/rail" in asked.stdout, asked.output
        assert cli("delivery", "permission", "refuse", f"{allocated}/DEU/rail", user="fra").exit_code == 4
        before = cli.events()
        long = cli("delivery", "permission", "refuse", f"{allocated}/DEU/rail", "--reason", "x" * 501, user="deu")
        assert long.exit_code == 2 and "reason: at most 500 characters" in long.output and cli.events() == before
        refused = cli("delivery", "permission", "refuse", f"{allocated}/DEU/rail", "--reason", "convoy", user="deu")
        assert refused.exit_code == 0 and refused.stdout == f"permission {allocated}/DEU/rail refused\n"
        listed = json.loads(cli("delivery", "permission", "list", "--format", "json", user="deu").stdout)
        assert [(p["country"], p["status"], p["reason"]) for p in listed] == [("DEU", "refused", "convoy")]
        # The plan goes round the refused crossing: into Germany by road, whose permission is still to request.
        plan = json.loads(cli("delivery", "plan", allocated, *FROM, "--format", "json", user="fra").stdout)
        assert (plan[0]["leg"], plan[0]["mode"], plan[0]["status"]) == ("ANR-PORT → DUI-RAIL", "road", "to request")
        assert cli("delivery", "permission", "list", user="usa").stdout.startswith("Movement permissions: none")


def test_the_caption_gives_each_side_s_gaps_and_the_time_limit_from_the_rows_as_served() -> None:
    from contactgroup.cli.mobility import schedule_caption

    # As JSON carries them (a server's answer): numbers of a stage's gap and limit as text.
    stage = {"level": "stage", "key": "without", "time_limit": "5"}
    records = [{**stage, "objective": "on time, priority 1", "status": "optimal", "value": 3, "bound": 3,
                "gap_percent": "0.00"},
               {**stage, "objective": "days late", "status": "feasible", "value": 104, "bound": 100,
                "gap_percent": "3.85"},
               {"level": "total", "key": "all"}]
    assert schedule_caption(records) == (
        "schedule without the zone: priority stages optimal, days late within 3.8%; with: nothing to schedule "
        "(time limit 5 s of CP-SAT's deterministic time)")
