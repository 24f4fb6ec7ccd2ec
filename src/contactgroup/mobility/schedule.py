"""Departure days under capacity: each shipment keeps its route and is not split; its departure day is chosen so
that no place or leg takes more than its daily capacity — priorities first, then least total lateness.

The objective, exactly: maximise the shipments of priority 1 that arrive by their needed-by date, then those of
priority 2, and so on, then minimise the total days late. A shipment that cannot leave within the horizon (or
within `max_wait` days of its earliest day, or `late_tail` days after the last day it could leave and be on time)
is held; its lateness is counted as if it left on the first day beyond its window, a lower bound on what it will
be. One held only by `late_tail` then gets the first later day with room (`extend`): a date to plan with, chosen
by no objective — `late_tail` bounds the model (a variable per movement and day), not how late a shipment may be.
Delaying a whole route keeps its permissions valid (each was ready by the day of its crossing, and every crossing
only moves later), which is why the offsets are fixed.

The integer program (`capacity.py`) is solved one objective at a time, each later stage keeping the earlier
optima; `Stage` reports each one's value, bound and optimality gap. Afterwards every shipment is moved to its
earliest day that still fits (this cannot lower any objective), so that every day a shipment waits is a day some
place or leg on its route is full, and `Wait` names it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.mobility.network import Capacity, Network, Unit
from contactgroup.mobility.route import Route

MAX_HORIZON = 3660


@dataclass(frozen=True, slots=True)
class Use:
    """The route passes `resource` (a place code or a leg key) `offset` days after it departs."""

    resource: str
    offset: int


@dataclass(frozen=True, slots=True)
class Movement:
    """One shipment with a fixed route: the places and legs it uses, `duration` days from departure to arrival."""

    id: str
    uses: tuple[Use, ...]
    duration: int
    tonnes: int
    priority: int  # 1 is the most important
    earliest: date
    needed_by: date
    member: str = ""


@dataclass(frozen=True, slots=True)
class ScheduleProblem:
    """Movements and the daily capacities of places and legs (by place code or leg key); departures are planned on
    the `days` days from `start`; with `max_wait`, at most that many days after a movement's earliest; with
    `late_tail`, at most that many days after the last day it can leave and still arrive by its needed-by date (its
    earliest, when it cannot): a later day only adds days late, and each costs the model a variable per movement."""

    movements: tuple[Movement, ...]
    capacities: Mapping[str, Capacity]
    start: date
    days: int = 90
    max_wait: int | None = None
    late_tail: int | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    """Days a movement waited because `resource` was full from `first` to `last` (the days at the resource)."""

    resource: str
    first: date
    last: date
    days: int

    def __str__(self) -> str:
        return self.describe(self.resource)

    def describe(self, name: str) -> str:
        """As `str`, naming the resource `name` ("Rzeszów logistics hub full 12–15 March: 3 days")."""
        span = f"{self.first.day} {self.first:%B}" if self.first == self.last else (
            f"{self.first.day}–{self.last.day} {self.last:%B}" if (self.first.year, self.first.month) ==
            (self.last.year, self.last.month) else f"{self.first.day} {self.first:%B}–{self.last.day} {self.last:%B}")
        return f"{name} full {span}: {self.days} day{'s' if self.days != 1 else ''}"


@dataclass(frozen=True, slots=True)
class Departure:
    """When one movement leaves and arrives; None when it is held (no room in its window, nor after it as `extend`
    looks). `late_days` is a lower bound for a held one. `waits` say why it leaves after its earliest day; `note`
    why it is held."""

    movement: str
    priority: int
    departs: date | None
    arrives: date | None
    late_days: int
    on_time: bool
    waits: tuple[Wait, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Stage:
    """One objective of the lexicographic order as the solver left it: `value` found, `bound` proven."""

    objective: str
    value: int
    bound: int
    optimal: bool

    @property
    def gap(self) -> float:
        return abs(self.bound - self.value) / max(1, abs(self.value))

    @property
    def status(self) -> str:
        """"optimal" (proved), else "feasible" (the best found when the time limit ran out)."""
        return "optimal" if self.optimal else "feasible"


def summary(stages: Sequence[Stage]) -> str:
    """How far a schedule is from proved optimal, in a few words: "optimal", or e.g. "priority stages optimal, days
    late within 3.9%" — each stage not proved optimal with its gap, the priority stages together when all are."""
    if all(s.optimal for s in stages):
        return "optimal"
    priority = [s for s in stages if s.objective.startswith("on time")]
    words = ["priority stages optimal"] if priority and all(s.optimal for s in priority) else []
    words += [f"{s.objective} within {s.gap:.1%}" for s in stages if not s.optimal]
    return ", ".join(words)


