"""`/api/v1` over military mobility: a shipment's plan, where it reached, the movement permissions its borders need
(requested by the donor's desk, granted or refused by the granting member's), what a mobility zone would save the
open shipments, and the network's map. The same services as `contactgroup mobility` and `delivery plan|reached|
permission`: a shipment the caller may not see answers 404 exactly like a missing one, and a comparison lists by id
only the shipments whose allocation the caller may see (the others are counted in its tallies)."""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from contactgroup.api.caller import Reader, Writer
from contactgroup.api.problem import problem_responses
from contactgroup.api.resource import Page, Pages, act, list_responses, listed, sorting, state
from contactgroup.api.routing import Router
from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import MovementPermission, ShipmentPosition
from contactgroup.domain.text import day
from contactgroup.reports.facts import is_synthetic
from contactgroup.services import movement, movement_view
from contactgroup.services.mobility import network_of

router = Router(prefix="/api/v1")

# Longer than any id: an unknown one is refused by the service as the command line refuses it (not found)
Ident = Annotated[str, Path(min_length=1, max_length=200)]
# A planning day as `--from` takes it (YYYY-MM-DD within the record's range); absent: the server's today.
From = Annotated[str | None, Query(alias="from", max_length=40, description=(
    "plan as of this day, YYYY-MM-DD (default: today): shipments not yet dispatched leave no earlier, every "
    "permission is requested on it and the border rules are those in force on it"))]
READS = problem_responses(400, 401, 404)
WRITES = problem_responses(400, 401, 403, 404, 409)
SVG = "image/svg+xml"


def _planned(request: Request, text: str | None) -> date:
    """The planning day `from` names, else the server's today."""
    today: date = request.app.state.clock.now().date()
    return movement_view.planning_day_at(text, "from", today)


# --- a shipment: its plan, where it reached, the permissions its route needs -------------------------------------

@router.get("/shipments/{shipment_id}/plan", tags=["mobility"], response_model=movement_view.ShipmentPlan,
            responses=READS)
def shipment_plan(request: Request, caller: Reader, shipment_id: Ident, from_: From = None,
                  ) -> movement_view.ShipmentPlan:
    """An open shipment's plan (a confirmed allocation's units not yet dispatched, by the allocation's id, or a
    delivery under way): its earliest-arrival route leg by leg, the permission each border needs and where it
    stands, and the ETA once every open shipment is scheduled under the network's capacities. `no_route` says why
    there is none (then `steps` is empty)."""
    st = state(request)
    return movement_view.shipment_plan(st, caller.user, shipment_id, _planned(request, from_),
                                       synthetic=is_synthetic(st))


class PositionIn(BaseModel):
    place: Annotated[str, Field(min_length=1, max_length=200,
                                description="the code of the place of the network it reached")]
    on: str = Field(max_length=40, description="the day it reached it, YYYY-MM-DD")


@router.post("/shipments/{shipment_id}/positions", tags=["mobility"], status_code=201,
             response_model=ShipmentPosition, responses=WRITES)
def record_position(request: Request, caller: Writer, shipment_id: Ident, body: PositionIn) -> ShipmentPosition:
    """A shipment under way reached a place (the donor's desk): its plan continues from there."""
    try:
        on = day(body.on)
    except ValueError as exc:
        raise ValidationFailed(str(exc), where="on") from None
    return act(request, caller, lambda uow, who: movement.record_position(
        uow, who, shipment_id, body.place, on, network_of(uow.state, on)))


@router.post("/shipments/{shipment_id}/permissions", tags=["mobility"], response_model=list[MovementPermission],
             responses=WRITES)
def request_permissions(request: Request, caller: Writer, shipment_id: Ident) -> list[MovementPermission]:
    """Request every permission the shipment's plan (as of today) needs and has not got (the donor's desk): the
    ones requested now, none when every one is asked for or granted."""
    return act(request, caller, lambda uow, who: movement.request_permissions(
        uow, who, shipment_id, network_of(uow.state, who.clock.now().date())))


