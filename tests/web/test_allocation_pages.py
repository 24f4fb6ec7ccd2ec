"""Allocations in the browser: those awaiting the reader chosen by checkbox and accepted or declined together (a
decline needs its reason; all of them or none), and one allocation's page with its pair, value and reasons."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from contactgroup.services import coordination as svc
from tests.factories import World, enter_offer, open_requirement
from tests.web.conftest import axe_violations, session_cookies, sign_in

SCRIPT = "<script>alert(1)</script>"


def _proposed(w: World, quantity: int = 200, count: int = 2) -> tuple[str, list[str]]:
    """An open requirement and `count` allocations to it proposed from DEU's offers (one offer each)."""
    req = open_requirement(w)
    ids = []
    for _ in range(count):
        offer = enter_offer(w)
        ids.append(w.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=quantity).id)
    return req, ids


def _status(w: World, alloc: str) -> str:
    return w.db.state().allocations[alloc].status.value


def _version(html: str) -> str:
    found = re.search(r'name="version" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_desk_accepts_the_chosen_allocations_at_once(web_app: TestClient, web_world: World) -> None:
    _, (a, b) = _proposed(web_world)
    csrf = sign_in(web_app, web_world, "deu")
    page = web_app.get("/allocations", params={"awaiting": "yes"})
    assert page.status_code == 200 and "2 allocations await you" in page.text
    for ident in (a, b):
        assert f'name="ids" value="{ident}" form="bulk"' in page.text
    assert 'value="accept"' in page.text and 'value="decline"' in page.text and 'value="confirm"' not in page.text
    done = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "accept", "ids": [a, b]})
    assert done.status_code == 303 and done.headers["location"] == "/allocations?done=accept&count=2"
    assert "2 allocations accepted" in web_app.get(done.headers["location"]).text
    assert _status(web_world, a) == _status(web_world, b) == "accepted_by_donor"
    sign_in(web_app, web_world, "fra")  # another member sees none of them
    assert a not in web_app.get("/allocations").text
    assert web_app.get(f"/allocations/{a}").status_code == 404


def test_a_decline_needs_its_reason_and_moves_all_or_none(web_app: TestClient, web_world: World) -> None:
    _, (a, b) = _proposed(web_world)
    csrf = sign_in(web_app, web_world, "deu")
    before = web_world.event_count()
    bare = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "decline", "ids": [a, b]})
    assert bare.status_code == 400 and "a decline needs its reason" in bare.text
    assert f'value="{a}" form="bulk" aria-label="Choose allocation {a}" checked' in bare.text  # still chosen
    none = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "accept"})
    assert none.status_code == 400 and "choose at least one allocation" in none.text
    assert 'action="/allocations"' in none.text and "/allocations/actions?" not in none.text  # the list's own links
    web_world.do(svc.move_allocation, "deu", b, "accept")
    before = web_world.event_count()
    mixed = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "accept", "ids": [a, b]})
    assert mixed.status_code == 409 and "1 of 2 allocation moves refused, so none was made" in mixed.text
    assert b in mixed.text.split("Not done:")[1].split("</div>")[0]
    assert web_world.event_count() == before and _status(web_world, a) == "proposed"
    done = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "decline", "ids": [a, b],
                                                      "reason": f"stock needed at home {SCRIPT}"})
    assert done.status_code == 303
    assert _status(web_world, a) == _status(web_world, b) == "declined"
    page = web_app.get(f"/allocations/{a}")
    assert "stock needed at home &lt;script&gt;" in page.text and SCRIPT not in page.text


