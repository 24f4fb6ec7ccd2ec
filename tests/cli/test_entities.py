"""Listing and showing the coordination's objects: who sees what, and the same forms on every command."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import Result
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.domain.model import ValuationBasis
from contactgroup.services import coordination as svc
from tests.cli.conftest import Cli, build_demo_through_cli
from tests.conftest import DatabaseCopies
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


class TestRecipientSeesWhatItMustAccept:
    def test_lists_and_shows_an_allocation_of_a_member_only_offer(self, world: World, cli: Cli) -> None:
        req = open_requirement(world)
        offer = enter_offer(world)  # visibility member: the recipient may not see the offer itself
        alloc = world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=100).id
        world.do(svc.move_allocation, "deu", alloc, "accept")

        listed = cli("allocation", "list", "--status", "accepted_by_donor", "-f", "json", user="ukr")
        assert listed.exit_code == 0, listed.output
        assert [a["id"] for a in json.loads(listed.output)] == [alloc]
        shown = cli("allocation", "show", alloc, "-f", "json", user="ukr")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.output)[0]["requirement"] == req
        assert cli("offer", "show", offer, user="ukr").exit_code == 3  # the offer stays as visible as chosen

    def test_sees_the_shipments_it_must_receive(self, world: World, cli: Cli) -> None:
        req = open_requirement(world)
        alloc = confirmed_allocation(world, enter_offer(world), req, 100)
        d = world.do(svc.dispatch, "deu", allocation=alloc, quantity=100, dispatched_on=date(2024, 7, 1)).id

        listed = cli("delivery", "list", "-f", "json", user="ukr")
        assert [x["id"] for x in json.loads(listed.output)] == [d]
        assert cli("delivery", "show", d, user="ukr").exit_code == 0

    def test_another_member_still_sees_nothing(self, world: World, cli: Cli) -> None:
        req = open_requirement(world)
        alloc = world.do(svc.propose_allocation, "admin", offer=enter_offer(world), requirement=req,
                         quantity=100).id
        assert json.loads(cli("allocation", "list", "-f", "json", user="fra").output) == []
        assert cli("allocation", "show", alloc, user="fra").exit_code == 3


class TestBurdenWithoutARate:
    def test_names_the_offer_and_member(self, world: World, cli: Cli) -> None:
        from decimal import Decimal

        offer = enter_offer(world, value=Decimal(1000), currency="UAH", basis=ValuationBasis.MARKET)
        result = cli("report", "burden", user="admin")
        assert result.exit_code == 2
        assert f"offer {offer} of DEU" in result.output and "UAH" in result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, database_copies: DatabaseCopies) -> str:
    """`contactgroup demo` (built once per session, copied per module)."""
    directory = tmp_path_factory.mktemp("demo")
    db = database_copies.copy(f"sqlite:///{directory / 'demo.db'}", directory, "cli-demo", build_demo_through_cli)
    db.engine.dispose()
    return str(directory / "demo.db")


def on_demo(demo: str, *args: str) -> Result:
    return CliRunner().invoke(app, [*args, "--db", demo], env={"COLUMNS": "200"})


@pytest.mark.xdist_group("cli-demo")  # one worker builds the demo, not each
class TestSyntheticMarker:
    @pytest.mark.parametrize("command", [("offer", "show", "O-00001", "--as", "admin"),
                                         ("requirement", "show", "R-00001"),
                                         ("transit", "list", "--as", "admin")])
    def test_every_format_says_synthetic(self, demo: str, command: tuple[str, ...]) -> None:
        table = on_demo(demo, *command)
        assert table.exit_code == 0, table.output
        assert "SYNTHETIC DEMO DATA" in table.stdout
        csv_out = on_demo(demo, *command, "-f", "csv")
        assert csv_out.stdout.splitlines()[0].endswith(",synthetic")
        data = json.loads(on_demo(demo, *command, "-f", "json").stdout)
        assert all(row["synthetic"] is True for row in data)


class TestEmptyList:
    @pytest.mark.parametrize(("command", "header"), [
        (("allocation", "list", "--as", "ukr"), "id,offer,requirement,quantity,status,proposed_on"),
        (("delivery", "list", "--as", "ukr"), "id,allocation,quantity,status,dispatched_on"),
        (("consent", "list", "--as", "ukr"), "id,offer,origin,status"),
        (("fund", "list"), "code,name,manager,area,contributors,pledges"),
    ])
    def test_csv_prints_the_full_header(self, world: World, cli: Cli, command: tuple[str, ...], header: str) -> None:
        result = cli(*command, "-f", "csv")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(header)


class TestEveryCommandRunsAsAUser:
    @pytest.mark.parametrize("command", [("user", "list"), ("member", "list"), ("requirement", "list"),
                                         ("fund", "list"), ("coalition", "list"), ("catalogue", "items"),
                                         ("catalogue", "classes"), ("transit", "list")])
    def test_lists_accept_as(self, world: World, cli: Cli, command: tuple[str, ...]) -> None:
        assert cli(*command, "--as", "admin").exit_code == 0
        assert cli(*command, "--as", "nobody").exit_code == 3  # an unknown user is refused, not ignored

    def test_shows_accept_as(self, world: World, cli: Cli) -> None:
        req = open_requirement(world)
        assert cli("requirement", "show", req, "--as", "ukr").exit_code == 0
        assert cli("fund", "show", "NOPE", "--as", "ukr").exit_code == 3


def test_unknown_references_exit_3(world: World, cli: Cli) -> None:
    base = ("offer", "add", "--item", "155-a", "--quantity", "1", "--available-from", "2024-06-01", "--depot", "DEU")
    assert cli(*base, "--member", "XXX", user="admin").exit_code == 3
    assert cli(*base, "--member", "DEU", "--consent-from", "XXX", user="admin").exit_code == 3


def test_fund_show_names_only_the_offers_its_reader_may_see(demo: str) -> None:
    chair = on_demo(demo, "fund", "show", "AMMO-INIT", "--as", "admin")
    assert chair.exit_code == 0 and "O-00124" in chair.stdout and "you may not see" not in chair.stdout
    anyone = on_demo(demo, "fund", "show", "AMMO-INIT", "--format", "json")
    data = json.loads(anyone.stdout)[0]
    assert anyone.exit_code == 0 and "O-00124" not in anyone.stdout
    assert data["offers_not_shown"] == 16 - len(data["offers"]) and data["contributions"]
