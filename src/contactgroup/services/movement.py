"""Open shipments as the mobility core routes them, and what a mobility zone would save them.

An open shipment is a confirmed allocation's units not yet dispatched (they leave from the offer's depot on the
planning day, or when the offer is available if later) or a delivery under way (re-planned from its depot and its
dispatch day: the record does not yet say where it is). Its ends are the offer's depot and the requirement's
destination, each a place of the transport network by its code; a shipment whose end is only a country or a region
is listed with the reason and not routed (the network cannot guess which port or depot is meant).

The network itself comes from the record (`services.mobility.network_of`); every function here takes it as a
plain `mobility.Network`, so that the rules can be tested on a `State` and a network built in the test.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from contactgroup.domain import codes
from contactgroup.domain.errors import Forbidden, InvalidTransition, NotFound, Problem, ValidationFailed
from contactgroup.domain.model import (
    AllocationStatus,
    DeliveryStatus,
    Item,
    MovementPermission,
    Offer,
    PermissionStatus,
    Role,
    ShipmentPosition,
    User,
)
from contactgroup.domain.state import State, as_data
from contactgroup.mobility import (
    Arrival,
    Comparison,
    Consignment,
    Mode,
    Network,
    NoRoute,
    Route,
    Router,
    Scheduling,
    Shipment,
    Stage,
    Zone,
    arrivals,
    compare,
)
from contactgroup.mobility.workday import WorkingDays
from contactgroup.services import access
from contactgroup.services import coordination as svc
from contactgroup.services.mobility import network_of
from contactgroup.services.transit import origin_country, transit_days
from contactgroup.storage.database import UnitOfWork

UNDER_WAY = frozenset({DeliveryStatus.DISPATCHED, DeliveryStatus.AT_HUB})
MAX_ZONE_COUNTRIES = 60  # more than the coalition has members: a longer list is a mistake, not a zone


@dataclass(frozen=True, slots=True)
class OpenShipment:
    """A shipment still to arrive: `id` is the allocation's (not yet dispatched) or the delivery's (under way)."""

    id: str
    allocation: str
    member: str  # the donor: the offer's member, or the fund's
    nationality: str  # who moves it: the member, or the managing member of a fund
    origin: str  # the offer's depot as recorded: a place code, or a country
    destination: str  # the requirement's destination as recorded
    leaves: date
    units: int
    priority: int
    needed_by: date
    dangerous: bool
    dispatched: bool

    def shipment(self, planned: date) -> Shipment:
        """As the router takes it; permissions are requested on `planned` (the day it left, if it has)."""
        return Shipment(self.id, self.origin, self.destination, self.leaves, self.nationality, self.dangerous,
                        min(planned, self.leaves))


@dataclass(frozen=True, slots=True)
class Unplaced:
    """An open shipment the network cannot route, and why."""

    shipment: OpenShipment
    reason: str


@dataclass(frozen=True, slots=True)
class ZoneComparison:
    comparison: Comparison
    shipments: tuple[OpenShipment, ...]  # routed, in the comparison's order
    unplaced: tuple[Unplaced, ...]
    on: date
    seen: frozenset[str]  # the shipments whose allocation the reader may see: the only ones listed by id
    names: Mapping[str, str]  # each place's name by its code, for the waits (a leg goes by its key)

    @property
    def hidden(self) -> int:
        """Shipments counted in the tallies but not listed, because the reader may not see their offer."""
        ids = [s.id for s in self.shipments] + [u.shipment.id for u in self.unplaced]
        return sum(1 for i in ids if i not in self.seen)


def explosive(item: Item | None) -> bool:
    """UN class 1 by the catalogue's hazard class: border rules add lead time for it."""
    return item is not None and item.explosive


def tonnes(state: State, s: OpenShipment) -> int:
    """The shipment's mass in whole tonnes, rounded up, from its item's mass per unit (0 when not catalogued)."""
    item = state.items.get(state.offers[state.allocations[s.allocation].offer].item)
    mass = item.mass_kg if item is not None else None
    return 0 if mass is None else math.ceil(mass * s.units / 1000)


def _nationality(state: State, offer: Offer) -> str:
    fund = state.funds.get(offer.member)
    return fund.manager if fund is not None else offer.member


