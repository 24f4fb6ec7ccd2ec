"""Why a requirement is not fully covered: each reason in its scenario, and none left unexplained."""

from __future__ import annotations

from hypothesis import given, settings

from contactgroup.allocation import AllocationProblem, Pin, Plan, Reason, greedy, solve
from tests.allocation.allocation_reference import medium_problem, offer, req, scenario, tiny_problems


def reasons(plan: Plan) -> dict[str, set[Reason]]:
    return {c.id: set(c.reasons) for c in plan.requirements}


class TestEachReason:
    def test_no_compatible_offer_when_nothing_of_the_class_is_offered(self) -> None:
        plan = solve(scenario([req("R1", "kit")], [offer("A")]))
        assert reasons(plan) == {"R1": {Reason.NO_COMPATIBLE_OFFER}}

    def test_taken_by_higher_priority(self) -> None:
        plan = solve(scenario([req("R1", priority=1), req("R2", priority=2)], [offer("A", quantity=15)]))
        assert reasons(plan) == {"R1": set(), "R2": {Reason.TAKEN_BY_HIGHER_PRIORITY}}

    def test_taken_by_equal_priority(self) -> None:
        plan = solve(scenario([req("R1", priority=3), req("R2", priority=3)], [offer("A", quantity=15)]))
        assert sorted(map(sorted, reasons(plan).values())) == [[], [Reason.TAKEN_BY_EQUAL_PRIORITY]]

    def test_taken_by_a_pin_to_a_less_important_requirement(self) -> None:
        plan = solve(
            scenario([req("R1", priority=1), req("R2", priority=5)], [offer("A")], pins=[Pin("A", "R2", 10)])
        )
        assert reasons(plan)["R1"] == {Reason.TAKEN_BY_PINNED_ALLOCATION}

    def test_waiting_for_consent(self) -> None:
        plan = solve(scenario([req("R1")], [offer("A", quantity=4), offer("B", "m107", consent="USA")]))
        assert reasons(plan) == {"R1": {Reason.WAITING_FOR_CONSENT}}

    def test_insufficient_quantity(self) -> None:
        plan = solve(scenario([req("R1", quantity=10)], [offer("A", quantity=3), offer("B", "m107", quantity=4)]))
        assert reasons(plan) == {"R1": {Reason.INSUFFICIENT_QUANTITY}}

    def test_several_reasons_at_once(self) -> None:
        plan = solve(
            scenario(
                [req("R1", priority=1, quantity=5), req("R2", priority=2, quantity=30)],
                [offer("A", quantity=5), offer("B", "m107", quantity=5, consent="USA")],
            )
        )
        assert reasons(plan)["R2"] == {
            Reason.TAKEN_BY_HIGHER_PRIORITY,
            Reason.WAITING_FOR_CONSENT,
            Reason.INSUFFICIENT_QUANTITY,
        }

    def test_a_fully_covered_requirement_has_no_reason(self) -> None:
        plan = solve(scenario([req("R1")], [offer("A")]))
        assert plan.requirements[0].shortfall == 0
        assert plan.requirements[0].reasons == ()

    def test_greedy_plans_are_explained_too(self) -> None:
        problem = scenario(
            [req("R1", "shell", priority=1), req("R2", "shell-er", priority=2)],
            [offer("A", "dm121"), offer("B", "m107")],
        )
        assert reasons(greedy(problem))["R2"] == {Reason.TAKEN_BY_HIGHER_PRIORITY}


def assert_explained(problem: AllocationProblem, plan: Plan) -> None:
    compatible = {
        r.id: any(o.item in problem.item_classes[r.item_class] for o in problem.offers) for r in problem.requirements
    }
    for c in plan.requirements:
        assert c.covered + c.shortfall == c.quantity
        assert (c.shortfall > 0) == bool(c.reasons), c
        if c.shortfall:
            assert (Reason.NO_COMPATIBLE_OFFER in c.reasons) == (not compatible[c.id])


class TestEveryShortfallIsExplained:
    @settings(max_examples=200, deadline=None)
    @given(tiny_problems())
    def test_on_tiny_problems(self, problem: AllocationProblem) -> None:
        assert_explained(problem, solve(problem))
        assert_explained(problem, greedy(problem))

    def test_on_medium_problems(self) -> None:
        for seed in range(10):
            problem = medium_problem(seed)
            assert_explained(problem, solve(problem))
