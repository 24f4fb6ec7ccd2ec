"""A real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a real server on 127.0.0.1.

Without Chromium the browser tests are skipped on a developer's machine and fail under CI=true."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page

from contactgroup.api.app import create_app
from contactgroup.services import accounts
from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage import accounts as accounts_store
from contactgroup.storage.database import Database
from tests.api.conftest import PASSWORD, enrolled
from tests.conftest import DatabaseCopies
from tests.factories import World, build_world
from tests.ledger_integration.conftest import serving

AXE = Path(__file__).parent / "vendor" / "axe-core-4.11.4" / "axe.min.js"


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


# --- a coordination with enrolled users, and pages signed in as each --------------------------------------------

WEB_USERS = ("admin", "ukr", "deu", "fra", "usa", "fra-lead", "analyst")


def _web_world(db: Database, clock: FixedClock) -> None:
    init_coordination(db, clock)
    world = build_world(db, clock)
    for user in WEB_USERS:
        enrolled(world, user)


@pytest.fixture
def web_world(tmp_path: Path, clock: FixedClock, database_copies: DatabaseCopies) -> Iterator[World]:
    """The factories' world (UKR's liaison `ukr`, desks `deu`, `fra`, `usa`, the artillery lead `fra-lead`, the
    analyst, the coordinator `admin`) on SQLite, every user enrolled with `PASSWORD` and a TOTP secret: the pages
    do not depend on the engine (the API's tests run both)."""
    db = database_copies.copy(f"sqlite:///{tmp_path / 'contactgroup.db'}", tmp_path, ("web-world", clock.at),
                              lambda new, _: _web_world(new, clock))
    yield World(db, FixedClock(clock.at + timedelta(hours=1)))
    db.engine.dispose()


def totp_secret(world: World, user: str) -> str | None:
    """The user's TOTP secret; None for a role that needs no second factor (analyst, auditor)."""
    with world.db.reader(checked=False) as conn:
        row = accounts_store.credential(conn, user)
    assert row is not None
    return row.totp_secret


@pytest.fixture
def web_app(web_world: World) -> Iterator[TestClient]:
    """The server's app over the web world, with the world's clock (so TOTP codes are the clock's)."""
    app = create_app(web_world.db.url, clock=web_world.clock)
    yield TestClient(app, follow_redirects=False)
    app.state.db.engine.dispose()


def sign_in(client: TestClient, world: World, user: str) -> str:
    """Sign `client` in as `user` through the sign-in page; the session's CSRF token, for forms. The clock moves
    on one TOTP step (a code is accepted once)."""
    secret = totp_secret(world, user)
    code = pyotp.TOTP(secret).at(world.clock.now()) if secret else ""
    answer = client.post("/sign-in", data={"name": user, "password": PASSWORD, "totp": code, "then": "/"})
    assert answer.status_code == 303, answer.text
    world.clock.at += timedelta(seconds=30)
    return client.cookies[accounts.CSRF_COOKIE]


def session_cookies(world: World, user: str, url: str) -> list[Any]:
    """A real session for `user` (as the sign-in page starts one), as cookies for a browser context at `url`."""
    found = world.db.state().users[user]
    started = accounts.start_session(world.db, found, now=datetime.now(UTC), source="test")
    return [{"name": accounts.SESSION_COOKIE, "value": started.cookie, "url": url, "httpOnly": True,
             "sameSite": "Strict"},
            {"name": accounts.CSRF_COOKIE, "value": started.csrf, "url": url, "sameSite": "Strict"}]


@pytest.fixture
def signed_in_page(browser: Browser) -> Iterator[Callable[[World, str, str], Page]]:
    """Pages of a real server (`url`) signed in as a user of `world`, each in its own browser context."""
    contexts: list[BrowserContext] = []

    def make(world: World, user: str, url: str) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=url)
        context.add_cookies(session_cookies(world, user, url))
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def web_site(web_world: World) -> Iterator[str]:
    """A real server (uvicorn, the system clock) over the web world."""
    with serving(web_world.db.url, None) as url:
        yield url
