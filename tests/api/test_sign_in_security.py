"""Sign-in under attack: the back-off, no user enumeration (same answer, similar time), CSRF, credentials that end
at the next request, and no secret or hash in any log line or error body."""

from __future__ import annotations

import logging
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import given
from hypothesis import strategies as st

from contactgroup.domain.errors import SignInFailed, TooManyAttempts
from contactgroup.services import accounts, tokens
from contactgroup.storage import schema
from tests.api.conftest import PASSWORD, enrolled, totp_code
from tests.factories import World

WRONG = "not the password at all"


def attempt(client: TestClient, name: str, password: str = WRONG, totp: str = "") -> Response:
    return client.post("/api/v1/sign-in", json={"name": name, "password": password, "totp": totp})


class TestBackOff:
    def test_429_after_five_failures_then_the_right_password_gets_in_once_the_delay_is_over(
            self, world: World, client: TestClient) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        assert [attempt(client, "deu").status_code for _ in range(5)] == [401] * 5
        refused = attempt(client, "deu", PASSWORD, totp_code(world, secret))  # even the right password waits
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert refused.json()["detail"] == "too many failed sign-ins: try again in 1 seconds"
        world.clock.at += timedelta(seconds=1)
        assert attempt(client, "deu").status_code == 401  # a sixth failure: the delay doubles
        assert attempt(client, "deu").headers["retry-after"] == "2"
        world.clock.at += timedelta(seconds=2)
        assert attempt(client, "deu", PASSWORD, totp_code(world, secret)).status_code == 200

    def test_the_delay_grows_to_a_cap_and_never_locks_the_account_for_good(self, world: World,
                                                                            client: TestClient) -> None:
        waits = []
        for _ in range(20):
            answer = attempt(client, "deu")
            while answer.status_code == 429:
                waits.append(int(answer.headers["retry-after"]))
                world.clock.at += timedelta(seconds=waits[-1])
                answer = attempt(client, "deu")
            assert answer.status_code == 401
        assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300, 300, 300]

    def test_failures_from_one_address_slow_down_every_name_it_tries(self, world: World,
                                                                     client: TestClient) -> None:
        assert [attempt(client, name).status_code for name in ("deu", "fra", "usa", "x", "y")] == [401] * 5
        assert attempt(client, "ukr").status_code == 429  # a name this address has not tried yet
        elsewhere = accounts.Attempt("ukr", WRONG, "", "192.0.2.7")
        with pytest.raises(SignInFailed):  # another address is not held back by this one's failures
            accounts.sign_in(world.db, world.db.state(), elsewhere, now=world.clock.now())

    def test_attempts_sent_at_once_get_no_more_than_five_verdicts(self, world: World) -> None:
        enrolled(world, "deu")
        state = world.db.state()

        def one(_: int) -> str:
            try:
                accounts.sign_in(world.db, state, accounts.Attempt("deu", WRONG, "", "198.51.100.1"),
                                 now=world.clock.now())
            except (SignInFailed, TooManyAttempts) as refused:
                return type(refused).__name__
            return "signed in"

        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = sorted(pool.map(one, range(12)))
        assert outcomes == ["SignInFailed"] * 5 + ["TooManyAttempts"] * 7

    def test_an_hour_of_quiet_forgets_the_failures(self, world: World, client: TestClient) -> None:
        for _ in range(8):
            attempt(client, "deu")
            world.clock.at += timedelta(seconds=40)
        world.clock.at += accounts.FORGET_FAILURES + timedelta(seconds=1)
        assert [attempt(client, "deu").status_code for _ in range(5)] == [401] * 5


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=4000))
def test_the_wait_is_capped_and_never_grows_with_time(count: int, seconds: int) -> None:
    last = datetime(2024, 7, 1, tzinfo=UTC)
    now = last + timedelta(seconds=seconds)
    wait = accounts.retry_after([(count, last)], now)
    assert 0 <= wait <= accounts.MAX_DELAY
    assert accounts.retry_after([(count, last)], now + timedelta(seconds=1)) <= wait
    assert (wait == 0) if count < accounts.FREE_FAILURES else True
    assert accounts.retry_after([(count, last)], last + timedelta(seconds=accounts.MAX_DELAY)) == 0


