"""`/api/v1` over what moves offers to requirements: allocations (and allocation runs), re-export consents and
deliveries. Each caller sees only what the policy lets it see: a hidden object answers 404 exactly like a missing
one, and a list row never names the member of an offer the caller may not see."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, Field

from contactgroup.allocation import plan_to_dict
from contactgroup.api.caller import Reader, Writer
from contactgroup.api.problem import problem_responses
from contactgroup.api.resource import (
    TAGGED,
    Code,
    IfMatch,
    Page,
    Pages,
    SelectedOfMember,
    Text,
    Units,
    act,
    changed,
    etag,
    list_responses,
    listed,
    sorting,
    state,
)
from contactgroup.api.resource import tagged as with_etag
from contactgroup.api.routing import Router
from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import Allocation, AllocationStatus, Consent, ConsentStatus, Delivery, DeliveryStatus
from contactgroup.domain.workflow import AllocationAction, ConsentAction, ShipmentAction
from contactgroup.services import allocation as runs
from contactgroup.services import coordination as svc
from contactgroup.services import queries
from contactgroup.storage.database import UnitOfWork

router = Router(prefix="/api/v1")

Ident = Annotated[str, Path(min_length=1, max_length=64)]
Count = Annotated[int, Field(ge=0, le=10**12)]
Filter = Annotated[str | None, Query(max_length=64)]
WRITES = problem_responses(400, 401, 403, 404, 409)
ACTIONS = {**TAGGED, **problem_responses(400, 401, 403, 404, 409, 412)}
SHOWN = {**TAGGED, **problem_responses(400, 401, 404)}


def _row(cls: type, obj: Any, seen: queries.Listed) -> Any:
    """A list row: the object's fields and what the caller may see of its offer."""
    return cls(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, member=seen.member, item=seen.item,
               area=seen.area)


@dataclass(frozen=True, slots=True)
class AllocationListed:
    """An allocation with its offer's member (null when the caller may not see the offer), item and area."""

    id: str
    offer: str
    requirement: str
    quantity: int
    status: AllocationStatus
    proposed_on: date
    released: int
    declined_on: date | None
    declined_by: str
    reason: str
    superseded: bool
    reopened: bool
    member: str | None
    item: str
    area: str | None


@dataclass(frozen=True, slots=True)
class DeliveryListed:
    """A shipment with its offer's member (null when the caller may not see the offer), item and area."""

    id: str
    allocation: str
    quantity: int
    status: DeliveryStatus
    dispatched_on: date
    received_on: date | None
    received: int
    short: int
    damaged: int
    wrong_item: int
    member: str | None
    item: str
    area: str | None


# --- allocations -------------------------------------------------------------------------------------------------

class AllocationIn(BaseModel):
    offer: Code
    requirement: Code
    quantity: Units
    on: date | None = Field(default=None, description="a historical entry: the day it was really proposed")


class AllocationMove(BaseModel):
    reason: Text = ""
    units: Units | None = Field(default=None, description="release-owed only: the owed units never to come")


class AllocationMoves(AllocationMove, SelectedOfMember):
    pass


class RunIn(BaseModel):
    area: Code | None = Field(default=None, description="only this capability area (a coalition lead names its own)")
    request_consent: bool = Field(default=False, description="also request the consents the run holds offers "
                                                             "back for (the coordinator)")
    record: bool = Field(default=False, description="record the plan as proposed allocations; without it the run "
                                                    "is a preview and nothing is written")


class RunDoc(BaseModel):
    recorded: bool = Field(description="false: a preview, nothing was written")
    tiers: list[runs.Tier]
    proposed: list[str] = Field(description="allocation ids proposed (in a preview: that would be)")
    kept: int
    declined: int
    held_back: list[runs.HeldBack]
    consents_requested: list[str]
    events: list[int] | None = Field(description="first and last log index recorded; null when none")
    seconds: float = Field(description="the solver's time")
    plan: dict[str, Any] = Field(description="the plan (docs/formats/allocation.md)")


@router.get("/allocations", tags=["allocations"], response_model=Page[AllocationListed],
            responses=list_responses())
