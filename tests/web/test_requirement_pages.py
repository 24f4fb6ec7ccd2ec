"""The recipient's requirements in the browser: entry, the list, a requirement's moves, amendment that refuses a
stale form, and re-ranking by keyboard — as a browser without JavaScript uses them, and in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from contactgroup.services import coordination as svc
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement
from tests.web.conftest import axe_violations, session_cookies, sign_in

NEW = {"item_class": "155mm", "quantity": "1,200", "priority": "2", "needed_by": "2024-10-01",
       "destination": "UKR-East", "note": "for the eastern front", "then": "draft"}


def version(html: str) -> str:
    found = re.search(r'name="version" value="([0-9a-f]+)"', html)
    assert found is not None, "the page carries no version"
    return found.group(1)


def refusal(html: str) -> str:
    found = re.search(r'<div class="refusal".*?</div>', html, re.S)
    return found.group(0) if found else ""


def test_the_liaison_enters_a_draft_then_submits_it(web_app: TestClient, web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "ukr")
    form = web_app.get("/requirements/new")
    assert form.status_code == 200 and '<option value="155mm">155 mm round (155mm, artillery)</option>' in form.text
    saved = web_app.post("/requirements/new", data={**NEW, "csrf": csrf})
    assert saved.status_code == 303 and saved.headers["location"] == "/requirements/R-00001"
    page = web_app.get("/requirements/R-00001")
    assert "<dd>draft</dd>" in page.text and "<dd>1,200 units</dd>" in page.text
    assert "Submit for validation" in page.text and "Cancel (withdraw)" in page.text
    assert "Validate" not in page.text  # the coordinator's, not the liaison's
    done = web_app.post("/requirements/R-00001/actions/submit", data={"csrf": csrf, "version": version(page.text)})
    assert done.status_code == 303
    page = web_app.get("/requirements/R-00001")
    assert "<dd>submitted</dd>" in page.text and 'hx-get="/requirements/R-00001/history"' in page.text
    assert "RequirementSubmitted" in web_app.get("/requirements/R-00001/history").text
    assert "Submit for validation" not in page.text and '<label for="reason-cancel">Why it is withdrawn' in page.text
    assert web_app.post("/requirements/R-00001/actions/cancel", data={
        "csrf": csrf, "version": version(page.text), "reason": "<b>entered twice</b>"}).status_code == 303
    page = web_app.get("/requirements/R-00001")
    assert "<dd>cancelled</dd>" in page.text
    assert "reason &lt;b&gt;entered twice&lt;/b&gt;" in web_app.get("/requirements/R-00001/history").text


def test_save_and_submit_at_once_and_the_coordinator_validates_and_opens(web_app: TestClient,
                                                                         web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "ukr")
    assert web_app.post("/requirements/new", data={**NEW, "then": "submit", "csrf": csrf}).status_code == 303
    csrf = sign_in(web_app, web_world, "admin")
    page = web_app.get("/requirements/R-00001")
    assert "<dd>submitted</dd>" in page.text and "Return to draft" in page.text
    assert web_app.post("/requirements/R-00001/actions/validate",
                        data={"csrf": csrf, "version": version(page.text)}).status_code == 303
    page = web_app.get("/requirements/R-00001")
    assert web_app.post("/requirements/R-00001/actions/open",
                        data={"csrf": csrf, "version": version(page.text)}).status_code == 303
    assert "<dd>open</dd>" in web_app.get("/requirements/R-00001").text


def test_a_bad_value_shows_the_form_again_with_what_was_typed_and_writes_nothing(web_app: TestClient,
                                                                                 web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "ukr")
    before = web_world.event_count()
    bad = web_app.post("/requirements/new", data={**NEW, "quantity": "12 boxes", "csrf": csrf})
    assert bad.status_code == 400
    assert "quantity: must be a whole number of units, at least 1 (not &#39;12boxes&#39;)" in refusal(bad.text)
    assert 'value="12 boxes"' in bad.text and 'value="UKR-East"' in bad.text
    assert '<option value="155mm" selected>' in bad.text and "for the eastern front</textarea>" in bad.text
    both = web_app.post("/requirements/new", data={**NEW, "priority": "first", "needed_by": "soon", "csrf": csrf})
    assert both.status_code == 400 and "priority: must be a whole number" in refusal(both.text)
    assert "needed_by: must be a date, YYYY-MM-DD (not &#39;soon&#39;)" in refusal(both.text)  # every problem at once
    past = web_app.post("/requirements/new", data={**NEW, "needed_by": "2024-01-01", "csrf": csrf})
    assert past.status_code == 400 and "already past" in refusal(past.text)
    unknown = web_app.post("/requirements/new", data={**NEW, "item_class": "nonsense", "csrf": csrf})
    assert unknown.status_code == 404 and "nonsense" in refusal(unknown.text)
    assert web_world.event_count() == before


def test_only_the_roles_that_may_act_see_buttons_and_others_are_refused(web_app: TestClient,
                                                                         web_world: World) -> None:
    req = open_requirement(web_world)
    csrf = sign_in(web_app, web_world, "deu")
    page = web_app.get(f"/requirements/{req}")
    assert page.status_code == 200 and "What you may do now" not in page.text  # every user sees requirements
    assert "Enter a requirement" not in web_app.get("/requirements").text
    before = web_world.event_count()
    refused = web_app.post(f"/requirements/{req}/actions/cancel", data={"csrf": csrf, "version": version(
        web_app.get(f"/requirements/{req}/amend").text)})
    assert refused.status_code == 403 and "may not requirement:cancel" in refusal(refused.text)
    drafted = web_app.post("/requirements/new", data={**NEW, "csrf": csrf})
    assert drafted.status_code == 403 and 'value="UKR-East"' in drafted.text
    assert web_app.post(f"/requirements/{req}/actions/cancel", data={"version": "x"}).status_code == 403  # no csrf
    assert web_world.event_count() == before
    assert web_app.get("/requirements/R-99999").status_code == 404


def test_the_list_filters_searches_and_counts_what_covers_each_requirement(web_app: TestClient,
                                                                           web_world: World) -> None:
    covered = open_requirement(web_world, quantity=1000, priority=1)
    confirmed_allocation(web_world, enter_offer(web_world), covered, 400)
    with web_world.db.transaction() as uow:
        svc.draft_requirement(uow, web_world.caller("ukr"), item_class="fpv", quantity=25_000, priority=3,
                              needed_by=web_world.clock.now().date(), destination="UKR")
    sign_in(web_app, web_world, "fra-lead")
    page = web_app.get("/requirements")
    assert page.status_code == 200 and "2 requirements" in page.text
    row = re.search(rf'<tr>\s*<th scope="row" class="key"><a href="/requirements/{covered}">.*?</tr>', page.text, re.S)
    assert row is not None and '<td class="num">400</td>' in row.group(0)  # 400 of 1,000 confirmed
    assert '<td class="num">25,000</td>' in page.text
    drafts = web_app.get("/requirements", params={"status": "draft"})
    assert "1 requirements" in drafts.text and "FPV drones" in drafts.text and covered not in drafts.text
    assert "R-00002" in web_app.get("/requirements", params={"q": "fpv"}).text
    assert covered not in web_app.get("/requirements", params={"priority": "3"}).text
    assert covered in web_app.get("/requirements", params={"area": "artillery"}).text


def test_a_stale_amendment_is_refused_with_the_current_version_to_amend_again(web_app: TestClient,
                                                                             web_world: World) -> None:
    req = open_requirement(web_world, quantity=1000)
    csrf = sign_in(web_app, web_world, "ukr")
    opened = web_app.get(f"/requirements/{req}/amend")
    assert opened.status_code == 200 and 'value="1000"' in opened.text
    web_world.do(svc.amend_requirement, "admin", req, quantity=1500)  # someone else, meanwhile
    before = web_world.event_count()
    stale = web_app.post(f"/requirements/{req}/amend", data={
        "csrf": csrf, "version": version(opened.text), "quantity": "800", "needed_by": "2024-09-01",
        "destination": "UKR-West", "note": ""})
    assert stale.status_code == 412
    assert "requirement R-00001 changed since this form was read: its current state is shown" in refusal(stale.text)
    assert 'value="1500"' in stale.text and web_world.event_count() == before
    again = web_app.post(f"/requirements/{req}/amend", data={
        "csrf": csrf, "version": version(stale.text), "quantity": "800", "needed_by": "2024-09-01",
        "destination": "UKR-West", "note": "<script>alert(1)</script>"})
    assert again.status_code == 303
    page = web_app.get(f"/requirements/{req}")
    assert "<dd>800 units</dd>" in page.text
    assert "quantity 1500 -&gt; 800" in web_app.get(f"/requirements/{req}/history").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert(1)" not in page.text


def test_moving_up_and_down_changes_the_priority_one_step(web_app: TestClient, web_world: World) -> None:
    first, second = open_requirement(web_world, priority=1), open_requirement(web_world, priority=3)
    csrf = sign_in(web_app, web_world, "ukr")
    page = web_app.get("/requirements/ranking")
    assert f'id="up-{first}" class="secondary"' in page.text
    assert re.search(rf'id="up-{first}"[^>]*disabled', page.text)  # priority 1 is the highest
    for _ in range(2):
        moved = web_app.post(f"/requirements/{second}/move", data={"csrf": csrf, "direction": "up"})
        assert moved.status_code == 303 and moved.headers["location"] == f"/requirements/ranking#rank-{second}"
    assert web_world.db.state().requirements[second].priority == 1
    assert web_app.post(f"/requirements/{first}/move", data={"csrf": csrf, "direction": "down"}).status_code == 303
    ranked = web_app.get("/requirements/ranking").text
    assert ranked.index(f'id="rank-{second}"') < ranked.index(f'id="rank-{first}"')
    drones = open_requirement(web_world, item_class="fpv")
    artillery = web_app.get("/requirements/ranking", params={"area": "artillery"}).text
    assert f'id="rank-{first}"' in artillery and f'id="rank-{drones}"' not in artillery
    kept = web_app.post(f"/requirements/{first}/move", data={"csrf": csrf, "direction": "up", "area": "artillery"})
    assert kept.headers["location"] == f"/requirements/ranking?area=artillery#rank-{first}"
    top = web_app.post(f"/requirements/{second}/move", data={"csrf": csrf, "direction": "up"})
    assert top.status_code == 400 and "already has priority 1" in refusal(top.text)
    set_page = web_app.get(f"/requirements/{first}")
    assert web_app.post(f"/requirements/{first}/priority", data={
        "csrf": csrf, "priority": "7", "version": version(set_page.text)}).status_code == 303
    assert web_world.db.state().requirements[first].priority == 7
    csrf = sign_in(web_app, web_world, "admin")
    assert "Move" not in web_app.get("/requirements/ranking").text
    refused = web_app.post(f"/requirements/{first}/move", data={"csrf": csrf, "direction": "up"})
    assert refused.status_code == 403 and "may not requirement:reprioritise" in refusal(refused.text)


# --- in Chromium -------------------------------------------------------------------------------------------------

@pytest.mark.xdist_group("browser")
def test_the_liaison_pages_are_accessible_narrow_local_and_ranked_by_keyboard(
        web_world: World, web_site: str, signed_in_page: Callable[[World, str, str], Page], checked_page: Page) -> None:
    high, low = open_requirement(web_world, priority=1), open_requirement(web_world, priority=2, quantity=300)
    alloc = confirmed_allocation(web_world, enter_offer(web_world), high, 100)
    shipment = web_world.do(svc.dispatch, "deu", allocation=alloc, quantity=60,
                            dispatched_on=web_world.clock.now().date()).id
    page = signed_in_page(web_world, "ukr", web_site)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.set_viewport_size({"width": 800, "height": 700})
    paths = ["/requirements", "/requirements/new", f"/requirements/{high}/history", f"/requirements/{high}/amend",
             "/requirements/ranking", "/shipments", f"/shipments/{shipment}", f"/requirements/{high}"]
    for path in paths:
        answer = page.goto(web_site + path)
        assert answer is not None and answer.status == 200, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 800, path
    expect(page.locator("#history table")).to_contain_text("RequirementOpened")  # loaded after the page
    assert {urlsplit(url).netloc for url in requested} == {urlsplit(web_site).netloc}

    # Re-rank by keyboard alone: Tab to "Down" of the first, Enter; htmx swaps the list and keeps the focus there.
    page.goto(web_site + "/requirements/ranking")
    page.locator(f"#up-{low}").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == f"down-{high}"
    page.keyboard.press("Enter")
    expect(page.locator(f"#rank-{high} td.num").first).to_have_text("2")
    expect(page.locator("#ranking.htmx-added")).to_have_count(0)  # htmx has taken the new list's forms
    assert page.evaluate("document.activeElement.id") == f"down-{high}"
    page.keyboard.press("Enter")  # again: now below the other
    expect(page.locator(f"#rank-{high} td.num").first).to_have_text("3")
    expect(page.locator("#ranking.htmx-added")).to_have_count(0)  # htmx has taken the new list's forms
    rows = page.locator("#ranking tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    assert rows == [f"rank-{low}", f"rank-{high}"]
    assert web_world.db.state().requirements[high].priority == 3
    web_world.do(svc.move_requirement, "ukr", low, "cancel")  # meanwhile, in another window
    page.locator(f"#down-{low}").focus()
    page.keyboard.press("Enter")  # refused: the refusal is swapped in with the list as it is now
    expect(page.locator("#refusal")).to_contain_text(f"requirement {low} is cancelled")
    assert page.url == web_site + "/requirements/ranking" and page.locator(f"#rank-{low}").count() == 0

    # Receive the shipment by keyboard, with a shortfall.
    page.goto(web_site + f"/shipments/{shipment}")
    page.locator("#f-short").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("55 of 60 in good order")

    staff = {"admin": [f"/requirements/{low}", "/shipments"],
             "deu": ["/shipments", f"/shipments/dispatch?allocation={alloc}"]}
    checked = [(web_site + path, "ukr") for path in paths]
    checked += [(web_site + path, user) for user, more in staff.items() for path in more]
    context = checked_page.context
    checked_page.set_viewport_size({"width": 800, "height": 700})
    for url, user in checked:
        context.clear_cookies()
        context.add_cookies(session_cookies(web_world, user, web_site))
        answer = checked_page.goto(url)
        assert answer is not None and answer.status == 200, url
        assert checked_page.evaluate("document.documentElement.scrollWidth") <= 800, url
        assert axe_violations(checked_page) == [], url
