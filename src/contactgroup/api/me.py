"""`/api/v1/me`: who the caller's credentials stand for."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from contactgroup.api.caller import Reader
from contactgroup.api.problem import problem_responses

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

