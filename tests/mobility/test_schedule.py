"""Departure days under capacity: the CP-SAT schedule against brute force on small random instances, and the
reasons a shipment gives for waiting."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contactgroup.domain.errors import ValidationFailed
from contactgroup.mobility import (
    Capacity,
    Movement,
    Network,
    Route,
    Router,
    ScheduleProblem,
    Shipment,
    Stage,
    Unit,
    Use,
    Wait,
    capacities,
    movement,
    solve,
    summary,
)
from tests.mobility.network_factory import leg, place

START = date(2026, 3, 10)


def move(ident: str, priority: int = 1, earliest: int = 0, needed: int = 30, tonnes: int = 1,
         uses: tuple[Use, ...] = (Use("RZE-HUB", 2),), duration: int = 3) -> Movement:
    return Movement(ident, uses, duration, tonnes, priority, START + timedelta(earliest),
                    START + timedelta(needed), member="NLD")


def test_a_full_hub_holds_the_lower_priority_shipment_and_says_when_it_was_full() -> None:
    # The hub takes one shipment a day; five reach it two days after leaving, four of them of priority 1.
    movements = (move("A", 2), *(move(f"P{i}", 1, needed=5 + i) for i in range(4)))
    schedule = solve(ScheduleProblem(movements, {"RZE-HUB": Capacity(1)}, START, days=10))
    by_id = {d.movement: d for d in schedule.departures}
    assert [by_id[f"P{i}"].departs for i in range(4)] == [START + timedelta(i) for i in range(4)]
    waited = by_id["A"]
    assert waited.departs == date(2026, 3, 14)
    assert [str(w) for w in waited.waits] == ["RZE-HUB full 12–15 March: 4 days"]
    assert schedule.optimal and schedule.gap == 0.0
    assert schedule.on_time() == {1: 4, 2: 1} and schedule.late_days == 0


def test_tonnes_count_against_a_capacity_in_tonnes() -> None:
    movements = (move("HEAVY", tonnes=30, needed=4), move("LIGHT", tonnes=15, needed=4),
                 move("OTHER", tonnes=15, needed=4))
    schedule = solve(ScheduleProblem(movements, {"RZE-HUB": Capacity(40, Unit.TONNES)}, START, days=10))
    days = sorted((d.departs, d.movement) for d in schedule.departures if d.departs)
    # 30 + 15 > 40 but 15 + 15 fits: the two light ones share a day and the heavy one goes alone.
    assert [d for d, _ in days].count(START) == 2 or [d for d, _ in days].count(START + timedelta(1)) == 2
    assert schedule.on_time() == {1: 3}


def test_a_shipment_too_heavy_for_a_capacity_is_held_with_the_reason() -> None:
    schedule = solve(ScheduleProblem((move("BIG", tonnes=50),), {"RZE-HUB": Capacity(40, Unit.TONNES)}, START))
    (held,) = schedule.departures
    assert held.departs is None and not held.on_time
    assert held.note == "needs 50 of RZE-HUB's 40 t/day: it can never pass"


def test_a_shipment_without_room_within_its_late_tail_gets_the_first_day_with_room_after_it() -> None:
    # The hub takes one shipment a day. B, priority 2, could leave on days 0–2 and be on time (needed by day 5, 3
    # days on the way); with a tail of 2 days the solver chooses its day among days 0–4. A0–A5, priority 1, fill
    # days 0–5 at the hub.
    movements = (*(move(f"A{i}", 1, needed=3 + i) for i in range(6)), move("B", 2, needed=5))
    schedule = solve(ScheduleProblem(movements, {"RZE-HUB": Capacity(1)}, START, days=30, late_tail=2))
    placed = schedule.departures[-1]
    # No day of its window has room: it leaves on the first day after it that has, day 6, 4 days late.
    assert (placed.movement, placed.departs, placed.late_days, placed.on_time, placed.note) == (
        "B", START + timedelta(6), 4, False, "")
    assert [str(w) for w in placed.waits] == ["RZE-HUB full 12–17 March: 6 days"]
    # The solver counted it as leaving the day after its window, 3 days late: a lower bound, proved optimal.
    assert schedule.optimal and schedule.stages[-1].value == 3 and schedule.late_days == 4


def test_a_schedule_s_gaps_in_words() -> None:
    optimal = Stage("on time, priority 1", 4, 4, True)
    assert summary([optimal, Stage("days late", 10, 10, True)]) == "optimal"
    assert summary([optimal, Stage("days late", 104, 100, False)]) == "priority stages optimal, days late within 3.8%"
    assert summary([optimal, Stage("on time, priority 2", 90, 100, False), Stage("days late", 5, 5, True)]) == (
        "on time, priority 2 within 11.1%")


def test_a_wait_across_months_names_both() -> None:
    wait = Wait("FFO>SWI/rail", date(2026, 3, 30), date(2026, 4, 1), 3)
    assert str(wait) == "FFO>SWI/rail full 30 March–1 April: 3 days"
    assert str(Wait("RZE-HUB", date(2026, 3, 12), date(2026, 3, 12), 1)) == "RZE-HUB full 12 March: 1 day"


def test_a_route_becomes_a_movement_through_its_legs_and_places() -> None:
    network = Network((place("RTM", "NLD"), place("DUI", "DEU", capacity=Capacity(3)), place("RZE", "POL")),
                      (leg("RTM", "DUI", 1, capacity=Capacity(2)), leg("DUI", "RZE", 2)))
    found = Router(network).route(Shipment("S-1", "RTM", "RZE", START, "NLD"))
    assert isinstance(found, Route)
    made = movement(found, tonnes=20, priority=1, needed_by=date(2026, 3, 20))
    assert made.uses == (Use("RTM", 0), Use("RTM>DUI/road", 0), Use("DUI", 1), Use("DUI>RZE/road", 1), Use("RZE", 3))
    assert made.duration == 3 and made.earliest == START
    assert capacities(network) == {"DUI": Capacity(3), "RTM>DUI/road": Capacity(2)}


def test_bad_movements_are_refused_naming_the_row_and_field() -> None:
    bad = (move("A", priority=0), move("A", tonnes=-1, uses=(Use("RZE-HUB", 9),)))
    with pytest.raises(ValidationFailed) as refused:
        solve(ScheduleProblem(bad, {}, START, days=0))
    assert [str(p) for p in refused.value.problems] == [
        "days: must be between 1 and 3660, got 0",
        "movements[0].priority: must be 1 or more, got 0",
        "movements[1].tonnes: must be non-negative, got -1",
        "movements[1].uses[0].offset: must lie between 0 and the duration 3, got 9",
        "movements[1].id: duplicate id 'A' (also movements[0])"]


# --- against brute force --------------------------------------------------------------------------------------

RESOURCES = ("HUB", "LEG", "XING")


@st.composite
def problems(draw: st.DrawFn) -> ScheduleProblem:
    caps = {r: Capacity(draw(st.integers(1, 3)), draw(st.sampled_from(list(Unit)))) for r in RESOURCES}
    movements = []
    # Drawn so that Hypothesis's simplest examples are crowded: five movements, late deadlines.
    for i in range(5 - draw(st.integers(0, 4))):
        duration = draw(st.integers(0, 3))
        uses = tuple(Use(r, draw(st.integers(0, duration)))
                     for r in draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=3)))
        earliest, needed = START + timedelta(draw(st.integers(-1, 4))), START + timedelta(8 - draw(st.integers(0, 8)))
        movements.append(Movement(f"M{i}", uses, duration, draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                                  earliest, needed))
    return ScheduleProblem(tuple(movements), caps, START, 6 - draw(st.integers(1, 5)),
                           draw(st.none() | st.integers(0, 2)), draw(st.none() | st.integers(0, 2)))


def _loads_fit(problem: ScheduleProblem, days: tuple[int | None, ...]) -> bool:
    """Written apart from schedule.py: add up each resource's use per calendar day."""
    load: dict[tuple[str, int], int] = {}
    for m, day in zip(problem.movements, days, strict=True):
        if day is None:
            continue
        for use in m.uses:
            cap = problem.capacities[use.resource]
            key = (use.resource, day + use.offset)
            load[key] = load.get(key, 0) + (m.tonnes if cap.unit is Unit.TONNES else 1)
    return all(n <= problem.capacities[r].amount for (r, _), n in load.items())


