"""The four holes in the working loop, each closed: owed units after a short receipt can be made good, a decline
is remembered, gaps and plans follow one consent rule, and the member asked for a consent sees what it is for."""

from __future__ import annotations

from datetime import date

import pytest

from contactgroup.allocation import Reason
from contactgroup.domain.errors import Conflict, Forbidden
from contactgroup.domain.model import AllocationStatus, Delivery, DeliveryStatus, OfferStatus, RequirementStatus
from contactgroup.reports.gaps import gaps
from contactgroup.services import coordination as svc
from contactgroup.services import queries
from contactgroup.services.allocation import (
    AllocationRun,
    HeldBack,
    held_back,
    problem_from_state,
    propose_optimal,
    supersede,
)
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement

TODAY = date(2024, 7, 1)  # the fixed clock's day


def run(w: World, user: str = "admin", area: str | None = None, *, request_consent: bool = False) -> AllocationRun:
    with w.db.transaction() as uow:
        return propose_optimal(uow, w.caller(user), area, request_consent=request_consent)


def short_receipt(w: World) -> tuple[str, str, str]:
    """10,000 rounds confirmed and shipped; 1,500 arrive short and 250 damaged: (requirement, offer, allocation)."""
    req = open_requirement(w, quantity=10_000)
    offer = enter_offer(w, quantity=10_000)
    alloc = confirmed_allocation(w, offer, req, 10_000)
    d = w.do(svc.dispatch, "deu", allocation=alloc, quantity=10_000, dispatched_on=TODAY)
    w.do(svc.receive, "ukr", d.id, received_on=TODAY, short=1_500, damaged=250)
    return req, offer, alloc


class TestOwedUnits:
    def test_a_short_receipt_leaves_the_units_owed_and_the_offer_in_delivery(self, world: World) -> None:
        req, offer, alloc = short_receipt(world)
        state = world.db.state()
        assert state.offers[offer].status is OfferStatus.IN_DELIVERY
        books = state.shipped(alloc)
        assert (books.received, books.in_transit, books.owed, books.short_owed) == (8_250, 0, 1_750, 1_750)
        (row,) = gaps(state)
        assert (row.requirement, row.status, row.missing, row.owed, row.reason) == (
            req, "met", 1_750, 1_750, "owed_after_receipt")
        assert row.detail == "1,750 units owed after a short receipt"

    def test_the_donor_ships_replacements_against_the_same_allocation(self, world: World) -> None:
        _, offer, alloc = short_receipt(world)
        with pytest.raises(Conflict, match="has 1750 units left to ship, not 1751"):
            world.do(svc.dispatch, "deu", allocation=alloc, quantity=1_751, dispatched_on=TODAY)
        d = world.do(svc.dispatch, "deu", allocation=alloc, quantity=1_750, dispatched_on=TODAY)
        books = world.db.state().shipped(alloc)
        assert (books.received, books.in_transit, books.owed) == (8_250, 1_750, 0)
        world.do(svc.receive, "ukr", d.id, received_on=TODAY)
        state = world.db.state()
        assert state.offers[offer].status is OfferStatus.DELIVERED
        assert gaps(state) == []

    def test_releasing_owed_units_reopens_the_need_and_the_plan_looks_elsewhere(self, world: World) -> None:
        req, offer, alloc = short_receipt(world)
        other = enter_offer(world, "fra", member="FRA", item="155-b", quantity=5_000)
        with pytest.raises(Forbidden, match="may not allocation:release-owed"):
            world.do(svc.move_allocation, "deu", alloc, "release-owed", units=1_750)
        with pytest.raises(Conflict, match="owes 1,750 units, not 2,000"):
            world.do(svc.move_allocation, "admin", alloc, "release-owed", units=2_000)
        a = world.do(svc.move_allocation, "admin", alloc, "release-owed", "lost in transit", units=1_750)
        assert (a.quantity, a.released, a.status) == (8_250, 1_750, AllocationStatus.CONFIRMED)
        state = world.db.state()
        assert state.requirements[req].status is RequirementStatus.PARTIALLY_MET
        assert state.offers[offer].status is OfferStatus.DELIVERED  # nothing of it is owed any more
        (row,) = gaps(state)
        assert (row.missing, row.owed, row.breakdown) == (1_750, 0, (("not_yet_allocated", 1_750),))
        result = run(world)
        proposed = [world.db.state().allocations[i] for i in result.proposed]
        # The released units stay spent from the short offer: the plan asks another.
        assert [(p.offer, p.requirement, p.quantity) for p in proposed] == [(other, req, 1_750)]


