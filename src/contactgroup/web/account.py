"""Sign-in, enrolment and one's account in the browser: a password and a second factor (the authenticator app's
code, or a passkey where the server has a public origin), enrolment with the enrolment code and a QR code to scan,
one's API tokens and passkeys, one's security log, and signing out."""

from __future__ import annotations

import json
from typing import Annotated, Any

import segno
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.errors import ContactGroupError, SignInFailed, TooManyAttempts
from contactgroup.services import accounts, passkeys, tokens
from contactgroup.services.tokens import DEFAULT_DAYS, MAX_DAYS, Scope
from contactgroup.services.wording import detail
from contactgroup.web.pages import page_router, redirect, render, status_of
from contactgroup.web.session import Changer, Viewer, safe_then, source

router = page_router()

_SHORT = 200  # a name, a code, a label
_PASSWORD = accounts.PASSWORD_MAX
_PASSKEY = 20_000  # a passkey's answer, as JSON


def _sign_in_page(request: Request, then: str, *, name: str = "", message: str = "", status: int = 200,
                  retry_after: int | None = None) -> HTMLResponse:
    page = render(request, "sign_in.html", status, title="Sign in", then=safe_then(then), name=name,
                  message=message, passkeys=request.app.state.relying_party is not None)
    if retry_after is not None:
        page.headers["Retry-After"] = str(retry_after)
    return page


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, then: str = "/") -> HTMLResponse:
    return _sign_in_page(request, then)


@router.post("/sign-in", response_model=None)
def sign_in(request: Request, name: Annotated[str, Form(max_length=_SHORT)],
            password: Annotated[str, Form(max_length=_PASSWORD)],
            totp: Annotated[str, Form(max_length=10)] = "", passkey: Annotated[str, Form(max_length=_PASSKEY)] = "",
            then: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    store = request.app.state.store
    now = request.app.state.clock.now()
    rp = request.app.state.relying_party
    answer: dict[str, Any] | None = None
    if passkey and rp is not None:
        try:
            answer = json.loads(passkey)
        except ValueError:
            answer = None
    try:
        user = accounts.sign_in(store.db, store.snapshot(),
                                accounts.Attempt(name, password, totp, source(request), answer), now=now, rp=rp)
    except TooManyAttempts as exc:
        return _sign_in_page(request, then, name=name, message=detail(exc), status=429, retry_after=exc.retry_after)
    except SignInFailed as exc:
        return _sign_in_page(request, then, name=name, message=detail(exc), status=401)
    started = accounts.start_session(store.db, user, now=now, source=source(request),
                                     replacing=request.cookies.get(accounts.SESSION_COOKIE))
    done = redirect(request, safe_then(then))
    for cookie in accounts.session_cookies(started, secure=request.url.scheme == "https"):
        done.set_cookie(**cookie)
    return done


@router.post("/sign-out", response_model=None)
def sign_out(request: Request, caller: Changer) -> Response:
    store = request.app.state.store
    accounts.sign_out(store.db, store.snapshot(), caller, now=request.app.state.clock.now(), source=source(request))
    done = redirect(request, "/sign-in")
    done.delete_cookie(accounts.SESSION_COOKIE, path="/")
    done.delete_cookie(accounts.CSRF_COOKIE, path="/")
    return done


# --- enrolment ---------------------------------------------------------------------------------------------------


def qr_svg(text: str) -> str:
    """`text` as a QR code, an SVG drawing to put in the page (no script, no request)."""
    return segno.make(text, error="m").svg_inline(scale=5, dark="#1b1f24", light="#ffffff", omitsize=False)


@router.get("/enrol", response_class=HTMLResponse)
def enrol_form(request: Request) -> HTMLResponse:
    return render(request, "enrol.html", title="Enrol", message="")


@router.post("/enrol", response_class=HTMLResponse)
def enrol(request: Request, code: Annotated[str, Form(max_length=_SHORT)],
          password: Annotated[str, Form(max_length=_PASSWORD)],
          again: Annotated[str, Form(max_length=_PASSWORD)]) -> HTMLResponse:
    store = request.app.state.store
    if password != again:
        return render(request, "enrol.html", 400, title="Enrol", message="the two passwords differ: type the same "
                                                                          "one twice")
    try:
        factor = accounts.enrol(store.db, store.snapshot(), code, password, now=request.app.state.clock.now(),
                                source=source(request))
    except ContactGroupError as exc:
        return render(request, "enrol.html", status_of(exc), title="Enrol", message=detail(exc))
    if factor.secret is None or factor.uri is None:
        return render(request, "enrolled.html", title="Enrolled", user=factor.user)
    return render(request, "enrol_confirm.html", title="Your second factor", code=code, user=factor.user,
                  secret=factor.secret, qr=qr_svg(factor.uri), message="")


@router.post("/enrol/confirm", response_class=HTMLResponse)
def enrol_confirm(request: Request, code: Annotated[str, Form(max_length=_SHORT)],
                  totp: Annotated[str, Form(max_length=10)]) -> HTMLResponse:
    store = request.app.state.store
    try:
        user = accounts.confirm_enrolment(store.db, store.snapshot(), code, totp, now=request.app.state.clock.now(),
                                          source=source(request))
    except ContactGroupError as exc:
        return render(request, "enrol.html", 400, title="Enrol",
                      message=f"{detail(exc)}; enrol again with your code to see the QR code once more")
    return render(request, "enrolled.html", title="Enrolled", user=user)


# --- one's account -----------------------------------------------------------------------------------------------


def _account_page(request: Request, caller: Viewer, *, issued: tokens.Issued | None = None, message: str = "",
                  status: int = 200) -> HTMLResponse:
    store = request.app.state.store
    state = store.snapshot()
    name = caller.user.name
    return render(request, "account.html", status, title="My account", user=caller.user,
                  tokens=tokens.tokens(store.db, state, name), issued=issued,
                  passkeys=passkeys.passkeys(store.db, state, name) if request.app.state.relying_party else None,
                  sessions=accounts.sessions(store.db, name, now=request.app.state.clock.now()),
                  this_session=caller.token_id,
                  log=accounts.security_log(store.db, state, name, user=name, limit=50), message=message,
                  default_days=DEFAULT_DAYS, max_days=MAX_DAYS, now=request.app.state.clock.now())


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, caller: Viewer) -> HTMLResponse:
    return _account_page(request, caller)


