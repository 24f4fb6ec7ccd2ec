"""Who a request acts for: the bearer token it carries, checked on every request (a revoked token or a disabled
user is refused at the next one). Routes depend on `signed_in` to read and on `may_write` to change the record."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from contactgroup.domain.errors import NotSignedIn
from contactgroup.services import tokens
from contactgroup.services.tokens import SignedIn


def signed_in(request: Request) -> SignedIn:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise NotSignedIn()
    store = request.app.state.store
    return tokens.authenticate(store.db, store.snapshot(), token.strip(), request.app.state.clock.now())


def may_write(caller: Annotated[SignedIn, Depends(signed_in)]) -> SignedIn:
    tokens.require_write(caller)
    return caller


Reader = Annotated[SignedIn, Depends(signed_in)]
Writer = Annotated[SignedIn, Depends(may_write)]
