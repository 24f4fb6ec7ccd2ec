"""API tokens: issued once, kept as hashes, scoped, expiring, revocable; every refusal says the same."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.domain.errors import Forbidden, NotFound, NotSignedIn, ValidationFailed
from contactgroup.services import coordination as svc
from contactgroup.services import tokens
from contactgroup.storage import schema
from tests.api.conftest import bearer
from tests.factories import World


def test_a_token_signs_its_user_in_and_only_its_hash_is_kept(world: World, client: TestClient) -> None:
    issued = tokens.issue(world.db, world.db.state(), "deu", now=world.clock.now(), scope=tokens.Scope.READ,
                          label="nightly export")
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.token}"})
    assert answer.status_code == 200
    assert answer.json() == {"name": "deu", "party": "DEU", "role": "desk_officer", "scope": "read",
                             "token": issued.row.id, "synthetic": False}
    with world.db.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(sa.select(schema.api_tokens))]
        logged = [r.detail for r in conn.execute(sa.select(schema.security_log))]
    assert issued.token not in repr(stored) and issued.token.split("_", 2)[2] not in repr(stored)
    assert logged == [f"token {issued.row.id} (read, 30 days): nightly export"]


@pytest.mark.parametrize("how", ["missing", "not bearer", "unknown", "malformed", "expired", "revoked", "disabled"])
def test_every_bad_credential_gets_the_same_401(world: World, client: TestClient, how: str) -> None:
    issued = tokens.issue(world.db, world.db.state(), "deu", now=world.clock.now(), days=1)
    header = f"Bearer {issued.token}"
    if how == "missing":
        header = ""
    elif how == "not bearer":
        header = f"Basic {issued.token}"
    elif how == "unknown":
        header = f"Bearer {issued.token[:-4]}AAAA"
    elif how == "malformed":
        header = "Bearer x" * 100
    elif how == "expired":
        world.clock.at += timedelta(days=1, seconds=1)
    elif how == "revoked":
        tokens.revoke(world.db, world.db.state(), "deu", issued.row.id, now=world.clock.now())
    elif how == "disabled":
        world.do(svc.disable_user, "admin", "deu")
    answer = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == str(NotSignedIn())
    assert issued.token not in answer.text


def test_a_read_token_may_not_write(world: World) -> None:
    signed = tokens.authenticate(world.db, world.db.state(), tokens.issue(
        world.db, world.db.state(), "deu", now=world.clock.now()).token, world.clock.now())
    assert signed.scope is tokens.Scope.READ
    with pytest.raises(Forbidden, match="may only read"):
        tokens.require_write(signed)
    tokens.require_write(tokens.authenticate(world.db, world.db.state(), bearer(world, "deu")["Authorization"][7:],
                                             world.clock.now()))


def test_revoking_names_only_ones_own_or_managed_tokens(world: World) -> None:
    state = world.db.state()
    mine = tokens.issue(world.db, state, "deu", now=world.clock.now())
    theirs = tokens.issue(world.db, state, "fra", now=world.clock.now())
    with pytest.raises(NotFound, match="deu has no live token"):  # fra's token is not deu's to end
        tokens.revoke(world.db, state, "deu", theirs.row.id, now=world.clock.now())
    with pytest.raises(Forbidden):  # a desk officer manages only its own member's users
        tokens.revoke(world.db, state, "deu", None, of="fra", now=world.clock.now())
    assert tokens.revoke(world.db, state, "admin", None, of="fra", now=world.clock.now()) == 1
    assert tokens.revoke(world.db, state, "deu", mine.row.id, now=world.clock.now()) == 1
    with pytest.raises(NotFound):  # already ended
        tokens.revoke(world.db, state, "deu", mine.row.id, now=world.clock.now())
    assert [t.revoked_at is not None for t in tokens.tokens(world.db, state, "admin", "fra")] == [True]


@pytest.mark.parametrize(("days", "label"), [(0, ""), (367, ""), (30, "x" * 201)])
def test_bad_token_requests_are_refused_and_write_nothing(world: World, days: int, label: str) -> None:
    with pytest.raises(ValidationFailed):
        tokens.issue(world.db, world.db.state(), "deu", now=world.clock.now(), days=days, label=label)
    assert tokens.tokens(world.db, world.db.state(), "deu") == []


def test_the_cli_issues_lists_and_revokes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTGROUP_DB", world.db.url)
    runner = CliRunner()
    issued = runner.invoke(app, ["token", "issue", "--as", "deu", "--scope", "write", "--label", "laptop"])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token.startswith("cg_") and "shown only now" in issued.stderr
    listed = json.loads(runner.invoke(app, ["token", "list", "--as", "deu", "--format", "json"]).stdout)
    assert [(t["scope"], t["label"], t["state"]) for t in listed] == [("write", "laptop", "live")]
    assert token not in json.dumps(listed)
    revoked = runner.invoke(app, ["token", "revoke", listed[0]["id"], "--as", "deu"])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    both = runner.invoke(app, ["token", "revoke", listed[0]["id"], "--all", "--as", "deu"])
    assert both.exit_code == 2
    unknown = runner.invoke(app, ["token", "revoke", "abc", "--as", "deu"])
    assert unknown.exit_code == 3 and "no live token abc" in unknown.output


def test_revoking_every_token_over_http_is_one_transaction_that_ends_the_one_in_use(world: World,
                                                                                     client: TestClient) -> None:
    state = world.db.state()
    used = tokens.issue(world.db, state, "deu", now=world.clock.now(), scope=tokens.Scope.WRITE)
    spare = tokens.issue(world.db, state, "deu", now=world.clock.now(), label="laptop")
    gone = tokens.issue(world.db, state, "deu", now=world.clock.now())
    tokens.revoke(world.db, state, "deu", gone.row.id, now=world.clock.now())
    theirs = tokens.issue(world.db, state, "fra", now=world.clock.now())
    reader = tokens.issue(world.db, state, "deu", now=world.clock.now(), scope=tokens.Scope.READ)
    signed = {"Authorization": f"Bearer {used.token}"}

    refused = client.delete("/api/v1/tokens", headers={"Authorization": f"Bearer {reader.token}"},
                            params={"all": "true"})
    assert refused.status_code == 403 and refused.json()["code"] == "read-only-token"
    not_meant = client.delete("/api/v1/tokens", headers=signed, params={"all": "false"})
    assert not_meant.status_code == 400 and not_meant.json()["errors"][0]["where"] == "all"
    assert [t.revoked_at for t in tokens.tokens(world.db, state, "deu")].count(None) == 3, "nothing revoked yet"

    answer = client.delete("/api/v1/tokens", headers=signed, params={"all": "true"})
    assert answer.status_code == 200 and answer.json() == {"revoked": 3}  # used, spare, reader; not the ended one
    assert [t.revoked_at is not None for t in tokens.tokens(world.db, state, "deu")] == [True] * 4
    assert client.get("/api/v1/me", headers=signed).status_code == 401, "the token in use ended with the others"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {spare.token}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {theirs.token}"}).status_code == 200
    with world.db.engine.connect() as conn:
        logged = [r.detail for r in conn.execute(sa.select(schema.security_log)) if r.kind == "token-revoked"]
    assert logged == [f"token {gone.row.id} revoked", "3 tokens revoked"]
