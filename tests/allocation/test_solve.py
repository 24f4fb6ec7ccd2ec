"""Scenarios of the exact optimiser: priority, lateness, pins, consent, fewer pairs, determinism."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from contactgroup.allocation import AllocationProblem, Pin, Plan, greedy, plan_to_dict, solve
from tests.allocation.allocation_reference import medium_problem, offer, req, scenario, sequential_lp


def units(plan: Plan) -> dict[tuple[str, str], int]:
    return {(a.offer, a.requirement): a.quantity for a in plan.allocations}


def covered(plan: Plan) -> dict[str, int]:
    return {c.id: c.covered for c in plan.requirements}


class TestPriority:
    def test_does_not_strand_lower_priority_like_greedy(self) -> None:
        # R1 can use A (dm121) or B (m107); R2 only A. Top-down, R1 takes A and R2 is left empty.
        problem = scenario(
            [req("R1", "shell", priority=1), req("R2", "shell-er", priority=2)],
            [offer("A", "dm121"), offer("B", "m107")],
        )
        assert covered(greedy(problem)) == {"R1": 10, "R2": 0}
        plan = solve(problem)
        assert covered(plan) == {"R1": 10, "R2": 10}
        assert units(plan) == {("B", "R1"): 10, ("A", "R2"): 10}

    def test_never_gives_up_a_higher_priority_unit_for_many_lower_ones(self) -> None:
        # Giving A's last unit to R1 costs 1 unit at priority 2 for... nothing: R1 still wins the unit.
        problem = scenario(
            [req("R1", "shell-er", quantity=1, priority=1), req("R2", "shell-er", quantity=1000, priority=2)],
            [offer("A", "dm121", quantity=100)],
        )
        assert covered(solve(problem)) == {"R1": 1, "R2": 99}

    def test_serves_twelve_levels_strictly_in_order(self) -> None:
        requirements = [req(f"R{p:02d}", "shell", quantity=10, priority=p) for p in range(1, 13)]
        problem = scenario(requirements, [offer("A", quantity=55), offer("B", "m107", quantity=30)])
        plan = solve(problem)
        assert [level.covered for level in plan.levels] == [10] * 8 + [5, 0, 0, 0]

    def test_ties_share_a_level_and_only_its_total_is_maximised(self) -> None:
        problem = scenario(
            [req("R1", "shell", priority=1), req("R2", "shell-er", priority=1)],
            [offer("A", "dm121", quantity=12), offer("B", "m107", quantity=5)],
        )
        plan = solve(problem)
        assert plan.levels[0].covered == 17
        assert sorted(covered(plan).values()) == [7, 10]


class TestLateness:
    def test_prefers_the_offer_that_arrives_on_time(self) -> None:
        problem = scenario([req("R1", due=10)], [offer("A", ready=20), offer("B", "m107", ready=0)])
        plan = solve(problem)
        assert units(plan) == {("B", "R1"): 10}
        assert plan.total_lateness == 0
        assert plan.requirements[0].on_time == 10

    def test_counts_transit_days_towards_arrival(self) -> None:
        problem = scenario(
            [req("R1", due=10)],
            [offer("A", ready=0, origin="USA"), offer("B", "m107", ready=5, origin="POL")],
            transit={("USA", "UKR"): 14, ("POL", "UKR"): 2},
        )
        plan = solve(problem)
        assert units(plan) == {("B", "R1"): 10}
        [allocation] = plan.allocations
        assert (allocation.arrives - problem.requirements[0].needed_by).days == -3
        assert allocation.late_days == 0

    def test_a_route_s_days_take_the_place_of_the_flat_transit_table(self) -> None:
        # The flat table says 2 days from Poland for both; B's route waits at a border and takes 12 days, A's 3.
        problem = scenario(
            [req("R1", due=10)],
            [offer("A", ready=5, origin="POL"), offer("B", "m107", ready=0, origin="POL")],
            transit={("POL", "UKR"): 2},
        )
        assert units(solve(problem)) == {("B", "R1"): 10}  # by the table B arrives on day 2, A on day 7
        routed = replace(problem, route_days={("B", "UKR"): 12, ("A", "UKR"): 3})
        plan = solve(routed)
        assert units(plan) == {("A", "R1"): 10}  # A arrives on day 8, B would on day 12: 2 days late
        [allocation] = plan.allocations
        assert (allocation.arrives - problem.requirements[0].needed_by).days == -2 and plan.total_lateness == 0

    def test_never_trades_coverage_for_punctuality(self) -> None:
        problem = scenario([req("R1", due=0)], [offer("A", ready=30)])
        plan = solve(problem)
        assert plan.requirements[0].covered == 10
        assert plan.requirements[0].on_time == 0
        assert plan.total_lateness == 300

    def test_swaps_offers_between_requirements_to_cut_total_lateness(self) -> None:
        # Early R1 and late R2 both take either offer: the early offer must go to the early requirement.
        problem = scenario(
            [req("R1", due=0, priority=2), req("R2", due=50, priority=1)],
            [offer("EARLY", ready=0), offer("LATE", "m107", ready=40)],
        )
        plan = solve(problem)
        assert units(plan) == {("EARLY", "R1"): 10, ("LATE", "R2"): 10}
        assert plan.total_lateness == 0


class TestPins:
    def test_keeps_a_pinned_allocation_even_when_another_would_be_better(self) -> None:
        problem = scenario(
            [req("R1", "shell", priority=1), req("R2", "shell-er", priority=2)],
            [offer("A", "dm121"), offer("B", "m107")],
            pins=[Pin("A", "R1", 10)],
        )
        plan = solve(problem)
        assert units(plan) == {("A", "R1"): 10}
        assert plan.allocations[0].pinned == 10
        assert covered(plan) == {"R1": 10, "R2": 0}

    def test_pins_consume_both_the_offer_and_the_requirement(self) -> None:
        problem = scenario(
            [req("R1", quantity=10, priority=2), req("R2", quantity=10, priority=1)],
            [offer("A", quantity=15)],
            pins=[Pin("A", "R1", 6)],
        )
        plan = solve(problem)
        assert covered(plan) == {"R1": 6, "R2": 9}
        assert {a.requirement: a.pinned for a in plan.allocations} == {"R1": 6, "R2": 0}

    def test_a_pin_may_use_an_offer_still_waiting_for_consent(self) -> None:
        problem = scenario([req("R1")], [offer("A", consent="USA")], pins=[Pin("A", "R1", 4)])
        plan = solve(problem)
        assert units(plan) == {("A", "R1"): 4}


class TestConsent:
    def test_does_not_allocate_an_offer_waiting_for_consent(self) -> None:
        plan = solve(scenario([req("R1")], [offer("A", consent="USA")]))
        assert plan.allocations == ()

    def test_allocates_it_once_the_consent_is_granted(self) -> None:
        plan = solve(scenario([req("R1")], [offer("A", consent="USA")], granted={"A"}))
        assert units(plan) == {("A", "R1"): 10}


class TestPairs:
    def test_fills_a_requirement_from_one_offer_when_one_suffices(self) -> None:
        problem = scenario(
            [req("R1", quantity=10)], [offer(f"O{i}", quantity=10) for i in range(6)]
        )
        plan = solve(problem)
        assert plan.pairs == 1

    def test_untangles_crossed_assignments(self) -> None:
        # Two requirements, two offers, everything interchangeable: two pairs suffice.
        problem = scenario(
            [req("R1", quantity=10), req("R2", quantity=10)],
            [offer("A", quantity=10), offer("B", quantity=10)],
        )
        assert solve(problem).pairs == 2


class TestFewerPairs:
    def test_lets_the_larger_offer_fill_the_larger_requirement(self) -> None:
        # The audit's case: O3 (2 units) can fill R2 alone and O1 fills R1; splitting R2 over O1 and O2
        # while O3 serves R1 covers the same units on time but with three pairs instead of two.
        problem = scenario(
            [req("R1", quantity=1, priority=1), req("R2", quantity=2, priority=2)],
            [offer("O1", quantity=1), offer("O2", quantity=1), offer("O3", quantity=2)],
        )
        plan = solve(problem)
        assert plan.pairs == 2
        assert units(plan) in ({("O1", "R1"): 1, ("O3", "R2"): 2}, {("O2", "R1"): 1, ("O3", "R2"): 2})


class TestIndependentParts:
    @staticmethod
    def five_parts(seed: int) -> AllocationProblem:
        problem = medium_problem(200 + seed, n_reqs=80, n_offers=200)
        # Classes that share no item: five independent parts, each solved on its own.
        parts = [{"i0"}, {"i1", "i2"}, {"i3"}, {"i4", "i5"}, {"i6", "i7"}]
        classes = {f"c{k}": frozenset(items) for k, items in enumerate(parts)}
        return replace(problem, item_classes=classes, pinned=())

    @pytest.mark.parametrize("seed", range(4))
    def test_solving_independent_parts_separately_keeps_the_optimum(self, seed: int) -> None:
        problem = self.five_parts(seed)
        split = solve(problem)
        assert (tuple(lv.covered for lv in split.levels), split.total_lateness) == sequential_lp(problem)

    @pytest.mark.parametrize("seed", range(4))
    def test_a_change_in_one_part_leaves_the_others_plans_alone(self, seed: int) -> None:
        problem = self.five_parts(seed)
        before = solve(problem)
        # A new offer and a requirement at a new priority level, both in the part of item i0 (class c0).
        extra_offer = replace(problem.offers[0], id="ZZ-new", item="i0", quantity=37)
        extra_req = replace(problem.requirements[0], id="ZZ-req", item_class="c0", priority=99, quantity=5)
        after = solve(replace(problem, offers=(*problem.offers, extra_offer),
                              requirements=(*problem.requirements, extra_req)))
        in_c0 = {r.id for r in problem.requirements if r.item_class == "c0"} | {"ZZ-req"}
        assert {k: v for k, v in units(before).items() if k[1] not in in_c0} == {
            k: v for k, v in units(after).items() if k[1] not in in_c0
        }


class TestDeterminism:
    def test_same_input_gives_identical_bytes(self) -> None:
        problem = medium_problem(7)
        first = json.dumps(plan_to_dict(solve(problem)))
        second = json.dumps(plan_to_dict(solve(problem)))
        assert first == second

    def test_order_of_the_input_lists_does_not_change_the_plan(self) -> None:
        problem = medium_problem(8)
        shuffled = list(problem.requirements), list(problem.offers)
        rnd = random.Random(1)
        rnd.shuffle(shuffled[0])
        rnd.shuffle(shuffled[1])
        other = replace(problem, requirements=tuple(shuffled[0]), offers=tuple(shuffled[1]))
        assert json.dumps(plan_to_dict(solve(problem))) == json.dumps(plan_to_dict(solve(other)))
