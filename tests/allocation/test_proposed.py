"""Earlier proposals (`AllocationProblem.proposed`) break ties only: they never change coverage or lateness, an optimal
plan handed back as proposals comes back unchanged, and a change elsewhere leaves proposals alone."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactgroup.allocation import AllocationProblem, Plan, Proposal, problem_from_dict, solve
from contactgroup.allocation import solver as solver_module
from contactgroup.domain.errors import ValidationFailed
from tests.allocation.allocation_reference import medium_problem, offer, req, scenario, tiny_problems


def objective(plan: Plan) -> tuple[tuple[int, ...], int]:
    return tuple(level.covered for level in plan.levels), plan.total_lateness


def as_proposed(plan: Plan) -> tuple[Proposal, ...]:
    return tuple(Proposal(a.offer, a.requirement, a.quantity - a.pinned) for a in plan.allocations
                 if a.quantity > a.pinned)


@st.composite
def problems_with_proposals(draw: st.DrawFn) -> AllocationProblem:
    problem = draw(tiny_problems())
    compatible = [(o.id, r.id) for r in problem.requirements for o in problem.offers
                  if o.item in problem.item_classes[r.item_class]]
    chosen = draw(st.lists(st.sampled_from(compatible), unique=True, max_size=4)) if compatible else []
    return replace(problem, proposed=tuple(Proposal(o, r, draw(st.integers(1, 4))) for o, r in chosen))


class TestTieBreakOnly:
    @settings(max_examples=300, deadline=None)
    @given(problems_with_proposals())
    def test_proposals_never_change_coverage_or_lateness(self, problem: AllocationProblem) -> None:
        assert objective(solve(problem)) == objective(solve(replace(problem, proposed=())))

    @settings(max_examples=300, deadline=None)
    @given(tiny_problems())
    def test_a_plan_given_as_proposals_comes_back_unchanged(self, problem: AllocationProblem) -> None:
        plan = solve(problem)
        assert solve(replace(problem, proposed=as_proposed(plan))) == plan

    @settings(max_examples=100, deadline=None)
    @given(problems_with_proposals())
    def test_an_optimal_set_of_proposals_is_kept_exactly(self, problem: AllocationProblem) -> None:
        # Whatever the tie-break would pick, any other optimal plan given as proposals is the one returned.
        other = solve(replace(problem, proposed=problem.proposed))
        assert solve(replace(problem, proposed=as_proposed(other))) == other

    @pytest.mark.parametrize("seed", range(3))
    def test_kept_even_where_the_weights_do_not_fit(self, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
        problem = medium_problem(300 + seed)
        plan = solve(problem)
        monkeypatch.setattr(solver_module, "COST_LIMIT", 2**20)  # too small for any proposal weight
        again = solve(replace(problem, proposed=as_proposed(plan)))
        assert objective(again) == objective(plan)
        assert again.allocations == plan.allocations

    def test_prefers_the_proposed_one_of_two_equal_offers(self) -> None:
        problem = scenario([req("R1", quantity=10)], [offer("A", quantity=10), offer("B", quantity=10)])
        first = {a.offer for a in solve(problem).allocations}
        other = ({"A", "B"} - first).pop()
        plan = solve(replace(problem, proposed=(Proposal(other, "R1", 10),)))
        assert [(a.offer, a.quantity) for a in plan.allocations] == [(other, 10)]


class TestReRun:
    @pytest.mark.parametrize("seed", range(3))
    def test_an_offer_elsewhere_changes_no_proposal(self, seed: int) -> None:
        problem = medium_problem(400 + seed)
        plan = solve(problem)
        unrelated = replace(problem.offers[0], id="zz-new", item="unlisted-item", quantity=50)
        again = solve(replace(problem, offers=(*problem.offers, unrelated), proposed=as_proposed(plan)))
        assert again.allocations == plan.allocations


class TestValidation:
    @staticmethod
    def findings(proposed: list[dict[str, object]]) -> list[str]:
        data = {
            "requirements": [{"id": "R1", "item_class": "c", "quantity": 5, "priority": 1,
                              "needed_by": "2025-03-01", "destination": "UKR"}],
            "offers": [{"id": "O1", "member": "M", "item": "a", "quantity": 5, "available_from": "2025-03-01",
                        "origin": "DEU"}, {"id": "O2", "member": "M", "item": "b", "quantity": 5,
                                           "available_from": "2025-03-01", "origin": "DEU"}],
            "item_classes": {"c": ["a"]},
            "proposed": proposed,
        }
        with pytest.raises(ValidationFailed) as caught:
            problem_from_dict(data)
        return [str(p) for p in caught.value.problems]

    def test_names_unknown_ids_incompatible_pairs_and_duplicates(self) -> None:
        assert self.findings([{"offer": "O9", "requirement": "R1", "quantity": 1},
                              {"offer": "O1", "requirement": "R7", "quantity": 1},
                              {"offer": "O2", "requirement": "R1", "quantity": 1},
                              {"offer": "O1", "requirement": "R1", "quantity": 1},
                              {"offer": "O1", "requirement": "R1", "quantity": 2}]) == [
            "proposed[0].offer: unknown offer 'O9'",
            "proposed[1].requirement: unknown requirement 'R7'",
            "proposed[2].offer: offer 'O2' (item 'b') is not compatible with requirement 'R1' (item class 'c')",
            "proposed[4]: duplicate proposal of offer 'O1' to requirement 'R1' (also proposed[3])",
        ]

    def test_names_a_bad_quantity(self) -> None:
        assert self.findings([{"offer": "O1", "requirement": "R1", "quantity": 0}]) == [
            "proposed[0].quantity: must be an integer >= 1, got 0"
        ]