class TestNoEnumeration:
    def test_an_unknown_name_and_a_wrong_password_get_the_same_answer_in_similar_time(
            self, world: World, client: TestClient) -> None:
        enrolled(world, "deu")
        times: dict[str, list[float]] = {"unknown": [], "wrong": []}
        answers: dict[str, set[tuple[int, str, str]]] = {"unknown": set(), "wrong": set()}
        for i in range(15):
            for kind, name in (("unknown", f"nobody-{i}"), ("wrong", "deu")):
                world.clock.at += timedelta(seconds=accounts.MAX_DELAY + 1)  # past any back-off
                start = time.perf_counter()
                answer = attempt(client, name)
                times[kind].append(time.perf_counter() - start)
                answers[kind].add((answer.status_code, answer.text, answer.headers["www-authenticate"]))
        assert answers["unknown"] == answers["wrong"] and len(answers["wrong"]) == 1
        assert next(iter(answers["wrong"]))[0] == 401
        ratio = statistics.median(times["unknown"]) / statistics.median(times["wrong"])
        print(f"median unknown / median wrong password: {ratio:.3f}")
        assert 1 / 1.5 <= ratio <= 1.5

    def test_a_name_that_is_no_account_is_throttled_like_one_that_is(self, world: World,
                                                                     client: TestClient) -> None:
        for name in ("deu", "nobody"):
            world.clock.at += timedelta(hours=2)
            statuses = [attempt(client, name).status_code for _ in range(6)]
            assert statuses == [401] * 5 + [429]


class TestCsrf:
    def test_a_change_with_a_session_cookie_needs_the_sessions_csrf_token(self, world: World,
                                                                          client: TestClient) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        other = TestClient(client.app)
        fra_secret = enrolled(world, "fra")
        assert fra_secret is not None
        others_csrf = attempt(other, "fra", PASSWORD, totp_code(world, fra_secret)).json()["csrf_token"]
        csrf = attempt(client, "deu", PASSWORD, totp_code(world, secret)).json()["csrf_token"]
        assert client.cookies["cg_csrf"] == csrf
        for header in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": others_csrf}):
            refused = client.post("/api/v1/tokens", json={"scope": "read"}, headers=header)
            assert refused.status_code == 403 and "CSRF token" in refused.json()["detail"]
        assert client.get("/api/v1/tokens").json() == []  # nothing was issued; a read needs no token
        assert client.post("/api/v1/tokens", json={"scope": "read"}, headers={"X-CSRF-Token": csrf}
                           ).status_code == 201
        assert client.delete("/api/v1/tokens/abc").status_code == 403  # every state-changing method

    def test_a_bearer_token_needs_no_csrf_token(self, world: World, client: TestClient) -> None:
        issued = tokens.issue(world.db, world.db.state(), "deu", now=world.clock.now(), scope=tokens.Scope.WRITE)
        assert client.post("/api/v1/tokens", json={}, headers={"Authorization": f"Bearer {issued.token}"}
                           ).status_code == 201


class TestEndedCredentials:
    @pytest.mark.parametrize("how", ["disable", "revoke", "reset"])
    def test_refused_at_the_next_request(self, world: World, client: TestClient, how: str) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        token = tokens.issue(world.db, world.db.state(), "deu", now=world.clock.now()).token
        attempt(client, "deu", PASSWORD, totp_code(world, secret))
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/me").status_code == 200
        assert client.get("/api/v1/me", headers=bearer).status_code == 200
        if how == "disable":
            world.do(accounts.disable_user, "admin", "deu")
        elif how == "revoke":
            tokens.revoke(world.db, world.db.state(), "admin", None, of="deu", now=world.clock.now())
        else:
            world.do(accounts.reset_user, "admin", "deu")
        assert client.get("/api/v1/me", headers=bearer).status_code == 401
        assert (client.get("/api/v1/me").status_code == 401) is (how != "revoke")  # revoking ends tokens only


