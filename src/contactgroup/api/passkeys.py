"""`/api/v1/passkeys`: add a passkey to one's account, list them, and ask for a passkey sign-in's challenge; and
`/passkeys`, a small page of the server's own origin whose script drives the browser's WebAuthn calls (a passkey
answers only pages of the origin it was made for)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from contactgroup.api.accounts import Now, Source, Store
from contactgroup.api.caller import Reader, Writer
from contactgroup.api.problem import problem_responses
from contactgroup.api.routing import Router
from contactgroup.services import passkeys

router = Router(prefix="/api/v1", tags=["accounts"])
_PAGE = (Path(__file__).parent / "passkeys.html").read_text(encoding="utf-8")
_UNAVAILABLE = {409: "the server's public origin is not configured: no passkeys"}


class PasskeyInfo(BaseModel):
    id: str
    created_at: datetime
    used_at: datetime | None


@router.post("/passkeys/options", summary="Options to create a passkey for oneself",
             responses=problem_responses(401, 403, 409, why=_UNAVAILABLE))
def registration_options(caller: Writer, request: Request, store: Store, now: Now) -> dict[str, Any]:
    return passkeys.registration_options(store.db, store.snapshot(), caller.user.name,
                                         request.app.state.relying_party, now=now)


@router.post("/passkeys", response_model=PasskeyInfo, status_code=201, summary="Add the passkey just created",
             responses=problem_responses(400, 401, 403, 409, why=_UNAVAILABLE))
def register(credential: dict[str, Any], caller: Writer, request: Request, store: Store, now: Now,
             src: Source) -> PasskeyInfo:
    row = passkeys.register(store.db, store.snapshot(), caller.user.name, credential,
                            request.app.state.relying_party, now=now, source=src)
    return PasskeyInfo(id=row.id, created_at=row.created_at, used_at=row.used_at)


@router.get("/passkeys", response_model=list[PasskeyInfo], summary="One's passkeys",
            responses=problem_responses(401))
def list_passkeys(caller: Reader, store: Store) -> list[PasskeyInfo]:
    return [PasskeyInfo(id=p.id, created_at=p.created_at, used_at=p.used_at)
            for p in passkeys.passkeys(store.db, store.snapshot(), caller.user.name)]


@router.post("/sign-in/passkey-options", summary="A challenge for a passkey sign-in",
             responses=problem_responses(409, why=_UNAVAILABLE))
def sign_in_options(request: Request, store: Store, now: Now) -> dict[str, Any]:
    return passkeys.sign_in_options(store.db, request.app.state.relying_party, now=now)


page = Router()


@page.get("/passkeys", include_in_schema=False)
def passkeys_page() -> HTMLResponse:
    return HTMLResponse(_PAGE, headers={"Content-Security-Policy": "default-src 'self'; script-src 'self'; "
                                                                   "frame-ancestors 'none'"})
