"""`contactgroup token`: API tokens for scripts and the CLI against a server — issue, list, revoke."""

from __future__ import annotations

from typing import Annotated

import typer

from contactgroup.cli.common import AsOption, DbOption, Format, FormatOption, caller, database, emit, handles_errors
from contactgroup.services import tokens
from contactgroup.services.clock import SystemClock
from contactgroup.services.tokens import DEFAULT_DAYS, MAX_DAYS, Scope

app = typer.Typer(help="API tokens: for scripts and the CLI against a server (shown once, kept only as hashes).",
                  no_args_is_help=True)

OfOption = Annotated[str | None, typer.Option("--of", help="Another user's tokens (whoever may manage that "
                                                          "user: the coordinator, or its member's desk officers).")]


@app.command("issue")
@handles_errors
def issue(
    scope: Annotated[Scope, typer.Option(help="read: every read you may make; write: and every change.")] = (
        Scope.READ),
    days: Annotated[int, typer.Option(min=1, max=MAX_DAYS, help="Days until it expires.")] = DEFAULT_DAYS,
    label: Annotated[str, typer.Option(help="What it is for (shown in lists).")] = "",
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Issue a token for yourself and print it once: keep it like a password (a server keeps only its hash)."""
    who = caller(as_)
    db_ = database(db)
    issued = tokens.issue(db_, db_.state(), who.user, now=SystemClock().now(), scope=scope, days=days, label=label)
    typer.echo(issued.token)
    typer.echo(f"token {issued.row.id} for {who.user} ({scope.value}) expires {issued.row.expires_at:%Y-%m-%d %H:%M} "
               "UTC; it is shown only now", err=True)


@app.command("list")
@handles_errors
def list_(of: OfOption = None, db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List your tokens (or another user's), live and ended; never their secrets."""
    who = caller(as_)
    db_ = database(db)
    now = SystemClock().now()
    rows = [{"id": t.id, "user": t.user_name, "scope": t.scope, "label": t.label,
             "created": t.created_at.isoformat(timespec="seconds"),
             "expires": t.expires_at.isoformat(timespec="seconds"),
             "state": "revoked" if t.revoked_at else ("expired" if t.expires_at <= now else "live")}
            for t in tokens.tokens(db_, db_.state(), who.user, of)]
    emit(rows, fmt, title="Tokens")


@app.command("revoke")
@handles_errors
def revoke(
    token_id: Annotated[str | None, typer.Argument(help="The token's id (see `token list`).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Revoke every live token.")] = False,
    of: OfOption = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Revoke one token, or all of them with --all: refused from the next request on."""
    if (token_id is None) == (not all_):
        raise typer.BadParameter("name one token id, or pass --all (not both)")
    who = caller(as_)
    db_ = database(db)
    count = tokens.revoke(db_, db_.state(), who.user, token_id, of=of, now=SystemClock().now())
    typer.echo(f"token {token_id} revoked" if token_id else f"{count} tokens revoked")
