"""`/api/v1/offers` and `/api/v1/funds`: what members offer, as each caller may see it (an offer the caller may
not see answers 404 exactly like one that does not exist), and the funds members pledge to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
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
    SelectedOfMember,
    Text,
    Units,
    act,
    as_json,
    changed,
    list_responses,
    listed,
    listed_shared,
    sorting,
    state,
    tagged,
)
from contactgroup.api.routing import Router
from contactgroup.domain.model import Contribution, Fund, Offer, OfferStatus, Source, ValuationBasis, Visibility
from contactgroup.domain.workflow import OfferAction
from contactgroup.services import coordination as svc
from contactgroup.services import queries
from contactgroup.storage.database import UnitOfWork

router = Router(prefix="/api/v1")

Currency = Annotated[str, Field(pattern="^[A-Z]{3}$")]
OfferId = Annotated[str, Path(min_length=1, max_length=64, description="an offer id, e.g. O-00001")]
Money = Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=2)]
WRITES = problem_responses(400, 401, 403, 404, 409)
CHANGES = {**TAGGED, **problem_responses(400, 401, 403, 404, 409, 412, 428)}
ACTIONS = {**TAGGED, **problem_responses(400, 401, 403, 404, 409, 412)}


class OfferIn(BaseModel):
    member: Code = Field(description="the offering member (or a fund)")
    item: Code
    quantity: Units
    available_from: date
    depot: Code = Field(description="the country it ships from (ISO3)")
    source: Source = Source.STOCKS
    visibility: Visibility = Visibility.MEMBER
    value: Money | None = Field(default=None, description="declared total value; default the catalogue's")
    currency: Currency | None = None
    basis: ValuationBasis | None = None
    consent_from: Code | None = Field(default=None, description="the member whose re-export consent is needed")
    end_use: Text = ""
    status: OfferStatus = Field(default=OfferStatus.OFFERED, description="draft, offered or committed")
    committed_on: date | None = Field(default=None, description="with status committed: the day it was pledged")


class OfferChange(BaseModel):
    """What an amendment changes; a field left out stays as it is."""

    quantity: Units | None = None
    available_from: date | None = None
    depot: Code | None = None
    value: Money | None = None
    currency: Currency | None = None
    basis: ValuationBasis | None = None
    visibility: Visibility | None = None
    end_use: Text | None = None
    on: date | None = Field(default=None, description="the day the change was really made")


class OfferMove(BaseModel):
    reason: Text = ""
    on: date | None = Field(default=None, description="commit: the day it was pledged (default today)")


@router.get("/offers", tags=["offers"], response_model=Page[Offer], responses=list_responses())
def list_offers(
    request: Request, caller: Reader, paging: Pages,
    member: Annotated[str | None, Query(max_length=64)] = None,
    status: OfferStatus | None = None,
    item: Annotated[str | None, Query(max_length=64)] = None,
    area: Annotated[str | None, Query(max_length=64)] = None,
    sort: Annotated[str, sorting("id", "member", "item", "quantity", "available_from", "status")] = "id",
) -> Any:
    """The offers the caller may see, filtered by member, status, item or capability area."""
    who = caller.user  # which offers a reader may see depends on its role and party only (access.can_see_offer)
    return listed_shared(request, (who.role, who.party, member, status, item, area), lambda: queries.offers(
        state(request), who, member=member, status=status, item=item, area=area), Offer, "offers", paging, sort)


@router.post("/offers", tags=["offers"], status_code=201, response_model=Offer, responses={**CREATED, **WRITES})
def enter_offer(request: Request, caller: Writer, body: OfferIn) -> Any:
    """Enter an offer as a draft, or straight on to offered or committed (a member's desk officer, or the
    coordinator)."""
    offer = Offer(id="", member=body.member, item=body.item, quantity=body.quantity,
                    available_from=body.available_from, depot=body.depot, source=body.source,
                    status=OfferStatus.DRAFT, visibility=body.visibility, value=body.value, currency=body.currency,
                    basis=body.basis, consent_from=body.consent_from, end_use=body.end_use)
    return as_json(act(request, caller, lambda uow, who: svc.enter_offer(
        uow, who, offer, status=body.status, committed_on=body.committed_on)), status=201)


@router.get("/offers/{offer_id}", tags=["offers"], response_model=Offer,
            responses={**TAGGED, **problem_responses(400, 401, 404)})
def show_offer(request: Request, response: Response, caller: Reader, offer_id: OfferId) -> Offer:
    return tagged(response, queries.offer(state(request), caller.user, offer_id))


@router.patch("/offers/{offer_id}", tags=["offers"], response_model=Offer, responses=CHANGES)
def amend_offer(request: Request, response: Response, caller: Writer, offer_id: OfferId, body: OfferChange,
                if_match: IfMatch = None) -> Offer:
    """Amend an offer's terms (`If-Match` required)."""

    def amend(uow: UnitOfWork, who: svc.Caller) -> Offer:
        changed(if_match)(svc.visible_offer(uow, who, offer_id))
        return svc.amend_offer(uow, who, offer_id, quantity=body.quantity, available_from=body.available_from,
                               depot=body.depot, value=body.value, currency=body.currency, basis=body.basis,
                               visibility=body.visibility, end_use=body.end_use, on=body.on)

    return tagged(response, act(request, caller, amend))