def list_allocations(request: Request, caller: Reader, paging: Pages, status: AllocationStatus | None = None,
                     member: Filter = None, item: Filter = None, area: Filter = None,
                     sort: Annotated[str, sorting("id", "offer", "requirement", "quantity", "status",
                                                  "proposed_on")] = "id") -> Any:
    """The allocations the caller may see, filtered by status, member, item or area."""
    st, who = state(request), caller.user
    rows = [_row(AllocationListed, a, queries.listed_allocation(st, who, a))
            for a in queries.allocations(st, who, status=status, member=member, item=item, area=area)]
    return listed(rows, AllocationListed, "allocations", paging, sort)


@router.post("/allocations", tags=["allocations"], status_code=201, response_model=Allocation, responses=WRITES)
def propose_allocation(request: Request, caller: Writer, body: AllocationIn) -> Allocation:
    """Propose an allocation of an offer to a requirement by hand."""
    return act(request, caller, lambda uow, who: svc.propose_allocation(
        uow, who, offer=body.offer, requirement=body.requirement, quantity=body.quantity, on=body.on))


@router.get("/allocations/{alloc_id}", tags=["allocations"], response_model=queries.AllocationView, responses=SHOWN)
def show_allocation(request: Request, response: Response, caller: Reader, alloc_id: Ident) -> queries.AllocationView:
    """An allocation, its offer's member and item, and its shipments (the ETag is the allocation's)."""
    view = queries.allocation(state(request), caller.user, alloc_id)
    response.headers["ETag"] = etag(view.allocation)
    return view


@router.post("/allocations/{alloc_id}/actions/{action}", tags=["allocations"], response_model=Allocation,
             responses=ACTIONS)
def move_allocation(request: Request, response: Response, caller: Writer, alloc_id: Ident, action: AllocationAction,
                    body: AllocationMove | None = None, if_match: IfMatch = None) -> Allocation:
    """accept (the donor's desk or the recipient's liaison, whichever is next), confirm, decline, reopen a declined
    pair, or release owed units (the coordinator)."""
    said = body or AllocationMove()

    def move(uow: UnitOfWork, who: svc.Caller) -> Allocation:
        changed(if_match, required=False)(svc.visible_allocation(uow, who, alloc_id))
        return svc.move_allocation(uow, who, alloc_id, action, said.reason, units=said.units)

    return with_etag(response, act(request, caller, move))


@router.post("/allocations/actions/{action}", tags=["allocations"], response_model=list[Allocation],
             responses=WRITES)
def move_allocations(request: Request, caller: Writer, action: AllocationAction,
                     body: AllocationMoves) -> list[Allocation]:
    """Move several allocations at once, named or selected: all of them, or none (the problem names every
    refusal)."""
    return act(request, caller, lambda uow, who: svc.move_each(
        "allocation", body.chosen(uow.state, who, "allocation", action), lambda ident: (
            svc.move_allocation(uow, who, ident, action, body.reason, units=body.units))))


@router.get("/allocations/{alloc_id}/history", tags=["allocations"], response_model=list[queries.HistoryEntry],
            responses=problem_responses(400, 401, 404))
def allocation_history(request: Request, caller: Reader, alloc_id: Ident) -> list[queries.HistoryEntry]:
    """Every event of the allocation and its shipments, with its log index."""
    return queries.history_of(request.app.state.store.db, caller.user.name, queries.HistoryKind.ALLOCATION,
                              alloc_id)


class _Preview(Exception):
    """Ends a preview's transaction without committing it, carrying what the run would have done."""

    def __init__(self, run: runs.AllocationRun) -> None:
        super().__init__("preview")
        self.run = run


@router.post("/allocation-runs", tags=["allocations"], response_model=RunDoc, responses=WRITES)
def allocation_run(request: Request, caller: Writer, body: RunIn) -> RunDoc:
    """Solve for the open requirements (of one area): most units at the highest priorities, then least lateness.
    A preview by default (nothing is written); with `record` the plan is recorded as proposed allocations."""

    def solve(uow: UnitOfWork, who: svc.Caller) -> runs.AllocationRun:
        run = runs.propose_optimal(uow, who, body.area, request_consent=body.request_consent)
        if not body.record:
            raise _Preview(run)
        return run

    try:
        run, recorded = act(request, caller, solve), True
    except _Preview as preview:
        run, recorded = preview.run, False
    return RunDoc(recorded=recorded, tiers=list(run.tiers), proposed=list(run.proposed), kept=run.kept,
                  declined=run.declined, held_back=list(run.held_back),
                  consents_requested=list(run.consents_requested),
                  events=list(run.events) if run.events and recorded else None, seconds=run.seconds,
                  plan=plan_to_dict(run.plan))


