"""The coordination in a browser: server-rendered pages (Jinja2, every value escaped) that work without JavaScript,
enhanced with htmx, served with their assets by the server itself — no request leaves for another origin.

Every page goes out with a Content-Security-Policy that allows scripts, styles and images from this server only
(no inline script, no eval), refuses framing, and sends no referrer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent
HTMX = "vendor/htmx-2.0.11/htmx.min.js"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every value, whatever the template's name
    undefined=jinja2.StrictUndefined,  # a missing value is a bug to see, not an empty cell
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    html = templates.get_template(template).render(root=root, static=f"{root}/static", htmx=HTMX, **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    authority = state.authority
    return render(request, "home.html", title="contactgroup", recipient=state.recipient,
                  authority=authority.name if authority else "",
                  members=sum(1 for member in state.members.values() if member.active))


def mount(app: FastAPI) -> None:
    """Add the pages and their assets (`/static`, cached for a day: their names carry their versions) to `app`."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