def _window(problem: ScheduleProblem, m: Movement) -> tuple[list[int | None], int]:
    first = max(0, (m.earliest - problem.start).days)
    last = problem.days - 1 if problem.max_wait is None else min(problem.days - 1, first + problem.max_wait)
    if problem.late_tail is not None:  # the last day it leaves on time (or its first), then the tail
        on_time = [d for d in range(first, problem.days) if d + m.duration <= (m.needed_by - problem.start).days]
        last = min(last, (on_time[-1] if on_time else first) + problem.late_tail)
    return [*range(first, last + 1), None], max(first, last + 1)


def _best_by_brute_force(problem: ScheduleProblem) -> tuple[tuple[int, ...], int]:
    """(on time per priority, most important first; days late) of the best of every choice of departure days."""
    windows = [_window(problem, m) for m in problem.movements]
    priorities = sorted({m.priority for m in problem.movements})
    best: tuple[tuple[int, ...], int] | None = None
    for days in itertools.product(*(w for w, _ in windows)):
        if not _loads_fit(problem, days):
            continue
        late = [max(0, (held if d is None else d) + m.duration - (m.needed_by - START).days)
                for m, d, (_, held) in zip(problem.movements, days, windows, strict=True)]
        on_time = tuple(sum(1 for m, d, n in zip(problem.movements, days, late, strict=True)
                            if m.priority == p and d is not None and n == 0) for p in priorities)
        key = (tuple(-n for n in on_time), sum(late))
        best = key if best is None or key < best else best
    assert best is not None  # holding every movement always fits
    return tuple(-n for n in best[0]), best[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_the_schedule_covers_each_priority_and_is_as_little_late_as_brute_force(problem: ScheduleProblem) -> None:
    schedule = solve(problem, workers=1)
    on_time, late = _best_by_brute_force(problem)
    assert tuple(schedule.on_time().values()) == on_time
    # The model's lateness: a movement that `late_tail` holds counts as leaving the day after its window (it is
    # then placed later, where there is room, and counts its real days late in `late_days`).
    assert schedule.stages[-1].value == late and schedule.late_days >= late
    assert schedule.late_days == late or problem.late_tail is not None
    assert schedule.optimal
    event(f"a movement waits: {any(d.waits for d in schedule.departures)}; late: {late > 0}")
    days = tuple(None if d.departs is None else (d.departs - START).days for d in schedule.departures)
    assert _loads_fit(problem, days)
    for m, d in zip(problem.movements, schedule.departures, strict=True):
        window, _ = _window(problem, m)
        waited = len(window) - 1 if d.departs is None else (d.departs - START).days - (window[0] or 0)
        assert sum(w.days for w in d.waits) == waited or d.note.startswith("needs")  # every day waited is explained


def test_a_schedule_cut_short_is_still_feasible_and_reports_its_bounds() -> None:
    rng = random.Random(7)
    movements = tuple(Movement(f"M{i}", tuple(Use(r, rng.randint(0, 4)) for r in rng.sample(RESOURCES, 2)), 4,
                               rng.randint(1, 20), rng.randint(1, 3), START + timedelta(rng.randrange(20)),
                               START + timedelta(rng.randrange(5, 30))) for i in range(400))
    caps = {"HUB": Capacity(4), "LEG": Capacity(60, Unit.TONNES), "XING": Capacity(5)}
    problem = ScheduleProblem(movements, caps, START, days=30, max_wait=10)
    schedule = solve(problem, time_limit=0.5, workers=1)
    days = tuple(None if d.departs is None else (d.departs - START).days for d in schedule.departures)
    assert _loads_fit(problem, days)
    for stage in schedule.stages:
        maximise = stage.objective.startswith("on time")
        assert (stage.value <= stage.bound) if maximise else (stage.value >= stage.bound)
        assert stage.optimal == (stage.gap == 0.0)
    # Each stage kept what the earlier ones reached: the departures reach at least every stage's value.
    on_time = schedule.on_time()
    assert all(stage.value <= on_time[int(stage.objective.rsplit(" ", 1)[1])] for stage in schedule.stages[:-1])
    assert schedule.late_days <= schedule.stages[-1].value