# --- consents ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ConsentListed:
    """A consent and what it is asked for; the offer and its member only for a caller who may see the offer."""

    id: str
    offer: str | None
    member: str | None
    origin: str
    status: ConsentStatus
    requested_on: date
    decided_on: date | None
    reason: str
    item: str
    item_name: str
    quantity: int
    end_use: str
    destination: str


def _consent(v: queries.ConsentView) -> ConsentListed:
    c = v.consent
    return ConsentListed(c.id, v.offer, v.member, c.origin, c.status, c.requested_on, c.decided_on, c.reason, v.item,
                         v.item_name, v.quantity, v.end_use, v.destination)


class ConsentIn(BaseModel):
    offer: Code
    on: date | None = Field(default=None, description="a historical request: the day it was really made")


class Decision(BaseModel):
    reason: Text = ""


@router.get("/consents", tags=["consents"], response_model=Page[ConsentListed], responses=list_responses())
def list_consents(request: Request, caller: Reader, paging: Pages, status: ConsentStatus | None = None,
                  member: Filter = None, item: Filter = None, area: Filter = None,
                  sort: Annotated[str, sorting("id", "origin", "status", "requested_on")] = "id") -> Any:
    """The consents of offers the caller may see, and those asked of its own member."""
    st, who = state(request), caller.user
    chosen = {c.id for c in queries.consents(st, who, status=status, member=member, item=item, area=area)}
    rows = [_consent(v) for v in queries.consent_views(st, who) if v.consent.id in chosen]
    return listed(rows, ConsentListed, "consents", paging, sort)


@router.post("/consents", tags=["consents"], status_code=201, response_model=Consent, responses=WRITES)
def request_consent(request: Request, caller: Writer, body: ConsentIn) -> Consent:
    """Ask the origin member for its consent to re-export an offer."""
    return act(request, caller, lambda uow, who: svc.request_consent(uow, who, body.offer, on=body.on))


@router.get("/consents/{consent_id}", tags=["consents"], response_model=ConsentListed, responses=SHOWN)
def show_consent(request: Request, response: Response, caller: Reader, consent_id: Ident) -> ConsentListed:
    st, who = state(request), caller.user
    found = next((v for v in queries.consent_views(st, who) if v.consent.id == consent_id), None)
    if found is None:
        raise svc.hidden("consent", consent_id, who)
    response.headers["ETag"] = etag(found.consent)
    return _consent(found)


class Decisions(Decision, SelectedOfMember):
    on: date | None = Field(default=None, description="a historical decision: the day it was really made")


@router.post("/consents/actions/{decision}", tags=["consents"], response_model=list[Consent], responses=WRITES)
def decide_consents(request: Request, caller: Writer, decision: ConsentAction, body: Decisions) -> list[Consent]:
    """Grant or refuse several consents at once, named or selected: all of them, or none (the problem names every
    refusal)."""
    return act(request, caller, lambda uow, who: svc.move_each(
        "consent", body.chosen(uow.state, who, "consent", decision), lambda ident: (
            svc.decide_consent(uow, who, ident, decision, body.reason, on=body.on))))


@router.post("/consents/{consent_id}/actions/{decision}", tags=["consents"], response_model=Consent,
             responses=ACTIONS)
def decide_consent(request: Request, response: Response, caller: Writer, consent_id: Ident, decision: ConsentAction,
                   body: Decision | None = None, if_match: IfMatch = None) -> Consent:
    """Grant or refuse a consent (the origin member's desk officer)."""

    def decide(uow: UnitOfWork, who: svc.Caller) -> Consent:
        changed(if_match, required=False)(svc.visible_consent(uow, who, consent_id))
        return svc.decide_consent(uow, who, consent_id, decision, body.reason if body else "")

    return with_etag(response, act(request, caller, decide))


# --- deliveries --------------------------------------------------------------------------------------------------

class DispatchIn(BaseModel):
    allocation: Code
    quantity: Units
    dispatched_on: date


class ReceiptIn(BaseModel):
    received_on: date
    short: Count = 0
    damaged: Count = 0
    wrong_item: Count = 0


class Receipts(ReceiptIn, SelectedOfMember):
    pass


