"""`/api/v1/requirements`: the recipient's prioritised requirements (every user sees every requirement)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, Field

from contactgroup.api.caller import Reader, Writer
from contactgroup.api.problem import problem_responses
from contactgroup.api.resource import (
    CREATED,
    TAGGED,
    Code,
    IfMatch,
    Page,
    Pages,
    Selected,
    Text,
    Units,
    act,
    changed,
    list_responses,
    listed,
    sorting,
    state,
    tagged,
)
from contactgroup.api.routing import Router
from contactgroup.domain.model import Requirement, RequirementStatus
from contactgroup.domain.workflow import RequirementAction
from contactgroup.services import coordination as svc
from contactgroup.services import queries
from contactgroup.storage.database import UnitOfWork

router = Router(prefix="/api/v1", tags=["requirements"])

ReqId = Annotated[str, Path(min_length=1, max_length=64, description="a requirement id, e.g. R-00001")]
WRITES = problem_responses(400, 401, 403, 404, 409)
CHANGES = {**TAGGED, **problem_responses(400, 401, 403, 404, 409, 412, 428)}
ACTIONS = {**TAGGED, **problem_responses(400, 401, 403, 404, 409, 412)}


class RequirementIn(BaseModel):
    item_class: Code
    quantity: Units
    priority: Annotated[int, Field(ge=1, le=10**6)]
    needed_by: date
    destination: Annotated[str, Field(min_length=1, max_length=200)]
    area: Code | None = Field(default=None, description="default: the item class's area")
    note: Text = ""
    on: date | None = Field(default=None, description="a historical entry: the day it was really raised")
    ref: Annotated[str, Field(max_length=200)] = ""
    submit: bool = Field(default=False, description="submit it for validation at once")


class RequirementChange(BaseModel):
    """What an amendment changes; a field left out stays as it is."""

    quantity: Units | None = None
    needed_by: date | None = None
    destination: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    note: Text | None = None
    on: date | None = Field(default=None, description="the day the change was really made")


class Reason(BaseModel):
    reason: Text = ""


class RequirementMove(Reason):
    on: date | None = Field(default=None, description="a historical move: the day it was really made (not before "
                                                      "the requirement was raised)")


class RequirementMoves(RequirementMove, Selected):
    pass


class PriorityIn(BaseModel):
    priority: Annotated[int, Field(ge=1, le=10**6)]


@router.get("/requirements", response_model=Page[Requirement], responses=list_responses())
def list_requirements(
    request: Request, caller: Reader, paging: Pages,
    status: RequirementStatus | None = None,
    area: Annotated[str | None, Query(max_length=64)] = None,
    item: Annotated[str | None, Query(max_length=64, description="its class, or an item that satisfies it")] = None,
    sort: Annotated[str, sorting("priority", "id", "needed_by", "quantity", "status", "area")] = "priority",
) -> Any:
    """The requirements, by priority then id, filtered by status, capability area or item."""
    rows = queries.requirements(state(request), status=status, area=area, item=item)
    return listed(rows, Requirement, "requirements", paging, sort)


@router.post("/requirements", status_code=201, response_model=Requirement, responses={**CREATED, **WRITES})
def add_requirement(request: Request, response: Response, caller: Writer, body: RequirementIn) -> Requirement:
    """Draft a requirement (and submit it with `submit`)."""

    def add(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        req = svc.draft_requirement(uow, who, item_class=body.item_class, quantity=body.quantity,
                                    priority=body.priority, needed_by=body.needed_by, destination=body.destination,
                                    area=body.area, note=body.note, on=body.on, ref=body.ref)
        return svc.move_requirement(uow, who, req.id, RequirementAction.SUBMIT, on=body.on) if body.submit else req

    return tagged(response, act(request, caller, add))


@router.get("/requirements/{req_id}", response_model=Requirement,
            responses={**TAGGED, **problem_responses(400, 401, 404)})
def show_requirement(request: Request, response: Response, caller: Reader, req_id: ReqId) -> Requirement:
    return tagged(response, queries.requirement(state(request), req_id))


def _current(uow: UnitOfWork, req_id: str) -> Requirement:
    return queries.requirement(uow.state, req_id)


@router.patch("/requirements/{req_id}", response_model=Requirement, responses=CHANGES)
def amend_requirement(request: Request, response: Response, caller: Writer, req_id: ReqId, body: RequirementChange,
                      if_match: IfMatch = None) -> Requirement:
    """Change what a requirement asks for (`If-Match` required)."""

    def amend(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        changed(if_match)(_current(uow, req_id))
        return svc.amend_requirement(uow, who, req_id, quantity=body.quantity, needed_by=body.needed_by,
                                     destination=body.destination, note=body.note, on=body.on)

    return tagged(response, act(request, caller, amend))


@router.post("/requirements/{req_id}/actions/{action}", response_model=Requirement, responses=ACTIONS)
def move_requirement(request: Request, response: Response, caller: Writer, req_id: ReqId, action: RequirementAction,
                     body: RequirementMove | None = None, if_match: IfMatch = None) -> Requirement:
    """Move a requirement through its lifecycle: submit, return, validate, open, close, cancel."""
    said = body or RequirementMove()

    def move(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        changed(if_match, required=False)(_current(uow, req_id))
        return svc.move_requirement(uow, who, req_id, action, said.reason, on=said.on)

    return tagged(response, act(request, caller, move))


@router.post("/requirements/actions/{action}", response_model=list[Requirement], responses=WRITES)
def move_requirements(request: Request, caller: Writer, action: RequirementAction,
                      body: RequirementMoves) -> list[Requirement]:
    """Move several requirements at once, named or every one awaiting the caller: all of them, or none (the
    problem names every refusal)."""
    return act(request, caller, lambda uow, who: svc.move_each(
        "requirement", body.chosen(uow.state, who, "requirement", action), lambda ident: (
            svc.move_requirement(uow, who, ident, action, body.reason, on=body.on))))


@router.post("/requirements/{req_id}/priority", response_model=Requirement, responses=ACTIONS)
def reprioritise(request: Request, response: Response, caller: Writer, req_id: ReqId, body: PriorityIn,
                 if_match: IfMatch = None) -> Requirement:
    """Re-rank a requirement: give it another priority (1 is the most important)."""

    def rerank(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        changed(if_match, required=False)(_current(uow, req_id))
        return svc.reprioritise(uow, who, req_id, body.priority)

    return tagged(response, act(request, caller, rerank))


@router.get("/requirements/{req_id}/history", response_model=list[queries.HistoryEntry],
            responses=problem_responses(400, 401, 404))
def requirement_history(request: Request, caller: Reader, req_id: ReqId) -> list[queries.HistoryEntry]:
    """Every event of the requirement, with its log index (a receipt proves exactly that event)."""
    return queries.history_of(request.app.state.store.db, caller.user.name, queries.HistoryKind.REQUIREMENT, req_id)