def open_shipments(state: State, on: date) -> list[OpenShipment]:
    """Every confirmed allocation's undispatched units and every delivery under way, by id."""
    found: list[OpenShipment] = []
    for a in state.allocations.values():
        if a.status is not AllocationStatus.CONFIRMED:
            continue
        offer, req = state.offers[a.offer], state.requirements[a.requirement]
        base = OpenShipment(a.id, a.id, offer.member, _nationality(state, offer), offer.depot, req.destination,
                            max(on, offer.available_from), 0, req.priority, req.needed_by,
                            explosive(state.items.get(offer.item)), False)
        deliveries = state.where("deliveries", "allocation", a.id)
        unsent = a.quantity - sum(d.quantity for d in deliveries)
        if unsent > 0:
            found.append(replace(base, units=unsent))
        for d in deliveries:
            if d.status in UNDER_WAY:
                at = state.shipment_positions.get(d.id)
                # Under way: planned on from the last place it reached, else from its depot on the day it left.
                found.append(replace(base, id=d.id, units=d.quantity, dispatched=True,
                                     origin=at.place if at else base.origin, leaves=at.on if at else d.dispatched_on))
    return sorted(found, key=lambda s: (s.priority, s.needed_by, s.id))


def placed(network: Network, shipments: Iterable[OpenShipment]) -> tuple[list[OpenShipment], list[Unplaced]]:
    """The shipments whose two ends are places of `network`, and the others with the reason."""
    known = {p.code for p in network.places}
    routable: list[OpenShipment] = []
    unplaced: list[Unplaced] = []
    for s in shipments:
        missing = [f"{what} {code!r}" for what, code in (("depot", s.origin), ("destination", s.destination))
                   if code not in known]
        if missing:
            verb = "is not a place" if len(missing) == 1 else "are not places"
            unplaced.append(Unplaced(s, f"{' and '.join(missing)} {verb} of the network"))
        elif s.origin == s.destination:
            unplaced.append(Unplaced(s, "already at its destination"))
        else:
            routable.append(s)
    return routable, unplaced


def zone_countries(text: str) -> tuple[str, ...]:
    """Countries as a comma-separated list of ISO 3166 alpha-3 codes (NLD,DEU,POL): every bad one named at once."""
    listed = [c.strip().upper() for c in text.split(",") if c.strip()]
    if len(listed) > MAX_ZONE_COUNTRIES:
        raise ValidationFailed(f"at most {MAX_ZONE_COUNTRIES} countries, got {len(listed)}", "zone",
                               code="invalid-zone")
    bad = [Problem("zone", f"{c[:40]!r} is not an ISO 3166 alpha-3 country code")
           for c in listed if not (re.fullmatch(r"[A-Z]{3}", c) and codes.is_country(c))]
    if bad:
        raise ValidationFailed(bad, code="invalid-zone")
    countries = tuple(dict.fromkeys(listed))
    if len(countries) < 2:
        raise ValidationFailed("a zone joins at least two countries, e.g. NLD,DEU,POL", "zone", code="invalid-zone")
    return countries


def zone_of(network: Network, countries: Sequence[str], starts: date | None, on: date) -> Zone:
    """The zone to compare: the network's own zone of exactly these countries (from `starts`, if given), or a new
    one that waives every per-movement permission among them from `starts` (default: `on`)."""
    members = frozenset(countries)
    own = next((z for z in network.zones if z.countries == members), None)
    if own is not None:
        return own if starts is None else replace(own, starts=starts)
    return Zone("-".join(countries), f"zone of {', '.join(countries)}", members, starts or on)


@dataclass(frozen=True, slots=True)
class Late:
    """An open shipment whose ETA misses its requirement's needed-by date: by its route on the network, after
    waiting for room where a place or leg is full, or by the flat transit table where it has none (`routed`
    False). `reason` says where it waits, when it does (for a new permission after a refusal, for room)."""

    shipment: OpenShipment
    eta: date
    routed: bool
    reason: str = ""

    @property
    def days(self) -> int:
        return (self.eta - self.shipment.needed_by).days


def _day(when: date) -> str:
    return f"{when.day} {when:%B}"