# --- movement permissions ----------------------------------------------------------------------------------------

@router.get("/movement-permissions", tags=["mobility"], response_model=Page[MovementPermission],
            responses=list_responses())
def list_permissions(request: Request, caller: Reader, paging: Pages,
                     shipment: Annotated[str | None, Query(max_length=64, description="only this shipment's")] = None,
                     sort: Annotated[str, sorting("key", "shipment", "country", "status", "requested_on",
                                                  "ready")] = "key") -> Any:
    """The movement permissions of the shipments the caller may see, and those that enter its member's country."""
    rows = [p for p in movement.visible_permissions(state(request), caller.user)
            if shipment is None or p.shipment == shipment]
    return listed(rows, MovementPermission, "movement-permissions", paging, sort, key=lambda p: str(p.key))


class Decision(enum.StrEnum):
    GRANT = "grant"
    REFUSE = "refuse"


class DecisionIn(BaseModel):
    key: Annotated[str, Field(min_length=1, max_length=200, description="SHIPMENT/COUNTRY/MODE")]
    # the service refuses a reason over 500 characters, naming it as the command line does; the body's own limit
    # bounds what is read
    reason: str = Field(default="", description="refuse: why, for the donor's desk (at most 500 characters)")


@router.post("/movement-permissions/actions/{decision}", tags=["mobility"], response_model=MovementPermission,
             responses=WRITES)
def decide_permission(request: Request, caller: Writer, decision: Decision, body: DecisionIn) -> MovementPermission:
    """Grant or refuse a requested permission (the desk of the member whose country the shipment enters; for the
    recipient itself, its liaison). A refusal makes the shipment's plan go round that crossing where another way
    exists, else wait."""
    return act(request, caller, lambda uow, who: movement.decide_permission(
        uow, who, body.key, decision is Decision.GRANT, body.reason))


# --- what a zone saves, and the map ------------------------------------------------------------------------------

ZONE = Annotated[str, Query(min_length=1, max_length=1000, description=(
    "the zone's countries, ISO 3166 alpha-3, comma-separated: NLD,DEU,POL (at most "
    f"{movement.MAX_ZONE_COUNTRIES})"))]


@router.get("/mobility/compare", tags=["mobility"], response_model=movement_view.ZoneView, responses=READS)
def compare_zone(request: Request, caller: Reader, zone: ZONE, from_: From = None,
                 zone_starts: Annotated[str | None, Query(max_length=40, description=(
                     "the day the zone takes effect (default: the network's zone's own start, else the planning "
                     "day)"))] = None) -> movement_view.ZoneView:
    """Re-plan every open shipment without and with a mobility zone, as `contactgroup mobility compare`: days
    saved per shipment (those the caller may see), priority tier and member, the change in days late and in units
    arriving by their needed-by date. `rows` are the command's rows, one `level` each."""
    countries = movement.zone_countries(zone)
    on = _planned(request, from_)
    starts = movement_view.planning_day_at(zone_starts, "zone_starts", on) if zone_starts is not None else None
    st = state(request)
    return movement_view.zone_view(st, caller.user, countries, on, starts=starts, synthetic=is_synthetic(st))


@router.get("/mobility/map", tags=["mobility"], response_class=Response,
            responses={200: {"content": {SVG: {"schema": {"type": "string"}}},
                             "description": "the map, an SVG document"}, **READS})
def network_map(request: Request, caller: Reader, from_: From = None,
                shipment: Annotated[str | None, Query(min_length=1, max_length=64, description=(
                    "draw this open shipment's earliest-arrival route: an allocation's id (not yet dispatched) or "
                    "a delivery's (under way)"))] = None) -> Response:
    """The transport network as an SVG map from its places' coordinates (no map tiles): legs by mode, places by
    kind; with `shipment`, its route, its days and the permissions it needs."""
    svg = movement_view.map_svg(state(request), caller.user, shipment, _planned(request, from_))
    return Response(svg, media_type=SVG)
