"""Moves of many objects at once, and the inbox, through the command line: all or nothing, every refused id named
with its reason (a hidden id as one that does not exist), the exit code of the refusals' kind, nothing written."""

from __future__ import annotations

import json
from datetime import date

from contactgroup.domain.model import ConsentStatus, DeliveryStatus, OfferStatus, RequirementStatus, Visibility
from contactgroup.services import coordination as svc
from tests.cli.conftest import Cli
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


def _proposed(world: World, offers: list[str], req: str, quantity: int = 100) -> list[str]:
    return [world.do(svc.propose_allocation, "admin", offer=o, requirement=req, quantity=quantity).id
            for o in offers]


def _status(world: World, ids: list[str]) -> list[str]:
    state = world.db.state()
    return [state.allocations[i].status.value for i in ids]


class TestAllOrNothing:
    def test_every_refused_id_is_named_and_nothing_is_written(self, world: World, cli: Cli) -> None:
        req = open_requirement(world, quantity=5000)
        own = _proposed(world, [enter_offer(world), enter_offer(world)], req)
        (french,) = _proposed(world, [enter_offer(world, user="fra", member="FRA")], req)  # DEU may not see it
        before = cli.events()

        result = cli("allocation", "move", *own, french, "A-99999", "accept", user="deu")
        assert result.exit_code == 3, result.output  # not found, as for an id that does not exist
        assert "2 of 4 allocation moves refused, so none was made" in result.output
        assert f"{french}: no allocation '{french}' that deu may see" in result.output
        assert "A-99999: no allocation 'A-99999' that deu may see" in result.output
        assert "FRA" not in result.output and own[0] not in result.output
        assert cli.events() == before and _status(world, own) == ["proposed", "proposed"]

        result = cli("allocation", "move", *own, "accept", user="deu")
        assert result.exit_code == 0, result.output
        assert all(f"allocation {a} is accepted_by_donor" in result.output for a in own)
        assert _status(world, own) == ["accepted_by_donor", "accepted_by_donor"]

    def test_refusals_of_one_kind_exit_with_its_code(self, world: World, cli: Cli) -> None:
        req = open_requirement(world, quantity=5000)
        ids = _proposed(world, [enter_offer(world), enter_offer(world), enter_offer(world)], req)
        assert cli("allocation", "move", ids[0], "accept", user="deu").exit_code == 0
        before = cli.events()
        result = cli("allocation", "move", *ids, ids[1], "accept", user="deu")  # an id twice is moved once
        assert result.exit_code == 5, result.output  # an illegal transition is a conflict
        assert "1 of 3 allocation moves refused" in result.output
        assert f"{ids[0]}: allocation {ids[0]} cannot go from 'accepted_by_donor'" in result.output
        assert cli.events() == before
        result = cli("allocation", "move", *ids[1:], "confirm", user="deu")
        assert result.exit_code == 4, result.output  # forbidden: a desk does not confirm
        assert result.output.count("may not allocation:confirm") == 2
        result = cli("allocation", "move", "A-99999", ids[0], "accept", user="deu")
        assert result.exit_code == 3, result.output  # kinds differ: the first refusal's
        assert "2 of 2 allocation moves refused" in result.output and f"{ids[0]}: allocation" in result.output
        assert cli.events() == before

    def test_one_id_says_what_it_said_before(self, world: World, cli: Cli) -> None:
        result = cli("allocation", "move", "A-99999", "accept", user="deu")
        assert result.exit_code == 3
        assert "no allocation 'A-99999' that deu may see" in result.output and "refused" not in result.output

    def test_requirements_and_consents_move_together(self, world: World, cli: Cli) -> None:
        reqs = [world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=10, priority=1,
                         needed_by=__import__("datetime").date(2024, 9, 1), destination="UKR-West").id
                for _ in range(3)]
        assert cli("requirement", "move", *reqs, "submit", user="ukr").exit_code == 0
        result = cli("requirement", "move", "validate", "--awaiting-me", user="admin")
        assert result.exit_code == 0, result.output
        state = world.db.state()
        assert {state.requirements[r].status for r in reqs} == {RequirementStatus.VALIDATED}

        offers = [enter_offer(world, consent_from="USA") for _ in range(2)]
        consents = [world.do(svc.request_consent, "deu", o).id for o in offers]
        result = cli("consent", "decide", *consents, "grant", user="usa")
        assert result.exit_code == 0, result.output
        state = world.db.state()
        assert {state.consents[c].status for c in consents} == {ConsentStatus.GRANTED}