@dataclass(frozen=True, slots=True)
class Schedule:
    departures: tuple[Departure, ...]
    stages: tuple[Stage, ...]
    time_limit: float = 0.0  # what it was solved within, in seconds (CP-SAT's deterministic ones, if so)

    @property
    def optimal(self) -> bool:
        return all(s.optimal for s in self.stages)

    @property
    def gap(self) -> float:
        return max((s.gap for s in self.stages), default=0.0)

    @property
    def late_days(self) -> int:
        return sum(d.late_days for d in self.departures)

    def on_time(self) -> dict[int, int]:
        """Movements arriving by their needed-by date, per priority."""
        found: dict[int, int] = defaultdict(int)
        for d in self.departures:
            found[d.priority] += d.on_time
        return dict(sorted(found.items()))


def movement(route: Route, *, tonnes: int, priority: int, needed_by: date, member: str = "") -> Movement:
    """The movement of a planned route: it passes its origin on departure, then each leg on the day it leaves
    and each place on the day it arrives there."""
    leaves = route.steps[0].departs if route.steps else route.shipment.leaves
    uses = [Use(route.shipment.origin, 0)]
    for step in route.steps:
        uses += [Use(step.leg.key, (step.departs - leaves).days), Use(step.leg.to, (step.arrives - leaves).days)]
    return Movement(route.shipment.id, tuple(uses), (route.eta - leaves).days, tonnes, priority, leaves,
                    needed_by, member)


def capacities(network: Network) -> dict[str, Capacity]:
    """The daily capacities of the network's places and legs, by place code and leg key."""
    found = {p.code: p.capacity for p in network.places if p.capacity is not None}
    found.update({leg.key: leg.capacity for leg in network.legs if leg.capacity is not None})
    return found


