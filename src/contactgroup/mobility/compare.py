"""What a mobility zone saves: the same shipments routed without and with it, compared per shipment, priority
tier and donor member (days saved, days late, units arriving by their needed-by date).

With `capacity`, each side's routes are then scheduled under the daily capacities of places and legs
(`capacity.solve`, priorities first, then least lateness), so that a shipment's ETA is when it arrives after
waiting for room, and the waits say where ("RZE-HUB full 17 March: 1 day"). The zone moves crossings earlier,
which may make shipments meet at a hub on the same day: a zone can cost a shipment days, and this shows it.
Each side's `Schedule` (its stages, their bounds and gaps) is on the comparison, so that a figure from a schedule
cut short by its time limit comes with how far from proved optimal it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from contactgroup.mobility import capacity as scheduler
from contactgroup.mobility.network import Mode, Network, Zone
from contactgroup.mobility.route import NoRoute, Route, Router, Shipment
from contactgroup.mobility.schedule import MAX_HORIZON, Schedule, ScheduleProblem, Wait, capacities, movement
from contactgroup.mobility.workday import WorkingDays


@dataclass(frozen=True, slots=True)
class Consignment:
    """A shipment and what it is for: `units` for a requirement of `priority` needed by `needed_by`, sent by
    the donor `member`."""

    shipment: Shipment
    member: str
    priority: int
    units: int
    needed_by: date
    tonnes: int = 0  # what capacities in tonnes count
    # Crossings refused to this shipment, (country, mode) or with the day refused: its route goes round, or waits.
    refused: frozenset[tuple[str, Mode] | tuple[str, Mode, date]] = frozenset()


@dataclass(frozen=True, slots=True)
class Saving:
    """One consignment's ETA without and with the zone (None: no route); days saved and late (None likewise)."""

    id: str
    member: str
    priority: int
    units: int
    eta_without: date | None
    eta_with: date | None
    needed_by: date
    waits_without: tuple[Wait, ...] = ()  # with capacity: where it waited for room, each way
    waits_with: tuple[Wait, ...] = ()
    held: str = ""  # with capacity: why it cannot leave within the horizon (one way or both)

    @property
    def days_saved(self) -> int | None:
        return None if self.eta_without is None or self.eta_with is None else (
            self.eta_without - self.eta_with).days

    def late(self, eta: date | None) -> int | None:
        return None if eta is None else max(0, (eta - self.needed_by).days)

    def units_on_time(self, eta: date | None) -> int:
        return self.units if eta is not None and eta <= self.needed_by else 0


@dataclass(frozen=True, slots=True)
class Tally:
    """Totals over a group of consignments. Days saved and late count those routed both ways (`compared`)."""

    consignments: int
    compared: int
    days_saved: int
    late_days_without: int
    late_days_with: int
    units_on_time_without: int
    units_on_time_with: int

    @property
    def late_days_change(self) -> int:
        return self.late_days_with - self.late_days_without

    @property
    def units_on_time_change(self) -> int:
        return self.units_on_time_with - self.units_on_time_without


@dataclass(frozen=True, slots=True)
class Comparison:
    """The savings and their tallies; with capacity, each side's schedule (None: nothing passed a capacity)."""

    zone: Zone
    savings: tuple[Saving, ...]
    tiers: Mapping[int, Tally]
    members: Mapping[str, Tally]
    total: Tally
    schedule_without: Schedule | None = None
    schedule_with: Schedule | None = None


def tally(savings: Iterable[Saving]) -> Tally:
    found = list(savings)
    both = [s for s in found if s.days_saved is not None]
    return Tally(len(found), len(both), sum(s.days_saved or 0 for s in both),
                 sum(s.late(s.eta_without) or 0 for s in both), sum(s.late(s.eta_with) or 0 for s in both),
                 sum(s.units_on_time(s.eta_without) for s in found), sum(s.units_on_time(s.eta_with) for s in found))


MAX_WAIT = 90  # days a shipment may wait for room beyond its earliest departure: beyond, it is held
# Days a shipment may wait beyond the last day it could leave and still be on time: beyond, it is held. Each day of
# a window is a variable per shipment; past the needed-by date a later day only adds days late, and a shipment two
# weeks late for want of room is one to re-plan (another route, another offer) rather than to date.
LATE_TAIL = 14


@dataclass(frozen=True, slots=True)
class Scheduling:
    """How `arrivals` schedules under capacity: `seconds` of CP-SAT in all; `deterministic` (one worker, CP-SAT's
    deterministic time) so that the same shipments always get the same schedule, as a report computed again must;
    each shipment may wait up to `max_wait` days beyond its earliest day and `late_tail` beyond its last on time."""

    seconds: float = 5.0
    deterministic: bool = True
    max_wait: int = MAX_WAIT
    late_tail: int | None = LATE_TAIL


