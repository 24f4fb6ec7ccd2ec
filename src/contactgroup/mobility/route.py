"""Earliest-arrival routes through the network, with the border permissions they need.

Every permission is requested on the planning day and is ready after its lead time, counted on the working days
of the granting country (`workday.py`); a shipment that reaches a border before its permission is ready waits
there. A leg whose ends lie in two countries crosses into the country of its end, and that country's rule for
the leg's mode decides; the departure day of that leg is the crossing day.

Why a label-setting Dijkstra is exact here although the network is time-dependent: the earliest day a shipment
can leave a place along a leg, given the day it arrived there, is `dep(a) = min over the crossing's options o
of max(a, ready_o)` (an option is: no permission needed, the rule's permission, or a zone's from its start day
on), and it arrives `dep(a) + transit` days later. Each such function is non-decreasing in `a`: arriving
earlier never makes one arrive later (the FIFO property, which waiting makes hold). Then the earliest arrival at
every place is reached by a path whose prefixes are themselves earliest arrivals, so the first time a place is
taken off the heap its arrival day is final, exactly as with constant lengths (Dreyfus 1969; Kaufman and Smith
1993). Only the arrival days differ from the static case: edge "lengths" are evaluated at the label's time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from contactgroup.domain.errors import ValidationFailed
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
    days after the request (`zone` names the zone whose shorter lead time applied)."""

    country: str
    mode: Mode
    leg: str
    lead_days: int
    requested: date
    ready: date
    zone: str | None = None


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


@dataclass(frozen=True, slots=True)
class NoRoute:
    """No route exists, and why (no leg leads there, or every way crosses a refused border)."""

    shipment: Shipment
    reason: str


Refusals = frozenset[tuple[str, Mode]]  # (country, mode) whose permission was refused


@dataclass(frozen=True, slots=True)
class _Option:
    """One way across a border: leave no earlier than `ready` (an ordinal day), needing `permission`."""

    ready: int
    permission: Permission | None
    zone: str | None


@dataclass(frozen=True, slots=True)
class _Edge:
    leg: Leg
    head: int
    crossing: tuple[str, str, Mode] | None  # (from country, into country, mode)


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
                _Edge(leg, self.index[leg.to], (a, b, leg.mode) if a != b else None))
        self.rules = {(r.country, r.mode): r for r in network.rules}

    def route(self, shipment: Shipment, refused: Iterable[tuple[str, Mode]] = ()) -> Route | NoRoute:
        """The earliest-arrival route for `shipment`, avoiding crossings whose permission was `refused` (a zone
        or a pre-authorisation that needs none still passes); NoRoute with the reason when there is none."""
        for field in ("origin", "destination"):
            if getattr(shipment, field) not in self.index:
                raise ValidationFailed(f"unknown place {getattr(shipment, field)!r}", f"shipment.{field}",
                                       code="unknown-place")
        search = _Search(self, shipment, frozenset(refused))
        found = search.run()
        if found is None:
            return NoRoute(shipment, self._why_not(shipment, search.refused))
        return found

    def options(self, crossing: tuple[str, str, Mode], shipment: Shipment, leg: Leg) -> list[_Option]:
        """Every way across `crossing` for `shipment`, refused ones included (the caller drops them)."""
        origin, country, mode = crossing
        rule = self.rules.get((country, mode))
        if rule is None or not rule.permission or shipment.nationality in rule.preauthorised | {country}:
            return [_Option(FREE, None, None)]
        lead = rule.lead_days + (rule.dangerous_extra_days if shipment.dangerous else 0)
        found = [self._permission(country, mode, leg, shipment, lead, None)]
        for zone in self.network.zones:
            if {origin, country} <= zone.countries and mode in zone.modes:
                starts = zone.starts.toordinal()
                if zone.lead_days is None:
                    found.append(_Option(starts, None, zone.code))
                elif zone.lead_days < lead:
                    shorter = self._permission(country, mode, leg, shipment, zone.lead_days, zone.code)
                    found.append(_Option(max(starts, shorter.ready), shorter.permission, zone.code))
        return found

    def _permission(self, country: str, mode: Mode, leg: Leg, shipment: Shipment, lead: int,
                    zone: str | None) -> _Option:
        ready = self.calendar.ready(country, shipment.requested, lead)
        return _Option(ready.toordinal(),
                       Permission(country, mode, leg.key, lead, shipment.requested, ready, zone), zone)

    def _why_not(self, shipment: Shipment, refused: Refusals) -> str:
        reach, todo = {self.index[shipment.origin]}, [self.index[shipment.origin]]
        while todo:
            for edge in self.adjacent[todo.pop()]:
                if edge.head not in reach:
                    reach.add(edge.head)
                    todo.append(edge.head)
        if self.index[shipment.destination] not in reach:
            return f"no legs lead from {shipment.origin} to {shipment.destination}"
        named = ", ".join(f"{c} by {m.value}" for c, m in sorted(refused))
        return f"every route from {shipment.origin} to {shipment.destination} crosses a refused border ({named})"


