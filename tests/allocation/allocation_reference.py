"""Independent references for the optimiser's tests: exhaustive search, HiGHS LPs, and instance generators.

Nothing here uses the optimiser's own network code: compatibility, remaining quantities and lateness are
recomputed from the AllocationProblem, so a bug there cannot hide in both the solver and its check.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from itertools import product

import highspy
import numpy as np
from hypothesis import strategies as st

from contactgroup.allocation import AllocationProblem, Offer, Pin, Requirement

DAY0 = date(2025, 3, 1)


def pairs(problem: AllocationProblem) -> list[tuple[int, int, int]]:
    """(requirement index, offer index, days late) for every compatible, non-blocked pair."""
    out = []
    for i, r in enumerate(problem.requirements):
        for j, o in enumerate(problem.offers):
            if o.item in problem.item_classes[r.item_class] and not problem.blocked(o):
                arrives = o.available_from + timedelta(days=problem.transit(o.origin, r.destination))
                out.append((i, j, max(0, (arrives - r.needed_by).days)))
    return out


def remaining(problem: AllocationProblem) -> tuple[list[int], list[int], dict[int, int], int]:
    """Requirement needs and offer quantities after pins; pinned units per requirement; pins' lateness."""
    need = [r.quantity for r in problem.requirements]
    free = [o.quantity for o in problem.offers]
    req_at = {r.id: i for i, r in enumerate(problem.requirements)}
    offer_at = {o.id: j for j, o in enumerate(problem.offers)}
    pinned: dict[int, int] = {}
    late = 0
    for p in problem.pinned:
        i, j = req_at[p.requirement], offer_at[p.offer]
        need[i] -= p.quantity
        free[j] -= p.quantity
        pinned[i] = pinned.get(i, 0) + p.quantity
        r, o = problem.requirements[i], problem.offers[j]
        arrives = o.available_from + timedelta(days=problem.transit(o.origin, r.destination))
        late += p.quantity * max(0, (arrives - r.needed_by).days)
    return need, free, pinned, late


def levels_of(problem: AllocationProblem) -> list[int]:
    return sorted({r.priority for r in problem.requirements})


def exhaustive(problem: AllocationProblem) -> tuple[tuple[int, ...], int]:
    """Best (covered per level, most important first; total lateness) over every integer allocation."""
    need, free, pinned, pin_late = remaining(problem)
    levels = levels_of(problem)
    compat = pairs(problem)
    by_offer: dict[int, list[tuple[int, int]]] = {}
    for i, j, late in compat:
        by_offer.setdefault(j, []).append((i, late))
    best: tuple[tuple[int, ...], int] | None = None
    offers = sorted(by_offer)

    def splits(total: int, parts: int) -> list[tuple[int, ...]]:
        return [s for s in product(range(total + 1), repeat=parts) if sum(s) <= total]

    choices = [splits(max(free[j], 0), len(by_offer[j])) for j in offers]
    for combo in product(*choices):
        got = [0] * len(need)
        late = 0
        for j, split in zip(offers, combo, strict=True):
            for (i, days), units in zip(by_offer[j], split, strict=True):
                got[i] += units
                late += units * days
        if any(g > n for g, n in zip(got, need, strict=True)):
            continue
        covered = [0] * len(levels)
        for i, r in enumerate(problem.requirements):
            covered[levels.index(r.priority)] += got[i] + pinned.get(i, 0)
        value = (tuple(covered), late + pin_late)
        if best is None or (value[0], -value[1]) > (best[0], -best[1]):
            best = value
    if best is None:  # no usable pair at all
        covered = [0] * len(levels)
        for i, r in enumerate(problem.requirements):
            covered[levels.index(r.priority)] += pinned.get(i, 0)
        best = (tuple(covered), pin_late)
    return best


