"""`/api/v1/inbox`: what awaits the caller, as `contactgroup inbox` shows it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel, Field

from contactgroup.api.caller import Reader
from contactgroup.api.problem import problem_responses
from contactgroup.api.resource import state
from contactgroup.api.routing import Router
from contactgroup.services import queries

router = Router(prefix="/api/v1", tags=["inbox"])


class InboxDoc(BaseModel):
    entries: list[queries.InboxEntry] = Field(description="oldest first; `verbs`: what the caller may do to each "
                                                          "now; a member only where the caller may see the offer")
    counts: dict[str, int] = Field(description="how many of each kind await in all")
    total: int


@router.get("/inbox", response_model=InboxDoc, responses=problem_responses(400, 401))
def inbox(request: Request, caller: Reader, kind: queries.InboxKind | None = None,
          member: Annotated[str | None, Query(max_length=64)] = None,
          limit: Annotated[int | None, Query(ge=1, le=10_000)] = None) -> InboxDoc:
    """Allocations to accept or confirm, consents to decide, allocations to ship, shipments to receive,
    requirements to validate, open proposals the caller's member has not approved."""
    box = queries.inbox(state(request), caller.user, request.app.state.clock.now(), kind=kind, member=member,
                        limit=limit)
    return InboxDoc(entries=list(box.entries), counts={k.value: n for k, n in box.counts}, total=box.total)
