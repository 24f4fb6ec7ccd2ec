"""`contactgroup login`, `logout`, `whoami`: sign the command line in to a cell's server (see `cli/remote.py`)."""

from __future__ import annotations

import secrets
import socket
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from contactgroup.cli import remote
from contactgroup.cli.common import fail, handles_errors
from contactgroup.domain.errors import Conflict, ContactGroupError
from contactgroup.services import cli_login
from contactgroup.services.tokens import Scope

ServerOption = Annotated[str | None, typer.Option(
    "--server", envvar=remote.SERVER_ENV, show_envvar=True,
    help="The server's address, https://HOST[:PORT] (plain http only on this machine).")]


def _named(server: str | None) -> str:
    if not server:
        raise fail("name the server: --server https://HOST or set CONTACTGROUP_SERVER", 2)
    return remote.server_url(server)


@handles_errors
def login(
    server: ServerOption = None,
    ca_cert: Annotated[Path | None, typer.Option(
        "--ca-cert", exists=True, dir_okay=False, readable=True,
        help="The CA certificate (PEM) that signed the server's certificate, e.g. a national CA.")] = None,
    token_stdin: Annotated[bool, typer.Option(
        "--token-stdin", help="Read a token issued for you (`token issue`, or the web pages) from standard input "
                              "instead of signing in with a password.")] = False,
    browser: Annotated[bool, typer.Option(
        "--browser", help="Confirm the sign-in in a browser signed in to the server (with a passkey, which a "
                          "terminal cannot use): a code and a page's address are shown, and the command waits.")]
    = False,
    scope: Annotated[Scope, typer.Option(help="read: this machine may only read; write: and change.")] = Scope.WRITE,
) -> None:
    """Sign in to a cell's server; the token is kept in your config directory, readable by you only. Then set
    CONTACTGROUP_SERVER to that address and commands run against the server as you."""
    base = _named(server)
    cert = str(ca_cert.resolve()) if ca_cert else None
    if token_stdin and browser:
        raise fail("--token-stdin or --browser: one way of signing in, not both", 2)
    if token_stdin:
        token = sys.stdin.readline().strip()
    elif browser:
        token = _through_browser(remote.Client(base, ca_cert=cert), scope)
    else:
        name = typer.prompt("user")
        password = typer.prompt("password", hide_input=True)
        code = typer.prompt("one-time code from your authenticator app (Enter if your role has none)",
                            default="", show_default=False)
        answer = remote.Client(base, ca_cert=cert).request("POST", "/api/v1/sign-in", json={
            "name": name, "password": password, "totp": code,
            "token": {"scope": scope.value, "label": _label()}})
        token = str(answer["token"])
    me = remote.Client(base, token, cert).request("GET", "/api/v1/me")
    remote.save(remote.Login(base, me["name"], token, me["token"], cert))
    typer.echo(f"signed in to {base} as {me['name']} ({me['role']} for {me['party']}, {me['scope']} token "
               f"{me['token']}); now: export {remote.SERVER_ENV}={base}")


POLL_SECONDS = 2.0
_pause = time.sleep  # between two asks of the server whether the code is confirmed


def _through_browser(client: remote.Client, scope: Scope) -> str:
    """Show a code and the page where a signed-in user confirms it, then ask the server every few seconds for the
    token it then issues. The secret the code comes from never leaves this process until it is traded."""
    secret = secrets.token_urlsafe(32)
    code = cli_login.code_of(secret)
    typer.echo(f"open {client.base}{cli_login.PAGE}?code={code}\nin a browser signed in to that server, check that it "
               f"shows {code}, and confirm; waiting (at most ten minutes, Ctrl-C to give up)...", err=True)
    deadline = time.monotonic() + cli_login.CONFIRM_VALID.total_seconds()
    while True:
        try:
            answer = client.request("POST", "/api/v1/cli-logins/token", json={
                "secret": secret, "scope": scope.value, "label": _label()})
            return str(answer["token"])
        except Conflict:
            if time.monotonic() > deadline:
                raise fail("the code was not confirmed within ten minutes: run `contactgroup login --browser` "
                           "again", 4) from None
            _pause(POLL_SECONDS)


def _label() -> str:
    return f"cli on {socket.gethostname()}"[:200]


@handles_errors
def logout(server: ServerOption = None) -> None:
    """Revoke this machine's token on the server and forget it here."""
    base = _named(server)
    login = remote.forget(base)
    if login is None:
        raise fail(f"not signed in to {base}", 2)
    try:
        remote.Client(base, login.token, login.ca_cert).request("DELETE", f"/api/v1/tokens/{login.token_id}")
    except ContactGroupError as exc:
        raise fail(f"forgotten here, but the server did not revoke token {login.token_id}: {exc} (it expires by "
                   "itself; revoke it from another session with `token revoke`)") from None
    typer.echo(f"signed out of {base}: token {login.token_id} revoked")


@handles_errors
def whoami() -> None:
    """Who your commands act as: the signed-in user on CONTACTGROUP_SERVER, or --as on a local database."""
    base = remote.server()
    if base is None:
        typer.echo("no server: commands act on a local database as --as / CONTACTGROUP_USER says")
        return
    me = remote.Client.signed_in(base).request("GET", "/api/v1/me")
    typer.echo(f"{me['name']} ({me['role']} for {me['party']}) at {base}, {me['scope']} token {me['token']}")