def delays(arrival: Arrival, names: Mapping[str, str]) -> list[str]:
    """Why a planned shipment arrives later than its legs alone would take, in words that name places and
    countries, never another shipment: each border where it waits for a permission asked again after a refusal
    ("waits at Medyka for a new POL permission: refused 12 March, new request ready 19 March"), each place or leg
    full when it would pass ("Rzeszów logistics hub full 12–15 March: 3 days"), and why it is held."""
    words = renewal_waits(arrival.route, names) if isinstance(arrival.route, Route) else []
    words += [w.describe(names.get(w.resource, w.resource)) for w in arrival.waits]
    return [*words, arrival.held] if arrival.held else words


def renewal_waits(route: Route, names: Mapping[str, str]) -> list[str]:
    """Where the route waits for a permission asked again after a refusal, and until when (a new permission
    ready before the shipment reaches the border keeps nobody waiting, and is not named)."""
    return [f"waits at {names.get(step.leg.origin, step.leg.origin)} for a new {p.country} permission: "
            f"refused {_day(p.refused_on or p.requested)}, new request ready {_day(p.ready)}"
            for step, p in route.renewals() if step.waited]


def late_shipments(state: State, network: Network | None, on: date, *,
                   calendar: WorkingDays | None = None) -> list[Late]:
    """The open shipments, planned on `on`, that arrive after their needed-by date: where the network routes
    them, when they arrive once every open shipment is scheduled under the daily capacities (as `delivery plan`
    shows it: `planned_arrivals`), else by the recorded transit days (0 where none is recorded) — the
    allocation's own model. A shipment held beyond its window counts its lower bound."""
    shipments = open_shipments(state, on)
    routable, unplaced = placed(network, shipments) if network is not None else ([], [Unplaced(s, "")
                                                                                      for s in shipments])
    planned = planned_arrivals(state, network, on, calendar=calendar) if network is not None and routable else {}
    names = {p.code: p.name for p in network.places} if network is not None else {}
    flat = transit_days(state)

    def by_table(s: OpenShipment) -> date:
        return s.leaves + timedelta(flat.get((origin_country(state, s.origin), s.destination), 0))

    found: list[Late] = []
    for s in routable:
        arrival = planned.get(s.id, Arrival(None))
        if not isinstance(arrival.route, Route):
            eta, routed = by_table(s), False
        else:
            eta, routed = arrival.eta or s.needed_by + timedelta(arrival.late_days), True
        if eta > s.needed_by:
            found.append(Late(s, eta, routed, "; ".join(delays(arrival, names)) if routed else ""))
    for u in unplaced:
        s = u.shipment
        eta = by_table(s)
        if eta > s.needed_by:
            found.append(Late(s, eta, False))
    return sorted(found, key=lambda late: (late.shipment.priority, late.shipment.needed_by, late.shipment.id))


def waiting_for_permission(state: State, network: Network | None, on: date) -> dict[str, str]:
    """The open shipments, planned on `on`, that wait at a border for a permission asked again after a refusal,
    with where and until when, by id: late or not, their desks should know (the inbox says so)."""
    if network is None:
        return {}
    names = {p.code: p.name for p in network.places}
    planned = planned_arrivals(state, network, on)
    return {ident: "; ".join(words) for ident, a in planned.items()
            if isinstance(a.route, Route) and (words := renewal_waits(a.route, names))}


def late_by_requirement(state: State, network: Network | None, on: date) -> dict[str, tuple[int, date, str]]:
    """Units arriving late, the latest ETA and why that shipment waits (if it does), by requirement (what
    `report gaps` flags)."""
    found: dict[str, tuple[int, date, str]] = {}
    for late in late_shipments(state, network, on):
        req = state.allocations[late.shipment.allocation].requirement
        units, eta, why = found.get(req, (0, late.eta, late.reason))
        if (late.eta, bool(late.reason)) > (eta, bool(why)):
            eta, why = late.eta, late.reason
        found[req] = (units + late.shipment.units, eta, why)
    return found


def known_network(state: State, on: date) -> Network | None:
    """The record's network on `on`, or None where it has no place yet: then the flat transit table answers alone."""
    network = network_of(state, on)
    return network if network.places else None


