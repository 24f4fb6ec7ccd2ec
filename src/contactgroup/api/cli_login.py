"""The command line signed in through the browser (`contactgroup login --browser`), for users whose second factor
is a passkey: `/cli-login?code=...`, a page without script where a user signed in to this server confirms the code
its terminal shows, and `POST /api/v1/cli-logins/token`, where the command line trades its secret for a token once
the code is confirmed (`services/cli_login.py`)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from contactgroup.api.accounts import Now, Source, Store
from contactgroup.api.caller import CSRF_COOKIE, SESSION_COOKIE
from contactgroup.api.problem import problem_responses
from contactgroup.api.routing import Router
from contactgroup.domain.errors import ContactGroupError
from contactgroup.services import accounts, cli_login
from contactgroup.services.tokens import Scope

router = Router(prefix="/api/v1", tags=["accounts"])
page = Router(include_in_schema=False)

_HEADERS = {"Content-Security-Policy": "default-src 'none'; form-action 'self'; base-uri 'none'; "
                                       "frame-ancestors 'none'",
            "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class Redeem(BaseModel):
    secret: Annotated[str, Field(min_length=32, max_length=200, description="the command line's own secret")]
    scope: Scope = Scope.WRITE
    label: Annotated[str, Field(max_length=200)] = ""


class Redeemed(BaseModel):
    user: str
    token: str = Field(description="the API token, shown only now")
    id: str
    scope: Scope
    expires_at: datetime


@router.post("/cli-logins/token", response_model=Redeemed, summary="A command line's token, once its code is "
             "confirmed", responses=problem_responses(400, 409, why={
                 409: "the code is not confirmed yet (or not any more): ask again in a few seconds"}))
def redeem(body: Redeem, store: Store, now: Now, src: Source) -> Redeemed:
    issued = cli_login.redeem(store.db, store.snapshot(), body.secret, now=now, scope=body.scope, label=body.label,
                              source=src)
    return Redeemed(user=issued.row.user_name, token=issued.token, id=issued.row.id, scope=Scope(issued.row.scope),
                    expires_at=issued.row.expires_at)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>contactgroup: '
                        f'{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>',
                        status_code=status, headers=_HEADERS)


@page.get("/cli-login")
def confirm_page(request: Request, store: Store, now: Now, code: str = "") -> HTMLResponse:
    """Who would be signed in, the code, and a button: nothing happens until the user presses it."""
    shown = html.escape(code.strip().upper()[:40])
    try:
        who = accounts.session_caller(store.db, store.snapshot(), request.cookies.get(SESSION_COOKIE, ""), now=now,
                                      csrf=None, changes=False)
    except ContactGroupError:
        return _page("Sign in first", "<p>Sign in to this server in this browser (with your passkey), then open "
                                      "this address again.</p>", 401)
    csrf = html.escape(request.cookies.get(CSRF_COOKIE, ""))
    return _page("Sign in the command line", (
        f"<p>A command line asks to act as <strong>{html.escape(who.user.name)}</strong>. Confirm only if your own "
        f"terminal shows this code now:</p><p><code>{shown}</code></p>"
        f'<form method="post" action="cli-login"><input type="hidden" name="code" value="{shown}">'
        f'<input type="hidden" name="csrf" value="{csrf}"><button type="submit">Confirm</button></form>'))


@page.post("/cli-login")
def confirm(request: Request, store: Store, now: Now, src: Source, code: Annotated[str, Form(max_length=40)],
            csrf: Annotated[str, Form(max_length=200)]) -> HTMLResponse:
    try:
        who = accounts.session_caller(store.db, store.snapshot(), request.cookies.get(SESSION_COOKIE, ""), now=now,
                                      csrf=csrf, changes=True)
        name = cli_login.confirm(store.db, store.snapshot(), who, code, now=now, source=src)
    except ContactGroupError as exc:
        return _page("Not confirmed", f"<p>{html.escape(str(exc))}</p>", exc.status)
    return _page("Confirmed", f"<p>The command line showing {html.escape(code.strip().upper())} is signed in as "
                              f"{html.escape(name)} within a few seconds. You may close this page.</p>")