class TestNoSecretsLeak:
    def test_no_password_code_secret_token_or_hash_in_the_log_or_any_error(
            self, world: World, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        code = world.do(accounts.reset_user, "admin", "deu").code
        bodies = [client.post("/api/v1/enrol", json={"code": code, "password": "short"}).text,
                  client.post("/api/v1/enrol", json={"code": code[:-2] + "xx", "password": PASSWORD}).text]
        factor = client.post("/api/v1/enrol", json={"code": code, "password": PASSWORD}).json()
        first = totp_code(world, factor["totp_secret"])
        bodies.append(client.post("/api/v1/enrol/confirm", json={"code": code, "totp": "123456"}).text)
        client.post("/api/v1/enrol/confirm", json={"code": code, "totp": first})
        bodies += [attempt(client, "deu", PASSWORD, first).text,  # a spent code
                   attempt(client, "deu", PASSWORD + "!").text,
                   attempt(client, PASSWORD).text,  # a password typed in the name field
                   client.post("/api/v1/sign-in", json={"name": "deu", "password": "p" * 2000}).text,
                   client.post("/api/v1/sign-in", json={"name": "deu", "password": 12345678901234}).text]
        world.clock.at += timedelta(seconds=30)
        signed = client.post("/api/v1/sign-in", json={"name": "deu", "password": PASSWORD,
                                                      "totp": totp_code(world, factor["totp_secret"]),
                                                      "token": {"scope": "write"}}).json()
        token = signed["token"]
        bodies += [client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"}).text,
                   client.delete("/api/v1/tokens/nope", headers={"Authorization": f"Bearer {token}"}).text]
        client.post("/api/v1/sign-out", headers={"Authorization": f"Bearer {token}"})
        world.clock.at += timedelta(seconds=30)
        csrf = attempt(client, "deu", PASSWORD, totp_code(world, factor["totp_secret"])).json()["csrf_token"]
        cookie = client.cookies["cg_session"]
        bodies += [client.post("/api/v1/tokens", json={"scope": "write"}).text,  # no CSRF token
                   client.post("/api/v1/tokens", json={"scope": "write"}, headers={"X-CSRF-Token": csrf + "x"}).text]
        client.post("/api/v1/sign-out", headers={"X-CSRF-Token": csrf})
        bodies.append(client.get("/api/v1/me").text)  # the ended session
        with world.db.engine.connect() as conn:
            log = repr([tuple(r) for r in conn.execute(sa.select(schema.security_log))])
            hashes = [r[0] for r in conn.execute(sa.select(schema.credentials.c.password_hash))]
            hashes += [r[0].hex() for r in conn.execute(sa.select(schema.api_tokens.c.secret_hash))]
            hashes += [r[0].hex() for r in conn.execute(sa.select(schema.sessions.c.secret_hash))]
        secrets = [PASSWORD, "p" * 100, code, factor["totp_secret"], first, token, token.split("_", 2)[2], cookie,
                   cookie.split("_", 1)[1], csrf, *hashes]
        seen = "\n".join([log, caplog.text, *bodies])
        assert "sign-in failed" in log and "enrolled" in log and "token-revoked" in log and "signed-out" in log
        assert all(s and s not in seen for s in secrets), [s for s in secrets if s in seen]
        assert all(h.startswith("$argon2id$v=19$m=19456,t=2,p=1$") for h in hashes if h.startswith("$"))


class TestHostileInput:
    """Characters a database refuses (NUL on PostgreSQL) or a comparison refuses (non-ASCII) answer like any
    other bad value, never with a server error."""

    def test_odd_characters_in_names_codes_and_ids(self, world: World, client: TestClient) -> None:
        secret = enrolled(world, "deu")
        assert secret is not None
        assert attempt(client, "de\x00u").status_code == 401
        assert attempt(client, "deu", PASSWORD, "é\x00").status_code == 401
        assert client.post("/api/v1/enrol", json={"code": "enrol-\x00é", "password": PASSWORD}).status_code == 400
        issued = tokens.issue(world.db, world.db.state(), "deu", now=world.clock.now(), scope=tokens.Scope.WRITE)
        bearer = {"Authorization": f"Bearer {issued.token}"}
        assert client.get("/api/v1/security-log", params={"user": "de\x00u"}, headers=bearer).json() == []
        assert client.delete("/api/v1/tokens/ab%00cd", headers=bearer).status_code == 404
        assert client.get("/api/v1/me", headers={"Authorization": "Bearer cg_\x01"}).status_code == 401
