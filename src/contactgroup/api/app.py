"""The ASGI application: `create_app(db_url)` wires the routers, the database and problem+json errors."""

from __future__ import annotations

import os
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contactgroup.api import ledger
from contactgroup.domain.errors import ContactGroupError, ValidationFailed
from contactgroup.services import ledger as ledger_svc
from contactgroup.services.clock import Clock, SystemClock
from contactgroup.storage.database import Database

PROBLEM = "application/problem+json"


def problem(status: int, detail: str, *, title: str | None = None, instance: str = "",
            **extra: Any) -> JSONResponse:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {"type": "about:blank", "title": title or HTTPStatus(status).phrase, "status": status,
                            "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def create_app(db_url: str, *, log_key: str | os.PathLike[str] | None = None, clock: Clock | None = None) -> FastAPI:
    """The API over the database at `db_url`; with `log_key` (the private key file) it signs new checkpoints."""
    app = FastAPI(title="contactgroup", summary="The coordination's verifiable record over HTTP.",
                  version="0.1.0")
    app.state.db = Database(db_url)
    app.state.signer = ledger_svc.read_signer_key(log_key) if log_key is not None else None
    app.state.clock = clock or SystemClock()
    app.include_router(ledger.router)

    @app.exception_handler(ContactGroupError)
    async def platform_error(request: Request, exc: ContactGroupError) -> JSONResponse:
        extra: dict[str, Any] = {}
        status = exc.status
        if isinstance(exc, ValidationFailed):
            status = 400  # bad parameters of a request are the client's to fix
            extra["errors"] = [{"where": p.where, "message": p.message} for p in exc.problems]
        return problem(status, str(exc), instance=request.url.path, **extra)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"where": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
                  for e in exc.errors()]
        detail = "; ".join(f"{e['where']}: {e['message']}" for e in errors)
        return problem(400, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), instance=request.url.path)

    return app
