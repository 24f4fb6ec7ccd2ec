"""Earliest-arrival routes through the network, with the border permissions they need.

Every permission is requested on the planning day and is ready after its lead time, counted on the working days
of the granting country (`workday.py`); a shipment that reaches a border before its permission is ready waits
there. A leg whose ends lie in two countries crosses into the country of its end, and that country's rule for
the leg's mode decides; the departure day of that leg is the crossing day.

Why a label-setting Dijkstra is exact here although the network is time-dependent: every way across a border
(no permission needed, the rule's permission, a zone's waiver or shorter lead from its start day on) is usable on
every day from some day `ready_o` on, so a shipment that reaches the leg on day `a` may leave on
`dep(a) = min over o of max(a, ready_o) = max(a, min over o of ready_o)`, and arrives `dep(a) + transit` days
later. That is non-decreasing in `a`: arriving earlier never makes one arrive later (the FIFO property; waiting
is what makes it hold). Then the earliest arrival at every place is reached by a path whose prefixes are
themselves earliest arrivals, so the first time a place is taken off the heap its arrival day is final, exactly
as with constant lengths (Dreyfus 1969; Kaufman and Smith 1993): only the "length" of a leg is evaluated at the
day its start is reached. The earliest `ready_o` of a crossing depends on the shipment's nationality, goods,
planning day and refusals, never on the route, so it is worked out once per crossing and kept for the next
shipment alike.

A refusal re-routes where another route exists, else waits: the search first treats a refused crossing as closed
(unless a zone or a pre-authorisation needs no permission there); only if that finds no route does it search
again with the refused permission requested anew on the day it was refused, ready after the same lead time. That
is one more way across, usable from its ready day on, so the argument above holds for the second search too; a
shipment that takes it waits at the last place before the border (`Route.renewals`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from contactgroup.domain import codes
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.model import FIRST_DAY, LAST_DAY
from contactgroup.mobility.network import Leg, Mode, Network, check
from contactgroup.mobility.workday import WorkingDays

FREE = -(10**9)  # the "ready" day of a crossing that needs no permission: any arrival day can leave at once


@dataclass(frozen=True, slots=True)
class Shipment:
    """What moves: from place `origin` to place `destination`, leaving on `leaves`, moved by a donor of
    `nationality` (ISO alpha-3); `dangerous` for UN class 1. Permissions are requested on `planned` (the leaving
    day when None)."""

    id: str
    origin: str
    destination: str
    leaves: date
    nationality: str
    dangerous: bool = False
    planned: date | None = None

    @property
    def requested(self) -> date:
        return self.planned or self.leaves


@dataclass(frozen=True, slots=True)
class Permission:
    """A movement permission the route needs: into `country` by `mode` on `leg`, granted `lead_days` working
    days after the request (`zone` names the zone whose shorter lead time applied). `refused_on`: an earlier
    request was refused that day, and this is the new one, made the same day (no other route existed)."""

    country: str
    mode: Mode
    leg: str
    lead_days: int
    requested: date
    ready: date
    zone: str | None = None
    refused_on: date | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One leg of a route: reached its start on `reached`, left on `departs` (later when waiting for a permission
    or a zone's start), arrives on `arrives`. `zone` names a zone that removed the permission."""

    leg: Leg
    reached: date
    departs: date
    arrives: date
    zone: str | None = None

    @property
    def waited(self) -> int:
        return (self.departs - self.reached).days


@dataclass(frozen=True, slots=True)
class Route:
    shipment: Shipment
    steps: tuple[Step, ...]
    permissions: tuple[Permission, ...]
    eta: date

    def renewals(self) -> tuple[tuple[Step, Permission], ...]:
        """Each border crossed with a permission requested anew after a refusal, with the step that crosses it:
        where the step waited, it waited at its origin, from `reached` to `departs`, for that permission."""
        steps = {step.leg.key: step for step in self.steps}
        return tuple((steps[p.leg], p) for p in self.permissions if p.refused_on is not None)


@dataclass(frozen=True, slots=True)
class NoRoute:
    """No route exists, and why (no legs lead there: a refused border alone never leaves none, see `Router.route`)."""

    shipment: Shipment
    reason: str


Refusals = frozenset[tuple[str, Mode, date]]  # (country, mode) whose permission was refused, and the day
Refused = Mapping[tuple[str, Mode], date] | Iterable[tuple[str, Mode] | tuple[str, Mode, date]]


