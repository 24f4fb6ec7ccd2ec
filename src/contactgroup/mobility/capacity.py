"""The scheduling integer program (OR-Tools CP-SAT): one Boolean per movement and candidate departure day.

Stages, not weights: the objective is lexicographic over every priority tier and then lateness, and weights
that encode that order exactly grow like a product of the tiers' sizes, past 64 bits for thousands of
movements. So each stage optimises one objective and, before the next, its value is fixed as a constraint;
the previous stage's solution is the next one's hint (it stays feasible), so no stage starts from nothing.
A stage whose hint already reaches its obvious bound (every movement of the tier that could be on time alone
is; every movement as early as its window allows) is optimal without a solve. A stage's solution is moved
left (`schedule.left_shift`, which makes no objective worse) and kept only if it beats the hint, so a stage cut
short by its time limit never undoes what an earlier one found; its reported bound is the better of the
solver's and the obvious one.
"""

from __future__ import annotations

import time
from collections import defaultdict

from ortools.sat.python import cp_model

from contactgroup.mobility.schedule import (
    Instance,
    Schedule,
    ScheduleProblem,
    Stage,
    check,
    departures,
    extend,
    greedy,
    left_shift,
)


def solve(problem: ScheduleProblem, *, time_limit: float = 10.0, workers: int = 2,
          deterministic: bool = False) -> Schedule:
    """The schedule that is optimal in the lexicographic order of `schedule.py`, or the best found within
    `time_limit` seconds in all, building the model included (each stage's value, bound and gap in
    `Schedule.stages`). `deterministic`: the same problem always gets the same schedule, whatever the machine's
    load (one worker, and each stage's limit in CP-SAT's deterministic time, an equal share of `time_limit`; the
    model's building then is not counted, since wall time is what the load changes), as a report computed again
    must."""
    deadline = time.monotonic() + time_limit  # building the model counts against the limit too
    instance = check(problem)
    model = _Model(instance)
    days = greedy(instance)
    stages = []
    objectives = model.objectives()
    for n, (name, coefs, obvious, maximise) in enumerate(objectives):
        value, bound, expr = model.value(coefs, days), obvious, model.linear(coefs)
        if value != obvious:
            left = time_limit / len(objectives) if deterministic else max(
                0.1, (deadline - time.monotonic()) / (len(objectives) - n))
            found, proven = model.optimise(expr, maximise, days, left, 1 if deterministic else workers,
                                           deterministic)
            bound = min(proven, obvious) if maximise else max(proven, obvious)
            shifted = left_shift(instance, found) if found is not None else days
            better = model.value(coefs, shifted)
            if better > value if maximise else better < value:
                days, value = shifted, better
        stages.append(Stage(name, value, bound, value == bound))
        model.add(expr >= value if maximise else expr <= value)
    return Schedule(departures(instance, *extend(instance, left_shift(instance, days))), tuple(stages), time_limit)


class _Model:
    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.model = cp_model.CpModel()
        self.choice: list[dict[int, cp_model.IntVar]] = []
        for i in range(len(instance.movements)):
            days = instance.choices(i)
            chosen = {d: self.model.new_bool_var(f"x{i}_{d}") for d in days} if len(days) > 1 else {}
            if chosen:
                self.model.add_exactly_one(chosen.values())
            self.choice.append(chosen)
        self._capacities()

    def _capacities(self) -> None:
        """One constraint per resource and day that the movements could overfill, and none elsewhere."""
        terms: dict[tuple[str, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for i, chosen in enumerate(self.choice):
            for d, x in chosen.items():
                if d in self.instance.windows[i]:
                    for r, off, amount in self.instance.uses[i]:
                        terms[(r, d + off)].append((amount, x))
        for (resource, _), found in terms.items():
            if sum(a for a, _ in found) > self.instance.cap[resource]:
                amounts, xs = zip(*found, strict=True)
                self.model.add(cp_model.LinearExpr.weighted_sum(xs, amounts) <= self.instance.cap[resource])

    def objectives(self) -> list[tuple[str, dict[tuple[int, int], int], int, bool]]:
        """(name, coefficients by (movement, day), obvious bound, maximise) per stage, in lexicographic order."""
        inst = self.instance
        found = []
        for priority in sorted({m.priority for m in inst.movements}):
            tier = [i for i, m in enumerate(inst.movements) if m.priority == priority]
            coefs = {(i, d): 1 for i in tier for d in inst.windows[i] if inst.on_time(i, d)}
            found.append((f"on time, priority {priority}", coefs, len({i for i, _ in coefs}), True))
        late = {(i, d): inst.late(i, d) for i in range(len(inst.movements)) for d in inst.choices(i)}
        fewest = sum(min(inst.late(i, d) for d in inst.choices(i)) for i in range(len(inst.movements)))
        found.append(("days late", late, fewest, False))
        return found

    def value(self, coefs: dict[tuple[int, int], int], days: list[int]) -> int:
        return sum(coefs.get((i, d), 0) for i, d in enumerate(days))

    def linear(self, coefs: dict[tuple[int, int], int]) -> cp_model.LinearExpr:
        """The objective over the variables; a movement without choice adds a constant."""
        fixed = sum(c for (i, d), c in coefs.items() if not self.choice[i])
        terms = [(self.choice[i][d], c) for (i, d), c in coefs.items() if self.choice[i] and c]
        xs, weights = zip(*terms, strict=True) if terms else ((), ())
        return cp_model.LinearExpr.weighted_sum(xs, weights) + fixed

    def add(self, constraint: cp_model.BoundedLinearExpression | bool) -> None:
        self.model.add(constraint)

    def optimise(self, expr: cp_model.LinearExpr, maximise: bool, hint: list[int], seconds: float,
                 workers: int, deterministic: bool = False) -> tuple[list[int] | None, int]:
        """(days, proven bound) of this stage, starting from `hint`; no days if the solver found none in time
        (its bound then is no bound: the caller keeps the obvious one)."""
        (self.model.maximize if maximise else self.model.minimize)(expr)
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        given = self.model.proto.solution_hint  # a complete hint, written at once: add_hint is slow at 10^5
        given.vars.extend(x.index for chosen in self.choice for x in chosen.values())
        given.values.extend(int(d == hint[i]) for i, chosen in enumerate(self.choice) for d in chosen)
        solver = cp_model.CpSolver()
        if deterministic:
            solver.parameters.max_deterministic_time = seconds
        else:
            solver.parameters.max_time_in_seconds = seconds
        solver.parameters.num_workers = workers
        status = solver.solve(self.model)
        worst = -(2**62) if not maximise else 2**62
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, worst
        days = [next(d for d, x in chosen.items() if solver.boolean_value(x)) if chosen else hint[i]
                for i, chosen in enumerate(self.choice)]
        return days, round(solver.best_objective_bound)