class TestDeclines:
    def test_a_declined_pair_is_not_proposed_again_until_reopened(self, world: World) -> None:
        req = open_requirement(world, quantity=100)
        offer = enter_offer(world, quantity=100)
        (first,) = run(world).proposed
        world.do(svc.move_allocation, "deu", first, "decline", "needed at home")
        again = run(world)
        assert again.proposed == ()
        assert again.held_back == (HeldBack("declined on 2024-07-01: needed at home", (f"{offer} -> {req}",), 0,
                                            100),)
        assert Reason.DECLINED in again.plan.requirements[0].reasons
        with pytest.raises(Conflict, match="was declined on 2024-07-01: needed at home; it is not proposed again"):
            world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=10)
        (row,) = gaps(world.db.state())
        assert row.breakdown == (("declined", 100),)
        with pytest.raises(Conflict, match="declined by DEU; only it or the coordinator may reopen"):
            world.do(svc.move_allocation, "ukr", first, "reopen")
        a = world.do(svc.move_allocation, "deu", first, "reopen", "stock arrived")
        assert a.reopened and a.status is AllocationStatus.DECLINED
        (second,) = run(world).proposed
        assert world.db.state().allocations[second].offer == offer

    def test_the_coordinator_may_reopen_any_decline_but_not_a_plan_s_superseding(self, world: World) -> None:
        req = open_requirement(world, quantity=100)
        enter_offer(world, quantity=100)
        (first,) = run(world).proposed
        world.do(svc.move_allocation, "ukr", first, "decline", "wrong lot")
        assert world.db.state().allocations[first].declined_by == "UKR"
        world.do(svc.move_allocation, "admin", first, "reopen")
        with pytest.raises(Conflict, match="is reopened already"):
            world.do(svc.move_allocation, "admin", first, "reopen")
        (second,) = run(world).proposed
        world.do(supersede, "admin", second)
        assert world.db.state().allocations[second].superseded
        with pytest.raises(Conflict, match="superseded by a plan, so its pair is open"):
            world.do(svc.move_allocation, "admin", second, "reopen")
        (third,) = run(world).proposed  # a superseded proposal closes nothing
        assert world.db.state().allocations[third].requirement == req


class TestConsentRule:
    def test_gaps_and_the_plan_say_the_same_about_a_consent(self, world: World) -> None:
        open_requirement(world, quantity=50)
        offer = enter_offer(world, quantity=50, consent_from="USA")
        assert gaps(world.db.state())[0].detail == "50 units: needs consent (not requested)"
        result = run(world)
        assert result.proposed == ()
        assert result.held_back == (HeldBack("needs consent (not requested)", (offer,), 0, 50),)
        requested = run(world, request_consent=True)
        assert requested.consents_requested == ("K-00001",)
        assert requested.held_back[0].reason == "needs consent (not requested)"  # as it stood when planned
        assert gaps(world.db.state())[0].detail == "50 units: consent requested on 2024-07-01"
        world.do(svc.decide_consent, "usa", "K-00001", "refuse", "end use not agreed")
        assert world.db.state().consents["K-00001"].reason == "end use not agreed"
        assert gaps(world.db.state())[0].detail == "50 units: consent refused on 2024-07-01"
        assert run(world).held_back[0].reason == "consent refused on 2024-07-01"

    def test_only_whoever_may_request_consents_runs_with_request_consent(self, world: World) -> None:
        with pytest.raises(Forbidden, match="may not consent:request"):
            run(world, "fra-lead", "artillery", request_consent=True)

    def test_a_reader_who_may_not_see_a_held_offer_gets_a_count_and_the_reason(self, world: World) -> None:
        open_requirement(world, quantity=50)
        enter_offer(world, quantity=50, consent_from="USA")
        state = world.db.state()
        problem = problem_from_state(state)
        from contactgroup.allocation import solve

        plan = solve(problem)
        assert held_back(state, problem, plan, state.users["analyst"]) == (
            HeldBack("needs consent (not requested)", (), 1, 50),)


