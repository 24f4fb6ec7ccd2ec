"""`contactgroup login`, `logout`, `whoami`: sign the command line in to a cell's server (see `cli/remote.py`)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from contactgroup.cli import remote
from contactgroup.cli.common import fail, handles_errors
from contactgroup.domain.errors import ContactGroupError
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
    scope: Annotated[Scope, typer.Option(help="read: this machine may only read; write: and change.")] = Scope.WRITE,
) -> None:
    """Sign in to a cell's server; the token is kept in your config directory, readable by you only. Then set
    CONTACTGROUP_SERVER to that address and commands run against the server as you."""
    base = _named(server)
    cert = str(ca_cert.resolve()) if ca_cert else None
    if token_stdin:
        token = sys.stdin.readline().strip()
    else:
        name = typer.prompt("user")
        password = typer.prompt("password", hide_input=True)
        code = typer.prompt("one-time code from your authenticator app (Enter if your role has none)",
                            default="", show_default=False)
        answer = remote.Client(base, ca_cert=cert).request("POST", "/api/v1/sign-in", json={
            "name": name, "password": password, "totp": code,
            "token": {"scope": scope.value, "label": f"cli on {socket.gethostname()}"[:200]}})
        token = str(answer["token"])
    me = remote.Client(base, token, cert).request("GET", "/api/v1/me")
    remote.save(remote.Login(base, me["name"], token, me["token"], cert))
    typer.echo(f"signed in to {base} as {me['name']} ({me['role']} for {me['party']}, {me['scope']} token "
               f"{me['token']}); now: export {remote.SERVER_ENV}={base}")


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
