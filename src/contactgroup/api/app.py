"""The ASGI application: `create_app(db_url)` wires the routers, the database and problem+json errors."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from contactgroup.api import (
    accounts,
    allocations,
    cli_login,
    directory,
    governance,
    imports,
    inbox,
    ledger,
    me,
    mobility,
    offers,
    passkeys,
    proposals,
    reports,
    requirements,
)
from contactgroup.api.idempotency import Idempotency, idempotency_parameter
from contactgroup.api.limits import MAX_BODY, BodyLimit
from contactgroup.api.links import add_links
from contactgroup.api.problem import detail, problem, problem_components, refusal
from contactgroup.api.resource import SharedLists
from contactgroup.api.server import Listening
from contactgroup.api.signer import CheckpointSigner
from contactgroup.domain.errors import (
    ContactGroupError,
    DatabaseBusy,
    NotSignedIn,
    SignInFailed,
    TooManyAttempts,
    ValidationFailed,
)
from contactgroup.services import key_files
from contactgroup.services.clock import Clock, SystemClock
from contactgroup.services.passkeys import RelyingParty
from contactgroup.storage.database import Database, DatabaseError, database_error
from contactgroup.storage.store import StateStore
from contactgroup.web import pages

_DEFAULT_422 = "#/components/schemas/HTTPValidationError"


class ContactGroupAPI(FastAPI):
    """FastAPI whose OpenAPI schema tells the errors as they are: RFC 9457 problem documents (400 for bad
    parameters, never FastAPI's default 422 validation body, which this app does not send)."""

    def openapi(self) -> dict[str, Any]:
        schema = super().openapi()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "Problem" not in components:  # once: FastAPI caches the schema it built
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.get("responses", {})
                    if _DEFAULT_422 in json.dumps(responses.get("422", {})):  # the one FastAPI adds by itself
                        del responses["422"]
            for url, path in schema.get("paths", {}).items():
                if url.startswith("/api/v1/") and "post" in path:
                    idempotency_parameter(path["post"])
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            components.update(problem_components())
            add_links(schema)
        return schema


DEFAULT_CHECKPOINT_INTERVAL = 5.0  # seconds
# Swagger UI's script and style, shipped in a Python package: the docs page works offline, with no CDN.
_DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def _headers(exc: ContactGroupError) -> dict[str, str] | None:
    """The headers an error's answer carries: when to retry, or how to sign in."""
    if isinstance(exc, DatabaseBusy):
        return {"Retry-After": "1"}
    if isinstance(exc, TooManyAttempts):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, NotSignedIn | SignInFailed):
        return {"WWW-Authenticate": "Bearer"}
    return None


def _a_thread_for_each(requests: int) -> None:
    """Let the worker-thread pool run a thread for each request served at once. A write sent with an
    Idempotency-Key holds the writer lock until its answer is made, and making it may take a worker thread, while
    other writers hold theirs waiting for that lock: with fewer threads than requests they could all be waiting."""
    threads = anyio.to_thread.current_default_thread_limiter()
    threads.total_tokens = max(threads.total_tokens, requests + 1)


def create_app(db_url: str, *, log_key: str | os.PathLike[str] | None = None, clock: Clock | None = None,
               checkpoint_interval: float = DEFAULT_CHECKPOINT_INTERVAL,
               approvals_as: str | None = None, max_body: int = MAX_BODY,
               origin: str | None = None) -> ContactGroupAPI:
    """The API over the database at `db_url`; with `log_key` (the private key file) a background signer signs a
    new checkpoint whenever the log has grown, at most one per `checkpoint_interval` seconds; with `approvals_as`
    (a user) it takes members' signed approvals of governance proposals and hands them in as that user. A request
    body above `max_body` bytes is refused (413) before it is read. `origin` (default CONTACTGROUP_ORIGIN) is the
    server's public origin, `https://host[:port]`, which passkeys are bound to; without it there are none."""
    database = Database(db_url)
    clock = clock or SystemClock()
    signer = (CheckpointSigner(database, key_files.read_signer_key(log_key), clock, checkpoint_interval)
              if log_key is not None else None)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _a_thread_for_each(app.state.max_requests)
        if signer is not None:
            signer.start()
        try:
            yield
        finally:
            if signer is not None:
                signer.stop()

    app = ContactGroupAPI(title="contactgroup", summary="The coordination's verifiable record and governance "
                                                        "over HTTP.", version="0.1.0", lifespan=lifespan,
                          docs_url=None, redoc_url=None)
    app.state.db = database
    app.state.signer = signer
    app.state.clock = clock
    app.state.store = StateStore(database)  # reads take its snapshot; writes go through store.run
    app.state.lists = SharedLists()  # lists in order, kept for the newest state
    app.state.approvals_as = approvals_as
    app.state.relying_party = RelyingParty.of(origin or os.environ.get("CONTACTGROUP_ORIGIN"))
    app.state.max_requests = Listening().max_connections  # requests served at once (`server.uvicorn_config` says)
    app.add_middleware(Idempotency)
    app.add_middleware(BodyLimit, max_body=max_body)  # outermost: a body too large is refused before it is read
    for module in (ledger, governance, me, accounts, passkeys, cli_login, inbox, directory, requirements, offers,
                   allocations, imports, reports, proposals, mobility):
        app.include_router(module.router)
    app.include_router(passkeys.page)
    app.include_router(cli_login.page)
    app.mount("/docs-assets", StaticFiles(directory=_DOCS_ASSETS), name="docs-assets")
    pages.mount(app)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=f"{root}{app.openapi_url}", title="contactgroup API",
                                   swagger_js_url=f"{root}/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}/docs-assets/swagger-ui.css",
                                   swagger_favicon_url=f"{root}/docs-assets/favicon.png")

    @app.exception_handler(ContactGroupError)
    async def platform_error(request: Request, exc: ContactGroupError) -> Response:
        if pages.is_page(request):
            return pages.error_page(request, pages.status_of(exc), detail(exc))
        extra: dict[str, Any] = refusal(exc)
        status = exc.status
        if isinstance(exc, ValidationFailed):
            status = 400  # bad parameters of a request are the client's to fix
            extra["errors"] = [{"where": p.where, "message": p.message} for p in exc.problems]
        return problem(status, detail(exc), instance=request.url.path, headers=_headers(exc), **extra)

    @app.exception_handler(DatabaseError)
    async def database_failed(request: Request, exc: DatabaseError) -> Response:
        # A read that met a busy or unusable database: the domain's error for it, never a bare 500.
        return await platform_error(request, database_error(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"where": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
                  for e in exc.errors()]
        said = "; ".join(f"{e['where']}: {e['message']}" for e in errors)
        if pages.is_page(request):
            return pages.error_page(request, 400, said)
        return problem(400, said, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if pages.is_page(request):
            return pages.error_page(request, exc.status_code, str(exc.detail))
        return problem(exc.status_code, str(exc.detail), instance=request.url.path, headers=exc.headers)

    return app
