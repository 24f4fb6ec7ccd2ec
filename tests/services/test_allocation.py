"""Allocating from the record: open requirements, usable offers, agreed allocations pinned, proposals recorded;
re-running changes nothing; the optimum beats the spreadsheet's top-down fill."""

from __future__ import annotations

from datetime import date

import pytest

from contactgroup.domain.errors import Forbidden, NotFound
from contactgroup.domain.event import Event
from contactgroup.domain.model import AllocationStatus, ItemClass, Visibility
from contactgroup.services import coordination as svc
from contactgroup.services import transit
from contactgroup.services.allocation import AllocationRun, problem_from_state, propose_optimal
from contactgroup.storage.database import decode, read_events
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


def narrow_class(w: World) -> None:
    with w.db.transaction() as uow:
        svc.define_item_class(uow, w.caller("admin"), ItemClass("155a", "155 mm type A only", "artillery",
                                                                  ("155-a",)))


def run(w: World, user: str = "admin", area: str | None = None) -> AllocationRun:
    with w.db.transaction() as uow:
        return propose_optimal(uow, w.caller(user), area)


def test_does_not_strand_a_lower_priority_requirement_like_greedy(world: World) -> None:
    narrow_class(world)
    broad = open_requirement(world, quantity=100, priority=1)  # takes type A or B
    narrow = open_requirement(world, quantity=100, priority=2, item_class="155a")  # only type A
    enter_offer(world, quantity=100, item="155-a")
    enter_offer(world, quantity=100, item="155-b")
    result = run(world)
    state = world.db.state()
    got = {(a.offer, a.requirement): a.quantity for a in state.allocations.values()}
    assert got == {("O-00002", broad): 100, ("O-00001", narrow): 100}
    assert [(t.priority, t.after, t.greedy) for t in result.tiers] == [(1, 100, 100), (2, 100, 0)]


def test_pins_agreed_allocations_and_reruns_are_idempotent(world: World) -> None:
    req = open_requirement(world, quantity=100)
    first = enter_offer(world, quantity=60)
    enter_offer(world, quantity=60, item="155-b")
    confirmed_allocation(world, first, req, 60)
    result = run(world)
    assert len(result.proposed) == 1
    proposal = world.db.state().allocations[result.proposed[0]]
    assert (proposal.offer, proposal.quantity, proposal.status) == ("O-00002", 40, AllocationStatus.PROPOSED)
    again = run(world)
    assert (again.proposed, again.kept, again.declined) == ((), 1, 0)


def test_offers_waiting_for_consent_are_not_used(world: World) -> None:
    req = open_requirement(world, quantity=50)
    enter_offer(world, quantity=50, consent_from="USA")
    result = run(world)
    assert result.proposed == ()
    plan = result.plan
    assert [str(r) for r in plan.requirements[0].reasons] == ["waiting_for_consent"]
    assert req == plan.requirements[0].id


def test_a_superseded_proposal_is_declined(world: World) -> None:
    low = open_requirement(world, quantity=10, priority=5)
    offer = enter_offer(world, quantity=10)
    with world.db.transaction() as uow:
        manual = svc.propose_allocation(uow, world.caller("admin"), offer=offer, requirement=low, quantity=10)
    high = open_requirement(world, quantity=10, priority=1)
    result = run(world)
    state = world.db.state()
    assert state.allocations[manual.id].status is AllocationStatus.DECLINED
    (new,) = result.proposed
    assert state.allocations[new].requirement == high


def test_coalition_lead_allocates_only_its_area(world: World) -> None:
    open_requirement(world, quantity=10, item_class="fpv")
    enter_offer(world, quantity=10, item="fpv")
    with pytest.raises(Forbidden, match="does not lead the capability coalition for drones"):
        run(world, "fra-lead", area="drones")
    art = open_requirement(world, quantity=10)
    enter_offer(world, quantity=10, visibility=Visibility.COALITION)  # a lead allocates only offers it may see
    result = run(world, "fra-lead", area="artillery")
    assert [world.db.state().allocations[a].requirement for a in result.proposed] == [art]


def test_problem_from_state_leaves_out_what_cannot_be_used(world: World) -> None:
    req = open_requirement(world, quantity=10)
    enter_offer(world, quantity=10, status="draft")
    withdrawn = enter_offer(world, quantity=10)
    world.do(svc.move_offer, "deu", withdrawn, "withdraw")
    enter_offer(world, quantity=7, available_from=date(2024, 12, 1))
    problem = problem_from_state(world.db.state())
    assert [r.id for r in problem.requirements] == [req]
    assert [(o.id, o.quantity) for o in problem.offers] == [("O-00003", 7)]


