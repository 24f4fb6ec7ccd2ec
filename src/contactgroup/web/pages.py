"""The coordination in a browser: server-rendered pages (Jinja2, every value escaped) that work without JavaScript,
enhanced with htmx, served with their assets by the server itself — no request leaves for another origin.

Every page goes out with a Content-Security-Policy that allows scripts, styles and images from this server only
(no inline script, no eval), refuses framing, and sends no referrer to another site. Each role's pages live in a
module of their own, with a router that `mount` adds; they read through the same service queries as the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.model import Role
from contactgroup.services import queries
from contactgroup.web import session
from contactgroup.web.session import SignInNeeded

HERE = Path(__file__).parent
HTMX = "vendor/htmx-2.0.11/htmx.min.js"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    # Not `no-referrer`: under it Chromium sends `Origin: null` with a form's POST, which the CSRF check refuses.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def number(value: int | float | Decimal | None, places: int = 0) -> str:
    """A figure with thousands separators (`12,345`; money to the euro unless `places` says otherwise)."""
    if value is None:
        return "—"
    return f"{value:,.{places}f}" if places or not isinstance(value, int) else f"{value:,}"


def iso(value: date | datetime | None) -> str:
    """A date as ISO 8601 (`2024-03-01`), a time to the minute in UTC (`2024-03-01 14:05Z`)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%MZ")
    return value.isoformat()


templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every value, whatever the template's name
    undefined=jinja2.StrictUndefined,  # a missing value is a bug to see, not an empty cell
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["number"] = number
templates.filters["iso"] = iso


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    path: str
    roles: frozenset[Role]  # who sees the link (every page checks for itself what its reader may see)


_ALL = frozenset(Role)
_READERS = frozenset({Role.COORDINATOR, Role.COALITION_LEAD, Role.ANALYST, Role.AUDITOR})
# The main navigation, in order: each role sees the links of its work.
NAV: list[Link] = [
    Link("Awaiting me", "/", _ALL),
    Link("Requirements", "/requirements", _READERS | {Role.RECIPIENT_LIAISON}),
    Link("Offers", "/offers", _READERS | {Role.DESK_OFFICER}),
    Link("Allocations", "/allocations", _ALL),
    Link("Allocation run", "/allocation-run", frozenset({Role.COORDINATOR, Role.COALITION_LEAD})),
    Link("Consents", "/consents", frozenset({Role.COORDINATOR, Role.DESK_OFFICER})),
    Link("Shipments", "/shipments", frozenset({Role.COORDINATOR, Role.DESK_OFFICER, Role.RECIPIENT_LIAISON})),
    Link("Reports", "/reports", _ALL),
    Link("Network", "/network", _ALL),
    Link("Record", "/record", frozenset({Role.COORDINATOR, Role.ANALYST, Role.AUDITOR})),
    Link("Governance", "/governance", frozenset({Role.COORDINATOR, Role.DESK_OFFICER})),
    Link("Users", "/users", frozenset({Role.COORDINATOR, Role.DESK_OFFICER})),
    Link("Members", "/members", frozenset({Role.COORDINATOR})),
]

# Where the inbox's entries are handled: the page of each kind of object, by its id.
ITEM_PAGES: dict[queries.InboxKind, str] = {
    queries.InboxKind.REQUIREMENT: "/requirements/{id}",
    queries.InboxKind.ALLOCATION: "/allocations/{id}",
    queries.InboxKind.CONSENT: "/consents/{id}",
    queries.InboxKind.DELIVERY: "/shipments/{id}",
    queries.InboxKind.PROPOSAL: "/governance/{id}",
}


def _mark(request: Request) -> None:
    request.state.page = True  # an error on this request answers as a page, not as a problem document


def page_router() -> APIRouter:
    """A router of pages: left out of the API's schema, and its errors shown as pages."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(_mark)])


def is_page(request: Request) -> bool:
    return getattr(request.state, "page", False) is True


router = page_router()


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The page `template` with `values`, and what every page shows: who is signed in, their links, and the
    session's CSRF token for the page's forms."""
    root = request.scope.get("root_path", "")
    me = session.viewer(request)
    nav = [link for link in NAV if me is not None and me.user.role in link.roles]
    html = templates.get_template(template).render(
        root=root, static=f"{root}/static", htmx=HTMX, me=me.user if me else None, nav=nav,
        here=request.url.path, csrf=session.csrf_token(request), **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def redirect(request: Request, path: str) -> RedirectResponse:
    """After a form: see the result at `path` (303, so a reload does not send the form again)."""
    return RedirectResponse(request.scope.get("root_path", "") + path, status_code=303,
                            headers={"Cache-Control": "no-store"})


def status_of(exc: ContactGroupError) -> int:
    """The status a page answers a refusal with: a bad value is the reader's to fix (400), as in the API."""
    return 400 if exc.status == 422 else exc.status


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status, title="Not done", status_code=status, message=message)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    me = session.viewer(request)
    state = request.app.state.store.snapshot()
    if me is None:
        authority = state.authority
        return render(request, "home.html", title="contactgroup", recipient=state.recipient,
                      authority=authority.name if authority else "",
                      members=sum(1 for member in state.members.values() if member.active))
    box = queries.inbox(state, me.user, request.app.state.clock.now())
    entries = [(entry, ITEM_PAGES[entry.kind].format(id=entry.id)) for entry in box.entries]
    return render(request, "inbox.html", title="Awaiting my action", entries=entries,
                  counts={kind.value: n for kind, n in box.counts}, total=box.total)


def mount(app: FastAPI) -> None:
    """Add the pages and their assets (`/static`) to `app`; a page that needs a signed-in user sends the browser
    to sign in first."""
    # the pages' modules, each a router of its own
    from contactgroup.web import (
        account,
        allocation_run,
        allocations,
        consents,
        directory,
        governance,
        network,
        offers,
        record,
        reports,
        requirements,
        shipments,
    )

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        return RedirectResponse(exc.then, status_code=303, headers={"Cache-Control": "no-store"})

    app.add_exception_handler(SignInNeeded, sign_in_first)
    app.include_router(router)
    for module in (account, allocation_run, allocations, consents, directory, governance, network, offers,
                   record, reports, requirements, shipments):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
