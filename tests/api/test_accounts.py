"""Accounts: enrolment with a one-time code, sign-in with a password and a TOTP code, sessions and tokens over
HTTP, resets and disabled users, and who reads the security log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.domain.errors import EnrolmentRefused, Forbidden, SignInFailed, ValidationFailed
from contactgroup.domain.model import Role, User
from contactgroup.ledger import note
from contactgroup.services import accounts, tokens
from contactgroup.services import governance as gov
from contactgroup.storage import schema
from tests.api.conftest import PASSWORD, Apps, enrolled, totp_code
from tests.factories import World


def sign_in(client: TestClient, name: str, totp: str = "", password: str = PASSWORD, **extra: object) -> Response:
    return client.post("/api/v1/sign-in", json={"name": name, "password": password, "totp": totp, **extra})


class TestEnrolment:
    def test_a_new_user_sets_its_own_password_and_second_factor_then_signs_in(self, world: World,
                                                                              client: TestClient) -> None:
        enrolment = world.do(accounts.register_user, "deu", User("deu-2", "DEU", Role.DESK_OFFICER))
        assert enrolment.expires_at == world.clock.now() + timedelta(hours=72)
        assert world.db.state().users["deu-2"].role is Role.DESK_OFFICER  # the UserRegistered event is kept
        answer = client.post("/api/v1/enrol", json={"code": enrolment.code, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["done"] is False and body["otpauth_uri"].startswith("otpauth://totp/contactgroup:deu-2")
        secret = body["totp_secret"]
        assert sign_in(client, "deu-2", totp_code(world, secret)).status_code == 401  # not confirmed yet
        world.clock.at += timedelta(seconds=30)
        wrong = client.post("/api/v1/enrol/confirm", json={"code": enrolment.code, "totp": "000000"})
        assert wrong.status_code == 400 and "authenticator" in wrong.json()["detail"]
        confirmed = client.post("/api/v1/enrol/confirm",
                                json={"code": enrolment.code, "totp": totp_code(world, secret)})
        assert confirmed.json() == {"user": "deu-2", "done": True, "totp_secret": None, "otpauth_uri": None}
        world.clock.at += timedelta(seconds=30)
        signed = sign_in(client, "deu-2", totp_code(world, secret))
        assert signed.status_code == 200, signed.text
        assert client.get("/api/v1/me").json()["name"] == "deu-2"
        again = client.post("/api/v1/enrol", json={"code": enrolment.code, "password": PASSWORD})  # spent
        assert again.status_code == 400 and again.json()["detail"] == str(EnrolmentRefused())

    def test_the_code_expires_after_72_hours(self, world: World) -> None:
        code = world.do(accounts.reset_user, "admin", "deu").code
        world.clock.at += timedelta(hours=72)
        with pytest.raises(EnrolmentRefused):
            accounts.enrol(world.db, world.db.state(), code, PASSWORD, now=world.clock.now())

    @pytest.mark.parametrize("password", ["short", "x" * 1025])
    def test_a_password_out_of_bounds_is_refused_and_nothing_is_set(self, world: World, password: str) -> None:
        code = world.do(accounts.reset_user, "admin", "deu").code
        with pytest.raises(ValidationFailed, match="a password has 12 to 1024 characters"):
            accounts.enrol(world.db, world.db.state(), code, password, now=world.clock.now())
        with world.db.engine.connect() as conn:
            assert conn.execute(sa.select(schema.credentials.c.password_hash)).scalar() is None

    def test_a_role_that_only_reads_needs_no_second_factor(self, world: World, client: TestClient) -> None:
        assert enrolled(world, "analyst") is None
        assert not accounts.needs_second_factor(Role.ANALYST) and not accounts.needs_second_factor(Role.AUDITOR)
        assert all(accounts.needs_second_factor(r) for r in Role if r not in (Role.ANALYST, Role.AUDITOR))
        assert sign_in(client, "analyst").status_code == 200

    def test_a_reset_ends_the_old_password_tokens_and_sessions(self, world: World, client: TestClient) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        token = sign_in(client, "deu", totp_code(world, secret), token={"scope": "write"}).json()["token"]
        world.clock.at += timedelta(seconds=30)
        assert sign_in(client, "deu", totp_code(world, secret)).status_code == 200
        code = world.do(accounts.reset_user, "deu", "deu").code  # a desk officer may reset its member's users
        assert client.get("/api/v1/me").status_code == 401  # the session ended
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        world.clock.at += timedelta(seconds=30)
        assert sign_in(client, "deu", totp_code(world, secret)).status_code == 401
        assert accounts.enrol(world.db, world.db.state(), code, PASSWORD, now=world.clock.now()).secret != secret


class TestGovernance:
    """Under governance a member's accounts are its own desk officers' to enrol, reset and disable."""

    def test_the_authority_cannot_take_over_a_members_account(self, world: World) -> None:
        world.do(gov.register_key, "deu", "DEU", note.generate_key("DEU-1")[0].verifier.text)
        with pytest.raises(Forbidden, match="governance is in force"):
            world.do(accounts.reset_user, "admin", "deu")
        with pytest.raises(Forbidden, match="governance is in force"):
            world.do(accounts.register_user, "admin", User("deu-2", "DEU", Role.DESK_OFFICER))
        with pytest.raises(Forbidden, match="may not user:manage for FRA"):
            world.do(accounts.reset_user, "deu", "fra")
        world.do(accounts.register_user, "deu", User("deu-2", "DEU", Role.DESK_OFFICER))
        world.do(accounts.reset_user, "deu", "deu-2")
        seen = accounts.security_log(world.db, world.db.state(), "deu")
        assert [(e.user_name, e.actor, e.kind) for e in seen] == [
            ("deu-2", "deu", "enrolment-issued"), ("deu-2", "deu", "factor-reset"),
            ("deu-2", "deu", "enrolment-issued")]
        assert accounts.security_log(world.db, world.db.state(), "fra") == []  # another member's accounts


class TestSessions:
    def test_a_session_cookie_is_httponly_strict_and_new_at_every_sign_in(self, world: World,
                                                                         client: TestClient) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        first = sign_in(client, "deu", totp_code(world, secret))
        cookie = first.headers["set-cookie"]
        assert "cg_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Secure" not in cookie and "Max-Age=43200" in cookie
        old = client.cookies["cg_session"]
        world.clock.at += timedelta(seconds=30)
        second = sign_in(client, "deu", totp_code(world, secret))
        new = client.cookies["cg_session"]
        assert new != old and second.json()["id"] != first.json()["id"]
        assert client.get("/api/v1/me").json()["token"] == second.json()["id"]
        client.cookies.set("cg_session", old)
        assert client.get("/api/v1/me").status_code == 401  # the session a browser held before ended

    def test_a_session_under_tls_is_secure(self, world: World, apps: Apps) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        tls = apps(base_url="https://testserver")
        assert "Secure" in sign_in(tls, "deu", totp_code(world, secret)).headers["set-cookie"]

    @pytest.mark.parametrize(("idle", "ok"), [(29, True), (31, False)])
    def test_a_session_ends_after_30_idle_minutes(self, world: World, client: TestClient, idle: int,
                                                   ok: bool) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        sign_in(client, "deu", totp_code(world, secret))
        world.clock.at += timedelta(minutes=idle)
        assert (client.get("/api/v1/me").status_code == 200) is ok

    def test_a_session_in_use_still_ends_after_12_hours(self, world: World, client: TestClient) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        sign_in(client, "deu", totp_code(world, secret))
        statuses = []
        for _ in range(37):  # a request every 20 minutes for 12 h 20 min: never idle
            world.clock.at += timedelta(minutes=20)
            statuses.append(client.get("/api/v1/me").status_code)
        assert statuses == [200] * 36 + [401]

    def test_signing_out_ends_the_session(self, world: World, client: TestClient) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        csrf = sign_in(client, "deu", totp_code(world, secret)).json()["csrf_token"]
        assert client.post("/api/v1/sign-out", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert client.get("/api/v1/me").status_code == 401


class TestTokens:
    def test_sign_in_for_a_token_then_issue_list_and_revoke_over_http(self, world: World,
                                                                      client: TestClient) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        answer = sign_in(client, "deu", totp_code(world, secret), token={"scope": "read", "label": "script"})
        assert answer.status_code == 200 and "set-cookie" not in answer.headers
        read = {"Authorization": f"Bearer {answer.json()['token']}"}
        assert client.post("/api/v1/tokens", headers=read, json={"scope": "write"}).status_code == 403
        world.clock.at += timedelta(seconds=30)
        write = {"Authorization": "Bearer " + sign_in(client, "deu", totp_code(world, secret),
                                                      token={"scope": "write"}).json()["token"]}
        issued = client.post("/api/v1/tokens", headers=write, json={"scope": "read", "days": 7, "label": "cron"})
        assert issued.status_code == 201 and issued.json()["token"].startswith("cg_")
        listed = client.get("/api/v1/tokens", headers=read).json()
        assert sorted((t["scope"], t["label"]) for t in listed) == [("read", "cron"), ("read", "script"),
                                                                    ("write", "")]
        assert all("token" not in t for t in listed)
        assert client.delete(f"/api/v1/tokens/{issued.json()['id']}", headers=write).status_code == 204
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.json()['token']}"}
                          ).status_code == 401
        assert client.delete(f"/api/v1/tokens/{issued.json()['id']}", headers=write).status_code == 404
        assert client.post("/api/v1/sign-out", headers=read).status_code == 204  # a token's sign-out revokes it
        assert client.get("/api/v1/me", headers=read).status_code == 401


class TestSecurityLog:
    def test_the_coordinator_reads_all_a_desk_officer_its_members_a_user_its_own(self, world: World,
                                                                                client: TestClient) -> None:
        for user in ("deu", "fra"):
            enrolled(world, user)
        enrolled(world, "analyst")
        world.clock.at += timedelta(seconds=30)
        sign_in(client, "analyst")
        sign_in(client, "nobody-here")
        admin = {"Authorization": "Bearer " + accounts_token(world, "admin")}
        every = client.get("/api/v1/security-log", headers=admin).json()
        assert {e["user"] for e in every} == {"deu", "fra", "analyst", "admin", ""}
        assert any(e["kind"] == "sign-in-failed" and e["user"] == "" and "nobody" not in e["detail"]
                   for e in every)
        deu = client.get("/api/v1/security-log", headers={"Authorization": "Bearer " + accounts_token(world, "deu")})
        assert {e["party"] for e in deu.json()} == {"DEU"}
        mine = client.get("/api/v1/security-log",
                          headers={"Authorization": "Bearer " + accounts_token(world, "analyst")}).json()
        assert {e["user"] for e in mine} == {"analyst"} and {e["kind"] for e in mine} >= {"enrolled", "sign-in"}
        other = client.get("/api/v1/security-log?user=deu",
                           headers={"Authorization": "Bearer " + accounts_token(world, "analyst")}).json()
        assert other == []


def accounts_token(world: World, user: str) -> str:
    return tokens.issue(world.db, world.db.state(), user, now=world.clock.now()).token


class TestCli:
    def test_user_add_reset_disable_and_the_security_log(self, world: World, monkeypatch: pytest.MonkeyPatch,
                                                         client: TestClient) -> None:
        monkeypatch.setenv("CONTACTGROUP_DB", world.db.url)
        runner = CliRunner()
        added = runner.invoke(app, ["user", "add", "deu-2", "--party", "DEU", "--role", "desk_officer", "--as",
                                    "deu"])
        assert added.exit_code == 0, added.output
        code = added.stdout.strip().splitlines()[-1]
        assert code.startswith("enrol-") and "shown only now" in added.stderr
        factor = accounts.enrol(world.db, world.db.state(), code, PASSWORD, now=world.clock.now())
        assert factor.secret is not None
        accounts.confirm_enrolment(world.db, world.db.state(), code, totp_code(world, factor.secret),
                                   now=world.clock.now())
        token = accounts_token(world, "deu-2")
        reset = runner.invoke(app, ["user", "reset", "deu-2", "--as", "fra"])
        assert reset.exit_code == 4 and "may not user:manage for DEU" in reset.output
        disabled = runner.invoke(app, ["user", "disable", "deu-2", "--as", "deu"])
        assert disabled.exit_code == 0 and "tokens and sessions ended" in disabled.stdout
        with world.db.engine.connect() as conn:
            assert conn.execute(sa.select(schema.api_tokens.c.revoked_at)).scalar() is not None
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        log = json.loads(runner.invoke(app, ["user", "security-log", "--as", "deu", "--format", "json"]).stdout)
        assert [e["kind"] for e in log][:3] == ["user-disabled", "token-issued", "enrolled"]
        assert code not in json.dumps(log) and token not in json.dumps(log)


def test_user_enrol_asks_for_everything_and_echoes_no_secret(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTGROUP_DB", world.db.url)
    world.clock.at = datetime.now(UTC)  # the command runs on the system clock
    code = world.do(accounts.reset_user, "admin", "admin").code  # the first coordinator's enrolment
    secret = pyotp.random_base32()
    monkeypatch.setattr(pyotp, "random_base32", lambda: secret)  # the secret the command will show
    typed = f"{code}\n{PASSWORD}\n{PASSWORD}\n{pyotp.TOTP(secret).now()}\n"
    result = CliRunner().invoke(app, ["user", "enrol"], input=typed)
    assert result.exit_code == 0, result.output
    assert "admin enrolled" in result.stdout and "otpauth://totp/contactgroup:admin" in result.stdout
    assert code not in result.output and PASSWORD not in result.output
    again = CliRunner().invoke(app, ["user", "enrol"], input=f"{code}\n{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code == 4 and "unknown, used or expired" in again.output


def test_sign_in_failed_is_one_error(world: World) -> None:
    with pytest.raises(SignInFailed):
        accounts.sign_in(world.db, world.db.state(), accounts.Attempt("deu", PASSWORD, "", "x"),
                         now=world.clock.now())