@router.post("/account/tokens", response_class=HTMLResponse)
def issue_token(request: Request, caller: Changer, scope: Annotated[Scope, Form()] = Scope.READ,
                days: Annotated[int, Form(ge=1, le=MAX_DAYS)] = DEFAULT_DAYS,
                label: Annotated[str, Form(max_length=_SHORT)] = "") -> HTMLResponse:
    store = request.app.state.store
    try:
        issued = tokens.issue(store.db, store.snapshot(), caller.user.name, now=request.app.state.clock.now(),
                              scope=scope, days=days, label=label, source=source(request))
    except ContactGroupError as exc:
        return _account_page(request, caller, message=detail(exc), status=status_of(exc))
    return _account_page(request, caller, issued=issued, status=201)


@router.post("/account/tokens/{token_id}/revoke", response_model=None)
def revoke_token(request: Request, token_id: str, caller: Changer) -> Response:
    store = request.app.state.store
    tokens.revoke(store.db, store.snapshot(), caller.user.name, token_id[:32], now=request.app.state.clock.now(),
                  source=source(request))
    return redirect(request, "/account")


@router.post("/account/sessions/{session_id}/end", response_model=None)
def end_session(request: Request, session_id: str, caller: Changer) -> Response:
    """Sign out a browser left signed in elsewhere."""
    accounts.end_session(request.app.state.store.db, caller, session_id[:32], now=request.app.state.clock.now(),
                         source=source(request))
    return redirect(request, "/account")