def route_days(state: State, network: Network, offers: Iterable[str], destinations: Iterable[str],
               *, calendar: WorkingDays | None = None) -> dict[tuple[str, str], int]:
    """Days from each offer's `available_from` to its earliest arrival at each destination, leaving its depot that
    day with every permission requested then, by (offer id, destination): the pairs whose depot and destination
    are both places of the network and between which a route exists (the others keep the flat transit table)."""
    known = {p.code for p in network.places}
    places = sorted({d for d in destinations if d in known})
    router = Router(network, calendar) if places else None
    found: dict[tuple[str, str], int] = {}
    for ident in offers:
        offer = state.offers[ident]
        if router is None or offer.depot not in known:
            continue
        for destination in places:
            if destination == offer.depot:
                found[(ident, destination)] = 0
                continue
            route = router.route(Shipment(ident, offer.depot, destination, offer.available_from,
                                          _nationality(state, offer), explosive(state.items.get(offer.item))))
            if isinstance(route, Route):
                found[(ident, destination)] = (route.eta - offer.available_from).days
    return found


def compare_zone(state: State, network: Network, who: User, countries: Sequence[str], on: date, *,
                 starts: date | None = None, calendar: WorkingDays | None = None) -> ZoneComparison:
    """Re-plan every open shipment as of `on` without and with the zone of `countries` (see `mobility.compare`):
    each goes round the crossings refused to it, and waits where a place or leg on its route is full that day,
    scheduled as `planned_arrivals` schedules (`SCHEDULING`): without a zone the record lacks, the same ETAs as
    `delivery plan` and `report gaps` show. The tallies count every shipment (they are aggregates, as reports
    are); `who` sees by id only its own."""
    zone = zone_of(network, countries, starts, on)
    # "Without" is without any zone of the same countries, whatever its code.
    network = replace(network, zones=tuple(z for z in network.zones if z.countries != zone.countries))
    routable, unplaced = placed(network, open_shipments(state, on))
    consignments = [Consignment(s.shipment(on), s.member, s.priority, s.units, s.needed_by, tonnes(state, s),
                                refusals(state, s.id)) for s in routable]
    found = compare(network, consignments, zone, calendar=calendar, capacity=True, scheduling=SCHEDULING)
    seen = frozenset(s.id for s in (*routable, *(u.shipment for u in unplaced))
                     if access.can_see_allocation(state, who, state.allocations[s.allocation]))
    return ZoneComparison(found, tuple(routable), tuple(unplaced), on, seen, {p.code: p.name for p in network.places})


def open_shipment(state: State, who: User, ident: str, on: date) -> OpenShipment:
    """One open shipment by its id (an allocation's or a delivery's) that `who` may see; one refusal whether it
    does not exist, is not open or is hidden, so that the answer tells nothing of what `who` may not see."""
    for s in open_shipments(state, on):
        if s.id == ident and access.can_see_allocation(state, who, state.allocations[s.allocation]):
            return s
    raise NotFound(f"no open shipment {ident[:80]!r} you may see", code="not-found", kind="shipment", id=ident[:80])


def route_of(state: State, network: Network, who: User, ident: str, on: date, *,
             calendar: WorkingDays | None = None) -> Route | NoRoute:
    """The earliest-arrival route of one open shipment, planned on `on`."""
    found = open_shipment(state, who, ident, on)
    routable, unplaced = placed(network, [found])
    if unplaced:
        return NoRoute(found.shipment(on), unplaced[0].reason)
    return Router(network, calendar).route(routable[0].shipment(on), refusals(state, ident))


def scheduled_arrival(state: State, network: Network, shipment: OpenShipment, on: date, *,
                      calendar: WorkingDays | None = None) -> Arrival:
    """When `shipment` arrives once every open shipment, planned on `on`, is scheduled under the network's daily
    capacities (priorities first, then least lateness), and where it waits for room. The waits name places and
    legs, never another shipment, so scheduling what the reader may not see reveals nothing of it."""
    return planned_arrivals(state, network, on, calendar=calendar).get(shipment.id, Arrival(None))


# How every schedule the services show is made: 5 s of CP-SAT's deterministic time for the whole schedule (roughly
# seconds of one core), one worker, so that the same record always gives the same ETAs, whichever command asks.
SCHEDULING = Scheduling(seconds=5.0, deterministic=True)