@dataclass(frozen=True, slots=True)
class Arrival:
    """When a consignment arrives (None: no route, or held), where it waited for room, and why it is held; its
    route (with capacity, the legs' days are before any wait for room) or why it has none. `late_days` is what
    the schedule counts: for a held one, a lower bound."""

    eta: date | None
    waits: tuple[Wait, ...] = ()
    held: str = ""
    route: Route | NoRoute | None = None
    late_days: int = 0


def arrivals(router: Router, network: Network, consignments: list[Consignment],
             refused: frozenset[tuple[str, Mode] | tuple[str, Mode, date]] = frozenset(), *, capacity: bool = True,
             scheduling: Scheduling = Scheduling()) -> tuple[list[Arrival], Schedule | None]:
    """Each consignment's earliest arrival on `router`'s network; with `capacity`, after scheduling them all as
    `scheduling` says, and the schedule (None when no route passes a capacity: nothing to schedule)."""
    routes = [router.route(c.shipment, refused | c.refused) for c in consignments]
    found = [Arrival(r.eta, route=r, late_days=max(0, (r.eta - c.needed_by).days)) if isinstance(r, Route)
             else Arrival(None, route=r) for r, c in zip(routes, consignments, strict=True)]
    limits = capacities(network)
    if not capacity or not limits:
        return found, None
    # Only the routes that pass a capacity take part: the others cannot be held up, nor hold anyone up.
    routed = [(i, r) for i, r in enumerate(routes) if isinstance(r, Route) and _passes(r, limits)]
    if not routed:
        return found, None
    moves = tuple(movement(r, tonnes=consignments[i].tonnes, priority=consignments[i].priority,
                           needed_by=consignments[i].needed_by, member=consignments[i].member) for i, r in routed)
    start = min(m.earliest for m in moves)
    # Each shipment's window is its own (from its earliest day, capped by max_wait and late_tail), however far
    # apart the earliest days lie: the horizon only has to reach the last of them.
    days = min(MAX_HORIZON, max((m.earliest - start).days for m in moves) + scheduling.max_wait + 1)
    schedule = scheduler.solve(ScheduleProblem(moves, limits, start, days, scheduling.max_wait, scheduling.late_tail),
                               time_limit=scheduling.seconds, deterministic=scheduling.deterministic)
    for (i, r), d in zip(routed, schedule.departures, strict=True):
        found[i] = Arrival(d.arrives, d.waits, d.note, r, d.late_days)
    return found, schedule


def _passes(route: Route, limits: Mapping[str, object]) -> bool:
    return route.shipment.origin in limits or any(s.leg.key in limits or s.leg.to in limits for s in route.steps)


def compare(network: Network, consignments: Iterable[Consignment], zone: Zone, *,
            refused: Iterable[tuple[str, Mode] | tuple[str, Mode, date]] = (), calendar: WorkingDays | None = None,
            capacity: bool = False, scheduling: Scheduling = Scheduling()) -> Comparison:
    """Route every consignment on `network` without `zone` (and without any zone of the same code) and with it;
    with `capacity`, schedule each side's routes under the network's daily capacities as `scheduling` says (see
    the module)."""
    calendar = calendar or WorkingDays()
    others = tuple(z for z in network.zones if z.code != zone.code)
    sides = [replace(network, zones=others), replace(network, zones=(*others, zone))]
    listed = list(consignments)
    refusals = frozenset(refused)
    (without, unzoned), (with_zone, zoned) = (
        arrivals(Router(n, calendar), n, listed, refusals, capacity=capacity, scheduling=scheduling) for n in sides)
    savings = tuple(Saving(c.shipment.id, c.member, c.priority, c.units, a.eta, b.eta, c.needed_by, a.waits,
                           b.waits, "; ".join(dict.fromkeys(h for h in (a.held, b.held) if h)))
                    for c, a, b in zip(listed, without, with_zone, strict=True))
    tiers: dict[int, list[Saving]] = defaultdict(list)
    members: dict[str, list[Saving]] = defaultdict(list)
    for s in savings:
        tiers[s.priority].append(s)
        members[s.member].append(s)
    return Comparison(zone, savings, {p: tally(tiers[p]) for p in sorted(tiers)},
                      {m: tally(members[m]) for m in sorted(members)}, tally(savings), unzoned, zoned)