@router.post("/deliveries/receive", tags=["deliveries"], response_model=list[Delivery], responses=WRITES)
def receive_many(request: Request, caller: Writer, body: Receipts) -> list[Delivery]:
    """Record the receipt of several shipments at once: all of them, or none (the problem names every refusal).
    Units short, damaged or of the wrong item are stated per shipment: with them, name one."""
    if (body.short or body.damaged or body.wrong_item) and len(body.ids or ()) != 1:
        raise ValidationFailed("discrepancies are stated per shipment: name exactly one shipment with short, "
                               "damaged or wrong_item", where="ids")
    return act(request, caller, lambda uow, who: svc.move_each(
        "delivery", body.chosen(uow.state, who, "delivery", queries.RECEIVE), lambda ident: svc.receive(
            uow, who, ident, received_on=body.received_on, short=body.short, damaged=body.damaged,
            wrong_item=body.wrong_item)))


@router.get("/deliveries", tags=["deliveries"], response_model=Page[DeliveryListed],
            responses=list_responses())
def list_deliveries(request: Request, caller: Reader, paging: Pages, status: DeliveryStatus | None = None,
                    member: Filter = None, item: Filter = None, area: Filter = None,
                    sort: Annotated[str, sorting("id", "allocation", "quantity", "status", "dispatched_on")] = "id",
                    ) -> Any:
    """The shipments the caller may see, filtered by status, member, item or area."""
    st, who = state(request), caller.user
    rows = [_row(DeliveryListed, d, queries.listed_delivery(st, who, d))
            for d in queries.deliveries(st, who, status=status, member=member, item=item, area=area)]
    return listed(rows, DeliveryListed, "deliveries", paging, sort)


@router.post("/deliveries", tags=["deliveries"], status_code=201, response_model=Delivery, responses=WRITES)
def dispatch(request: Request, caller: Writer, body: DispatchIn) -> Delivery:
    """Ship units of a confirmed allocation (the donor's desk officer, or the coordinator)."""
    return act(request, caller, lambda uow, who: svc.dispatch(uow, who, allocation=body.allocation,
                                                              quantity=body.quantity,
                                                              dispatched_on=body.dispatched_on))


@router.get("/deliveries/{delivery_id}", tags=["deliveries"], response_model=queries.DeliveryView, responses=SHOWN)
def show_delivery(request: Request, response: Response, caller: Reader, delivery_id: Ident) -> queries.DeliveryView:
    view = queries.delivery(state(request), caller.user, delivery_id)
    response.headers["ETag"] = etag(view.delivery)
    return view


@router.post("/deliveries/{delivery_id}/receive", tags=["deliveries"], response_model=Delivery, responses=ACTIONS)
def receive(request: Request, response: Response, caller: Writer, delivery_id: Ident, body: ReceiptIn,
            if_match: IfMatch = None) -> Delivery:
    """Record a shipment's receipt, with units short, damaged or of the wrong item (the recipient's liaison)."""

    def take(uow: UnitOfWork, who: svc.Caller) -> Delivery:
        changed(if_match, required=False)(svc.visible_delivery(uow, who, delivery_id))
        return svc.receive(uow, who, delivery_id, received_on=body.received_on, short=body.short,
                           damaged=body.damaged, wrong_item=body.wrong_item)

    return with_etag(response, act(request, caller, take))


class Shipments(SelectedOfMember):
    pass


@router.post("/deliveries/actions/{step}", tags=["deliveries"], response_model=list[Delivery], responses=WRITES)
def track_many(request: Request, caller: Writer, step: ShipmentAction, body: Shipments) -> list[Delivery]:
    """Track several shipments at once, named or selected: all of them, or none (the problem names every
    refusal)."""
    return act(request, caller, lambda uow, who: svc.move_each(
        "delivery", body.chosen(uow.state, who, "delivery", step), lambda ident: (
            svc.track_shipment(uow, who, ident, step))))


@router.post("/deliveries/{delivery_id}/actions/{step}", tags=["deliveries"], response_model=Delivery,
             responses=ACTIONS)
def track(request: Request, response: Response, caller: Writer, delivery_id: Ident, step: ShipmentAction,
          if_match: IfMatch = None) -> Delivery:
    """Track a shipment: hub (reached the hub), handover (handed over to the recipient)."""

    def move(uow: UnitOfWork, who: svc.Caller) -> Delivery:
        changed(if_match, required=False)(svc.visible_delivery(uow, who, delivery_id))
        return svc.track_shipment(uow, who, delivery_id, step)

    return with_etag(response, act(request, caller, move))