class TestFilters:
    def test_awaiting_me_and_member_select_what_the_user_may_move_now(self, world: World, cli: Cli) -> None:
        req = open_requirement(world, quantity=5000)
        shown = Visibility.RECIPIENT
        deu = _proposed(world, [enter_offer(world, visibility=shown), enter_offer(world, visibility=shown)], req)
        fra = _proposed(world, [enter_offer(world, user="fra", member="FRA")], req)  # the liaison may not see it
        result = cli("allocation", "move", "accept", "--awaiting-me", user="deu")
        assert result.exit_code == 0, result.output
        assert _status(world, deu + fra) == ["accepted_by_donor", "accepted_by_donor", "proposed"]
        assert cli("allocation", "move", "accept", "--awaiting-me", user="fra").exit_code == 0
        # The liaison accepts only DEU's; FRA's offer it may not see, so FRA selects nothing.
        assert cli("allocation", "move", "accept", "--member", "DEU", user="ukr").exit_code == 0
        assert "nothing changed" in cli("allocation", "move", "accept", "--member", "FRA", user="ukr").output
        assert _status(world, deu + fra) == ["accepted_by_recipient", "accepted_by_recipient",
                                            "accepted_by_donor"]
        result = cli("allocation", "move", "confirm", "--awaiting-me", "--member", "DEU", user="admin")
        assert result.exit_code == 0, result.output
        assert _status(world, deu + fra) == ["confirmed", "confirmed", "accepted_by_donor"]

    def test_a_filter_that_selects_nothing_changes_nothing(self, world: World, cli: Cli) -> None:
        before = cli.events()
        result = cli("allocation", "move", "accept", "--awaiting-me", user="deu")
        assert result.exit_code == 0 and "no allocation that deu may accept now: nothing changed" in result.output
        assert cli.events() == before

    def test_ids_and_a_filter_together_are_refused(self, world: World, cli: Cli) -> None:
        result = cli("allocation", "move", "A-00001", "accept", "--awaiting-me", user="deu")
        assert result.exit_code == 2 and "not both" in result.output
        result = cli("allocation", "move", "accept", user="deu")
        assert result.exit_code == 2 and "name the allocation ids before 'accept'" in result.output
        result = cli("allocation", "move", "A-00001", "adopt", user="deu")
        assert result.exit_code == 2 and "unknown action 'adopt'" in result.output


class TestListsAndInbox:
    def test_lists_filter_and_show_member_and_item_only_where_seen(self, world: World, cli: Cli) -> None:
        req = open_requirement(world, quantity=5000)
        (alloc,) = _proposed(world, [enter_offer(world)], req)  # visibility member: the liaison may not see it
        world.do(svc.move_allocation, "deu", alloc, "accept")

        rows = json.loads(cli("allocation", "list", "--member", "DEU", "--item", "155-a", "-f", "json",
                              user="deu").output)
        assert [(r["id"], r["member"], r["item"]) for r in rows] == [(alloc, "DEU", "155-a")]
        assert json.loads(cli("allocation", "list", "--item", "155-b", "-f", "json", user="deu").output) == []
        assert json.loads(cli("allocation", "list", "--area", "drones", "-f", "json", user="deu").output) == []
        rows = json.loads(cli("allocation", "list", "-f", "json", user="ukr").output)
        assert [(r["id"], r["member"], r["item"]) for r in rows] == [(alloc, None, "155-a")]
        # Filtering by the hidden member finds nothing: the answer would say whose offer it is.
        assert json.loads(cli("allocation", "list", "--member", "DEU", "-f", "json", user="ukr").output) == []
        assert json.loads(cli("offer", "list", "--item", "155-b", "-f", "json", user="deu").output) == []
        csv_out = cli("allocation", "list", "-f", "csv", user="deu").stdout
        header = csv_out.splitlines()[0]
        assert header.startswith("id,offer,requirement,quantity,status,proposed_on,")
        assert header.endswith(",member,item")

    def test_inbox_in_every_form(self, world: World, cli: Cli) -> None:
        req = open_requirement(world, quantity=5000)
        ids = _proposed(world, [enter_offer(world) for _ in range(3)], req)
        table = cli("inbox", user="deu")
        assert table.exit_code == 0, table.output
        assert "3 awaiting deu: 3 allocation" in table.output and all(a in table.output for a in ids)
        limited = cli("inbox", "--limit", "2", user="deu")
        assert "the oldest 2 of 3 shown" in limited.output and ids[2] not in limited.output
        rows = json.loads(cli("inbox", "-f", "json", user="deu").output)
        assert [(r["kind"], r["id"], r["verbs"], r["member"]) for r in rows] == [
            ("allocation", a, "accept decline", "DEU") for a in ids]
        csv_out = cli("inbox", "--kind", "allocation", "-f", "csv", user="deu").stdout
        assert csv_out.splitlines()[0] == "kind,id,verbs,since,member,item,quantity,detail"
        assert "Inbox of fra: none" in cli("inbox", user="fra").output
        assert cli("inbox", "--kind", "offer", user="deu").exit_code == 2
        assert cli("inbox", user="nobody").exit_code == 3


