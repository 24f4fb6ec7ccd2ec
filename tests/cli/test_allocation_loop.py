"""The working loop through the command line, one scenario per hole closed (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import Cli
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


def test_a_short_receipt_is_owed_replaced_or_released(cli: Cli, world: World) -> None:
    req = open_requirement(world, quantity=10_000)
    alloc = confirmed_allocation(world, enter_offer(world, quantity=10_000), req, 10_000)
    assert cli("delivery", "dispatch", "--allocation", alloc, "--quantity", "10000", "--on", "2024-07-01",
               user="deu").exit_code == 0
    got = cli("delivery", "receive", "D-00001", "--short", "1500", "--damaged", "250", "--on", "2024-07-01",
              user="ukr")
    assert got.exit_code == 0, got.stderr
    gaps = json.loads(cli("report", "gaps", "-f", "json").stdout)["rows"]
    assert (gaps[0]["missing"], gaps[0]["detail"]) == (1750, "1,750 units owed after a short receipt")
    shown = json.loads(cli("allocation", "show", alloc, "-f", "json", user="admin").stdout)[0]
    assert (shown["received"], shown["owed"], shown["owed_after_receipt"]) == (8250, 1750, 1750)
    refused = cli("allocation", "move", alloc, "release-owed", "--units", "1751", user="admin")
    assert refused.exit_code == 5 and "owes 1,750 units, not 1,751" in refused.stderr
    before = cli.events()
    missing = cli("allocation", "move", alloc, "release-owed", user="admin")
    assert missing.exit_code == 2 and "units" in missing.stderr and cli.events() == before
    assert cli("delivery", "dispatch", "--allocation", alloc, "--quantity", "1000", "--on", "2024-07-01",
               user="deu").exit_code == 0  # a replacement, against the same allocation
    done = cli("allocation", "move", alloc, "release-owed", "--units", "750", "--reason", "lost", user="admin")
    assert done.exit_code == 0, done.stderr
    assert "750 owed units released; 9,250 units confirmed" in done.stdout


def test_a_declined_pair_waits_for_its_reopening(cli: Cli, world: World) -> None:
    open_requirement(world, quantity=100)
    enter_offer(world, quantity=100)
    assert cli("allocate", user="admin").exit_code == 0
    assert cli("allocation", "move", "A-00001", "decline", "--reason", "needed at home", user="deu").exit_code == 0
    again = cli("allocate", user="admin")
    assert again.exit_code == 0
    assert "0 allocations proposed" in again.stdout
    # The command line's clock is the real one: the date is today's.
    assert re.search(r"held back, declined on [0-9-]{10}: needed at home: O-00001 -> R-00001 \(100 units\)",
                     again.stdout)
    other = cli("allocation", "move", "A-00001", "reopen", user="ukr")
    assert other.exit_code == 5 and "declined by DEU; only it or the coordinator may reopen" in other.stderr
    reopened = cli("allocation", "move", "A-00001", "reopen", "--reason", "stock arrived", user="deu")
    assert reopened.exit_code == 0 and "O-00001 may be proposed for R-00001 again" in reopened.stdout
    assert "1 allocations proposed" in cli("allocate", user="admin").stdout


def test_gaps_and_allocate_agree_about_a_consent_and_the_run_requests_it(cli: Cli, world: World) -> None:
    open_requirement(world, quantity=50)
    enter_offer(world, quantity=50, consent_from="USA", end_use="2nd corps only")
    assert "50 units: needs consent (not requested)" in cli("report", "gaps", "-f", "csv").stdout
    planned = cli("allocate", "--request-consent", user="admin")
    assert planned.exit_code == 0, planned.stderr
    assert "held back, needs consent (not requested): O-00001 (50 units)" in planned.stdout
    assert "consents requested: K-00001" in planned.stdout
    assert re.search("50 units: consent requested on [0-9-]{10}", cli("report", "gaps", "-f", "csv").stdout)
    lead = cli("allocate", "--area", "artillery", "--request-consent", user="fra-lead")
    assert lead.exit_code == 4 and "may not consent:request" in lead.stderr


def test_the_member_asked_sees_what_it_consents_to_and_gives_a_reason(cli: Cli, world: World) -> None:
    req = open_requirement(world, quantity=50)
    offer = enter_offer(world, quantity=50, consent_from="USA", end_use="2nd corps only")
    assert cli("allocation", "propose", "--offer", offer, "--requirement", req, "--quantity", "50",
               user="admin").exit_code == 0
    assert cli("consent", "request", offer, user="deu").exit_code == 0
    (row,) = json.loads(cli("consent", "list", "-f", "json", user="usa").stdout)
    assert {k: row[k] for k in ("item", "item_name", "quantity", "end_use", "destination", "offer", "member")} == {
        "item": "155-a", "item_name": "155 mm HE, type A", "quantity": 50, "end_use": "2nd corps only",
        "destination": "UKR-West", "offer": "", "member": ""}
    decided = cli("consent", "decide", "K-00001", "refuse", "--reason", "end use too broad", user="usa")
    assert decided.exit_code == 0, decided.stderr
    (row,) = json.loads(cli("consent", "list", "-f", "json", user="usa").stdout)
    assert (row["status"], row["reason"]) == ("refused", "end use too broad")
    (own,) = json.loads(cli("consent", "list", "-f", "json", user="deu").stdout)
    assert (own["offer"], own["member"]) == (offer, "DEU")