class _Search:
    """One time-dependent Dijkstra (see the module's docstring for why it is exact)."""

    def __init__(self, router: Router, shipment: Shipment, refused: Refusals) -> None:
        self.router, self.shipment, self.refused = router, shipment, refused
        self.crossings: dict[tuple[str, str, Mode], list[_Option]] = {}
        # place -> (the edge that reached it, the day its start was reached, departure day, crossing option used)
        self.came: dict[int, tuple[_Edge, int, int, _Option | None]] = {}

    def _usable(self, edge: _Edge) -> list[_Option]:
        assert edge.crossing is not None
        if edge.crossing not in self.crossings:
            self.crossings[edge.crossing] = [
                o for o in self.router.options(edge.crossing, self.shipment, edge.leg)
                if o.permission is None or (edge.crossing[1], edge.crossing[2]) not in self.refused]
        return self.crossings[edge.crossing]

    def _departure(self, edge: _Edge, reached: int) -> tuple[int, _Option | None] | None:
        if edge.crossing is None:
            return reached, None
        best = min(self._usable(edge), key=lambda o: max(reached, o.ready), default=None)
        return None if best is None else (max(reached, best.ready), best)

    def run(self) -> Route | None:
        start, goal = self.router.index[self.shipment.origin], self.router.index[self.shipment.destination]
        best = {start: self.shipment.leaves.toordinal()}
        heap = [(best[start], start)]
        done: set[int] = set()
        while heap:
            day, place = heapq.heappop(heap)
            if place in done:
                continue
            if place == goal:
                return self._route(goal)
            done.add(place)
            for edge in self.router.adjacent[place]:
                leaving = self._departure(edge, day)
                if leaving is None or edge.head in done:
                    continue
                arrives = leaving[0] + edge.leg.transit_days
                if arrives < best.get(edge.head, arrives + 1):
                    best[edge.head] = arrives
                    self.came[edge.head] = (edge, day, leaving[0], leaving[1])
                    heapq.heappush(heap, (arrives, edge.head))
        return None

    def _route(self, goal: int) -> Route:
        steps: list[Step] = []
        permissions: list[Permission] = []
        place = goal
        while place in self.came:
            edge, reached, departs, option = self.came[place]
            arrives = date.fromordinal(departs + edge.leg.transit_days)
            zone = option.zone if option is not None and option.permission is None else None
            steps.append(Step(edge.leg, date.fromordinal(reached), date.fromordinal(departs), arrives, zone))
            if option is not None and option.permission is not None:
                permissions.append(option.permission)
            place = self.router.index[edge.leg.origin]
        steps.reverse()
        permissions.reverse()
        eta = steps[-1].arrives if steps else self.shipment.leaves
        return Route(self.shipment, tuple(steps), tuple(permissions), eta)
