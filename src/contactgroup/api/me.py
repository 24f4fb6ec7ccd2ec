"""`/api/v1/me`: who the caller's credentials stand for; revoking one's own token (signing out)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from contactgroup.api.caller import Reader
from contactgroup.api.problem import problem_responses
from contactgroup.services import tokens

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class Me(BaseModel):
    name: str
    party: str
    role: str
    scope: str
    token: str


@router.get("/me", response_model=Me, summary="The signed-in user", responses=problem_responses(401))
def me(caller: Reader) -> Me:
    return Me(name=caller.user.name, party=caller.user.party, role=caller.user.role.value,
              scope=caller.scope.value, token=caller.token_id)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of your tokens",
               responses=problem_responses(401, 404))
def revoke_token(token_id: str, caller: Reader, request: Request) -> Response:
    """Revoke a token of the caller's own (signing out revokes the token that signs the request)."""
    store = request.app.state.store
    tokens.revoke(store.db, store.snapshot(), caller.user.name, token_id, now=request.app.state.clock.now(),
                  source=request.client.host if request.client else "")
    return Response(status_code=204)
