"""The allocation run in the browser: a preview that writes nothing, reviewed, then recorded — and refused when the
record changed since the preview."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from contactgroup.domain.model import AllocationStatus, Visibility
from contactgroup.services import coordination as svc
from contactgroup.services import governance as gov
from contactgroup.web.allocation_run import KIND, STALE
from contactgroup.web.background import jobs
from tests.factories import World, enter_offer, open_requirement
from tests.web.conftest import axe_violations, session_cookies, sign_in


def _previewed(client: TestClient, csrf: str, area: str = "artillery") -> tuple[str, str]:
    """Start a preview, wait for it; its page's address and HTML."""
    started = client.post("/allocation-run", data={"csrf": csrf, "area": area})
    assert started.status_code == 303, started.text
    where = started.headers["location"]
    client.app.state.page_jobs.get(where.rsplit("/", 1)[1]).wait(60)  # type: ignore[attr-defined]
    page = client.get(where)
    assert page.status_code == 200, page.text
    return where, page.text


def _seq(html: str) -> str:
    return html.split('name="seq" value="')[1].split('"')[0]


def test_a_lead_previews_its_area_reviews_it_and_records_it(web_app: TestClient, web_world: World) -> None:
    req = open_requirement(web_world, quantity=1000)
    enter_offer(web_world, quantity=600, visibility=Visibility.COALITION)  # a lead sees what its coalition may
    csrf = sign_in(web_app, web_world, "fra-lead")
    form = web_app.get("/allocation-run")
    assert form.status_code == 200 and '<option value="artillery"' in form.text
    assert '<option value="drones"' not in form.text and "every area" not in form.text  # FRA leads artillery only
    before = web_world.event_count()
    where, review = _previewed(web_app, csrf)
    assert web_world.event_count() == before, "a preview writes nothing"
    assert "preview" in review and "Units per priority" in review and "greedy" in review
    assert f"→ {req}" in review and "new proposal" in review and "600" in review
    assert "nothing of its item class" not in review and "too few units" in review  # 400 short, and why
    assert _seq(review) == str(before)
    recorded = web_app.post(f"{where}/record", data={"csrf": csrf, "seq": _seq(review), "area": "artillery"})
    assert recorded.status_code == 303
    shown = web_app.get(recorded.headers["location"])
    assert shown.status_code == 200 and "Recorded: 1 allocation proposed" in shown.text
    state = web_world.db.state()
    (alloc,) = [a for a in state.allocations.values() if a.requirement == req]
    assert alloc.status is AllocationStatus.PROPOSED and alloc.quantity == 600
    assert f'href="/allocations/{alloc.id}"' in shown.text


def test_recording_is_refused_when_the_record_changed_since_the_preview(web_app: TestClient,
                                                                        web_world: World) -> None:
    open_requirement(web_world, quantity=1000)
    enter_offer(web_world, quantity=600)
    csrf = sign_in(web_app, web_world, "admin")
    where, review = _previewed(web_app, csrf, area="")
    assert "every area" in review
    enter_offer(web_world, quantity=100)  # someone else records something meanwhile
    count = web_world.event_count()
    refused = web_app.post(f"{where}/record", data={"csrf": csrf, "seq": _seq(review)})
    assert refused.status_code == 409 and STALE in refused.text
    assert web_world.event_count() == count, "nothing written"
    fresh, again = _previewed(web_app, csrf, area="")
    mixed = web_app.post(f"{where}/record", data={"csrf": csrf, "seq": _seq(again)})  # the old plan, the new size
    assert mixed.status_code == 409 and web_world.event_count() == count
    assert web_app.post(f"{fresh}/record", data={"csrf": csrf, "seq": _seq(again)}).status_code == 303


def test_the_coordinator_may_also_request_the_consents_it_waits_for(web_app: TestClient, web_world: World) -> None:
    req = open_requirement(web_world, quantity=1000)
    offer = enter_offer(web_world, quantity=600, consent_from="USA")
    csrf = sign_in(web_app, web_world, "admin")
    started = web_app.post("/allocation-run", data={"csrf": csrf, "area": "artillery", "consent": "yes"})
    where = started.headers["location"]
    web_app.app.state.page_jobs.get(where.rsplit("/", 1)[1]).wait(60)  # type: ignore[attr-defined]
    review = web_app.get(where).text
    assert f"{offer}" in review.split("Offers held back")[1] and "Consents it would request: 1" in review
    assert web_world.db.state().consents == {}, "a preview requests nothing"
    done = web_app.post(f"{where}/record", data={"csrf": csrf, "seq": _seq(review), "area": "artillery",
                                                 "consent": "yes"})
    assert done.status_code == 303 and "Consents requested: 1" in web_app.get(done.headers["location"]).text
    (consent,) = web_world.db.state().consents.values()
    assert consent.offer == offer and not [a for a in web_world.db.state().allocations.values()
                                           if a.requirement == req]