@router.post("/offers/{offer_id}/actions/{action}", tags=["offers"], response_model=Offer, responses=ACTIONS)
def move_offer(request: Request, response: Response, caller: Writer, offer_id: OfferId, action: OfferAction,
               body: OfferMove | None = None, if_match: IfMatch = None) -> Offer:
    """Move an offer through its lifecycle: make (offer a draft), commit, withdraw."""
    said = body or OfferMove()

    def move(uow: UnitOfWork, who: svc.Caller) -> Offer:
        changed(if_match, required=False)(svc.visible_offer(uow, who, offer_id))
        return svc.move_offer(uow, who, offer_id, action, on=said.on, reason=said.reason)

    return tagged(response, act(request, caller, move))


class OfferMoves(OfferMove, SelectedOfMember):
    pass


@router.post("/offers/actions/{action}", tags=["offers"], response_model=list[Offer], responses=WRITES)
def move_offers(request: Request, caller: Writer, action: OfferAction, body: OfferMoves) -> list[Offer]:
    """Move several offers at once, named or selected: all of them, or none (the problem names every refusal)."""
    return act(request, caller, lambda uow, who: svc.move_each(
        "offer", body.chosen(uow.state, who, "offer", action), lambda ident: svc.move_offer(
            uow, who, ident, action, on=body.on, reason=body.reason)))


@router.get("/offers/{offer_id}/history", tags=["offers"], response_model=list[queries.HistoryEntry],
            responses=problem_responses(400, 401, 404))
def offer_history(request: Request, caller: Reader, offer_id: OfferId) -> list[queries.HistoryEntry]:
    """Every event of the offer, with its log index."""
    return queries.history_of(request.app.state.store.db, caller.user.name, queries.HistoryKind.OFFER, offer_id)


# --- funds -------------------------------------------------------------------------------------------------------

class FundIn(BaseModel):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    manager: Code
    area: Code


class PledgeIn(BaseModel):
    member: Code
    amount: Money
    currency: Currency
    pledged_on: date


@dataclass(frozen=True, slots=True)
class FundListed:
    """A fund, how many members contributed and how many pledges it holds."""

    code: str
    name: str
    manager: str
    area: str
    contributors: int
    pledges: int


def _fund_row(row: queries.FundRow) -> FundListed:
    f = row.fund
    return FundListed(f.code, f.name, f.manager, f.area, row.contributors, row.pledges)


@router.get("/funds", tags=["funds"], response_model=Page[FundListed], responses=list_responses())
def list_funds(request: Request, caller: Reader, paging: Pages,
               sort: Annotated[str, sorting("code", "name", "area", "contributors")] = "code") -> Any:
    """Every fund, with its contributors and pledges."""
    rows = [_fund_row(r) for r in queries.funds(state(request))]
    return listed(rows, FundListed, "funds", paging, sort, lambda r: str(r.code))


@router.post("/funds", tags=["funds"], status_code=201, response_model=Fund, responses=WRITES)
def create_fund(request: Request, caller: Writer, body: FundIn) -> Fund:
    fund = Fund(body.code, body.name, body.manager, body.area)
    act(request, caller, lambda uow, who: svc.create_fund(uow, who, fund))
    return fund


@router.get("/funds/{code}", tags=["funds"], response_model=queries.FundView,
            responses=problem_responses(400, 401, 404))
def show_fund(request: Request, caller: Reader, code: Annotated[str, Path(max_length=64)]) -> queries.FundView:
    """A fund: who pledged what (in EUR at the pledge date, and each member's share), and the offers it made that
    the caller may see (the others only as a count and a total)."""
    return queries.fund(state(request), code, caller.user)


@router.post("/funds/{code}/pledges", tags=["funds"], status_code=201, response_model=Contribution,
             responses=WRITES)
def pledge(request: Request, caller: Writer, code: Annotated[str, Path(max_length=64)],
           body: PledgeIn) -> Contribution:
    """Pledge a member's contribution to a fund (its desk officer, or the coordinator)."""
    return act(request, caller, lambda uow, who: svc.contribute(uow, who, fund=code, member=body.member,
                                                                amount=body.amount, currency=body.currency,
                                                                pledged_on=body.pledged_on))
