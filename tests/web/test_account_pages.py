"""Sign-in, enrolment and one's account, as a browser without JavaScript uses them (forms and redirects)."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient

from contactgroup.api.app import create_app
from contactgroup.services import accounts
from tests.api.conftest import PASSWORD
from tests.factories import World
from tests.web.conftest import sign_in, totp_secret


def test_a_page_that_needs_a_user_sends_the_browser_to_sign_in_and_back(web_app: TestClient,
                                                                         web_world: World) -> None:
    answer = web_app.get("/account")
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in?then=%2Faccount"
    form = web_app.get(answer.headers["location"])
    assert form.status_code == 200 and 'name="then" value="/account"' in form.text
    code = pyotp.TOTP(str(totp_secret(web_world, "deu"))).at(web_world.clock.now())
    signed = web_app.post("/sign-in", data={"name": "deu", "password": PASSWORD, "totp": code, "then": "/account"})
    assert signed.status_code == 303 and signed.headers["location"] == "/account"
    cookie = signed.headers.get_list("set-cookie")
    assert any("cg_session=" in c and "HttpOnly" in c and "SameSite=strict" in c for c in cookie)
    page = web_app.get("/account")
    assert page.status_code == 200 and "desk officer for DEU" in page.text


def test_sign_in_refuses_with_one_answer_and_never_leaves_the_site(web_app: TestClient, web_world: World) -> None:
    wrong = web_app.post("/sign-in", data={"name": "deu", "password": "not it", "totp": "000000"})
    unknown = web_app.post("/sign-in", data={"name": "nobody", "password": "not it", "totp": "000000"})
    assert wrong.status_code == unknown.status_code == 401
    said = re.compile(r'<div class="refusal".*?</div>', re.S)
    assert said.search(wrong.text).group(0) == said.search(unknown.text).group(0)  # type: ignore[union-attr]
    code = pyotp.TOTP(str(totp_secret(web_world, "deu"))).at(web_world.clock.now())
    away = web_app.post("/sign-in", data={"name": "deu", "password": PASSWORD, "totp": code,
                                          "then": "//evil.example/x"})
    assert away.status_code == 303 and away.headers["location"] == "/"


def test_a_form_without_the_session_token_or_from_another_origin_is_refused(web_app: TestClient,
                                                                            web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "deu")
    assert web_app.post("/account/tokens", data={"scope": "read"}).status_code == 403
    assert web_app.post("/account/tokens", data={"csrf": csrf, "scope": "read"},
                        headers={"Origin": "https://evil.example"}).status_code == 403
    issued = web_app.post("/account/tokens", data={"csrf": csrf, "scope": "read", "label": "<b>my script</b>"})
    assert issued.status_code == 201
    assert "&lt;b&gt;my script&lt;/b&gt;" in issued.text and "<b>my script</b>" not in issued.text
    token = re.search(r'id="new-token">(cg_[^<]+)<', issued.text)
    assert token is not None
    assert web_app.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"}).status_code == 200
    token_id = token.group(1).split("_")[1]
    assert web_app.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf}).status_code == 303
    assert web_app.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"}).status_code == 401
    assert "revoked" in web_app.get("/account").text


def test_sign_out_ends_the_session(web_app: TestClient, web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "ukr")
    cookie = web_app.cookies[accounts.SESSION_COOKIE]
    assert web_app.post("/sign-out", data={"csrf": csrf}).status_code == 303
    web_app.cookies.set(accounts.SESSION_COOKIE, cookie)  # the old cookie, kept by an attacker
    assert web_app.get("/account").status_code == 303


def test_enrolment_sets_a_password_and_shows_the_second_factor_as_a_qr_code(web_app: TestClient,
                                                                           web_world: World) -> None:
    code = web_world.do(accounts.reset_user, "admin", "fra").code
    differ = web_app.post("/enrol", data={"code": code, "password": "a" * 16, "again": "b" * 16})
    assert differ.status_code == 400 and "differ" in differ.text
    bad = web_app.post("/enrol", data={"code": "nonsense", "password": "a" * 16, "again": "a" * 16})
    assert bad.status_code == 400
    new = "a new long password"
    shown = web_app.post("/enrol", data={"code": code, "password": new, "again": new})
    assert shown.status_code == 200 and "<svg" in shown.text and "<script" not in shown.text.split("<main")[1]
    secret = re.search(r'class="secret">([A-Z2-7]+)<', shown.text)
    assert secret is not None
    wrong = web_app.post("/enrol/confirm", data={"code": code, "totp": "000000"})
    assert wrong.status_code == 400
    right = pyotp.TOTP(secret.group(1)).at(web_world.clock.now())
    done = web_app.post("/enrol/confirm", data={"code": code, "totp": right})
    assert done.status_code == 200 and "You are enrolled, fra" in done.text
    web_world.clock.at += timedelta(seconds=30)
    code = pyotp.TOTP(secret.group(1)).at(web_world.clock.now())
    signed = web_app.post("/sign-in", data={"name": "fra", "password": "a new long password", "totp": code})
    assert signed.status_code == 303


def test_the_home_page_lists_what_awaits_the_signed_in_user(web_app: TestClient, web_world: World) -> None:
    sign_in(web_app, web_world, "admin")
    page = web_app.get("/")
    assert page.status_code == 200 and "<h1>Awaiting my action</h1>" in page.text
    assert 'href="/members"' in page.text  # the coordinator's links
    sign_in(web_app, web_world, "ukr")
    assert 'href="/members"' not in web_app.get("/").text


def test_a_browser_left_signed_in_elsewhere_is_signed_out_from_the_account_page(web_world: World) -> None:
    apps = [create_app(web_world.db.url, clock=web_world.clock) for _ in range(2)]
    here, there = (TestClient(app, follow_redirects=False) for app in apps)
    csrf = sign_in(here, web_world, "deu")
    sign_in(there, web_world, "deu")
    page = here.get("/account")
    browsers = page.text.split("<h2>Signed-in browsers</h2>")[1].split("<h2>API tokens")[0]
    listed = re.findall(r"<code>([0-9a-f]{16})</code>", browsers)
    assert len(listed) == 2 and "(this browser)" in page.text
    other = next(s for s in listed if there.cookies[accounts.SESSION_COOKIE].startswith(f"{s}_") is not False)
    assert here.post(f"/account/sessions/{other}/end", data={"csrf": csrf}).status_code == 303
    assert there.get("/account").status_code == 303  # sent to sign in again
    assert here.get("/account").status_code == 200
    assert here.post("/account/sessions/0000000000000000/end", data={"csrf": csrf}).status_code == 404
    for app in apps:
        app.state.db.engine.dispose()