class TestReceiveMany:
    def _shipped(self, world: World, n: int) -> list[str]:
        req = open_requirement(world, quantity=5000)
        alloc = confirmed_allocation(world, enter_offer(world, quantity=200 * n), req, 200 * n)
        return [world.do(svc.dispatch, "deu", allocation=alloc, quantity=200, dispatched_on=date(2024, 7, 1)).id
                for _ in range(n)]

    def test_one_summary_line_and_the_offer_is_delivered(self, world: World, cli: Cli) -> None:
        ids = self._shipped(world, 3)
        result = cli("delivery", "receive", *ids, "--on", "2024-07-02", user="ukr")
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            f"✓ 3 shipments received on 2024-07-02: 600 of 600 units in good order ({', '.join(ids)})"]
        assert world.db.state().offers["O-00001"].status is OfferStatus.DELIVERED

    def test_a_bad_id_among_several_is_named_and_nothing_is_written(self, world: World, cli: Cli) -> None:
        ids = self._shipped(world, 2)
        before = cli.events()
        result = cli("delivery", "receive", ids[0], "D-99999", ids[1], "--on", "2024-07-02", user="ukr")
        assert result.exit_code == 3, result.output
        assert "1 of 3 delivery moves refused, so none was made" in result.output
        assert "D-99999: no delivery 'D-99999' that ukr may see" in result.output
        assert ids[0] not in result.output
        assert cli.events() == before
        result = cli("delivery", "receive", *ids, "--on", "2024-06-30", user="ukr")
        assert result.exit_code == 2 and "2 of 2 delivery moves refused" in result.output, result.output
        assert f"{ids[1]}: received_on: 2024-06-30 is before the dispatch date 2024-07-01" in result.output
        assert cli.events() == before

    def test_discrepancies_name_one_shipment(self, world: World, cli: Cli) -> None:
        ids = self._shipped(world, 2)
        before = cli.events()
        result = cli("delivery", "receive", *ids, "--short", "5", "--on", "2024-07-02", user="ukr")
        assert result.exit_code == 2 and "discrepancies are stated per shipment" in result.output
        assert cli.events() == before
        one = cli("delivery", "receive", ids[0], "--short", "5", "--on", "2024-07-02", user="ukr")
        assert one.exit_code == 0 and f"shipment {ids[0]} received: 195 of 200 in good order" in one.output

    def test_awaiting_me_receives_what_awaits_the_liaison(self, world: World, cli: Cli) -> None:
        ids = self._shipped(world, 2)
        result = cli("delivery", "receive", "--awaiting-me", "--on", "2024-07-02", user="ukr")
        assert result.exit_code == 0 and "2 shipments received on 2024-07-02" in result.output, result.output
        again = cli("delivery", "receive", "--awaiting-me", "--on", "2024-07-02", user="ukr")
        assert again.exit_code == 0 and "no delivery that ukr may receive now: nothing changed" in again.output
        assert {world.db.state().deliveries[i].status for i in ids} == {DeliveryStatus.RECEIVED}