def refusal_days(refused: Refused, planned: date) -> Refusals:
    """Refusals as (country, mode, day refused), a refusal given without its day dated `planned`."""
    if isinstance(refused, Mapping):
        return frozenset((country, mode, day) for (country, mode), day in refused.items())
    return frozenset((r[0], r[1], r[2] if len(r) == 3 else planned) for r in refused)


@dataclass(frozen=True, slots=True)
class _Option:
    """One way across a border: leave no earlier than `ready` (an ordinal day), needing `permission`; `opens` is
    the day it exists from (a zone's start), whatever the permission."""

    ready: int
    permission: Permission | None
    zone: str | None
    opens: int = FREE


Crossing = tuple[str, str, Mode]  # (from country, into country, mode)
_Edge = tuple[int, int, "Crossing | None", Leg]  # (head place, transit days, crossing, leg)
# What a crossing's options depend on: nationality, goods, planning day, refusals, and whether refused permissions
# are requested anew.
_Context = tuple[str, bool, date, Refusals, bool]


class Router:
    """Routes on one network; compiled once (indexes, adjacency, rules by country and mode), then `route` per
    shipment. Working-day results are cached in `calendar`, so a batch of shipments pays for each once."""

    def __init__(self, network: Network, calendar: WorkingDays | None = None) -> None:
        check(network)
        self.network = network
        self.calendar = calendar or WorkingDays()
        self.index = {p.code: i for i, p in enumerate(network.places)}
        country = [p.country for p in network.places]
        self.adjacent: list[list[_Edge]] = [[] for _ in network.places]
        for leg in network.legs:
            a, b = country[self.index[leg.origin]], country[self.index[leg.to]]
            self.adjacent[self.index[leg.origin]].append(
                (self.index[leg.to], leg.transit_days, (a, b, leg.mode) if a != b else None, leg))
        self.rules = {(r.country, r.mode): r for r in network.rules}
        self._crossings: dict[tuple[Crossing, _Context], _Option | None] = {}

    def route(self, shipment: Shipment, refused: Refused = ()) -> Route | NoRoute:
        """The earliest-arrival route for `shipment`, avoiding crossings whose permission was `refused` (a zone
        or a pre-authorisation that needs none still passes). Where every route crosses a refused border, the
        earliest one with the refused permissions requested anew on the day each was refused, which the shipment
        waits for. NoRoute with the reason when no legs lead there. A refusal is (country, mode, day refused), or
        (country, mode) when the planning day stands for the day; a mapping (country, mode) -> day is one too."""
        problems = self.shipment_problems(shipment)
        if problems:
            raise ValidationFailed(problems, code="invalid-shipment")
        refusals = refusal_days(refused, shipment.requested)
        found = _Search(self, shipment, refusals, renew=False).run()
        if found is None and refusals:
            found = _Search(self, shipment, refusals, renew=True).run()
        if found is None:
            return NoRoute(shipment, f"no legs lead from {shipment.origin} to {shipment.destination}")
        return found

    def shipment_problems(self, shipment: Shipment) -> list[Problem]:
        found = [Problem(f"shipment.{field}", f"unknown place {getattr(shipment, field)!r}")
                 for field in ("origin", "destination") if getattr(shipment, field) not in self.index]
        if not codes.is_country(shipment.nationality):
            found.append(Problem("shipment.nationality", f"{shipment.nationality!r} is not an ISO 3166 alpha-3 "
                                                         f"country code"))
        for field in ("leaves", "planned"):
            day = getattr(shipment, field)
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                found.append(Problem(f"shipment.{field}", f"must be between {FIRST_DAY} and {LAST_DAY}, got {day}"))
        return found

    def crossing(self, crossing: Crossing, shipment: Shipment, refused: Refusals, renew: bool = False,
                 ) -> _Option | None:
        """The usable way across `crossing` that opens first (no permission before a permission on the same day),
        or None when every way needs a refused permission; with `renew`, a refused permission is a way too,
        requested anew on the day it was refused. Its permission names no leg yet (`_Search._route` fills it
        in): it is the same for every leg of the crossing."""
        key = (crossing, (shipment.nationality, shipment.dangerous, shipment.requested, refused, renew))
        if key not in self._crossings:
            refused_on = next((day for country, mode, day in refused if (country, mode) == crossing[1:]), None)
            usable = [o if o.permission is None or refused_on is None else self._renewed(o, refused_on)
                      for o in self.options(crossing, shipment)
                      if o.permission is None or refused_on is None or renew]
            self._crossings[key] = min(usable, key=lambda o: (o.ready, o.permission is not None), default=None)
        return self._crossings[key]

    def _renewed(self, option: _Option, refused_on: date) -> _Option:
        """`option`'s permission requested anew on `refused_on`, the day the earlier request was refused."""
        assert option.permission is not None
        permit = option.permission
        ready = self.calendar.ready(permit.country, refused_on, permit.lead_days)
        return replace(option, ready=max(option.opens, ready.toordinal()),
                       permission=replace(permit, requested=refused_on, ready=ready, refused_on=refused_on))

    def options(self, crossing: Crossing, shipment: Shipment) -> list[_Option]:
        """Every way across `crossing` for `shipment`, refused ones included."""
        origin, country, mode = crossing
        rule = self.rules.get((country, mode))
        if rule is None or not rule.permission or shipment.nationality in rule.preauthorised | {country}:
            return [_Option(FREE, None, None)]
        lead = rule.lead_days + (rule.dangerous_extra_days if shipment.dangerous else 0)
        found = [self._permission(country, mode, shipment, lead, None)]
        for zone in self.network.zones:
            if {origin, country} <= zone.countries and mode in zone.modes:
                starts = zone.starts.toordinal()
                if zone.lead_days is None:
                    found.append(_Option(starts, None, zone.code, starts))
                elif zone.lead_days < lead:
                    shorter = self._permission(country, mode, shipment, zone.lead_days, zone.code)
                    found.append(_Option(max(starts, shorter.ready), shorter.permission, zone.code, starts))
        return found

    def _permission(self, country: str, mode: Mode, shipment: Shipment, lead: int, zone: str | None) -> _Option:
        ready = self.calendar.ready(country, shipment.requested, lead)
        return _Option(ready.toordinal(), Permission(country, mode, "", lead, shipment.requested, ready, zone), zone)


