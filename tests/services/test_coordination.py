"""Scenarios of the coordination, from requirement to receipt, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from contactgroup.domain.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from contactgroup.domain.model import (
    AllocationStatus,
    Decimal,
    DeliveryStatus,
    Fund,
    OfferStatus,
    RequirementStatus,
    Visibility,
)
from contactgroup.services import access
from contactgroup.services import coordination as svc
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


class TestRequirementLifecycle:
    def test_goes_from_draft_to_met_as_allocations_are_confirmed(self, world: World) -> None:
        req = open_requirement(world, quantity=1000)
        offer = enter_offer(world, quantity=600)
        confirmed_allocation(world, offer, req, 600)
        assert world.db.state().requirements[req].status is RequirementStatus.PARTIALLY_MET
        other = enter_offer(world, quantity=400, item="155-b")
        confirmed_allocation(world, other, req, 400)
        assert world.db.state().requirements[req].status is RequirementStatus.MET

    def test_illegal_move_names_object_and_both_states(self, world: World) -> None:
        req = open_requirement(world)
        with pytest.raises(InvalidTransition, match=r"requirement R-00001 cannot go from 'open' to 'validated'"):
            world.do(svc.move_requirement, "admin", req, "validate")

    def test_refuses_zero_quantity_and_unknown_class(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="quantity: must be a positive whole number, got 0"):
            world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=0, priority=1,
                     needed_by=date(2024, 9, 1), destination="UKR-West")
        with pytest.raises(NotFound, match="no item class 'nope'"):
            world.do(svc.draft_requirement, "ukr", item_class="nope", quantity=5, priority=1,
                     needed_by=date(2024, 9, 1), destination="UKR-West")


    def test_refuses_dates_outside_the_records_range_and_writes_nothing(self, world: World) -> None:
        """A year like 3500 is a typing slip; the optimiser could not plan with it for anyone."""
        before = world.event_count()
        with pytest.raises(ValidationFailed, match=r"needed_by: 3500-01-01 is outside 1900-01-01\.\.2999-12-31"):
            world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=5, priority=1,
                     needed_by=date(3500, 1, 1), destination="UKR-West")
        with pytest.raises(ValidationFailed, match=r"available_from: 1800-01-01 is outside"):
            enter_offer(world, available_from=date(1800, 1, 1))
        assert world.event_count() == before


class TestPermissions:
    def test_desk_officer_cannot_enter_another_members_offer_and_nothing_changes(self, world: World) -> None:
        before = world.event_count()
        with pytest.raises(Forbidden, match="deu is a desk officer for DEU and may not offer:enter for FRA"):
            enter_offer(world, user="deu", member="FRA")
        assert world.event_count() == before

    def test_only_the_recipient_drafts_submits_requirements_and_only_coordinators_validate(self, world: World) -> None:
        with pytest.raises(Forbidden, match=r"deu \(desk_officer for DEU\) may not requirement:draft"):
            world.do(svc.draft_requirement, "deu", item_class="155mm", quantity=5, priority=1,
                     needed_by=date(2024, 9, 1), destination="UKR-West")
        req = world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=5, priority=1,
                       needed_by=date(2024, 9, 1), destination="UKR-West")
        world.do(svc.move_requirement, "ukr", req.id, "submit")
        with pytest.raises(Forbidden, match="requirement:validate; this needs: coordinator"):
            world.do(svc.move_requirement, "ukr", req.id, "validate")

    def test_an_unknown_user_is_not_found_with_a_code_each_front_door_words(self, world: World) -> None:
        with pytest.raises(NotFound, match=r"^no user 'ghost'$") as refused:
            enter_offer(world, user="ghost")
        assert (refused.value.code, refused.value.params) == ("unknown-user", {"user": "ghost"})

    def test_coalition_lead_proposes_only_in_its_own_area(self, world: World) -> None:
        art = open_requirement(world, quantity=10)
        drones = open_requirement(world, quantity=10, item_class="fpv")
        art_offer = enter_offer(world, quantity=10, visibility=Visibility.COALITION)
        fpv_offer = enter_offer(world, quantity=10, item="fpv", visibility=Visibility.COALITION)
        world.do(svc.propose_allocation, "fra-lead", offer=art_offer, requirement=art, quantity=10)
        with pytest.raises(Forbidden, match="does not lead the capability coalition for drones"):
            world.do(svc.propose_allocation, "fra-lead", offer=fpv_offer, requirement=drones, quantity=10)

    def test_coalition_lead_may_not_propose_an_offer_it_cannot_see(self, world: World) -> None:
        art = open_requirement(world, quantity=1000)
        hidden = enter_offer(world, quantity=600)
        with pytest.raises(NotFound, match="no offer 'O-00001' that fra-lead may see"):
            world.do(svc.propose_allocation, "fra-lead", offer=hidden, requirement=art, quantity=900)


class TestVisibility:
    @pytest.mark.parametrize(
        ("visibility", "seen_by"),
        [
            (Visibility.MEMBER, {"admin", "deu"}),
            (Visibility.COALITION, {"admin", "deu", "fra-lead"}),
            (Visibility.RECIPIENT, {"admin", "deu", "fra-lead", "ukr"}),
            (Visibility.PUBLIC, {"admin", "deu", "ukr", "fra", "usa", "fra-lead", "analyst"}),
        ],
    )
    def test_offer_is_seen_by_exactly_its_circle(self, world: World, visibility: Visibility,
                                                 seen_by: set[str]) -> None:
        offer_id = enter_offer(world, visibility=visibility)
        state = world.db.state()
        offer = state.offers[offer_id]
        seen = {u.name for u in state.users.values() if access.can_see_offer(state, u, offer)}
        assert seen == seen_by


class TestAllocation:
    def test_refuses_more_than_offer_has_left(self, world: World) -> None:
        req = open_requirement(world, quantity=1000)
        offer = enter_offer(world, quantity=600)
        world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=500)
        with pytest.raises(Conflict, match="offer O-00001 has 100 units left to allocate, not 200"):
            world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=200)

    def test_refuses_incompatible_item(self, world: World) -> None:
        req = open_requirement(world, quantity=10)
        offer = enter_offer(world, quantity=10, item="fpv")
        with pytest.raises(Conflict, match=r"offer O-00001 \(fpv\) does not satisfy requirement R-00001 \(155mm\)"):
            world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=10)

    def test_confirmation_waits_for_reexport_consent(self, world: World) -> None:
        req = open_requirement(world, quantity=100)
        offer = enter_offer(world, quantity=100, consent_from="USA")
        with world.db.transaction() as uow:
            a = svc.propose_allocation(uow, world.caller("admin"), offer=offer, requirement=req, quantity=100)
            svc.move_allocation(uow, world.caller("deu"), a.id, "accept")
            svc.move_allocation(uow, world.caller("ukr"), a.id, "accept")
        with pytest.raises(Conflict, match="needs re-export consent from USA, not granted yet"):
            world.do(svc.move_allocation, "admin", a.id, "confirm")
        consent = world.do(svc.request_consent, "deu", offer)
        with pytest.raises(Forbidden):
            world.do(svc.decide_consent, "deu", consent.id, "grant")  # only the origin decides
        world.do(svc.decide_consent, "usa", consent.id, "grant")
        assert world.do(svc.move_allocation, "admin", a.id, "confirm").status is AllocationStatus.CONFIRMED

    def test_confirmed_allocation_is_pinned(self, world: World) -> None:
        req = open_requirement(world, quantity=100)
        offer = enter_offer(world, quantity=100)
        alloc = confirmed_allocation(world, offer, req, 100)
        with pytest.raises(InvalidTransition, match="from 'confirmed' to 'declined'"):
            world.do(svc.move_allocation, "admin", alloc, "decline")
        with pytest.raises(InvalidTransition, match="offer O-00001 cannot go from 'allocated' to 'withdrawn'"):
            world.do(svc.move_offer, "deu", offer, "withdraw")

    def test_withdrawing_an_offer_declines_its_pending_allocations(self, world: World) -> None:
        req = open_requirement(world, quantity=100)
        offer = enter_offer(world, quantity=100)
        a = world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=100)
        world.do(svc.move_offer, "deu", offer, "withdraw")
        state = world.db.state()
        assert state.allocations[a.id].status is AllocationStatus.DECLINED
        assert state.offers[offer].status is OfferStatus.WITHDRAWN


class TestDelivery:
    def test_shipment_received_with_discrepancies_keeps_the_offer_in_delivery_until_replaced(
            self, world: World) -> None:
        req = open_requirement(world, quantity=100)
        offer = enter_offer(world, quantity=100)
        alloc = confirmed_allocation(world, offer, req, 100)
        d = world.do(svc.dispatch, "deu", allocation=alloc, quantity=100, dispatched_on=date(2024, 7, 1))
        world.do(svc.track_shipment, "deu", d.id, "hub")
        got = world.do(svc.receive, "ukr", d.id, received_on=date(2024, 7, 1), short=3, damaged=2)
        assert (got.received, got.short, got.damaged, got.status) == (95, 3, 2, DeliveryStatus.RECEIVED)
        assert world.db.state().offers[offer].status is OfferStatus.IN_DELIVERY  # 5 units still owed
        again = world.do(svc.dispatch, "deu", allocation=alloc, quantity=5, dispatched_on=date(2024, 7, 1))
        world.do(svc.receive, "ukr", again.id, received_on=date(2024, 7, 1))
        assert world.db.state().offers[offer].status is OfferStatus.DELIVERED

    def test_refuses_shipping_more_than_allocated_or_unconfirmed(self, world: World) -> None:
        req = open_requirement(world, quantity=100)
        offer = enter_offer(world, quantity=100)
        a = world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=50)
        with pytest.raises(Conflict, match="allocation A-00001 is proposed; only confirmed allocations ship"):
            world.do(svc.dispatch, "deu", allocation=a.id, quantity=50, dispatched_on=date(2024, 7, 1))
        alloc = confirmed_allocation(world, offer, req, 50)
        with pytest.raises(Conflict, match="has 50 units left to ship, not 60"):
            world.do(svc.dispatch, "deu", allocation=alloc, quantity=60, dispatched_on=date(2024, 7, 1))

    def test_refuses_discrepancies_beyond_the_shipment(self, world: World) -> None:
        req = open_requirement(world, quantity=10)
        offer = enter_offer(world, quantity=10)
        alloc = confirmed_allocation(world, offer, req, 10)
        d = world.do(svc.dispatch, "deu", allocation=alloc, quantity=10, dispatched_on=date(2024, 7, 1))
        with pytest.raises(ValidationFailed, match=r"discrepancies \(11\) exceed the 10 shipped"):
            world.do(svc.receive, "ukr", d.id, received_on=date(2024, 7, 1), short=11)


class TestCancelAfterReceipt:
    def test_says_to_close_it_instead_and_how(self, world: World) -> None:
        req = open_requirement(world, quantity=10)
        alloc = confirmed_allocation(world, enter_offer(world, quantity=10), req, 10)
        d = world.do(svc.dispatch, "deu", allocation=alloc, quantity=10, dispatched_on=date(2024, 7, 1))
        world.do(svc.receive, "ukr", d.id, received_on=date(2024, 7, 1))
        for user in ("admin", "ukr"):
            with pytest.raises(Conflict, match=r"10 unit\(s\) were already received for it; close it instead \(a "
                                               r"coordinator's step\)") as refused:
                world.do(svc.move_requirement, user, req, "cancel")
            assert refused.value.code == "received-requirement" and refused.value.params["id"] == req


class TestUnknownReferences:
    def test_an_unknown_consent_member_is_not_found_like_an_unknown_member(self, world: World) -> None:
        with pytest.raises(NotFound, match="consent_from: no member 'XXX'"):
            enter_offer(world, user="admin", consent_from="XXX")
        with pytest.raises(NotFound, match="no member or fund 'XXX'"):
            enter_offer(world, user="admin", member="XXX")


class TestFunds:
    def test_fund_offer_is_entered_by_the_managers_desk(self, world: World) -> None:
        world.do(svc.create_fund, "admin", Fund("AMMO", "Ammunition initiative", "DEU", "artillery"))
        c = world.do(svc.contribute, "fra", fund="AMMO", member="FRA", amount=Decimal("5000000"),
                     currency="EUR", pledged_on=date(2024, 6, 1))
        assert c.id == "C-00001"
        offer = enter_offer(world, user="deu", member="AMMO")
        assert world.db.state().offers[offer].member == "AMMO"
        with pytest.raises(Forbidden):
            enter_offer(world, user="fra", member="AMMO")