def test_who_may_not_run_it_is_told_and_nothing_runs(web_app: TestClient, web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "fra-lead")
    refused = web_app.post("/allocation-run", data={"csrf": csrf, "area": "drones"})
    assert refused.status_code == 403 and "does not lead" in refused.text
    assert getattr(web_app.app.state, "page_jobs", None) is None or not web_app.app.state.page_jobs.latest(
        "allocation-run")  # type: ignore[attr-defined]
    unknown = web_app.post("/allocation-run", data={"csrf": csrf, "area": "nowhere"})
    assert unknown.status_code == 404 and "no capability area" in unknown.text
    assert web_app.post("/allocation-run", data={"area": "artillery"}).status_code == 403  # no CSRF token
    sign_in(web_app, web_world, "deu")
    page = web_app.get("/allocation-run")
    assert page.status_code == 403 and "may not run the allocation" in page.text


def test_a_run_is_its_runner_s_own(web_app: TestClient, web_world: World) -> None:
    open_requirement(web_world)
    csrf = sign_in(web_app, web_world, "admin")
    where, _ = _previewed(web_app, csrf, area="")
    sign_in(web_app, web_world, "fra-lead")
    assert web_app.get(where).status_code == 404
    assert web_app.get("/allocation-run/nonsense").status_code == 404


def test_a_run_under_way_shows_as_running_and_is_not_started_twice(web_app: TestClient, web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "admin")
    gate = threading.Event()
    under_way = jobs(web_app.app.state).start(KIND, "admin", lambda _: gate.wait(60) and None)
    page = web_app.get(f"/allocation-run/{under_way.id}")
    assert page.status_code == 200 and "Running the optimiser" in page.text and 'hx-trigger="every 1s"' in page.text
    again = web_app.post("/allocation-run", data={"csrf": csrf, "area": ""})
    assert again.status_code == 303 and again.headers["location"] == f"/allocation-run/{under_way.id}"
    gate.set()
    under_way.wait(60)
    assert "hx-trigger" not in web_app.get(f"/allocation-run/{under_way.id}").text.split('<main id="main">')[1]


def test_a_decline_reason_shows_as_text(web_app: TestClient, web_world: World) -> None:
    req = open_requirement(web_world, quantity=1000)
    offer = enter_offer(web_world, quantity=600)
    alloc = web_world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=600)
    web_world.do(svc.move_allocation, "deu", alloc.id, "decline", "<script>alert(1)</script>")
    csrf = sign_in(web_app, web_world, "admin")
    _, review = _previewed(web_app, csrf, area="")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in review and "<script>alert(1)" not in review
    assert "Offers held back" in review


@pytest.mark.xdist_group("browser")
def test_the_lead_s_and_coordinator_s_pages_in_chromium(checked_page: Page, web_world: World, web_site: str) -> None:
    """Every page of this area: nothing fetched from elsewhere, no serious accessibility violation, no sideways
    scrolling at 800 px; and the allocation run, then verify, done by keyboard alone."""
    open_requirement(web_world, quantity=1000)
    enter_offer(web_world, quantity=600)
    pid = web_world.do(gov.propose, "admin", gov.ProposalKind.REMOVE_MEMBER, {"code": "USA"}).id
    page = checked_page
    page.context.add_cookies(session_cookies(web_world, "admin", web_site))
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    for path in ("/allocation-run", "/record", "/governance", f"/governance/{pid}", "/governance/propose/admit-member",
                 "/users", "/users/deu", "/members"):
        page.set_viewport_size({"width": 1280, "height": 900})
        answer = page.goto(web_site + path)
        assert answer is not None and answer.status == 200, path
        assert axe_violations(page) == [], path
        page.set_viewport_size({"width": 800, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= 800, path
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(web_site + "/allocation-run")  # by keyboard: the area, the consent box, the button
    page.locator("#f-area").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    record = page.get_by_role("button", name="Record this allocation")
    record.wait_for(timeout=60_000)  # htmx polls the running preview until its plan is shown
    assert "preview" in page.locator("h1").inner_text() and axe_violations(page) == []
    page.set_viewport_size({"width": 800, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    record.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Recorded:").wait_for()
    page.goto(web_site + "/record")
    page.get_by_role("button", name="Run verify now").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Passed").wait_for(timeout=120_000)
    assert axe_violations(page) == []
    assert {urlsplit(url).netloc for url in fetched} == {urlsplit(web_site).netloc}