class TestLeadRuns:
    def test_a_lead_reruns_its_area_superseding_earlier_proposals(self, world: World) -> None:
        low = open_requirement(world, quantity=10, priority=5)
        offer = enter_offer(world, quantity=10, visibility=Visibility.COALITION)
        first = run(world, "fra-lead", area="artillery")
        high = open_requirement(world, quantity=10, priority=1)
        second = run(world, "fra-lead", area="artillery")
        state = world.db.state()
        (old,) = first.proposed
        assert state.allocations[old].requirement == low
        assert state.allocations[old].status is AllocationStatus.DECLINED
        assert [(state.allocations[a].offer, state.allocations[a].requirement) for a in second.proposed] == [
            (offer, high)
        ]
        assert second.declined == 1 and second.events is not None

    def test_the_record_says_the_proposal_was_superseded_not_refused(self, world: World) -> None:
        open_requirement(world, quantity=10, priority=5)
        enter_offer(world, quantity=10, visibility=Visibility.COALITION)
        (old,) = run(world, "fra-lead", area="artillery").proposed
        open_requirement(world, quantity=10, priority=1)
        second = run(world, "fra-lead", area="artillery")
        assert second.events is not None
        first_seq, last_seq = second.events
        recorded = _events(world, first_seq, last_seq + 1)
        assert [e.type for e in recorded] == ["AllocationDeclined", "AllocationProposed"]
        declined = recorded[0]
        assert (declined.data["id"], declined.data["superseded"], declined.actor) == (old, True, "fra-lead")

    def test_a_lead_neither_uses_nor_unsettles_offers_it_may_not_see(self, world: World) -> None:
        low = open_requirement(world, quantity=10, priority=5)
        hidden = enter_offer(world, quantity=10)  # member-only: DEU and the authority see it, the lead does not
        (held,) = run(world).proposed  # the coordinator proposes it
        open_requirement(world, quantity=10, priority=1)
        seen = enter_offer(world, quantity=5, visibility=Visibility.COALITION)
        second = run(world, "fra-lead", area="artillery")
        state = world.db.state()
        assert state.allocations[held].status is AllocationStatus.PROPOSED  # not superseded by the lead
        assert state.allocations[held].requirement == low
        assert {state.allocations[a].offer for a in second.proposed} == {seen} and hidden != seen

    def test_a_lead_may_not_supersede_outside_its_area(self, world: World) -> None:
        open_requirement(world, quantity=10, item_class="fpv")
        enter_offer(world, quantity=10, item="fpv")
        run(world)  # the coordinator proposes in drones
        with pytest.raises(Forbidden, match="does not lead the capability coalition for drones"):
            run(world, "fra-lead", area="drones")
        with pytest.raises(Forbidden, match="does not lead every area: pass the area you lead"):
            run(world, "fra-lead")

    def test_an_unknown_area_is_named_with_the_known_ones(self, world: World) -> None:
        with pytest.raises(NotFound, match="no capability area 'nonsense'; known areas: artillery, drones"):
            run(world, area="nonsense")


class TestStability:
    def test_an_offer_of_another_item_changes_no_proposal(self, world: World) -> None:
        for quantity, priority in ((300, 1), (500, 2), (200, 2), (700, 3)):
            open_requirement(world, quantity=quantity, priority=priority)
        for quantity in (250, 400, 350, 300):
            enter_offer(world, quantity=quantity)
        enter_offer(world, quantity=500, item="155-b")
        open_requirement(world, quantity=50, item_class="fpv")
        first = run(world)
        before = {a.id for a in world.db.state().allocations.values() if a.status is AllocationStatus.PROPOSED}
        enter_offer(world, quantity=30, item="fpv")
        second = run(world)
        after = {a.id for a in world.db.state().allocations.values() if a.status is AllocationStatus.PROPOSED}
        assert second.declined == 0
        assert before <= after and second.kept == len(first.proposed)
        assert [world.db.state().allocations[a].offer for a in second.proposed] == ["O-00006"]

    def test_equally_good_proposals_are_kept_rather_than_reshuffled(self, world: World) -> None:
        req = open_requirement(world, quantity=100)
        a = enter_offer(world, quantity=100)
        b = enter_offer(world, quantity=100)
        with world.db.transaction() as uow:  # a desk proposed the offer the optimiser would not pick first
            svc.propose_allocation(uow, world.caller("admin"), offer=b, requirement=req, quantity=100)
        result = run(world)
        assert (result.kept, result.declined, result.proposed) == (1, 0, ())
        assert a != b


class TestTransit:
    def test_recorded_transit_days_make_an_offer_late(self, world: World) -> None:
        open_requirement(world, quantity=10)  # needed by 2024-09-01, at UKR-West
        enter_offer(world, quantity=10, available_from=date(2024, 8, 25), depot="DEU")
        with world.db.transaction() as uow:
            transit.set_transit(uow, world.caller("admin"), "DEU", "UKR-West", 10)
        problem = problem_from_state(world.db.state())
        assert problem.transit_days == {("DEU", "UKR-West"): 10}
        (allocation,) = run(world).plan.allocations
        assert (allocation.arrives, allocation.late_days) == (date(2024, 9, 4), 3)


def _events(world: World, start: int, end: int) -> list[Event]:
    with world.db.reader() as conn:
        return [decode(body) for _, body, _ in read_events(conn, start, end)]