class Instance:
    """A problem in day numbers (0 is `start`): each movement's window, the day it is held on, and its
    capacitated uses as (resource, offset, amount)."""

    def __init__(self, problem: ScheduleProblem) -> None:
        self.problem = problem
        self.movements = problem.movements
        self.cap = {r: c.amount for r, c in problem.capacities.items()}
        self.uses = [self._uses(m) for m in problem.movements]
        self.windows: list[range] = []
        self.beyond: list[range] = []  # days after the window cut by `late_tail`: a date there is not optimised
        self.held: list[int] = []
        for i, m in enumerate(problem.movements):
            first = max(0, (m.earliest - problem.start).days)
            last = problem.days - 1 if problem.max_wait is None else min(problem.days - 1, first + problem.max_wait)
            tail = last if problem.late_tail is None else min(last, max(
                first, (m.needed_by - problem.start).days - m.duration) + problem.late_tail)
            fits = self.oversize(i) is None
            self.windows.append(range(first, tail + 1) if fits else range(first, first))
            self.beyond.append(range(tail + 1, last + 1) if fits else range(0))
            self.held.append(max(tail + 1, first))

    def _uses(self, m: Movement) -> list[tuple[str, int, int]]:
        amounts: dict[tuple[str, int], int] = defaultdict(int)
        for use in m.uses:
            if use.resource in self.problem.capacities:
                unit = self.problem.capacities[use.resource].unit
                amounts[(use.resource, use.offset)] += m.tonnes if unit is Unit.TONNES else 1
        return [(r, offset, amount) for (r, offset), amount in sorted(amounts.items())]

    def oversize(self, i: int) -> str | None:
        """Why movement i can never leave (it alone exceeds a capacity), or None."""
        for resource, _, amount in self.uses[i]:
            if amount > self.cap[resource]:
                cap = self.problem.capacities[resource]
                return f"needs {amount} of {resource}'s {cap}: it can never pass"
        return None

    def late(self, i: int, day: int) -> int:
        m = self.movements[i]
        return max(0, day + m.duration - (m.needed_by - self.problem.start).days)

    def on_time(self, i: int, day: int) -> bool:
        return day in self.windows[i] and self.late(i, day) == 0

    def choices(self, i: int) -> list[int]:
        """Departure days of movement i: its window, then its held day."""
        return [*self.windows[i], self.held[i]]

    def fits(self, i: int, day: int, loads: Mapping[tuple[str, int], int]) -> bool:
        return all(loads.get((r, day + off), 0) + amount <= self.cap[r] for r, off, amount in self.uses[i])

    def blocking(self, i: int, day: int, loads: Mapping[tuple[str, int], int]) -> tuple[str, int] | None:
        """The first (resource, day at it) on movement i's route that has no room if it left on `day`."""
        for r, off, amount in self.uses[i]:
            if loads.get((r, day + off), 0) + amount > self.cap[r]:
                return r, day + off
        return None

    def leaves(self, i: int, day: int, beyond: bool = False) -> bool:
        """Whether movement i leaves on `day`, not held: in its window, or (`beyond`, as `extend` placed it) after.
        The held day itself lies beyond a window cut by `late_tail`, hence the flag."""
        return day in self.windows[i] or (beyond and day in self.beyond[i])

    def add(self, loads: dict[tuple[str, int], int], i: int, day: int, sign: int = 1, beyond: bool = False) -> None:
        if self.leaves(i, day, beyond):
            for r, off, amount in self.uses[i]:
                loads[(r, day + off)] = loads.get((r, day + off), 0) + sign * amount

    def loads(self, days: list[int], beyond: Collection[int] = ()) -> dict[tuple[str, int], int]:
        found: dict[tuple[str, int], int] = {}
        for i, day in enumerate(days):
            self.add(found, i, day, beyond=i in beyond)
        return found

    def order(self) -> list[int]:
        """Priority first, then the latest day to leave on time, then the id."""
        return sorted(range(len(self.movements)), key=lambda i: (
            self.movements[i].priority, self.movements[i].needed_by - timedelta(self.movements[i].duration),
            self.movements[i].id))


def validate(problem: ScheduleProblem) -> list[Problem]:
    """Findings about a scheduling problem, naming the movement and field."""
    found = []
    if not 1 <= problem.days <= MAX_HORIZON:
        found.append(Problem("days", f"must be between 1 and {MAX_HORIZON}, got {problem.days}"))
    for field in ("max_wait", "late_tail"):
        if (value := getattr(problem, field)) is not None and value < 0:
            found.append(Problem(field, f"must be a non-negative number of days, got {value}"))
    found += [p for i, m in enumerate(problem.movements) for p in _movement_problems(f"movements[{i}]", m)]
    seen: dict[str, int] = {}
    for i, m in enumerate(problem.movements):
        if m.id in seen:
            found.append(Problem(f"movements[{i}].id", f"duplicate id {m.id!r} (also movements[{seen[m.id]}])"))
        seen.setdefault(m.id, i)
    return found


def _movement_problems(where: str, m: Movement) -> Iterator[Problem]:
    for field in ("duration", "tonnes"):
        if getattr(m, field) < 0:
            yield Problem(f"{where}.{field}", f"must be non-negative, got {getattr(m, field)}")
    if m.priority < 1:
        yield Problem(f"{where}.priority", f"must be 1 or more, got {m.priority}")
    for j, use in enumerate(m.uses):
        if not 0 <= use.offset <= m.duration:
            yield Problem(f"{where}.uses[{j}].offset", f"must lie between 0 and the duration {m.duration}, "
                                                       f"got {use.offset}")