def test_an_allocation_page_shows_its_pair_and_each_party_moves_it_on(web_app: TestClient,
                                                                     web_world: World) -> None:
    req, (a,) = _proposed(web_world, quantity=500, count=1)
    csrf = sign_in(web_app, web_world, "deu")
    page = web_app.get(f"/allocations/{a}")
    assert page.status_code == 200 and f"Requirement {req}" in page.text and "UKR-West" in page.text
    assert "1,500,000" in page.text  # 500 units at the catalogue's 3,000 EUR
    assert "priority 1 requirement" in page.text
    read = _version(page.text)
    assert web_app.post(f"/allocations/{a}/actions/accept", data={"csrf": csrf, "version": read}).status_code == 303
    stale = web_app.post(f"/allocations/{a}/actions/decline", data={"csrf": csrf, "version": read, "reason": "no"})
    assert stale.status_code == 412 and "accepted by donor" in stale.text
    csrf = sign_in(web_app, web_world, "ukr")  # the recipient's liaison accepts, without seeing the offer's terms
    page = web_app.get(f"/allocations/{a}")
    assert 'href="/offers/' not in page.text and "Available from" not in page.text
    bare = web_app.post(f"/allocations/{a}/actions/decline", data={"csrf": csrf, "version": _version(page.text)})
    assert bare.status_code == 400 and "a decline needs its reason" in bare.text
    assert web_app.post(f"/allocations/{a}/actions/accept",
                        data={"csrf": csrf, "version": _version(page.text)}).status_code == 303
    csrf = sign_in(web_app, web_world, "admin")
    inbox = web_app.get("/")
    assert f'href="/allocations/{a}"' in inbox.text  # the home page's entry leads here
    page = web_app.get(f"/allocations/{a}")
    assert web_app.post(f"/allocations/{a}/actions/confirm",
                        data={"csrf": csrf, "version": _version(page.text)}).status_code == 303
    assert _status(web_world, a) == "confirmed"
    assert "AllocationConfirmed" in web_app.get(f"/allocations/{a}").text
    sign_in(web_app, web_world, "deu")  # the donor's desk is sent on to ship it
    assert f'href="/shipments/dispatch?allocation={a}"' in web_app.get(f"/allocations/{a}").text


# --- in Chromium: every page of the desk's work, once each, on one server ------------------------------------------

def _tab_to(page: Page, name: str, limit: int = 40) -> None:
    """Press Tab until the focused control is the button named `name` (it is reachable by keyboard alone)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"{name!r} is not reachable with Tab")


@pytest.mark.xdist_group("browser")
def test_the_desk_pages_in_chromium(browser: Browser, web_world: World, web_site: str, tmp_path: Path) -> None:
    """axe-core finds no serious or critical violation on any page of the desk's; none scrolls sideways at 800 px;
    none fetches from another origin; and a decline of the chosen allocations is done by keyboard alone."""
    _, (a, b) = _proposed(web_world)
    offer = enter_offer(web_world, end_use=SCRIPT, consent_from="FRA")
    consent = web_world.do(svc.request_consent, "deu", offer).id
    requested: list[str] = []

    def context_for(user: str) -> Page:
        context = browser.new_context(viewport={"width": 800, "height": 900}, base_url=web_site, bypass_csp=True)
        context.add_cookies(session_cookies(web_world, user, web_site))
        context.on("request", lambda request: requested.append(request.url))
        return context.new_page()

    def checked(page: Page, path: str) -> None:
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, path
        assert axe_violations(page) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 800, path
        assert page.locator("script", has_text="alert(1)").count() == 0

    desk = context_for("deu")
    for path in ("/offers", "/offers/new", f"/offers/{offer}", f"/offers/{offer}/amend", "/offers/upload",
                 "/allocations", f"/allocations/{a}"):
        checked(desk, path)
    bad = tmp_path / "offers.csv"
    bad.write_text("member,item,quantity,available_from,depot\nDEU,155-a,many,2024-08-01,DEU\n", encoding="utf-8")
    desk.goto("/offers/upload")
    desk.set_input_files("#f-file", str(bad))
    desk.get_by_role("button", name="Check and import").click()
    assert desk.locator("#problems tbody th").first.inner_text() == "2"
    assert axe_violations(desk) == [] and desk.evaluate("document.documentElement.scrollWidth") <= 800

    desk.goto("/allocations?awaiting=yes")  # by keyboard alone: choose both, give the reason, decline
    desk.get_by_label(f"Choose allocation {a}").focus()
    desk.keyboard.press("Space")
    desk.keyboard.press("Tab")
    desk.keyboard.press("Tab")  # past the first row's link, to the next row's box
    assert desk.evaluate("document.activeElement.getAttribute('aria-label')") == f"Choose allocation {b}"
    desk.keyboard.press("Space")
    desk.get_by_label("Reason (needed to decline)").focus()
    desk.keyboard.type("needed at home")
    _tab_to(desk, "Decline the chosen")
    desk.keyboard.press("Enter")
    desk.wait_for_url("**/allocations?done=decline&count=2")
    assert "2 allocations declined" in desk.locator("main").inner_text()
    assert _status(web_world, a) == _status(web_world, b) == "declined"

    origin = context_for("fra")
    for path in ("/consents", f"/consents/{consent}"):
        checked(origin, path)
    assert {urlsplit(url).netloc for url in requested} == {urlsplit(web_site).netloc}
