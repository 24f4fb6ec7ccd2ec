"""Who a request acts for: the bearer token it carries, or the browser session its cookie names, checked on every
request (a revoked token, an ended session or a disabled user is refused at the next one). A change asked with a
session cookie must also carry the session's CSRF token in `X-CSRF-Token` (double submit: a page of another site
can make the browser send the cookie, never read the token). Routes depend on `Reader` to read and on `Writer` to
change the record."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from contactgroup.domain.errors import NotSignedIn
from contactgroup.domain.state import State
from contactgroup.services import accounts, tokens
from contactgroup.services.tokens import SignedIn
from contactgroup.storage.database import Connection

SESSION_COOKIE = accounts.SESSION_COOKIE
CSRF_COOKIE = accounts.CSRF_COOKIE
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


_CHECKED = "contactgroup.caller"  # a bearer token already checked for this request, with the state it was found on


def checked(scope: Scope, caller: SignedIn, state: State) -> None:
    """Note in a request's scope the caller that its bearer token was found to be, on `state`, for `signed_in`:
    middleware that must know the caller first (`api.idempotency`) saves the request a second look."""
    scope[_CHECKED] = (caller, state)


async def signed_in(request: Request) -> SignedIn:
    """The caller, and the state it acts on (kept for the request's reads, `resource.state`): a bearer token is read
    with the log's head, one read per request (`StateStore.read`, or `read_at_once` on the event loop's thread
    when that takes no waiting); or taken as `checked` found it. A coroutine, so that a caller found at once or
    already found costs no worker thread."""
    return await _signed_in(request, at_head=True)


async def may_write(request: Request) -> SignedIn:
    """The caller, if its token may change the record. A write decides on the state its own transaction catches up
    to, where each service checks its caller again (`access.user`): so the token is read without a look at the
    log's head, on the state published (one statement).
    A coroutine, as `signed_in`, which FastAPI would otherwise run in a worker thread: a hop that costs more."""
    caller = await _signed_in(request, at_head=False)
    tokens.require_write(caller)
    return caller


async def _signed_in(request: Request, *, at_head: bool) -> SignedIn:
    found: tuple[SignedIn, State] | None = request.scope.get(_CHECKED)
    if found is not None:
        caller, request.state.snapshot = found
        return caller
    signed = _look_up(request, at_once=True, at_head=at_head)
    if signed is None:
        signed = await run_in_threadpool(_look_up, request)
    assert signed is not None  # looked up on a worker thread, a caller is found or refused
    return signed


def _look_up(request: Request, at_once: bool = False, at_head: bool = True) -> SignedIn | None:
    """The caller; `at_once`: on this thread without waiting (`StateStore.read_at_once`, `at_head` or not), or
    None."""
    store = request.app.state.store
    now = request.app.state.clock.now()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        def bearer(conn: Connection, state: State) -> SignedIn:
            if at_head:  # else the request's reads, if any, find the newest state themselves (`resource.state`)
                request.state.snapshot = state
            return tokens.bearer(conn, state, token.strip(), now)

        signed: SignedIn | None = store.read_at_once(bearer, at_head=at_head) if at_once else store.read(bearer)
        return signed
    if at_once:  # a session is looked up on a worker thread
        return None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise NotSignedIn()
    request.state.snapshot = state = store.snapshot()
    return accounts.session_caller(store.db, state, cookie, now=now, csrf=request.headers.get(CSRF_HEADER),
                                   changes=request.method not in _SAFE)


def source(request: Request) -> str:
    """The client's address, as the security log and the sign-in back-off name it."""
    return request.client.host if request.client else "unknown"


Reader = Annotated[SignedIn, Depends(signed_in)]
Writer = Annotated[SignedIn, Depends(may_write)]