def check(problem: ScheduleProblem) -> Instance:
    problems = validate(problem)
    if problems:
        raise ValidationFailed(problems, code="invalid-schedule")
    return Instance(problem)


def greedy(instance: Instance) -> list[int]:
    """In priority order, each movement on its earliest day that fits (held when none does)."""
    days = [instance.held[i] for i in range(len(instance.movements))]
    loads: dict[tuple[str, int], int] = {}
    for i in instance.order():
        days[i] = next((d for d in instance.windows[i] if instance.fits(i, d, loads)), instance.held[i])
        instance.add(loads, i, days[i])
    return days


def left_shift(instance: Instance, days: list[int]) -> list[int]:
    """Each movement moved to its earliest day that fits, until none moves: no movement is later or later late,
    so no objective gets worse; afterwards every earlier day of a window is blocked by a full resource."""
    days, loads = list(days), instance.loads(days)
    moved = True
    while moved:
        moved = False
        for i in instance.order():
            instance.add(loads, i, days[i], -1)
            best = next((d for d in instance.windows[i] if d < days[i] and instance.fits(i, d, loads)), days[i])
            moved |= best != days[i]
            days[i] = best
            instance.add(loads, i, days[i])
    return days


def extend(instance: Instance, days: list[int]) -> tuple[list[int], frozenset[int]]:
    """Each movement held only because `late_tail` cut its window, in priority order, on the first later day that
    fits (up to `max_wait` and the horizon): a date to plan with rather than none, though no objective chose it.
    The days, and the movements so placed."""
    days, loads, placed = list(days), instance.loads(days), set()
    for i in instance.order():
        if not instance.leaves(i, days[i]):
            found = next((d for d in instance.beyond[i] if instance.fits(i, d, loads)), None)
            if found is not None:
                days[i] = found
                placed.add(i)
                instance.add(loads, i, found, beyond=True)
    return days, frozenset(placed)


def departures(instance: Instance, days: list[int], beyond: Collection[int] = ()) -> tuple[Departure, ...]:
    """Each movement's departure; those in `beyond` leave after their window (`extend`)."""
    loads = instance.loads(days, beyond)
    return tuple(_departure(instance, i, day, loads, i in beyond) for i, day in enumerate(days))


def _departure(instance: Instance, i: int, day: int, loads: dict[tuple[str, int], int], beyond: bool) -> Departure:
    m, start = instance.movements[i], instance.problem.start
    held = not instance.leaves(i, day, beyond)
    instance.add(loads, i, day, -1, beyond)
    blocked = [instance.blocking(i, d, loads) for d in (*instance.windows[i], *instance.beyond[i]) if d < day]
    instance.add(loads, i, day, 1, beyond)
    note = instance.oversize(i) or ("" if not held else
                                    "cannot leave within the horizon" if not instance.windows[i] else
                                    "no day of its window has room")
    return Departure(m.id, m.priority, None if held else start + timedelta(day),
                     None if held else start + timedelta(day + m.duration), instance.late(i, day),
                     instance.on_time(i, day), tuple(_waits(start, [b for b in blocked if b is not None])), note)


def _waits(start: date, blocked: list[tuple[str, int]]) -> Iterator[Wait]:
    """Blocked days grouped into runs of consecutive days at one resource."""
    runs: dict[str, list[list[int]]] = defaultdict(list)
    for resource, day in blocked:
        run = runs[resource]
        if run and run[-1][0] <= day <= run[-1][1] + 1:
            run[-1][1] = max(day, run[-1][1])
            run[-1][2] += 1
        else:
            run.append([day, day, 1])
    for resource, found in runs.items():
        for first, last, count in found:
            yield Wait(resource, start + timedelta(first), start + timedelta(last), count)
