"""The pages as a browser sees them: served with a strict policy, nothing fetched from elsewhere, accessible,
readable without JavaScript and at 800 px, every value escaped."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from contactgroup.api.app import create_app
from contactgroup.storage.database import Database
from contactgroup.web import pages
from tests.web.conftest import axe_violations

pytestmark = pytest.mark.xdist_group("browser")


def test_the_home_page_fetches_only_from_its_own_server(page: Page, site: str) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    answer = page.goto(site + "/")
    assert answer is not None and answer.status == 200
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Assistance to UKR"
    assert "chaired by IDCC" in page.locator("main").inner_text()
    assert {urlsplit(url).netloc for url in requested} == {urlsplit(site).netloc}
    assert any(url.endswith(pages.HTMX) for url in requested)  # the vendored script is served and loads
    assert page.evaluate("typeof htmx") == "object"
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy and "frame-ancestors 'none'" in policy


def test_the_home_page_has_no_serious_accessibility_violation(checked_page: Page, site: str) -> None:
    checked_page.goto(site + "/")
    assert axe_violations(checked_page) == []


def test_without_javascript_and_at_800_px_the_page_reads_whole(browser: Browser, site: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 800, "height": 700})
    page = context.new_page()
    page.goto(site + "/")
    assert page.locator("h1").is_visible()
    context.close()
    context = browser.new_context(viewport={"width": 800, "height": 700})
    page = context.new_page()
    page.goto(site + "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    context.close()


def test_every_value_is_escaped() -> None:
    html = pages.templates.from_string("<p>{{ value }}</p>").render(value="<script>alert(1)</script>")
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_pages_refuse_to_be_framed_and_are_not_cached(founded_db: Database) -> None:
    answer = TestClient(create_app(founded_db.url)).get("/")
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"
    asset = TestClient(create_app(founded_db.url)).get(f"/static/{pages.HTMX}")
    assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