def stage_rows(found: Comparison) -> list[dict[str, object]]:
    """Each side's schedule, one row per stage (level "stage", key "without" or "with"): its objective, whether it
    was proved optimal, the value found, the bound proved and the gap in percent, and the time limit in seconds."""
    sides = (("without", found.schedule_without), ("with", found.schedule_with))
    return [{"level": "stage", "key": side, "objective": s.objective, "status": s.status, "value": s.value,
             "bound": s.bound, "gap_percent": Decimal(f"{s.gap * 100:.2f}"),
             "time_limit": Decimal(f"{schedule.time_limit:g}")}
            for side, schedule in sides if schedule is not None for s in schedule.stages]


def stages_of(rows: Iterable[Mapping[str, object]]) -> dict[str, list[Stage]]:
    """The stages of each side back from `stage_rows` (or their JSON), by side."""
    found: dict[str, list[Stage]] = {"without": [], "with": []}
    for r in rows:
        if r.get("level") == "stage":
            value, bound = int(str(r["value"])), int(str(r["bound"]))
            found[str(r["key"])].append(Stage(str(r["objective"]), value, bound, r["status"] == "optimal"))
    return found


def planned_arrivals(state: State, network: Network, on: date, *,
                     calendar: WorkingDays | None = None) -> dict[str, Arrival]:
    """Every open shipment the network routes, planned on `on` and scheduled under its daily capacities, by id:
    the one schedule that `delivery plan`, `report gaps` and the inbox show. Deterministic (the same record gives
    the same schedule, as a report computed again must), and kept for the same network and shipments, so that the
    inbox and the gaps on one state pay for it once."""
    routable, _ = placed(network, open_shipments(state, on))
    consignments = tuple(Consignment(s.shipment(on), s.member, s.priority, s.units, s.needed_by, tonnes(state, s),
                                     refusals(state, s.id)) for s in routable)
    return dict(zip((s.id for s in routable), _scheduled(network, consignments, calendar), strict=True))


@functools.lru_cache(maxsize=8)
def _scheduled(network: Network, consignments: tuple[Consignment, ...],
               calendar: WorkingDays | None) -> tuple[Arrival, ...]:
    """Kept by value: the network and the consignments are frozen values, so a changed record is a new key."""
    found, _ = arrivals(Router(network, calendar), network, list(consignments), scheduling=SCHEDULING)
    return tuple(found)


def refusals(state: State, shipment: str) -> frozenset[tuple[str, Mode, date]]:
    """The (country, mode) crossings whose permission was refused for `shipment`, with the day it was refused:
    its plan goes round them, or, where no way goes round, waits for the permission asked again that day."""
    return frozenset((p.country, Mode(p.mode), p.decided_on or p.requested_on)
                     for p in state.movement_permissions.values()
                     if p.shipment == shipment and p.status is PermissionStatus.REFUSED)


def visible_permissions(state: State, who: User) -> list[MovementPermission]:
    """The permissions of shipments `who` may see, and those asked of `who`'s member (its country is entered)."""
    found = []
    for p in state.movement_permissions.values():
        allocation = state.allocations.get(p.shipment) or state.allocations.get(
            state.deliveries[p.shipment].allocation if p.shipment in state.deliveries else "")
        if p.country == who.party or (allocation is not None and access.can_see_allocation(state, who, allocation)):
            found.append(p)
    return found


def permissions_of(state: State, shipment: str) -> list[MovementPermission]:
    return [p for p in state.movement_permissions.values() if p.shipment == shipment]


# A permission's lifecycle: requested, then granted or refused by the granting member's desk; a refused one may be
# requested again (a new request after talking to the granting country), a granted one stays granted.
PERMISSION_MOVES: dict[PermissionStatus, frozenset[PermissionStatus]] = {
    PermissionStatus.REQUESTED: frozenset({PermissionStatus.GRANTED, PermissionStatus.REFUSED}),
    PermissionStatus.REFUSED: frozenset({PermissionStatus.REQUESTED}),
    PermissionStatus.GRANTED: frozenset(),
}
PERMISSION_EVENTS = {PermissionStatus.REQUESTED: "MovementPermissionRequested",
                     PermissionStatus.GRANTED: "MovementPermissionGranted",
                     PermissionStatus.REFUSED: "MovementPermissionRefused"}
