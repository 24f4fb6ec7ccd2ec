"""A real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a real server on 127.0.0.1.

Without Chromium the browser tests are skipped on a developer's machine and fail under CI=true."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from contactgroup.storage.database import Database
from tests.ledger_integration.conftest import serving

CHROMIUM = Path(os.environ.get("CONTACTGROUP_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "vendor" / "axe-core-4.11.4" / "axe.min.js"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"Chromium is expected at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def site(founded_db: Database) -> Iterator[str]:
    """The base URL of a server on a founded coordination."""
    with serving(founded_db.url, None) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def checked_page(browser: Browser) -> Iterator[Page]:
    """A page into which the tests may inject axe-core."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield context.new_page()
    context.close()


def axe_violations(page: Page) -> list[dict[str, object]]:
    """The serious and critical accessibility violations axe-core finds on the page as it is. Our policy refuses
    every inline script, so the page must come from a context opened with `bypass_csp=True` (`checked_page`)."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in found if v.get("impact") in ("serious", "critical")]
