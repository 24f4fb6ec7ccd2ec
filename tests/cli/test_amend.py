"""The command line of amendments, user management and histories: what a desk reads, exit codes, nothing written
on a refusal."""

from __future__ import annotations

import json

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