MAX_REASON = 500


def _owner(state: State, s: OpenShipment) -> str:
    return state.offers[state.allocations[s.allocation].offer].member


def request_permissions(uow: UnitOfWork, caller: svc.Caller, ident: str, network: Network, *,
                        calendar: WorkingDays | None = None) -> list[MovementPermission]:
    """Request every permission the shipment's current plan needs and has not got or asked for (the donor's
    desk); each is expected ready when the route says. Nothing is requested when there is no route."""
    state = uow.state
    today = caller.clock.now().date()
    who = access.user(state, caller.user)
    found = open_shipment(state, who, ident, today)
    ctx = svc.authorized(uow, caller, "permission:request", owner=_owner(state, found))
    route = route_of(state, network, who, ident, today, calendar=calendar)
    if isinstance(route, NoRoute):
        raise ValidationFailed(f"{ident}: no route on the network: {route.reason}", code="no-route", id=ident)
    asked = []
    for p in route.permissions:
        key = f"{ident}/{p.country}/{p.mode.value}"
        current = state.movement_permissions.get(key)
        if current is not None and current.status is not PermissionStatus.REFUSED:
            continue  # already asked for, or granted
        asked.append(MovementPermission(key, ident, p.country, p.mode.value, PermissionStatus.REQUESTED,
                                        p.requested, p.ready))
    svc.record_events(uow, [ctx.event(PERMISSION_EVENTS[p.status], as_data(p)) for p in asked])
    return asked


def decide_permission(uow: UnitOfWork, caller: svc.Caller, key: str, grant: bool, reason: str = "",
                      ) -> MovementPermission:
    """Grant or refuse a requested permission: the desk of the member whose country it enters, or, for the
    recipient's own country (which is no member and has no desk), the recipient's liaison. A refusal makes the
    shipment's plan go round that crossing where another way exists, else wait for the permission asked again on
    the day of the refusal (`route_of`)."""
    state = uow.state
    current = state.movement_permissions.get(key)
    if current is None:
        raise NotFound(f"no movement permission {key[:120]!r}", code="not-found", kind="permission", id=key[:120])
    ctx = svc.authorized(uow, caller, "permission:decide", owner=current.country)
    who = access.user(state, caller.user)
    if who.role is Role.RECIPIENT_LIAISON and current.country != state.recipient:
        raise Forbidden(f"{who.name} is the recipient's liaison and decides only on entering {state.recipient}, "
                        f"not {current.country}", code="other-member", user=who.name, action="permission:decide",
                        owner=current.country)
    to = PermissionStatus.GRANTED if grant else PermissionStatus.REFUSED
    if to not in PERMISSION_MOVES[current.status]:
        raise InvalidTransition("permission", key, current.status.value, to.value)
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"at most {MAX_REASON} characters, got {len(reason)}", "reason")
    decided = replace(current, status=to, decided_on=ctx.at.date(), reason=reason)
    svc.record_events(uow, [ctx.event(PERMISSION_EVENTS[to], as_data(decided))])
    return decided


def record_position(uow: UnitOfWork, caller: svc.Caller, ident: str, place: str, on: date,
                    network: Network) -> ShipmentPosition:
    """A shipment under way reached `place` on `on` (the donor's desk, as it ships): its plan continues from
    there."""
    state = uow.state
    who = access.user(state, caller.user)
    found = open_shipment(state, who, ident, on)
    ctx = svc.authorized(uow, caller, "delivery:ship", owner=_owner(state, found))
    problems = []
    if not found.dispatched:
        problems.append(Problem("shipment", f"{ident} has not been dispatched: only a shipment under way moves"))
    if place not in {p.code for p in network.places}:
        problems.append(Problem("place", f"unknown place {place[:80]!r}: not a place of the network"))
    if on < found.leaves:
        problems.append(Problem("on", f"{on} is before {found.leaves}, when it left its last place"))
    if on > ctx.at.date():
        problems.append(Problem("on", f"{on} is in the future (today is {ctx.at.date()}): record a place once "
                                      "reached"))
    if problems:
        raise ValidationFailed(problems)
    position = ShipmentPosition(ident, place, on)
    svc.record_events(uow, [ctx.event("ShipmentReachedPlace", as_data(position))])
    return position
