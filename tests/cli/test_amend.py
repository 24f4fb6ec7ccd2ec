"""The command line of amendments, user management and histories: what a desk reads, exit codes, nothing written
on a refusal."""

from __future__ import annotations

import json
from datetime import date

from contactgroup.domain.model import RequirementStatus
from contactgroup.services import coordination as svc
from tests.cli.conftest import Cli
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


class TestRequirementAmend:
    def test_says_what_changed_and_history_lists_it(self, world: World, cli: Cli) -> None:
        req = open_requirement(world, quantity=1000)
        done = cli("requirement", "amend", req, "--quantity", "1200", "--destination", "UKR-East", user="ukr")
        assert done.exit_code == 0, done.output
        assert f"requirement {req} amended: quantity 1000 → 1200; destination UKR-West → UKR-East" in done.output
        shown = cli("requirement", "history", req, "--format", "json", user="deu")
        rows = json.loads(shown.output)
        assert [r["type"] for r in rows] == ["RequirementDrafted", "RequirementSubmitted", "RequirementValidated",
                                              "RequirementOpened", "RequirementAmended"]
        assert rows[-1]["actor"] == "ukr" and rows[-1]["detail"] == ("destination UKR-West -> UKR-East; "
                                                                     "quantity 1000 -> 1200")  # as stored: by name
        assert rows[-1]["index"] == cli.events() - 1

    def test_below_allocated_is_refused_naming_both_and_nothing_is_written(self, world: World, cli: Cli) -> None:
        req = open_requirement(world, quantity=1000)
        confirmed_allocation(world, enter_offer(world, quantity=600), req, 600)
        before = cli.events()
        refused = cli("requirement", "amend", req, "--quantity", "10", user="ukr")
        assert refused.exit_code == 5
        assert f"requirement {req} cannot ask for 10: 600 unit(s) are allocated to it" in refused.output
        assert cli.events() == before

    def test_a_past_needed_by_date_says_how_to_enter_it(self, world: World, cli: Cli) -> None:
        req = open_requirement(world)
        refused = cli("requirement", "amend", req, "--needed-by", "2020-01-01", user="ukr")
        assert refused.exit_code == 2 and "needed_by: 2020-01-01 is already past" in refused.output
        assert "--on DATE" in refused.output
        done = cli("requirement", "amend", req, "--needed-by", "2020-01-01", "--on", "2019-12-01", user="ukr")
        assert done.exit_code == 0, done.output


class TestOfferAmend:
    def test_a_hidden_offer_answers_as_a_missing_one(self, world: World, cli: Cli) -> None:
        offer = enter_offer(world)
        before = cli.events()
        hidden = cli("offer", "amend", offer, "--quantity", "5", user="fra")
        missing = cli("offer", "amend", "O-00099", "--quantity", "5", user="fra")
        assert hidden.exit_code == missing.exit_code == 3
        assert hidden.output == missing.output.replace("O-00099", offer)
        assert cli("offer", "history", offer, user="fra").output == missing.output.replace("O-00099", offer)
        assert cli.events() == before

    def test_amends_and_an_unchanged_amendment_records_nothing(self, world: World, cli: Cli) -> None:
        offer = enter_offer(world, quantity=600)
        done = cli("offer", "amend", offer, "--quantity", "650", "--visibility", "public", user="deu")
        assert done.exit_code == 0, done.output
        assert f"offer {offer} amended: quantity 600 → 650; visibility member → public" in done.output
        before = cli.events()
        same = cli("offer", "amend", offer, "--quantity", "650", user="deu")
        assert same.exit_code == 0 and "unchanged: nothing recorded" in same.output
        assert cli.events() == before

    def test_lowered_to_what_arrived_it_says_the_offer_is_delivered(self, world: World, cli: Cli) -> None:
        req = open_requirement(world, quantity=1000)
        offer = enter_offer(world, quantity=600)
        alloc = confirmed_allocation(world, offer, req, 400)
        assert cli("delivery", "dispatch", "--allocation", alloc, "--quantity", "400", "--on", "2024-07-01",
                   user="deu").exit_code == 0
        assert cli("delivery", "receive", "D-00001", "--on", "2024-07-01", user="ukr").exit_code == 0
        done = cli("offer", "amend", offer, "--quantity", "400", user="deu")
        assert done.exit_code == 0, done.output
        assert f"offer {offer} amended: quantity 600 → 400; status in_delivery → delivered" in done.output
        assert cli("verify").exit_code == 0


