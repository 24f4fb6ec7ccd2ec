"""Benchmark of military mobility: earliest-arrival routing with border rules, and departure scheduling under
capacity, on a synthetic network.

Usage: .venv/bin/python bench/mobility.py [--places 500] [--shipments 10000] [--days 90] [--time-limit 10]
                                        [--max-wait 21] [--seed 2024] [--workers 2]
       .venv/bin/python bench/mobility.py --compare 1000,5000 [--spread 30] [--time-limit 5] [--places 500]

Routing is timed in CPU seconds of this process (the machine is shared; wall time would count the others' work)
against a plain Dijkstra per shipment (constant transit days, no permissions, no calendar) on
the same network in the same run, so the ratio is what the rules cost. Scheduling then takes every routed
shipment with its route fixed and chooses its departure day among the `--days` days of the horizon (at most
`--max-wait` days after its earliest) under the places' and legs' daily capacities (CP-SAT, `--time-limit`
seconds in all; the optimality gap is reported per objective). The defaults run in under a minute.

With `--compare N,M`, it times instead what `contactgroup mobility compare` runs, `mobility.compare` with
capacity, on N, then M shipments leaving over `--spread` days: each side (without the zone, with it) routed, then
scheduled as the services schedule (`movement.SCHEDULING`: one worker, `--time-limit` seconds of CP-SAT's
deterministic time, default the command's 5, each shipment's window capped by `LATE_TAIL`); per side the
scheduling time (the bench records each call of `capacity.solve`), the model's size (its choices: one Boolean
each) and each stage's optimality gap, as `compare` returns them.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import time
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from contactgroup.mobility import (
    BorderRule,
    Capacity,
    Consignment,
    Leg,
    Mode,
    Movement,
    Network,
    Place,
    PlaceKind,
    Route,
    Router,
    Schedule,
    ScheduleProblem,
    Shipment,
    Unit,
    WorkingDays,
    Zone,
    capacities,
    compare,
    movement,
    solve,
    summary,
)
from contactgroup.mobility import capacity as scheduler
from contactgroup.mobility.schedule import Instance
from contactgroup.services.movement import SCHEDULING

START = date(2026, 3, 2)
# Countries west to east, with a rough longitude band each, so that legs cross real borders in order.
COUNTRIES = [("NLD", 4.5), ("BEL", 4.0), ("FRA", 3.0), ("DEU", 10.0), ("CZE", 15.0), ("AUT", 14.0), ("POL", 20.0),
             ("SVK", 19.5), ("HUN", 19.0), ("ROU", 25.0), ("LTU", 24.0), ("UKR", 28.0)]
KINDS = [PlaceKind.DEPOT, PlaceKind.PORT, PlaceKind.RAIL_TERMINAL, PlaceKind.AIRFIELD, PlaceKind.LOGISTICS_HUB,
         PlaceKind.BORDER_CROSSING]
SPEED = {Mode.ROAD: 500.0, Mode.RAIL: 350.0, Mode.INLAND_WATERWAY: 150.0}  # km per day


def _km(a: Place, b: Place) -> float:
    x = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    return 6371.0 * math.hypot(x, math.radians(b.lat - a.lat))


def network(places: int, rng: random.Random) -> Network:
    """Places scattered by country band; each linked both ways to its 3 nearest neighbours by road or rail."""
    made = []
    for i in range(places):
        country, lon = rng.choice(COUNTRIES)
        hub = country in ("POL", "ROU", "SVK") and rng.random() < 0.15
        made.append(Place(f"P{i:04d}", f"Place {i}", country, PlaceKind.LOGISTICS_HUB if hub else rng.choice(KINDS),
                          round(rng.uniform(45.0, 55.0), 4), round(lon + rng.uniform(-2.5, 2.5), 4),
                          Capacity(rng.randint(15, 40)) if hub else None))
    legs: dict[str, Leg] = {}
    for a in made:
        for b in sorted(made, key=lambda p: _km(a, p))[1:4]:
            for x, y in ((a, b), (b, a)):
                mode = rng.choice([Mode.ROAD, Mode.ROAD, Mode.RAIL])
                days = max(1, round(_km(x, y) / SPEED[mode]))
                crossing = x.country != y.country
                found = Leg(x.code, y.code, mode, days,
                            Capacity(rng.randint(600, 2000), Unit.TONNES) if crossing and rng.random() < 0.3 else None)
                legs.setdefault(found.key, found)
    rules = tuple(BorderRule(c, m, rng.random() < 0.8, rng.randint(0, 10), rng.randint(0, 5),
                             frozenset(rng.sample([k for k, _ in COUNTRIES], 2)))
                  for c, _ in COUNTRIES for m in (Mode.ROAD, Mode.RAIL))
    zone = Zone("NL-DE-PL", "North Sea–eastern flank corridor", frozenset({"NLD", "DEU", "POL"}),
                START + timedelta(days=30))
    return Network(tuple(made), tuple(legs.values()), rules, (zone,))


def shipments(net: Network, count: int, days: int, rng: random.Random) -> list[Shipment]:
    west = [p.code for p in net.places if p.country in ("NLD", "BEL", "FRA", "DEU")]
    east = [p.code for p in net.places if p.kind is PlaceKind.LOGISTICS_HUB and p.country in ("POL", "ROU", "SVK")]
    donors = [c for c, _ in COUNTRIES if c != "UKR"] + ["USA", "GBR", "CAN"]
    return [Shipment(f"S{i:05d}", rng.choice(west), rng.choice(east), START + timedelta(rng.randrange(days)),
                     rng.choice(donors), rng.random() < 0.2, START) for i in range(count)]


def plain_dijkstra(adjacent: dict[str, list[tuple[str, int]]], origin: str, goal: str) -> int | None:
    """Days from origin to goal with constant transit days and nothing else: the baseline."""
    best, heap, done = {origin: 0}, [(0, origin)], set()
    while heap:
        day, place = heapq.heappop(heap)
        if place == goal:
            return day
        if place in done:
            continue
        done.add(place)
        for head, days in adjacent[place]:
            if day + days < best.get(head, day + days + 1):
                best[head] = day + days
                heapq.heappush(heap, (day + days, head))
    return None


def bench_routing(net: Network, todo: list[Shipment]) -> tuple[list[Route], float, float, int]:
    adjacent: dict[str, list[tuple[str, int]]] = {p.code: [] for p in net.places}
    for leg in net.legs:
        adjacent[leg.origin].append((leg.to, leg.transit_days))
    began = time.process_time()
    for s in todo:
        plain_dijkstra(adjacent, s.origin, s.destination)
    plain = time.process_time() - began
    began = time.process_time()
    router = Router(net, WorkingDays())
    found = [router.route(s) for s in todo]
    ruled = time.process_time() - began
    routes = [r for r in found if isinstance(r, Route)]
    return routes, plain, ruled, len(found) - len(routes)


def movements(routes: list[Route], rng: random.Random) -> list[Movement]:
    return [movement(r, tonnes=rng.randint(5, 40), priority=rng.choice([1, 2, 2, 3, 3, 3]),
                     needed_by=r.eta + timedelta(days=rng.randint(-3, 10)), member=r.shipment.nationality)
            for r in routes]


def consignments(todo: list[Shipment], rng: random.Random) -> list[Consignment]:
    """The shipments as `compare` takes them: needed two to eight weeks after they may leave."""
    return [Consignment(s, s.nationality, rng.choice([1, 2, 2, 3, 3, 3]), rng.randint(1, 500),
                        s.leaves + timedelta(days=rng.randint(14, 56)), rng.randint(5, 40)) for s in todo]


def bench_compare(net: Network, sizes: list[int], spread: int, time_limit: float, seed: int,
                  late_tail: int | None) -> None:
    """`compare` with capacity on each size, scheduled as the services schedule (`movement.SCHEDULING`, with
    `time_limit` deterministic seconds): wall and CPU time in all, and per side the scheduling time, the model's
    size and each stage's gap (which `compare` returns with each side's schedule)."""
    solves: list[tuple[float, int]] = []
    plain_solve = scheduler.solve

    def recorded(problem: ScheduleProblem, **settings: Any) -> Schedule:
        began = time.perf_counter()
        found = plain_solve(problem, **settings)
        instance = Instance(problem)
        solves.append((time.perf_counter() - began, sum(len(instance.choices(i)) for i in range(len(
            problem.movements)))))
        return found

    scheduler.solve = recorded  # compare calls it once per side, without then with
    zone = replace(net.zones[0], starts=START)  # from the planning day, as `mobility compare --from` it
    scheduling = replace(SCHEDULING, seconds=time_limit, late_tail=late_tail)
    print(f"`compare` with capacity, zone {zone.code} from {zone.starts}, CP-SAT {time_limit:g} s of deterministic "
          f"time a side (one worker), windows up to {late_tail if late_tail is not None else 'any number of'} days "
          f"past the last day on time and {scheduling.max_wait} in all, shipments leaving over {spread} days (seed "
          f"{seed})\n")
    print("| shipments | compare, wall (CPU) | side | routed | schedule, wall | choices | delayed / held "
          "| gap per stage | schedule |\n|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        rng = random.Random(seed)
        listed = consignments(shipments(net, size, spread, rng), rng)
        solves.clear()
        began, cpu = time.perf_counter(), time.process_time()
        found = compare(net, listed, zone, capacity=True, scheduling=scheduling)
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        routed = (sum(1 for s in found.savings if s.eta_without is not None),
                  sum(1 for s in found.savings if s.eta_with is not None))
        schedules = (found.schedule_without, found.schedule_with)
        for side, (spent, choices), schedule, count in zip(("without", "with"), solves, schedules, routed,
                                                          strict=True):
            assert schedule is not None
            delayed = sum(1 for d in schedule.departures if d.waits)
            held = sum(1 for d in schedule.departures if d.departs is None)
            gaps = ", ".join(f"{stage.gap:.2%}" for stage in schedule.stages) or "no stage needed a solve"
            print(f"| {size:,} | {took:.1f} s ({cpu:.1f} s) | {side} | {count:,} | {spent:.1f} s | {choices:,} | "
                  f"{delayed:,} / {held:,} | {gaps} | {summary(schedule.stages)} |")
        print(f"|  |  | days saved | {found.total.days_saved:,} over {found.total.compared:,} | | | | "
              f"late days {found.total.late_days_without:,} → {found.total.late_days_with:,} | |")
    scheduler.solve = plain_solve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=500)
    parser.add_argument("--shipments", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--time-limit", type=float, default=None,
                        help="CP-SAT seconds (default 10 s of wall time; with --compare, the services' 5 s of "
                             "deterministic time)")
    parser.add_argument("--max-wait", type=int, default=21)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--compare", default="", help="time `compare` instead, on these sizes: 1000,5000")
    parser.add_argument("--spread", type=int, default=30, help="with --compare: days the shipments leave over")
    parser.add_argument("--late-tail", default=str(SCHEDULING.late_tail),
                        help="with --compare: days a shipment's window runs past its last day on time ('none': to "
                             "--max-wait's 90, as before the cap)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    net = network(args.places, rng)
    if args.compare:
        bench_compare(net, [int(n) for n in args.compare.split(",")], args.spread,
                      SCHEDULING.seconds if args.time_limit is None else args.time_limit, args.seed,
                      None if args.late_tail == "none" else int(args.late_tail))
        return
    args.time_limit = 10.0 if args.time_limit is None else args.time_limit
    todo = shipments(net, args.shipments, args.days, rng)
    routes, plain, ruled, unrouted = bench_routing(net, todo)
    waited = sum(1 for r in routes if any(s.waited for s in r.steps))
    print(f"Network: {len(net.places):,} places, {len(net.legs):,} legs, {len(net.rules)} border rules, "
          f"{len(net.zones)} zone; {len(todo):,} shipments (seed {args.seed})\n")
    print("| measurement | result |\n|---|---|")
    print(f"| route {len(todo):,} shipments, plain Dijkstra (no rules), CPU | {plain:.2f} s "
          f"({plain / len(todo) * 1e6:,.0f} µs each) |")
    print(f"| route {len(todo):,} shipments, with permissions, working days, zone, CPU | {ruled:.2f} s "
          f"({ruled / len(todo) * 1e6:,.0f} µs each) |")
    print(f"| ratio with rules / plain | {ruled / plain:.2f} |")
    print(f"| routed / no route / waited at a border | {len(routes):,} / {unrouted:,} / {waited:,} |")
    problem = ScheduleProblem(tuple(movements(routes, rng)), capacities(net), START, args.days, args.max_wait)
    began = time.perf_counter()
    schedule = solve(problem, time_limit=args.time_limit, workers=args.workers)
    took = time.perf_counter() - began
    held = sum(1 for d in schedule.departures if d.departs is None)
    moved = sum(1 for d in schedule.departures if d.waits)
    print(f"| schedule {len(problem.movements):,} shipments over {args.days} days (max wait {args.max_wait}, "
          f"time limit {args.time_limit:g} s), wall | {took:.1f} s |")
    print(f"| shipments delayed by capacity / held beyond their window | {moved:,} / {held:,} |")
    print(f"| on time per priority | {', '.join(f'{p}: {n:,}' for p, n in schedule.on_time().items())} |")
    print(f"| days late in all | {schedule.late_days:,} |")
    print(f"| optimal | {schedule.optimal} (largest gap {schedule.gap:.4%}) |")
    for stage in schedule.stages:
        print(f"| stage: {stage.objective} | {stage.value:,} (bound {stage.bound:,}, gap {stage.gap:.4%}) |")
    waiting = [d for d in schedule.departures if d.waits][:3]
    print("\nWhy shipments wait (the first three):")
    for d in waiting:
        print(f"- {d.movement} (priority {d.priority}): {'; '.join(str(w) for w in d.waits)}")


if __name__ == "__main__":
    main()
