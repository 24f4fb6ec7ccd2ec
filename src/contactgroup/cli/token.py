"""`contactgroup token`: API tokens for scripts and the CLI against a server — issue, list, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import typer

from contactgroup.cli import remote, seam
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
    def here() -> tuple[str, str, datetime]:
        db_ = database(db)
        issued = tokens.issue(db_, db_.state(), caller(as_).user, now=SystemClock().now(), scope=scope, days=days,
                              label=label)
        return issued.token, issued.row.id, issued.row.expires_at

    token, ident, expires = seam.either(db, as_, here, seam.Remote(
        "POST", "/api/v1/tokens", lambda t: (str(t["token"]), str(t["id"]), datetime.fromisoformat(t["expires_at"])),
        json={"scope": scope.value, "days": days, "label": label}))
    typer.echo(token)
    typer.echo(f"token {ident} for {seam.user_name(as_)} ({scope.value}) expires {expires:%Y-%m-%d %H:%M} "
               "UTC; it is shown only now", err=True)


@app.command("list")
@handles_errors
def list_(of: OfOption = None, db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List your tokens (or another user's), live and ended; never their secrets."""
    _own_only(of, "list")

    def here() -> list[Listed]:
        db_ = database(db)
        return [Listed(t.id, t.user_name, t.scope, t.label, t.created_at, t.expires_at, t.revoked_at)
                for t in tokens.tokens(db_, db_.state(), caller(as_).user, of)]

    def served(answer: Any) -> list[Listed]:
        user = seam.user_name(None)
        return [Listed(t["id"], user, t["scope"], t["label"], datetime.fromisoformat(t["created_at"]),
                       datetime.fromisoformat(t["expires_at"]),
                       datetime.fromisoformat(t["revoked_at"]) if t["revoked_at"] else None) for t in answer]

    now = SystemClock().now()
    rows = [{"id": t.id, "user": t.user, "scope": t.scope, "label": t.label,
             "created": t.created_at.isoformat(timespec="seconds"),
             "expires": t.expires_at.isoformat(timespec="seconds"),
             "state": "revoked" if t.revoked_at else ("expired" if t.expires_at <= now else "live")}
            for t in seam.either(db, as_, here, seam.Remote("GET", "/api/v1/tokens", served))]
    emit(rows, fmt, title="Tokens")


@dataclass(frozen=True, slots=True)
class Listed:
    id: str
    user: str
    scope: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def _own_only(of: str | None, what: str) -> None:
    """Against a server, one's own tokens only (the server's token routes act on the signed-in user's)."""
    if of is not None and seam.against_server():
        raise typer.BadParameter(f"--of: against a server, `token {what}` acts on your own tokens; another user's "
                                 "tokens end with `user reset` or `user disable`")


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
    _own_only(of, "revoke")

    def here() -> int:
        db_ = database(db)
        return tokens.revoke(db_, db_.state(), caller(as_).user, token_id, of=of, now=SystemClock().now())

    one = seam.Remote("DELETE", f"/api/v1/tokens/{quote(token_id or '', safe='')}", lambda _: 1)
    every = seam.Remote("DELETE", "/api/v1/tokens", lambda answer: int(answer["revoked"]), params={"all": "true"})
    count = seam.either(db, as_, here, one if token_id is not None else every)
    typer.echo(f"token {token_id} revoked" if token_id else f"{count} tokens revoked")
    if token_id is None and (where := remote.server()) is not None:  # the token this command line used ended too
        remote.forget(where)
        typer.echo(f"signed out of {where}: sign in again with `contactgroup login`", err=True)
