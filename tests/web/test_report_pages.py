"""The reports in a browser: the same figures as the API, filtered the same way, stamped, with charts that carry
their figures as text, and downloads that are the API's own files."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from tests.factories import World, confirmed_allocation, enter_offer, open_requirement
from tests.web.conftest import axe_violations, session_cookies, sign_in

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def loop(web_world: World) -> World:
    """Two requirements, DEU's offer confirmed against the first."""
    first = open_requirement(web_world, quantity=1000, priority=1)
    open_requirement(web_world, quantity=500, priority=2)
    offer = enter_offer(web_world, "deu", quantity=400)
    confirmed_allocation(web_world, offer, first, 400)
    return web_world


def test_a_report_page_shows_the_apis_figures_stamped_with_its_downloads(web_app: TestClient, loop: World) -> None:
    sign_in(web_app, loop, "analyst")
    page = web_app.get("/reports/burden")
    assert page.status_code == 200
    assert "Record as of" in page.text and "log size" in page.text
    document = web_app.get("/api/v1/reports/burden").json()
    deu = next(r for r in document["rows"] if r["member"] == "DEU")
    assert f">{round(float(deu['committed_eur'])):,}<" in page.text  # to the euro, with separators
    assert f"log size <strong>{document['stamp']['log_size']:,}</strong>" in page.text
    link = 'href="/api/v1/reports/burden?format=csv"'
    assert link in page.text
    rows = list(csv.reader(io.StringIO(web_app.get("/api/v1/reports/burden?format=csv").text)))
    assert any(row and row[0] == "DEU" for row in rows)


def test_the_filters_are_the_apis_and_a_bad_one_is_named(web_app: TestClient, loop: World) -> None:
    sign_in(web_app, loop, "analyst")
    tiers = web_app.get("/reports/coverage?by=tier")
    assert tiers.status_code == 200 and 'href="/api/v1/reports/coverage?by=tier&amp;format=csv"' in tiers.text
    bad = web_app.get("/reports/coverage?as_of=2024-13-01")
    assert bad.status_code == 400 and "as_of" in bad.text and "not a date" in bad.text
    unknown = web_app.get("/reports/burden?area=nowhere")
    assert unknown.status_code == 400 and "nowhere" in unknown.text
    assert web_app.get("/reports/nonsense").status_code == 404


def test_a_chart_is_an_svg_drawing_whose_labels_are_text(web_app: TestClient, loop: World) -> None:
    sign_in(web_app, loop, "analyst")
    answer = web_app.get("/reports/coverage/chart-0.svg?by=tier")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.headers["content-security-policy"] == "default-src 'none'"
    drawing = ET.fromstring(answer.text)
    labels = {t.text for t in drawing.iter(f"{SVG}text")}
    assert {"needed", "confirmed", "delivered"} <= labels and "1" in labels  # the legend and the tier
    assert not list(drawing.iter(f"{SVG}script"))
    assert web_app.get("/reports/coverage/chart-5.svg").status_code == 404


def test_reports_need_a_signed_in_user(web_app: TestClient) -> None:
    answer = web_app.get("/reports/burden")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")


@pytest.mark.xdist_group("browser")
def test_the_report_pages_in_chromium(page: Page, loop: World, web_site: str) -> None:
    page.context.add_cookies(session_cookies(loop, "analyst", web_site))
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    for name in ("coverage", "burden", "lag", "gaps"):
        page.goto(f"{web_site}/reports/{name}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        charts = page.locator("figure.chart img")
        for n in range(charts.count()):
            assert charts.nth(n).evaluate("img => img.complete && img.naturalWidth > 0")
    assert all(url.startswith(web_site) for url in fetched)
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(f"{web_site}/reports/burden")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.emulate_media(media="print")
    assert page.locator("form.controls").is_hidden() and page.locator("table").is_visible()


@pytest.mark.xdist_group("browser")
def test_the_report_pages_have_no_serious_accessibility_violation(checked_page: Page, loop: World,
                                                                  web_site: str) -> None:
    checked_page.context.add_cookies(session_cookies(loop, "analyst", web_site))
    for path in ("/reports", "/reports/coverage", "/reports/burden?as_of=nonsense", "/public", "/network"):
        checked_page.goto(web_site + path)
        assert axe_violations(checked_page) == [], path
