"""Benchmark of the allocation optimiser against the greedy fill and a generic LP solver (HiGHS).

Usage: .venv/bin/python bench/allocation.py [--sizes realistic,large,stress,large-chained] [--seed N] [--no-lp]
                                          [--stress-scale K]

`stress` is `STRESS_BASE` (30,000 requirements x 150,000 offers, 3,000 classes) times K (default
STRESS_SCALE), the largest scale measured to fit in 8 GB of peak memory in a sane time (docs/performance.md);
it is timed once, not best of three.

`large-chained` is `large` with every item class also holding the next class's first item, so that the
whole instance is one connected part (no split into independent parts is possible).

Instances are synthetic, generated deterministically from the seed. Each size runs in a fresh child process
so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from contactgroup.allocation import AllocationProblem, Offer, Pin, Requirement, greedy, solve


@dataclass(frozen=True, slots=True)
class Size:
    requirements: int
    offers: int
    classes: int
    lp: str  # "sequential", "weighted" or "none"
    chained: bool = False  # each class also takes the next class's first item: one connected part


STRESS_BASE = Size(30_000, 150_000, 3_000, "none")
STRESS_SCALE = 20
SIZES = {
    "realistic": Size(1_000, 5_000, 100, "sequential"),
    "large": Size(10_000, 50_000, 1_000, "weighted"),
    "stress": STRESS_BASE,  # scaled by --stress-scale
    "large-chained": Size(10_000, 50_000, 1_000, "none", chained=True),
}


def scaled(size: Size, k: int) -> Size:
    return Size(size.requirements * k, size.offers * k, size.classes * k, size.lp, size.chained)
LEVELS = 10
ORIGINS = ["DEU", "FRA", "POL", "USA", "GBR", "NLD", "NOR", "SWE", "DNK", "FIN",
           "CZE", "ITA", "ESP", "CAN", "BEL", "LTU", "LVA", "EST", "ROU", "BGR"]
DESTINATIONS = ["UKR", "POL", "ROU"]


def generate(size: Size, seed: int) -> AllocationProblem:
    """A synthetic instance: ~2.3 items per class, ~1.6 offered units per needed unit, 10% needing consent."""
    rng = np.random.default_rng(seed)
    n_items = 2 * size.classes
    item_classes: dict[str, frozenset[str]] = {}
    for c in range(size.classes):
        items = {2 * c, 2 * c + 1}
        if rng.random() < 0.3:
            items.add(int(rng.integers(n_items)))
        if size.chained:
            items.add((2 * c + 2) % n_items)  # drawn from no random stream: the other sizes are unchanged
        item_classes[f"C{c:05d}"] = frozenset(f"I{i:05d}" for i in items)
    base = date(2025, 1, 1)
    req_class = rng.integers(size.classes, size=size.requirements)
    req_qty = np.round(10 ** rng.uniform(1, 3.5, size.requirements)).astype(int)
    req_prio = rng.integers(1, LEVELS + 1, size=size.requirements)
    req_due = rng.integers(0, 365, size=size.requirements)
    req_dest = rng.integers(len(DESTINATIONS), size=size.requirements)
    requirements = tuple(
        Requirement(f"R{i:06d}", f"C{c:05d}", int(q), int(p), base + timedelta(days=int(d)), DESTINATIONS[t])
        for i, (c, q, p, d, t) in enumerate(zip(req_class, req_qty, req_prio, req_due, req_dest, strict=True))
    )
    # Five times as many offers, each a third of a requirement's size on average, spread unevenly.
    off_item = rng.integers(n_items, size=size.offers)
    off_qty = np.round(10 ** rng.uniform(0.7, 3.0, size.offers)).astype(int)
    off_ready = rng.integers(-90, 300, size=size.offers)
    off_origin = rng.integers(len(ORIGINS), size=size.offers)
    needs_consent = rng.random(size.offers) < 0.1
    consent_member = rng.integers(len(ORIGINS), size=size.offers)
    offers = tuple(
        Offer(
            f"O{i:06d}",
            ORIGINS[m],
            f"I{it:05d}",
            int(q),
            base + timedelta(days=int(d)),
            ORIGINS[m],
            ORIGINS[cm] if nc else None,
        )
        for i, (it, q, d, m, nc, cm) in enumerate(
            zip(off_item, off_qty, off_ready, off_origin, needs_consent, consent_member, strict=True)
        )
    )
    granted = frozenset(o.id for o in offers if o.consent_from is not None and rng.random() < 0.5)
    transit = {
        (o, d): int(rng.integers(0, 22)) for o in ORIGINS for d in DESTINATIONS
    }
    # A few confirmed allocations, each on a distinct compatible offer and requirement.
    by_item: dict[str, list[Offer]] = {}
    for o in offers:
        by_item.setdefault(o.item, []).append(o)
    pins: list[Pin] = []
    used: set[str] = set()
    for r in requirements[:: max(1, size.requirements // 20)]:
        for item in sorted(item_classes[r.item_class]):
            candidates = [o for o in by_item.get(item, []) if o.id not in used and o.quantity > 1]
            if candidates:
                o = candidates[0]
                used.add(o.id)
                pins.append(Pin(o.id, r.id, min(o.quantity, r.quantity) // 2 or 1))
                break
    return AllocationProblem(requirements, offers, item_classes, transit, tuple(pins), granted)


def lp_reference(problem: AllocationProblem, mode: str) -> float:
    """Seconds HiGHS takes for the coverage objective: one LP per level, or one LP with weights 2^(L-k)."""
    import highspy

    from contactgroup.allocation.network import build

    start = time.perf_counter()
    net = build(problem)
    usable = np.flatnonzero(net.usable)
    n_o, n_r, n = len(net.offers), len(net.requirements), len(usable)
    level = net.req_level[net.pair_req[usable]]
    h = highspy.Highs()
    h.silent()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, n_o + n_r
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.full(n, highspy.kHighsInf)
    lp.row_lower_ = np.zeros(n_o + n_r)
    lp.row_upper_ = np.concatenate([net.offer_free, net.req_need]).astype(float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * n + 1, 2, dtype=np.int32)
    rows = np.empty(2 * n, np.int32)
    rows[0::2], rows[1::2] = net.pair_offer[usable], n_o + net.pair_req[usable]
    lp.a_matrix_.index_ = rows
    lp.a_matrix_.value_ = np.ones(2 * n)
    if mode == "weighted":
        lp.col_cost_ = -(2.0 ** (len(net.levels) - 1 - level))
        h.passModel(lp)
        h.run()
    else:
        lp.col_cost_ = np.zeros(n)
        h.passModel(lp)
        for k in range(len(net.levels)):
            cols = np.flatnonzero(level == k).astype(np.int32)
            h.changeColsCost(n, np.arange(n, dtype=np.int32), np.where(level == k, -1.0, 0.0))
            h.run()
            best = -h.getInfo().objective_function_value
            h.addRow(best - 1e-6, highspy.kHighsInf, len(cols), cols, np.ones(len(cols)))
        h.changeColsCost(n, np.arange(n, dtype=np.int32), net.pair_late[usable].astype(float))
        h.run()
    return time.perf_counter() - start


def _hwm_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measure(name: str, seed: int, with_lp: bool, stress_scale: int = STRESS_SCALE) -> dict[str, object]:
    size = scaled(SIZES[name], stress_scale) if name == "stress" else SIZES[name]
    runs = 1 if name == "stress" else 3
    started = time.perf_counter()
    problem = generate(size, seed)
    generate_s = time.perf_counter() - started
    from contactgroup.allocation.network import build

    pairs = int(build(problem).usable.sum())
    greedy_times, solve_times = [], []
    for _ in range(runs):
        start = time.perf_counter()
        quick = greedy(problem)
        greedy_times.append(time.perf_counter() - start)
    rss_before = _status_kb("VmRSS")
    reset = _hwm_reset()
    for _ in range(runs):
        start = time.perf_counter()
        plan = solve(problem)
        solve_times.append(time.perf_counter() - start)
    # Without a reset the high-water mark also covers generating the instance: an over-estimate.
    peak = _status_kb("VmHWM")
    # The core alone: from the indexed network to units per pair, without the shared indexing and plan output.
    from contactgroup.allocation.heuristic import greedy_flow
    from contactgroup.allocation.solver import optimal_flow

    net = build(problem)
    core_greedy, core_exact = [], []
    for _ in range(runs):
        start = time.perf_counter()
        greedy_flow(net)
        core_greedy.append(time.perf_counter() - start)
        start = time.perf_counter()
        optimal_flow(net)
        core_exact.append(time.perf_counter() - start)
    lp_seconds = lp_reference(problem, size.lp) if with_lp and size.lp != "none" else None
    return {
        "size": name,
        "generate_s": generate_s,
        "runs": runs,
        "requirements": size.requirements,
        "offers": size.offers,
        "pairs": pairs,
        "greedy_s": min(greedy_times),
        "solve_s": min(solve_times),
        "core_greedy_s": min(core_greedy),
        "core_exact_s": min(core_exact),
        "peak_mb": peak / 1024,
        "extra_mb": (peak - rss_before) / 1024,
        "peak_is_solve_only": reset,
        "lp": size.lp if lp_seconds is not None else "none",
        "lp_s": lp_seconds,
        "levels": [(lv.priority, lv.needed, lv.covered, quick.covered(lv.priority)) for lv in plan.levels],
        "lateness": (plan.total_lateness, quick.total_lateness),
        "pairs_used": (plan.pairs, quick.pairs),
    }


def report(r: dict[str, object]) -> None:
    lp = "—" if r["lp_s"] is None else f"{r['lp_s']:.2f} s ({r['lp']})"
    print(
        f"\n### {r['size']}: {r['requirements']:,} requirements × {r['offers']:,} offers, "
        f"{r['pairs']:,} usable pairs\n"
    )
    print("| | greedy | exact | exact/greedy |")
    print("|---|---|---|---|")
    print(
        f"| problem → plan | {r['greedy_s']:.3f} s | {r['solve_s']:.3f} s "
        f"| {r['solve_s'] / r['greedy_s']:.1f}× |"  # type: ignore[operator]
    )
    print(
        f"| core (network → units per pair) | {r['core_greedy_s']:.3f} s | {r['core_exact_s']:.3f} s "
        f"| {r['core_exact_s'] / r['core_greedy_s']:.1f}× |"  # type: ignore[operator]
    )
    print(f"\nInstance generated in {r['generate_s']:.1f} s; times are the best of {r['runs']} run(s).")
    print(
        f"\nPeak RSS while solving: {r['peak_mb']:.0f} MB (+{r['extra_mb']:.0f} MB over the process before "
        f"solving). HiGHS LP reference (same instance, coverage by priority): {lp}."
    )
    print("\n| priority | needed | exact covered | greedy covered | gain |")
    print("|---|---|---|---|---|")
    for p, needed, exact, quick in r["levels"]:  # type: ignore[attr-defined]
        print(f"| {p} | {needed:,} | {exact:,} | {quick:,} | {exact - quick:+,} |")
    late, quick_late = r["lateness"]  # type: ignore[misc]
    pairs, quick_pairs = r["pairs_used"]  # type: ignore[misc]
    print(f"\nLateness (unit-days): exact {late:,}, greedy {quick_late:,}. "
          f"Offer-requirement pairs: exact {pairs:,}, greedy {quick_pairs:,}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="realistic,large,stress")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-lp", action="store_true", help="skip the HiGHS reference")
    parser.add_argument("--stress-scale", type=int, default=STRESS_SCALE,
                        help=f"stress = {STRESS_BASE.requirements:,} x {STRESS_BASE.offers:,} times this")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.seed, not args.no_lp, args.stress_scale)))
        return
    for name in args.sizes.split(","):
        if name not in SIZES:
            parser.error(f"unknown size {name!r}; choose from {', '.join(SIZES)}")
        cmd = [sys.executable, __file__, "--child", name, "--seed", str(args.seed),
               "--stress-scale", str(args.stress_scale)]
        if args.no_lp:
            cmd.append("--no-lp")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        report(json.loads(out.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
