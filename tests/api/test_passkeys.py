"""Passkeys in a real browser: Chromium with a virtual authenticator (CTAP2, user verification) on the server's
own page at http://localhost:PORT — the relying party's id is the DNS name `localhost`."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from contactgroup.api.app import create_app
from contactgroup.services.passkeys import RelyingParty
from tests.api.conftest import PASSWORD, Apps, enrolled, totp_code
from tests.factories import World


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def origin(world: World) -> Iterator[str]:
    """The API served for real on 127.0.0.1, known to passkeys as http://localhost:PORT."""
    port = _free_port()
    origin = f"http://localhost:{port}"
    app = create_app(world.db.url, clock=world.clock, origin=origin)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield origin
    server.should_exit = True
    thread.join(10)
    app.state.db.engine.dispose()


@pytest.fixture
def page(browser: Browser, origin: str) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    cdp = context.new_cdp_session(opened)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})
    opened.goto(f"{origin}/passkeys")
    yield opened
    context.close()


def run(page: Page, script: str, *args: Any) -> Any:
    return page.evaluate(f"(args) => {script}(...args)", list(args))


@pytest.mark.xdist_group("browser")  # the worker that launched Chromium for the pages' tests
def test_a_passkey_added_in_the_browser_signs_in_instead_of_totp(world: World, origin: str, page: Page) -> None:
    secret = enrolled(world, "deu")
    assert secret is not None
    assert run(page, "signInWithTotp", "deu", PASSWORD, totp_code(world, secret))["status"] == 200
    added = run(page, "addPasskey")
    assert added["status"] == 201, added
    assert run(page, "post", "/api/v1/sign-out")["status"] == 204
    signed = run(page, "signInWithPasskey", "deu", PASSWORD)
    assert signed["status"] == 200, signed
    assert page.evaluate("fetch('/api/v1/me').then((r) => r.json())")["name"] == "deu"
    listed = page.evaluate("fetch('/api/v1/passkeys').then((r) => r.json())")
    assert [p["id"] for p in listed] == [added["body"]["id"]] and listed[0]["used_at"] is not None


@pytest.mark.xdist_group("browser")  # the worker that launched Chromium for the pages' tests
def test_a_passkey_answers_once_for_its_own_user_with_the_right_password(world: World, origin: str,
                                                                        page: Page) -> None:
    secret = enrolled(world, "deu")
    enrolled(world, "fra")
    assert secret is not None
    run(page, "signInWithTotp", "deu", PASSWORD, totp_code(world, secret))
    assert run(page, "addPasskey")["status"] == 201
    assert run(page, "signInWithPasskey", "deu", "a wrong password!")["status"] == 401
    assert run(page, "signInWithPasskey", "fra", PASSWORD)["status"] == 401  # deu's passkey is not fra's factor
    answer = run(page, "passkeyAnswer")
    sign_in = {"name": "deu", "password": PASSWORD, "passkey": answer}
    assert httpx.post(f"{origin}/api/v1/sign-in", json=sign_in).status_code == 200
    replayed = httpx.post(f"{origin}/api/v1/sign-in", json=sign_in)  # its challenge is spent
    assert replayed.status_code == 401 and answer["response"]["signature"] not in replayed.text


def test_a_server_without_an_origin_offers_no_passkeys(client: TestClient) -> None:
    answer = client.post("/api/v1/sign-in/passkey-options")
    assert answer.status_code == 409 and "origin is not configured" in answer.json()["detail"]
    assert RelyingParty.of("https://cell.example.org:8443") == RelyingParty("cell.example.org",
                                                                           "https://cell.example.org:8443")
    with pytest.raises(ValueError, match="scheme://host"):
        RelyingParty.of("cell.example.org/path")


def _client_data(challenge: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"type": "webauthn.get", "challenge": challenge,
                                                "origin": "http://localhost"}).encode()).decode().rstrip("=")


@pytest.mark.parametrize("answer", [
    {}, {"response": []}, {"response": {"clientDataJSON": "!!!"}}, {"id": 5, "response": {"clientDataJSON": 7}},
    {"id": "x", "response": {"clientDataJSON": _client_data("abc")}},
    "issued challenge, garbage signature",
], ids=["empty", "list", "not-base64", "numbers", "unknown-challenge", "bad-signature"])
def test_a_malformed_passkey_answer_is_refused_like_a_wrong_password(world: World, apps: Apps, answer: Any) -> None:
    secret = enrolled(world, "deu")
    assert secret is not None
    client = apps(origin="http://localhost")
    if isinstance(answer, str):
        challenge = client.post("/api/v1/sign-in/passkey-options").json()["challenge"]
        answer = {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                  "response": {"clientDataJSON": _client_data(challenge), "authenticatorData": "AAAA",
                               "signature": "AAAA"}}
    signed = client.post("/api/v1/sign-in", json={"name": "deu", "password": PASSWORD, "passkey": answer})
    wrong = client.post("/api/v1/sign-in", json={"name": "deu", "password": "not the password", "totp": "1"})
    assert (signed.status_code, signed.json()["detail"]) == (wrong.status_code, wrong.json()["detail"]) == (
        401, wrong.json()["detail"])
    client.post("/api/v1/sign-in", json={"name": "deu", "password": PASSWORD, "totp": totp_code(world, secret)})
    added = client.post("/api/v1/passkeys", json=answer, headers={"X-CSRF-Token": client.cookies["cg_csrf"]})
    assert added.status_code == 400 and "could not be verified" in added.json()["detail"]


@pytest.mark.xdist_group("browser")  # the worker that launched Chromium for the pages' tests
def test_the_pages_add_a_passkey_and_sign_in_with_it(world: World, origin: str, page: Page) -> None:
    """The account page's button adds a passkey; the sign-in page's signs in with it instead of the code."""
    secret = enrolled(world, "deu")
    assert secret is not None
    page.goto(f"{origin}/sign-in")
    page.fill("#f-name", "deu")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-totp", totp_code(world, secret))
    page.press("#f-totp", "Enter")
    page.wait_for_url(f"{origin}/")
    page.goto(f"{origin}/account")
    page.locator("#add-passkey").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the page reloads once the passkey is added
    assert "Passkey added" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").press("Enter")
    page.wait_for_url(f"{origin}/sign-in")
    page.fill("#f-name", "deu")
    page.fill("#f-password", PASSWORD)
    page.locator("#use-passkey").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{origin}/" and page.locator("h1").inner_text() == "Awaiting my action"
