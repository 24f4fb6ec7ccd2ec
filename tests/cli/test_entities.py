"""Listing and showing the coordination's objects: who sees what, and the same forms on every command."""

from __future__ import annotations

import json
from datetime import date

from contactgroup.domain import model as m
from contactgroup.services import coordination as svc
from tests.cli.conftest import Cli
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

        offer = enter_offer(world, value=Decimal(1000), currency="UAH", basis=m.ValuationBasis.MARKET)
        result = cli("report", "burden", user="admin")
        assert result.exit_code == 2
        assert f"offer {offer} of DEU" in result.output and "UAH" in result.output