class TestUsersAndClasses:
    def test_a_disabled_user_is_refused_with_its_name_until_enabled(self, world: World, cli: Cli) -> None:
        assert cli("user", "disable", "deu", user="admin").exit_code == 0
        before = cli.events()
        refused = cli("offer", "list", user="deu")
        assert refused.exit_code == 4
        assert "user deu is disabled" in refused.output and "contactgroup user enable deu" in refused.output
        assert cli.events() == before
        listed = json.loads(cli("user", "list", "--format", "json", user="admin").output)
        assert {"name": "deu", "party": "DEU", "role": "desk_officer", "active": False} in listed
        assert cli("user", "enable", "deu", user="admin").exit_code == 0
        assert cli("offer", "list", user="deu").exit_code == 0

    def test_role_change_and_its_refusal(self, world: World, cli: Cli) -> None:
        done = cli("user", "role", "fra-lead", "analyst", user="admin")
        assert done.exit_code == 0 and "user fra-lead is now analyst for FRA (was coalition_lead)" in done.output
        refused = cli("user", "role", "usa", "analyst", user="deu")
        assert refused.exit_code == 4 and "deu is a desk officer for DEU and may not user:manage for USA" in (
            refused.output)

    def test_class_items_add_and_remove(self, world: World, cli: Cli) -> None:
        done = cli("catalogue", "class-items", "155mm", "--add", "fpv", "--remove", "155-b", user="admin")
        assert done.exit_code == 0 and "item class 155mm: 155-a, 155-b → 155-a, fpv" in done.output
        refused = cli("catalogue", "class-items", "155mm", "--remove", "155-b", user="admin")
        assert refused.exit_code == 2 and "remove: item 155-b is not in class 155mm" in refused.output


class TestHistoricalMoves:
    """`requirement move` and `consent decide` take --on like every command that records what happened: the
    same parsing, limits and wording; all or nothing."""

    def _drafts(self, world: World, n: int) -> list[str]:
        return [world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=10, priority=1,
                         needed_by=date(2024, 9, 1), destination="UKR-West").id for _ in range(n)]

    def test_requirement_moves_are_dated_and_history_shows_the_day(self, world: World, cli: Cli) -> None:
        reqs = self._drafts(world, 2)
        done = cli("requirement", "move", *reqs, "submit", "--on", "2024-06-03", user="ukr")
        assert done.exit_code == 0, done.output
        assert all(f"requirement {r} is submitted (on 2024-06-03)" in done.output for r in reqs)
        rows = json.loads(cli("requirement", "history", reqs[1], "--format", "json", user="deu").output)
        assert (rows[-1]["type"], rows[-1]["effective"]) == ("RequirementSubmitted", "2024-06-03")

    def test_a_bad_or_future_day_is_refused_as_elsewhere_and_nothing_is_written(self, world: World,
                                                                                 cli: Cli) -> None:
        reqs = self._drafts(world, 2)
        offer = enter_offer(world, status="offered")
        before = cli.events()
        bad = cli("requirement", "move", *reqs, "submit", "--on", "31.02.2024", user="ukr")
        assert bad.exit_code == 2 and bad.output.startswith("error: --on: ")
        assert bad.output == cli("offer", "move", offer, "commit", "--on", "31.02.2024", user="deu").output
        assert bad.output == cli("consent", "decide", "K-00001", "grant", "--on", "31.02.2024", user="usa").output
        future = cli("requirement", "move", *reqs, "submit", "--on", "2999-01-01", user="ukr")
        assert future.exit_code == 2, future.output
        assert "2 of 2 requirement moves refused, so none was made" in future.output
        assert f"{reqs[0]}: on: 2999-01-01 is in the future" in future.output
        assert cli.events() == before
        assert {world.db.state().requirements[r].status for r in reqs} == {RequirementStatus.DRAFT}

    def test_not_before_a_historical_requirement_was_raised(self, world: World, cli: Cli) -> None:
        req = world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=10, priority=1,
                       needed_by=date(2023, 9, 1), destination="UKR-West", on=date(2023, 2, 1)).id
        before = cli.events()
        refused = cli("requirement", "move", req, "submit", "--on", "2023-01-31", user="ukr")
        assert refused.exit_code == 2
        assert f"on: 2023-01-31 is before requirement {req} was raised (2023-02-01)" in refused.output
        assert cli.events() == before
        assert cli("requirement", "move", req, "submit", "--on", "2023-02-01", user="ukr").exit_code == 0

    def test_consent_decisions_are_dated_not_before_the_request(self, world: World, cli: Cli) -> None:
        consents = [world.do(svc.request_consent, "deu", enter_offer(world, consent_from="USA")).id
                    for _ in range(2)]  # requested on 2024-07-01 (the services' clock)
        before = cli.events()
        early = cli("consent", "decide", *consents, "grant", "--on", "2024-06-30", user="usa")
        assert early.exit_code == 2, early.output
        assert f"{consents[1]}: on: 2024-06-30 is before consent {consents[1]} was requested (2024-07-01)" in (
            early.output)
        assert cli.events() == before
        done = cli("consent", "decide", *consents, "refuse", "--reason", "end use", "--on", "2024-07-15",
                   user="usa")
        assert done.exit_code == 0, done.output
        assert f"consent {consents[0]} refused on 2024-07-15" in done.output
        listed = json.loads(cli("consent", "list", "--format", "json", user="usa").output)
        assert {c["id"]: c["decided_on"] for c in listed} == dict.fromkeys(consents, "2024-07-15")

    def test_a_consent_request_is_dated_too(self, world: World, cli: Cli) -> None:
        offer = enter_offer(world, consent_from="USA")
        done = cli("consent", "request", offer, "--on", "2024-05-02", user="deu")
        assert done.exit_code == 0, done.output
        assert world.db.state().consents["K-00001"].requested_on == date(2024, 5, 2)
