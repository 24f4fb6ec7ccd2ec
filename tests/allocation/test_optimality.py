"""The optimiser's plans are optimal, checked by exhaustive search and by a different solver (HiGHS)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from contactgroup.allocation import AllocationProblem, greedy, solve
from contactgroup.allocation.plan import Plan
from tests.allocation.allocation_reference import exhaustive, medium_problem, sequential_lp, tiny_problems


def objective(plan: Plan) -> tuple[tuple[int, ...], int]:
    return tuple(level.covered for level in plan.levels), plan.total_lateness


class TestAgainstExhaustiveSearch:
    @settings(max_examples=300, deadline=None)
    @given(tiny_problems())
    def test_matches_the_best_of_every_allocation(self, problem: AllocationProblem) -> None:
        assert objective(solve(problem)) == exhaustive(problem)

    @settings(max_examples=200, deadline=None)
    @given(tiny_problems())
    def test_is_never_worse_than_greedy(self, problem: AllocationProblem) -> None:
        exact, quick = objective(solve(problem)), objective(greedy(problem))
        assert (exact[0], -exact[1]) >= (quick[0], -quick[1])


class TestAgainstLinearProgramming:
    @pytest.mark.parametrize("seed", range(12))
    def test_matches_sequential_lps_with_twelve_levels(self, seed: int) -> None:
        problem = medium_problem(seed)
        assert len({r.priority for r in problem.requirements}) >= 10
        assert objective(solve(problem)) == sequential_lp(problem)

    @pytest.mark.parametrize("seed", range(3))
    def test_matches_sequential_lps_with_thirty_levels_and_ties(self, seed: int) -> None:
        problem = medium_problem(100 + seed, n_reqs=150, n_offers=300, n_levels=30)
        assert objective(solve(problem)) == sequential_lp(problem)
