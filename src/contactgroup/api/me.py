"""`/api/v1/me`: who the caller's credentials stand for."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, Field

from contactgroup.api.caller import Reader
from contactgroup.api.problem import problem_responses
from contactgroup.api.resource import state
from contactgroup.api.routing import Router
from contactgroup.reports.facts import is_synthetic

router = Router(prefix="/api/v1", tags=["accounts"])


class Me(BaseModel):
    name: str
    party: str
    role: str
    scope: str
    token: str
    synthetic: bool = Field(description="true: the server holds a demo's synthetic data (lists say so)")


@router.get("/me", response_model=Me, summary="The signed-in user", responses=problem_responses(401))
def me(request: Request, caller: Reader) -> Me:
    return Me(name=caller.user.name, party=caller.user.party, role=caller.user.role.value,
              scope=caller.scope.value, token=caller.token_id, synthetic=is_synthetic(state(request)))

