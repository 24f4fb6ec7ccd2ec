"""The whole loop in Chromium, by keyboard alone, on one real server: from the recipient's requirements to the
reports that count what arrived.

Four users in four browser contexts play it — UKR's liaison `ukr`, the desks `deu` and `usa`, the artillery
coalition's lead `fra-lead` — and the coordinator `admin` in a fifth for the coordinator's steps: validating and
opening the requirements, and confirming the accepted allocations. Every control is reached with `focus()` or Tab
and worked with the keyboard (Enter, Space, typing); no click. Fields are filled after focusing them (dates with
`fill`, which types the date whatever the browser's locale); a file is chosen in the chooser the keyboard opens.

The consent comes before the allocation run: the optimiser holds an offer that needs a re-export consent back
until its consent is granted, so the desk asks for it as soon as its offer is in."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from contactgroup.domain.model import AllocationStatus, ConsentStatus, RequirementStatus
from contactgroup.domain.state import State
from contactgroup.services import tokens
from tests.factories import World
from tests.web.conftest import axe_violations, session_cookies

pytestmark = pytest.mark.xdist_group("browser")

Pages = Callable[[World, str, str], Page]


# --- the keyboard ------------------------------------------------------------------------------------------------

def press(page: Page, selector: str, key: str = "Enter") -> None:
    """Focus the control and press `key` on it."""
    page.locator(selector).focus()
    page.keyboard.press(key)


def press_button(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).focus()
    page.keyboard.press("Enter")


def type_into(page: Page, selector: str, text: str) -> None:
    """Focus the field, select what it holds and type `text` over it."""
    page.locator(selector).focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the focused control is the button named `name`: it is reachable by keyboard alone."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"{name!r} is not reachable with Tab")


def choose_file(page: Page, selector: str, path: Path) -> None:
    """Open the file chooser from the keyboard (Space on the focused file field) and pick `path` in it."""
    page.locator(selector).focus()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(path))


def tick_and_move(page: Page, ids: list[str], verb: str, reason: str = "") -> None:
    """On the allocations list: tick the boxes of `ids` (Space), say the reason, press "<Verb> the chosen"."""
    page.goto("/allocations?awaiting=yes")
    for ident in ids:
        press(page, f'input[name="ids"][value="{ident}"]', "Space")
    if reason:
        type_into(page, "#f-reason", reason)
    tab_to(page, f"{verb.capitalize()} the chosen")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/allocations?done={verb}&count={len(ids)}")


# --- the data ----------------------------------------------------------------------------------------------------

def _csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8")
    return path


def _allocations(state: State, member: str) -> list[str]:
    return sorted(a.id for a in state.allocations.values()
                  if state.offers[a.offer].member == member and a.status is AllocationStatus.PROPOSED)


def _table(table: Locator) -> dict[str, dict[str, str]]:
    """A table as {first cell: {heading: cell}}, read as the page shows it."""
    headings = table.locator("thead th").all_inner_texts()
    found = {}
    for row in table.locator("tbody tr").all():
        cells = row.locator("th, td").all_inner_texts()
        found[cells[0]] = dict(zip(headings, cells, strict=True))
    return found


def _charts_loaded(page: Page) -> list[bool]:
    images = page.locator("figure.chart img")
    expect(images.first).to_be_visible()
    return images.evaluate_all("images => images.map(i => i.complete && i.naturalWidth > 0)")


def test_the_loop_by_keyboard_alone(web_world: World, web_site: str, signed_in_page: Pages, checked_page: Page,
                                    tmp_path: Path) -> None:
    liaison, deu, usa, lead, admin = (signed_in_page(web_world, user, web_site)
                                      for user in ("ukr", "deu", "usa", "fra-lead", "admin"))
    for desk in (deu, usa):  # Playwright takes the desks' file choosers from now on (subscribing only while one is
        desk.on("filechooser", lambda _: None)  # awaited races the key that opens it: 3 in 80 went to the browser)
    today = datetime.now(UTC).date()  # the server's clock is the system's
    needed_by = (today + timedelta(days=120)).isoformat()

    # 1. The liaison enters two requirements (saved and submitted at once), then ranks the second above the first.
    entered = []
    for quantity, priority in (("1,000", "1"), ("500", "2")):
        liaison.goto("/requirements/new")
        press(liaison, "#f-item_class", "1")  # the select's type-ahead: "155 mm round"
        type_into(liaison, "#f-quantity", quantity)
        type_into(liaison, "#f-priority", priority)
        liaison.locator("#f-needed_by").focus()
        liaison.locator("#f-needed_by").fill(needed_by)
        type_into(liaison, "#f-destination", "UKR-West")
        type_into(liaison, "#f-note", f"rounds for the guns, tier {priority}")
        tab_to(liaison, "Save and submit")
        liaison.keyboard.press("Enter")
        liaison.wait_for_url("**/requirements/R-*")
        expect(liaison.locator("dl.facts")).to_contain_text("submitted")
        entered.append(liaison.url.rsplit("/", 1)[1])
    first, second = entered
    liaison.goto("/requirements/ranking")
    press(liaison, f"#up-{second}")  # htmx swaps the list in place
    expect(liaison.locator(f"#rank-{second} td.num").first).to_have_text("1")
    expect(liaison.locator("#ranking.htmx-added")).to_have_count(0)  # htmx has taken the new list's forms
    press(liaison, f"#down-{first}")
    expect(liaison.locator(f"#rank-{first} td.num").first).to_have_text("2")
    rows = liaison.locator("#ranking tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    assert rows == [f"rank-{second}", f"rank-{first}"]
    state = web_world.db.state()
    assert (state.requirements[second].priority, state.requirements[first].priority) == (1, 2)

    # The coordinator validates and opens both.
    for req in (second, first):
        admin.goto(f"/requirements/{req}")
        for button, status in (("Validate", "validated"), ("Open for allocation", "open")):
            press_button(admin, button)
            expect(admin.locator("dl.facts dd").first).to_have_text(status)
    assert {r.status for r in web_world.db.state().requirements.values()} == {RequirementStatus.OPEN}

    # 2. DEU uploads a spreadsheet with bad rows: each is shown against its row and column, nothing is written.
    header = "ref,member,item,quantity,available_from,depot,visibility,consent_from,end_use"
    bad = _csv(tmp_path / "deu-offers.csv", header,
               f"DEU-1,DEU,155-a,400,{today},DEU,coalition,,",
               f"DEU-2,DEU,155-a,lots,{today},DEU,coalition,,",
               f"DEU-3,DEU,155-z,400,{today},DEU,coalition,,")
    before = web_world.event_count()
    deu.goto("/offers/upload")
    choose_file(deu, "#f-file", bad)
    tab_to(deu, "Check and import")
    deu.keyboard.press("Enter")
    expect(deu.locator("#refusal")).to_contain_text("deu-offers.csv: 2 problems; nothing was written")
    problems = [row.locator("th, td").all_inner_texts() for row in deu.locator("#problems tbody tr").all()]
    assert [(row, column) for row, column, _ in problems] == [("3", "quantity"), ("4", "item")]
    assert "lots" in problems[0][2] and "155-z" in problems[1][2]
    assert web_world.event_count() == before and not web_world.db.state().offers

    # ... then the corrected file: two offers. USA's has one offer of German-made rounds, which DEU must consent to.
    clean = _csv(tmp_path / "deu-offers.csv", header,
                 f"DEU-1,DEU,155-a,400,{today},DEU,coalition,,", f"DEU-2,DEU,155-a,400,{today},DEU,coalition,,")
    usa_file = _csv(tmp_path / "usa-offers.csv", header,
                    f"USA-1,USA,155-b,300,{today},USA,coalition,DEU,territorial defence")
    imported = {}
    for page, path, count in ((deu, clean, 2), (usa, usa_file, 1)):
        page.goto("/offers/upload")
        choose_file(page, "#f-file", path)
        tab_to(page, "Check and import")
        page.keyboard.press("Enter")
        expect(page.locator("#imported")).to_contain_text(f"{count} offer{'s' if count > 1 else ''} added")
        imported[page] = page.locator("ul.ids a").all_inner_texts()
    (usa_offer,) = imported[usa]
    assert len(imported[deu]) == 2

    # 5. (before the run) USA's desk asks DEU for the consent from its offer's page; DEU's desk grants it.
    checked_page.context.add_cookies(session_cookies(web_world, "usa", web_site))
    checked_page.goto(f"{web_site}/offers/{usa_offer}")  # the page with its consent to ask for, as axe-core reads it
    assert axe_violations(checked_page) == []
    usa.goto(f"/offers/{usa_offer}")
    press_button(usa, "Ask DEU for its consent")
    usa.wait_for_url("**/consents/K-*")
    consent = usa.url.rsplit("/", 1)[1]
    deu.goto("/consents")
    expect(deu.locator("main")).to_contain_text("1 consent awaits your decision")
    deu.goto(f"/consents/{consent}")
    expect(deu.locator("dl.facts")).to_contain_text("territorial defence")
    press_button(deu, "Grant")
    expect(deu.locator("dl.facts")).to_contain_text("granted on")
    assert web_world.db.state().consents[consent].status is ConsentStatus.GRANTED

    # 3. The lead previews the allocation of its area, reviews it (nothing written yet), and records it.
    lead.goto("/allocation-run")
    lead.locator("#f-area").focus()  # artillery: the only area FRA leads
    tab_to(lead, "Preview the allocation")
    lead.keyboard.press("Enter")
    record = lead.get_by_role("button", name="Record this allocation")
    record.wait_for(timeout=60_000)  # htmx polls the running preview until its plan is shown
    tiers = _table(lead.locator("main table").first)
    assert (tiers["1"]["Needed"], tiers["1"]["After"]) == ("500", "500")
    assert (tiers["2"]["Needed"], tiers["2"]["After"]) == ("1,000", "600")  # 1,100 units offered in all
    pairs = _table(lead.locator("main table").nth(1))
    assert {p.split(" → ")[0] for p in pairs} == {*imported[deu], usa_offer}  # the consented offer is used
    assert {row["Why / change"] for row in pairs.values()} == {"new proposal"}
    assert not web_world.db.state().allocations
    record.focus()
    lead.keyboard.press("Enter")
    expect(lead.locator("main")).to_contain_text("Recorded:")
    state = web_world.db.state()
    deu_allocations, usa_allocations = _allocations(state, "DEU"), _allocations(state, "USA")
    assert len(deu_allocations) >= 2 and usa_allocations

    # 4. The desks accept their allocations; DEU declines one, with a reason; the liaison accepts; the coordinator
    #    confirms what both sides accepted.
    kept, declined = deu_allocations[:-1], deu_allocations[-1]
    tick_and_move(deu, kept, "accept")
    tick_and_move(deu, [declined], "decline", "the depot is needed for a national exercise")
    tick_and_move(usa, usa_allocations, "accept")
    tick_and_move(liaison, sorted([*kept, *usa_allocations]), "accept")
    tick_and_move(admin, sorted([*kept, *usa_allocations]), "confirm")
    state = web_world.db.state()
    assert state.allocations[declined].status is AllocationStatus.DECLINED
    assert state.allocations[declined].reason == "the depot is needed for a national exercise"
    assert {state.allocations[a].status for a in [*kept, *usa_allocations]} == {AllocationStatus.CONFIRMED}

    # 6. Each desk dispatches one allocation whole; the liaison receives USA's 20 short and DEU's in full.
    shipments = {}
    for page, confirmed_ones in ((usa, usa_allocations), (deu, kept)):
        page.goto("/shipments/dispatch")
        press(page, "#f-allocation", "ArrowDown")  # the first allocation of the member's that owes units
        alloc = page.locator("#f-allocation").input_value()
        assert alloc in confirmed_ones
        type_into(page, "#f-quantity", str(state.allocations[alloc].quantity))
        tab_to(page, "Record the dispatch")
        page.keyboard.press("Enter")
        page.wait_for_url("**/shipments/D-*")
        shipments[alloc] = page.url.rsplit("/", 1)[1]
    for alloc, short in zip(shipments, (20, 0), strict=True):
        liaison.goto(f"/shipments/{shipments[alloc]}")
        type_into(liaison, "#f-short", str(short))
        liaison.keyboard.press("Enter")
        shipped = state.allocations[alloc].quantity
        expect(liaison.locator("dl.facts")).to_contain_text(f"{shipped - short:,} of {shipped:,} in good order")

    # 7. The reports count it: coverage per priority tier and burden per member, as tables beside charts that load;
    #    the CSV the page offers is the API's.
    state = web_world.db.state()
    confirmed: dict[int, int] = defaultdict(int)
    received: dict[int, int] = defaultdict(int)
    delivered_eur: dict[str, int] = defaultdict(int)
    for a in state.allocations.values():
        if a.status is AllocationStatus.CONFIRMED:
            confirmed[state.requirements[a.requirement].priority] += a.quantity
    for d in state.deliveries.values():
        a = state.allocations[d.allocation]
        received[state.requirements[a.requirement].priority] += d.received
        offer = state.offers[a.offer]
        delivered_eur[offer.member] += d.received * int(state.items[offer.item].unit_value_eur or 0)
    assert sum(received.values()) == sum(state.allocations[a].quantity for a in shipments) - 20

    liaison.goto("/reports/coverage")
    coverage = _table(liaison.locator("main table"))
    for tier in (1, 2):
        row = coverage[str(tier)]
        assert (row["confirmed"], row["delivered"]) == (f"{confirmed[tier]:,}", f"{received[tier]:,}"), row
    assert _charts_loaded(liaison) == [True]
    liaison.goto("/reports/burden")
    burden = _table(liaison.locator("main table"))
    assert burden["USA"]["delivered €"] == f"{delivered_eur['USA']:,}" == "980,000"  # 280 rounds at 3,500 EUR
    assert burden["DEU"]["delivered €"] == f"{delivered_eur['DEU']:,}"
    assert _charts_loaded(liaison) == [True, True]
    liaison.get_by_role("link", name="Download CSV").focus()
    with liaison.expect_download() as download:
        liaison.keyboard.press("Enter")
    downloaded = Path(download.value.path()).read_text(encoding="utf-8")
    token = tokens.issue(web_world.db, web_world.db.state(), "analyst", now=datetime.now(UTC)).token
    api = httpx.get(f"{web_site}/api/v1/reports/burden", params={"format": "csv"},
                    headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and downloaded == api.text
    by_member = {row["member"]: row for row in csv.DictReader(io.StringIO(downloaded))}
    assert by_member["USA"]["delivered_eur"].startswith("980000")