def sequential_lp(problem: AllocationProblem) -> tuple[tuple[int, ...], int]:
    """Covered per level and lateness from HiGHS: one LP per level (fixing each total), then lateness."""
    need, free, pinned, pin_late = remaining(problem)
    levels = levels_of(problem)
    compat = pairs(problem)
    n_r, n_o, n = len(need), len(free), len(compat)
    h = highspy.Highs()
    h.silent()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, n_r + n_o
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.full(n, highspy.kHighsInf)
    lp.row_lower_ = np.zeros(n_r + n_o)
    lp.row_upper_ = np.array(need + free, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * n + 1, 2, dtype=np.int32)
    lp.a_matrix_.index_ = np.array([x for i, j, _ in compat for x in (i, n_r + j)], dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(2 * n)
    h.passModel(lp)
    level_of = [levels.index(problem.requirements[i].priority) for i, _, _ in compat]
    every = np.arange(n, dtype=np.int32)
    covered = []
    for k in range(len(levels)):
        cols = np.array([c for c in range(n) if level_of[c] == k], dtype=np.int32)
        if len(cols) == 0:
            covered.append(0)
            continue
        h.changeColsCost(n, every, np.array([-1.0 if level_of[c] == k else 0.0 for c in range(n)]))
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        best = round(-h.getInfo().objective_function_value)
        covered.append(best)
        h.addRow(best, best, len(cols), cols, np.ones(len(cols)))
    late = 0
    if n:
        h.changeColsCost(n, every, np.array([float(d) for _, _, d in compat]))
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        late = round(h.getInfo().objective_function_value)
    for i, r in enumerate(problem.requirements):
        covered[levels.index(r.priority)] += pinned.get(i, 0)
    return tuple(covered), late + pin_late


@st.composite
def tiny_problems(draw: st.DrawFn) -> AllocationProblem:
    """Problems small enough to search exhaustively: at most 3 requirements, 3 offers, 3 units each."""
    items = ["i1", "i2", "i3"]
    classes = {
        "c1": frozenset(draw(st.sets(st.sampled_from(items), min_size=1))),
        "c2": frozenset(draw(st.sets(st.sampled_from(items)))),
    }
    reqs = tuple(
        Requirement(
            f"r{i}",
            draw(st.sampled_from(sorted(classes))),
            draw(st.integers(0, 3)),
            draw(st.integers(1, 3)),
            DAY0 + timedelta(days=draw(st.integers(0, 4))),
            draw(st.sampled_from(["UKR", "POL"])),
        )
        for i in range(draw(st.integers(1, 3)))
    )
    offers = tuple(
        Offer(
            f"o{j}",
            "DEU",
            draw(st.sampled_from(items)),
            draw(st.integers(0, 3)),
            DAY0 + timedelta(days=draw(st.integers(0, 4))),
            draw(st.sampled_from(["DEU", "USA"])),
            draw(st.sampled_from([None, None, "USA"])),
        )
        for j in range(draw(st.integers(1, 3)))
    )
    transit = {
        (a, b): draw(st.integers(0, 3)) for a in ("DEU", "USA") for b in ("UKR", "POL")
    }
    granted = frozenset(o.id for o in offers if o.consent_from and draw(st.booleans()))
    pins: list[Pin] = []
    if draw(st.booleans()):
        for r in reqs:
            for o in offers:
                if o.item in classes[r.item_class] and min(o.quantity, r.quantity) > 0:
                    if not any(p.offer == o.id or p.requirement == r.id for p in pins):
                        pins.append(Pin(o.id, r.id, draw(st.integers(1, min(o.quantity, r.quantity)))))
                    break
    return AllocationProblem(reqs, offers, classes, transit, tuple(pins), granted)


def medium_problem(seed: int, n_reqs: int = 60, n_offers: int = 150, n_levels: int = 12) -> AllocationProblem:
    """A random instance with heavy competition: few classes, overlapping items, many priority levels."""
    rnd = random.Random(seed)
    items = [f"i{k}" for k in range(8)]
    classes = {f"c{k}": frozenset(rnd.sample(items, rnd.randint(1, 3))) for k in range(5)}
    reqs = tuple(
        Requirement(
            f"r{i:03d}",
            rnd.choice(sorted(classes)),
            rnd.randint(0, 40),
            rnd.randint(1, n_levels),
            DAY0 + timedelta(days=rnd.randint(0, 60)),
            rnd.choice(["UKR", "POL", "ROU"]),
        )
        for i in range(n_reqs)
    )
    offers = tuple(
        Offer(
            f"o{j:03d}",
            "M",
            rnd.choice(items),
            rnd.randint(0, 25),
            DAY0 + timedelta(days=rnd.randint(-30, 90)),
            rnd.choice(["DEU", "USA", "FRA"]),
            rnd.choice([None, None, None, "USA"]),
        )
        for j in range(n_offers)
    )
    transit = {(a, b): rnd.randint(0, 20) for a in ("DEU", "USA", "FRA") for b in ("UKR", "POL", "ROU")}
    granted = frozenset(o.id for o in offers if o.consent_from and rnd.random() < 0.5)
    pins: list[Pin] = []
    taken_offers: set[str] = set()
    for r in reqs[:: max(1, n_reqs // 5)]:
        for o in offers:
            if o.id not in taken_offers and o.item in classes[r.item_class] and min(o.quantity, r.quantity) > 0:
                taken_offers.add(o.id)
                pins.append(Pin(o.id, r.id, rnd.randint(1, min(o.quantity, r.quantity))))
                break
    return AllocationProblem(reqs, offers, classes, transit, tuple(pins), granted)


CLASSES = {"shell": frozenset({"dm121", "m107"}), "shell-er": frozenset({"dm121"}), "kit": frozenset({"mdk"})}


def req(
    id: str, item_class: str = "shell", quantity: int = 10, priority: int = 1, due: int = 10, to: str = "UKR"
) -> Requirement:
    """A requirement needed `due` days after DAY0."""
    return Requirement(id, item_class, quantity, priority, DAY0 + timedelta(days=due), to)


def offer(
    id: str, item: str = "dm121", quantity: int = 10, ready: int = 0, origin: str = "DEU", consent: str | None = None
) -> Offer:
    """An offer available `ready` days after DAY0."""
    return Offer(id, "M-" + origin, item, quantity, DAY0 + timedelta(days=ready), origin, consent)


def scenario(
    requirements: list[Requirement],
    offers: list[Offer],
    *,
    transit: dict[tuple[str, str], int] | None = None,
    pins: list[Pin] | None = None,
    granted: set[str] | None = None,
) -> AllocationProblem:
    return AllocationProblem(
        tuple(requirements), tuple(offers), CLASSES, transit or {}, tuple(pins or ()), frozenset(granted or ())
    )
