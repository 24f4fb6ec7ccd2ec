"""Who a page is for: the browser session its cookie names, checked on every request as the API checks it (an
ended session or a disabled user is refused at the next page). Every form that changes something carries the
session's CSRF token in a hidden field `csrf` (the page copies it from the session's readable cookie, which a page
of another site can make the browser send but never read), and is refused when it comes from another origin."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Form, Request

from contactgroup.domain.errors import CsrfRefused, NotSignedIn
from contactgroup.services import accounts
from contactgroup.services.tokens import SignedIn


class SignInNeeded(Exception):
    """The page needs a signed-in user: the browser is sent to the sign-in page, and back here after."""

    def __init__(self, then: str) -> None:
        super().__init__(then)
        self.then = then


def back_to(request: Request) -> str:
    """The sign-in page's address that returns to this page."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{request.scope.get('root_path', '')}/sign-in?then={quote(here, safe='')}"


def safe_then(then: str) -> str:
    """Where to go after signing in: a path of this site only (never `//host` or `https://host`)."""
    parts = urlsplit(then)
    if not then.startswith("/") or then.startswith("//") or parts.scheme or parts.netloc or "\\" in then:
        return "/"
    return then[:2000]


def viewer(request: Request) -> SignedIn | None:
    """The signed-in user the request's session cookie stands for, or None (once per request)."""
    if not hasattr(request.state, "viewer"):
        cookie = request.cookies.get(accounts.SESSION_COOKIE)
        found = None
        if cookie:
            store = request.app.state.store
            try:
                found = accounts.session_caller(store.db, store.snapshot(), cookie, now=request.app.state.clock.now(),
                                                csrf=None, changes=False)
            except NotSignedIn:
                found = None
        request.state.viewer = found
    seen: SignedIn | None = request.state.viewer
    return seen


def signed_in(request: Request) -> SignedIn:
    """The page's user; else the browser goes to sign in first."""
    found = viewer(request)
    if found is None:
        raise SignInNeeded(back_to(request))
    return found


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfRefused()


def changing(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> SignedIn:
    """The user a form that changes something is sent by, with the session's CSRF token and from this origin."""
    _same_origin(request)
    cookie = request.cookies.get(accounts.SESSION_COOKIE)
    if not cookie:
        raise SignInNeeded(back_to(request))
    store = request.app.state.store
    try:
        caller = accounts.session_caller(store.db, store.snapshot(), cookie, now=request.app.state.clock.now(),
                                         csrf=csrf, changes=True)
    except NotSignedIn:
        raise SignInNeeded(back_to(request)) from None
    request.state.viewer = caller
    return caller


def csrf_token(request: Request) -> str:
    """The session's CSRF token, for the hidden field of the page's forms."""
    return request.cookies.get(accounts.CSRF_COOKIE, "")[:200]


def source(request: Request) -> str:
    """The client's address, as the security log and the sign-in back-off name it."""
    return request.client.host if request.client else "unknown"


Viewer = Annotated[SignedIn, Depends(signed_in)]
Changer = Annotated[SignedIn, Depends(changing)]