class _Search:
    """One time-dependent Dijkstra (see the module's docstring for why it is exact)."""

    def __init__(self, router: Router, shipment: Shipment, refused: Refusals, *, renew: bool) -> None:
        self.router, self.shipment, self.refused, self.renew = router, shipment, refused, renew
        self.crossings: dict[Crossing, _Option | None] = {}
        # place -> (the edge that reached it, the day its start was reached, departure day, crossing option used)
        self.came: dict[int, tuple[_Edge, int, int, _Option | None]] = {}

    def run(self) -> Route | None:
        start, goal = self.router.index[self.shipment.origin], self.router.index[self.shipment.destination]
        # Labels are (arrival day, permissions asked again): among routes arriving the same day, one that waits
        # for fewer refused permissions is kept (a tie-break only: the arrival day alone is what is exact).
        best = {start: (self.shipment.leaves.toordinal(), 0)}
        heap = [(*best[start], start)]
        done: set[int] = set()
        crossings = self.crossings
        while heap:
            day, renewed, place = heapq.heappop(heap)
            if place == goal:
                return self._route(goal)
            if place in done:
                continue
            done.add(place)
            for edge in self.router.adjacent[place]:
                head, transit, crossing, _ = edge
                option = None if crossing is None else (
                    crossings[crossing] if crossing in crossings else self._crossing(crossing))
                if head in done or (crossing is not None and option is None):
                    continue
                departs = day if option is None or option.ready <= day else option.ready
                label = (departs + transit, renewed + (option is not None and option.permission is not None
                                                       and option.permission.refused_on is not None))
                if label < best.get(head, (label[0] + 1, 0)):
                    best[head] = label
                    self.came[head] = (edge, day, departs, option)
                    heapq.heappush(heap, (*label, head))
        return None

    def _crossing(self, crossing: Crossing) -> _Option | None:
        if crossing not in self.crossings:
            self.crossings[crossing] = self.router.crossing(crossing, self.shipment, self.refused, self.renew)
        return self.crossings[crossing]

    def _route(self, goal: int) -> Route:
        steps: list[Step] = []
        permissions: list[Permission] = []
        place = goal
        while place in self.came:
            (_, transit, _, leg), reached, departs, option = self.came[place]
            zone = option.zone if option is not None and option.permission is None else None
            steps.append(Step(leg, date.fromordinal(reached), date.fromordinal(departs),
                              date.fromordinal(departs + transit), zone))
            if option is not None and option.permission is not None:
                permissions.append(replace(option.permission, leg=leg.key))
            place = self.router.index[leg.origin]
        steps.reverse()
        permissions.reverse()
        eta = steps[-1].arrives if steps else self.shipment.leaves
        return Route(self.shipment, tuple(steps), tuple(permissions), eta)