class TestConsentView:
    def test_the_member_asked_sees_what_it_consents_to_and_no_more(self, world: World) -> None:
        req = open_requirement(world, quantity=50)
        offer = enter_offer(world, quantity=50, consent_from="USA", end_use="artillery of the 2nd corps only")
        world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=50)
        world.do(svc.request_consent, "deu", offer)
        state = world.db.state()
        (asked,) = queries.consent_views(state, state.users["usa"])
        assert (asked.item, asked.item_name, asked.quantity, asked.end_use, asked.destination) == (
            "155-a", "155 mm HE, type A", 50, "artillery of the 2nd corps only", "UKR-West")
        assert (asked.offer, asked.member) == (None, None)
        (own,) = queries.consent_views(state, state.users["deu"])
        assert (own.offer, own.member) == (offer, "DEU")
        assert queries.consent_views(state, state.users["fra"]) == []


def test_reopening_and_releasing_are_events_of_the_offer_seen_only_by_who_may_see_it(world: World) -> None:
    """A receipt or proof of these events is an offer's: a reader who may not see the offer may not have it."""
    from contactgroup.services.receipts import may_see_event

    _, _, alloc = short_receipt(world)
    state = world.db.state()
    for type_ in ("AllocationReopened", "AllocationOwedReleased"):
        assert may_see_event(state, "deu", type_, {"id": alloc})
        assert not may_see_event(state, "analyst", type_, {"id": alloc})


class TestReceiveMany:
    """Several shipments received in one unit of work: all, or none with every refused id named."""

    def _shipped(self, w: World, n: int) -> list[str]:
        req = open_requirement(w, quantity=1_000)
        alloc = confirmed_allocation(w, enter_offer(w, quantity=100 * n), req, 100 * n)
        return [w.do(svc.dispatch, "deu", allocation=alloc, quantity=100, dispatched_on=TODAY).id for _ in range(n)]

    def _receive(self, w: World, ids: list[str], on: date = TODAY) -> list[Delivery]:
        with w.db.transaction() as uow:
            who = w.caller("ukr")
            return svc.move_each("delivery", ids, lambda i: svc.receive(uow, who, i, received_on=on))

    def test_a_bad_id_among_several_is_named_and_nothing_is_written(self, world: World) -> None:
        ids = self._shipped(world, 3)
        before = world.event_count()
        with pytest.raises(svc.Refused) as refused:
            self._receive(world, [ids[0], "D-99999", ids[1]])
        assert [i for i, _ in refused.value.refusals] == ["D-99999"]
        assert "1 of 3 delivery moves refused, so none was made" in str(refused.value)
        assert "D-99999: no delivery 'D-99999' that ukr may see" in str(refused.value)
        assert world.event_count() == before
        state = world.db.state()
        assert {state.deliveries[i].status for i in ids} == {DeliveryStatus.DISPATCHED}

    def test_a_date_before_a_dispatch_refuses_all(self, world: World) -> None:
        ids = self._shipped(world, 2)
        with pytest.raises(svc.Refused) as refused:
            self._receive(world, ids, on=date(2024, 6, 30))
        assert [i for i, _ in refused.value.refusals] == ids

    def test_all_received_at_once_deliver_the_offer(self, world: World) -> None:
        ids = self._shipped(world, 3)
        done = self._receive(world, [*ids, ids[0]])  # an id given twice is received once
        assert [d.id for d in done] == ids and sum(d.received for d in done) == 300
        state = world.db.state()
        assert state.offers["O-00001"].status is OfferStatus.DELIVERED
        assert queries.movable(state, state.users["ukr"], "delivery", queries.RECEIVE) == []
