"""The command line signed in to a server: login keeps a token (0600), whoami asks the server, logout revokes it;
with CONTACTGROUP_SERVER set, --as and --db are refused and commands local by nature say so."""

from __future__ import annotations

import dataclasses
import json
import re
import stat
from pathlib import Path

import httpx
import pyotp
import pytest
from typer.testing import CliRunner

from contactgroup.cli import login as login_cli
from contactgroup.cli import remote
from contactgroup.cli.main import app
from contactgroup.domain.errors import Conflict, Forbidden, ValidationFailed
from contactgroup.services import accounts, cli_login, tokens
from contactgroup.services.clock import SystemClock
from contactgroup.services.coordination import Caller
from contactgroup.storage.database import Database
from tests.api.conftest import PASSWORD, enrolled
from tests.factories import World
from tests.ledger_integration.conftest import serving


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv(remote.CONFIG_ENV, str(folder))
    monkeypatch.delenv(remote.SERVER_ENV, raising=False)
    monkeypatch.delenv("CONTACTGROUP_USER", raising=False)
    monkeypatch.delenv("CONTACTGROUP_DB", raising=False)
    return folder


def test_login_whoami_logout_against_a_real_server(world: World, config: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    now = SystemClock().now()  # the server checks expiry on its own clock
    token = tokens.issue(world.db, world.db.state(), "deu", now=now, scope=tokens.Scope.WRITE).token
    with serving(world.db.url, None) as url:
        signed = runner.invoke(app, ["login", "--server", url, "--token-stdin"], input=token + "\n")
        assert signed.exit_code == 0, signed.output
        assert f"signed in to {url} as deu" in signed.stdout
        kept = config / "credentials.json"
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(config.stat().st_mode) == 0o700

        monkeypatch.setenv(remote.SERVER_ENV, url)
        me = runner.invoke(app, ["whoami"])
        assert me.exit_code == 0 and me.stdout.startswith(f"deu (desk_officer for DEU) at {url}")
        as_someone = runner.invoke(app, ["offer", "list", "--as", "admin"])
        assert as_someone.exit_code == 2 and "you are who you signed in as" in as_someone.output
        with_db = runner.invoke(app, ["user", "list", "--db", world.db.url])
        assert with_db.exit_code == 2 and "the server holds the database" in with_db.output
        # the server has signed no checkpoint (no log key): refused as locally, without the local hint to sign
        # one, which is the server operator's to act on
        unsigned = runner.invoke(app, ["publish", "release-1"])
        assert unsigned.exit_code == 3 and "no signed checkpoint yet" in unsigned.output, unsigned.output
        assert "ledger checkpoint" not in unsigned.output

        issued = runner.invoke(app, ["token", "issue", "--label", "a script"])
        assert issued.exit_code == 0 and "for deu (read)" in issued.output, issued.output
        listed = runner.invoke(app, ["token", "list", "--format", "json"])
        mine = {t["label"]: t for t in json.loads(listed.stdout)}
        assert mine["a script"]["state"] == "live" and mine["a script"]["user"] == "deu"
        revoked = runner.invoke(app, ["token", "revoke", mine["a script"]["id"]])
        assert revoked.exit_code == 0, revoked.output
        assert json.loads(runner.invoke(app, ["token", "list", "--format", "json"]).stdout)[-1]["state"] == "revoked"
        other = runner.invoke(app, ["token", "list", "--of", "fra"])
        assert other.exit_code == 2 and "acts on your own tokens" in other.output

        with world.db.transaction() as uow:  # the server checks the code's expiry on its own clock
            code = accounts.reset_user(uow, Caller("admin", SystemClock()), "analyst").code
        enrolled_there = runner.invoke(app, ["user", "enrol"], input=f"{code}\n{PASSWORD}\n{PASSWORD}\n")
        assert enrolled_there.exit_code == 0, enrolled_there.output
        assert "analyst enrolled: this role signs in with its password alone" in enrolled_there.output
        spent = runner.invoke(app, ["user", "enrol"], input=f"{code}\n{PASSWORD}\n{PASSWORD}\n")
        assert spent.exit_code == 2, spent.output

        out = runner.invoke(app, ["logout"])
        assert out.exit_code == 0, out.output
        gone = runner.invoke(app, ["whoami"])
        assert gone.exit_code == 4 and "contactgroup login" in gone.output
        with pytest.raises(Exception, match="not signed in"):  # the token itself is revoked on the server
            tokens.authenticate(world.db, world.db.state(), token, now)


def test_a_bad_token_saves_nothing(world: World, config: Path) -> None:
    with serving(world.db.url, None) as url:
        refused = CliRunner().invoke(app, ["login", "--server", url, "--token-stdin"], input="cg_nope_nope\n")
    assert refused.exit_code == 4 and "not signed in" in refused.output
    assert not (config / "credentials.json").exists()


@pytest.mark.parametrize(("url", "why"), [
    ("http://cell.example.org", "use https"),
    ("ftp://cell.example.org", "not a server address"),
    ("https://u:p@cell.example.org", "no user, password"),
    ("https://cell.example.org/?x=1", "no user, password, query"),
    ("cell.example.org", "not a server address"),
])
def test_server_addresses_that_would_leak_a_token_are_refused(url: str, why: str) -> None:
    with pytest.raises(ValidationFailed, match=why):
        remote.server_url(url)


def test_plain_http_is_for_this_machine_only() -> None:
    assert remote.server_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert remote.server_url("http://localhost:8000/cell") == "http://localhost:8000/cell"
    assert remote.server_url("https://cell.example.org:8443") == "https://cell.example.org:8443"


def test_local_commands_stay_local_with_a_server_named(founded_db: Database, config: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(remote.SERVER_ENV, "https://cell.example.org")
    checked = CliRunner().invoke(app, ["verify", "--db", founded_db.url])
    assert checked.exit_code == 0, checked.output
    assert "works on a local database by nature, not on https://cell.example.org" in checked.output


def test_login_with_password_and_one_time_code(world: World, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = enrolled(world, "deu")
    assert secret is not None
    runner = CliRunner()
    with serving(world.db.url, None) as url:
        wrong = runner.invoke(app, ["login", "--server", url], input=f"deu\nnot the password\n{'0' * 6}\n")
        assert wrong.exit_code == 4 and not (config / "credentials.json").exists()
        typed = f"deu\n{PASSWORD}\n{pyotp.TOTP(secret).now()}\n"  # the server's clock is the real one
        signed = runner.invoke(app, ["login", "--server", url, "--scope", "read"], input=typed)
        assert signed.exit_code == 0, signed.output
        assert "as deu (desk_officer for DEU, read token" in signed.stdout
        assert PASSWORD not in (config / "credentials.json").read_text()
        monkeypatch.setenv(remote.SERVER_ENV, url)
        assert runner.invoke(app, ["whoami"]).stdout.startswith("deu (desk_officer for DEU)")


def test_a_passkey_user_signs_the_command_line_in_through_a_browser(world: World, config: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`login --browser`: the terminal shows a code, the user confirms it on the server's page in a browser signed
    in there (here a session of the API, as a browser holds it), and the command line receives its token."""
    secret = enrolled(world, "deu")
    assert secret is not None
    shown: list[str] = []
    real = cli_login.code_of
    monkeypatch.setattr(cli_login, "code_of", lambda s: shown.append(real(s)) or shown[-1])
    with serving(world.db.url, None) as url, httpx.Client(base_url=url) as browser:
        signed = browser.post("/api/v1/sign-in", json={"name": "deu", "password": PASSWORD,
                                                       "totp": pyotp.TOTP(secret).now()})
        assert signed.status_code == 200, signed.text
        confirmed: list[str] = []

        def confirm_in_the_browser(_: float) -> None:  # the command line waits: the user confirms meanwhile
            page = browser.get("/cli-login", params={"code": shown[0]})
            assert page.status_code == 200 and "deu" in page.text and shown[0] in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            forged = browser.post("/cli-login", data={"code": shown[0], "csrf": "not-the-token"})
            assert forged.status_code == 403 and "Not confirmed" in forged.text
            done = browser.post("/cli-login", data={"code": shown[0], "csrf": csrf.group(1)})
            assert done.status_code == 200 and "Confirmed" in done.text
            confirmed.append(shown[0])

        monkeypatch.setattr(login_cli, "_pause", confirm_in_the_browser)
        result = CliRunner().invoke(app, ["login", "--server", url, "--browser", "--scope", "read"])
        assert result.exit_code == 0, result.output
        assert confirmed and f"/cli-login?code={shown[0]}" in result.output
        assert "as deu (desk_officer for DEU, read token" in result.stdout
        assert remote.saved()[url].user == "deu"

        again = httpx.post(f"{url}/api/v1/cli-logins/token", json={"secret": "x" * 43})
        assert again.status_code == 409, "a code nobody confirmed gives nothing"
        anonymous = httpx.get(f"{url}/cli-login", params={"code": shown[0]})
        assert anonymous.status_code == 401 and "Sign in first" in anonymous.text
    kinds = [e.kind for e in accounts.security_log(world.db, world.db.state(), "deu", user="deu")]
    assert "cli-login-confirmed" in kinds and "token-issued" in kinds


def test_only_a_browser_session_confirms_a_command_lines_code(world: World) -> None:
    now = world.clock.now()
    token = tokens.authenticate(world.db, world.db.state(), tokens.issue(
        world.db, world.db.state(), "deu", now=now, scope=tokens.Scope.WRITE).token, now)
    with pytest.raises(Forbidden, match="signed-in browser"):
        cli_login.confirm(world.db, world.db.state(), token, cli_login.code_of("s" * 43), now=now, source="test")
    session = dataclasses.replace(token, session=True)
    with pytest.raises(ValidationFailed, match="not a sign-in code"):
        cli_login.confirm(world.db, world.db.state(), session, "<script>", now=now, source="test")
    cli_login.confirm(world.db, world.db.state(), session, cli_login.code_of("s" * 43), now=now, source="test")
    issued = cli_login.redeem(world.db, world.db.state(), "s" * 43, now=now, scope=tokens.Scope.READ, label="",
                              source="test")
    assert issued.row.user_name == "deu"
    with pytest.raises(Conflict, match="not confirmed"):  # spent once
        cli_login.redeem(world.db, world.db.state(), "s" * 43, now=now, scope=tokens.Scope.READ, label="",
                         source="test")
    cli_login.confirm(world.db, world.db.state(), session, cli_login.code_of("t" * 43), now=now, source="test")
    with pytest.raises(Conflict):  # ten minutes on, the confirmation is gone
        cli_login.redeem(world.db, world.db.state(), "t" * 43, now=now + cli_login.CONFIRM_VALID,
                         scope=tokens.Scope.READ, label="", source="test")
