"""Amend, don't re-enter: requirements, offers, item classes and users change by events that keep the old and new
values; a disabled user can do nothing; every object's history comes from the log. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from contactgroup.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from contactgroup.domain.model import (
    ConsentStatus,
    Offer,
    OfferStatus,
    RequirementStatus,
    Role,
    Source,
    User,
    ValuationBasis,
    Visibility,
)
from contactgroup.services import coordination as svc
from contactgroup.services import queries
from contactgroup.services.queries import HistoryKind
from contactgroup.services.verify import verify
from contactgroup.storage.database import decode, read_events
from tests.factories import OFFER, World, confirmed_allocation, enter_offer, open_requirement


def last_event(world: World) -> tuple[str, dict[str, object]]:
    with world.db.reader() as conn:
        *_, (_, body, _) = read_events(conn)
    event = decode(body)
    return event.type, dict(event.data)


class TestAmendRequirement:
    def test_quantity_needed_by_destination_and_note_change_with_old_and_new_values(self, world: World) -> None:
        req = open_requirement(world, quantity=1000)
        world.do(svc.amend_requirement, "ukr", req, quantity=1200, needed_by=date(2024, 10, 1),
                 destination="UKR-East", note="two brigades")
        r = world.db.state().requirements[req]
        assert (r.quantity, r.needed_by, r.destination, r.note) == (1200, date(2024, 10, 1), "UKR-East",
                                                                      "two brigades")
        type_, data = last_event(world)
        assert type_ == "RequirementAmended"
        assert data["old"] == {"quantity": 1000, "needed_by": "2024-09-01", "destination": "UKR-West", "note": ""}
        assert data["new"] == {"quantity": 1200, "needed_by": "2024-10-01", "destination": "UKR-East",
                               "note": "two brigades"}

    def test_never_below_what_is_allocated_and_nothing_is_written(self, world: World) -> None:
        req = open_requirement(world, quantity=1000)
        confirmed_allocation(world, enter_offer(world, quantity=600), req, 600)
        before = world.event_count()
        with pytest.raises(Conflict, match=r"requirement R-00001 cannot ask for 500: 600 unit\(s\) are allocated"):
            world.do(svc.amend_requirement, "ukr", req, quantity=500)
        assert world.event_count() == before

    def test_lowering_to_what_is_confirmed_meets_it_and_raising_opens_it_again(self, world: World) -> None:
        req = open_requirement(world, quantity=1000)
        confirmed_allocation(world, enter_offer(world, quantity=600), req, 600)
        world.do(svc.amend_requirement, "ukr", req, quantity=600)
        assert world.db.state().requirements[req].status is RequirementStatus.MET
        world.do(svc.amend_requirement, "ukr", req, quantity=900)
        assert world.db.state().requirements[req].status is RequirementStatus.PARTIALLY_MET

    def test_a_cancelled_requirement_cannot_be_amended(self, world: World) -> None:
        req = open_requirement(world)
        world.do(svc.move_requirement, "ukr", req, "cancel")
        with pytest.raises(Conflict, match="requirement R-00001 is cancelled; it can no longer be amended"):
            world.do(svc.amend_requirement, "ukr", req, quantity=5)

    def test_a_needed_by_date_already_past_needs_the_day_it_was_raised(self, world: World) -> None:
        """The clock says 2024-07-01: June is past, unless the entry records what happened in May."""
        req = open_requirement(world)
        with pytest.raises(ValidationFailed, match=r"needed_by: 2024-06-01 is already past \(today is 2024-07-01\)"):
            world.do(svc.amend_requirement, "ukr", req, needed_by=date(2024, 6, 1))
        world.do(svc.amend_requirement, "ukr", req, needed_by=date(2024, 6, 1), on=date(2024, 5, 1))
        assert last_event(world)[1]["on"] == "2024-05-01"
        with pytest.raises(ValidationFailed, match=r"on: 2024-08-01 is in the future"):
            world.do(svc.amend_requirement, "ukr", req, note="x", on=date(2024, 8, 1))

    def test_a_historical_requirement_keeps_the_day_it_was_raised(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="needed_by: 2023-03-01 is already past"):
            world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=5, priority=1,
                     needed_by=date(2023, 3, 1), destination="UKR-West")
        req = world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=5, priority=1,
                       needed_by=date(2023, 3, 1), destination="UKR-West", on=date(2023, 1, 10))
        assert req.entered_on == date(2023, 1, 10)
        entries = queries.history_of(world.db, "ukr", HistoryKind.REQUIREMENT, req.id)
        assert [(e.type, e.effective) for e in entries] == [("RequirementDrafted", date(2023, 1, 10))]
        assert entries[0].at.date() == date(2024, 7, 1)  # the record keeps both: when it was entered, and the day

    def test_only_the_recipient_or_coordinator_amends(self, world: World) -> None:
        req = open_requirement(world)
        with pytest.raises(Forbidden, match=r"deu \(desk_officer for DEU\) may not requirement:amend"):
            world.do(svc.amend_requirement, "deu", req, quantity=5)


class TestAmendOffer:
    def test_terms_change_and_the_event_keeps_old_and_new(self, world: World) -> None:
        offer = enter_offer(world, quantity=600)
        world.do(svc.amend_offer, "deu", offer, quantity=800, available_from=date(2024, 9, 1), depot="POL",
                 value=Decimal("2000000"), currency="EUR", basis=ValuationBasis.MARKET,
                 visibility=Visibility.COALITION)
        o = world.db.state().offers[offer]
        assert (o.quantity, o.available_from, o.depot, o.value, o.visibility) == (
            800, date(2024, 9, 1), "POL", Decimal("2000000"), Visibility.COALITION)
        type_, data = last_event(world)
        assert type_ == "OfferAmended"
        assert data["old"] == {"quantity": 600, "available_from": "2024-08-01", "depot": "DEU", "value": None,
                               "currency": None, "basis": None, "visibility": "member"}

    def test_an_unchanged_amendment_records_nothing(self, world: World) -> None:
        offer = enter_offer(world, quantity=600)
        before = world.event_count()
        world.do(svc.amend_offer, "deu", offer, quantity=600, depot="DEU")
        assert world.event_count() == before

    def test_never_below_what_is_allocated(self, world: World) -> None:
        req = open_requirement(world, quantity=1000)
        offer = enter_offer(world, quantity=600)
        confirmed_allocation(world, offer, req, 400)
        before = world.event_count()
        with pytest.raises(Conflict, match=r"offer O-00001 cannot offer 300: 400 unit\(s\) are allocated from it"):
            world.do(svc.amend_offer, "deu", offer, quantity=300)
        assert world.event_count() == before
        world.do(svc.amend_offer, "deu", offer, quantity=400)

    def test_lowered_to_what_arrived_it_is_delivered_at_once_and_the_record_verifies(self, world: World) -> None:
        req = open_requirement(world, quantity=1000)
        offer = enter_offer(world, quantity=600)
        alloc = confirmed_allocation(world, offer, req, 400)
        d = world.do(svc.dispatch, "deu", allocation=alloc, quantity=400, dispatched_on=date(2024, 7, 1))
        world.do(svc.receive, "ukr", d.id, received_on=date(2024, 7, 1))
        assert world.db.state().offers[offer].status is OfferStatus.IN_DELIVERY  # 200 still free
        amended = world.do(svc.amend_offer, "deu", offer, quantity=400)
        assert amended.status is OfferStatus.DELIVERED
        assert world.db.state().offers[offer].status is OfferStatus.DELIVERED
        report = verify(world.db)
        assert report.ok, [str(f) for f in report.findings]

    def test_a_withdrawn_offer_cannot_be_amended(self, world: World) -> None:
        offer = enter_offer(world)
        world.do(svc.move_offer, "deu", offer, "withdraw")
        with pytest.raises(Conflict, match="offer O-00001 is withdrawn; it can no longer be amended"):
            world.do(svc.amend_offer, "deu", offer, quantity=5)

    def test_a_hidden_offer_answers_as_one_that_does_not_exist(self, world: World) -> None:
        offer = enter_offer(world)
        with pytest.raises(NotFound) as hidden:
            world.do(svc.amend_offer, "fra", offer, quantity=5)
        with pytest.raises(NotFound) as missing:
            world.do(svc.amend_offer, "fra", "O-09999", quantity=5)
        assert str(hidden.value) == str(missing.value).replace("O-09999", offer)

    def test_a_declared_value_needs_its_currency_and_basis(self, world: World) -> None:
        offer = enter_offer(world)
        with pytest.raises(ValidationFailed, match="a declared value needs an ISO 4217 currency"):
            world.do(svc.amend_offer, "deu", offer, value=Decimal(5))


class TestItemClass:
    def test_gains_and_loses_items(self, world: World) -> None:
        world.do(svc.change_item_class, "admin", "155mm", add=["fpv"], remove=["155-b"])
        assert world.db.state().item_classes["155mm"].items == ("155-a", "fpv")
        assert last_event(world) == ("ItemClassChanged", {"code": "155mm", "old": {"items": ["155-a", "155-b"]},
                                                          "new": {"items": ["155-a", "fpv"]}})

    def test_an_item_in_a_pending_allocation_cannot_leave(self, world: World) -> None:
        req = open_requirement(world)
        offer = enter_offer(world, item="155-b")
        world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=10)
        with pytest.raises(Conflict, match="item 155-b cannot leave class 155mm: allocation A-00001"):
            world.do(svc.change_item_class, "admin", "155mm", remove=["155-b"])

    def test_refuses_an_empty_class_and_unknown_items(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="would have none"):
            world.do(svc.change_item_class, "admin", "fpv", remove=["fpv"])
        with pytest.raises(NotFound, match="no item 'nope'"):
            world.do(svc.change_item_class, "admin", "fpv", add=["nope"])


class TestUsers:
    def test_a_disabled_user_can_do_nothing_from_the_next_command_on(self, world: World) -> None:
        world.do(svc.disable_user, "admin", "deu")
        assert last_event(world) == ("UserDisabled", {"name": "deu"})
        before = world.event_count()
        with pytest.raises(Forbidden, match="user deu is disabled") as refused:
            enter_offer(world, user="deu")
        assert refused.value.code == "disabled-user"
        with pytest.raises(Forbidden, match="user deu is disabled"):
            queries.history_of(world.db, "deu", HistoryKind.REQUIREMENT, "R-00001")
        assert world.event_count() == before
        world.do(svc.enable_user, "admin", "deu")
        enter_offer(world, user="deu")

    def test_a_desk_officer_manages_its_own_members_users_only(self, world: World) -> None:
        with world.db.transaction() as uow:
            svc.register_user(uow, world.caller("admin"), User("deu-2", "DEU", Role.DESK_OFFICER))
        world.do(svc.change_role, "deu", "deu-2", Role.ANALYST)
        assert world.db.state().users["deu-2"].role is Role.ANALYST
        assert last_event(world)[1] == {"name": "deu-2", "old": {"role": "desk_officer"}, "new": {"role": "analyst"}}
        with pytest.raises(Forbidden, match="deu is a desk officer for DEU and may not user:manage for FRA"):
            world.do(svc.disable_user, "deu", "fra")

    def test_a_role_must_suit_the_party_and_nobody_disables_itself(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="only the coordinating authority's users can be coordinators"):
            world.do(svc.change_role, "admin", "deu", Role.COORDINATOR)
        with pytest.raises(Conflict, match="user admin may not disable itself"):
            world.do(svc.disable_user, "admin", "admin")
        with pytest.raises(NotFound, match="no user 'ghost'"):
            world.do(svc.disable_user, "admin", "ghost")


class TestHistory:
    def test_an_allocation_lists_every_event_with_index_actor_and_time(self, world: World) -> None:
        req = open_requirement(world, quantity=1000)
        offer = enter_offer(world, quantity=600)
        alloc = confirmed_allocation(world, offer, req, 600)
        with world.db.transaction() as uow:
            svc.dispatch(uow, world.caller("deu"), allocation=alloc, quantity=600, dispatched_on=date(2024, 7, 1))
        entries = queries.history_of(world.db, "deu", HistoryKind.ALLOCATION, alloc)
        assert [(e.type, e.actor) for e in entries] == [
            ("AllocationProposed", "admin"), ("AllocationAcceptedByDonor", "deu"),
            ("AllocationAcceptedByRecipient", "ukr"), ("AllocationConfirmed", "admin"),
            ("ShipmentDispatched", "deu")]
        assert entries[-1].effective == date(2024, 7, 1)
        with world.db.reader() as conn:
            indexed = {seq: decode(body).type for seq, body, _ in read_events(conn)}
        assert all(indexed[e.index] == e.type for e in entries)

    def test_an_offer_history_shows_its_amendment(self, world: World) -> None:
        offer = enter_offer(world, quantity=600)
        world.do(svc.amend_offer, "deu", offer, quantity=700)
        entries = queries.history_of(world.db, "deu", HistoryKind.OFFER, offer)
        assert [e.type for e in entries] == ["OfferDrafted", "OfferMade", "OfferCommitted", "OfferAmended"]
        assert entries[-1].detail == "quantity 600 -> 700"

    def test_a_hidden_offers_history_is_not_found(self, world: World) -> None:
        offer = enter_offer(world)
        with pytest.raises(NotFound, match=f"no offer '{offer}' that fra may see"):
            queries.history_of(world.db, "fra", HistoryKind.OFFER, offer)


class TestPastYears:
    def test_a_year_already_past_is_entered_with_the_days_it_happened(self, world: World) -> None:
        """2023, entered in July 2024: requirement, proposal, shipment and receipt each keep their own day."""
        with world.db.transaction() as uow:
            ukr, admin, deu = world.caller("ukr"), world.caller("admin"), world.caller("deu")
            req = svc.draft_requirement(uow, ukr, item_class="155mm", quantity=100, priority=1,
                                        needed_by=date(2023, 5, 1), destination="UKR-West", on=date(2023, 2, 1))
            for who, verb in ((ukr, "submit"), (admin, "validate"), (admin, "open")):
                svc.move_requirement(uow, who, req.id, verb)
            offer = svc.enter_offer(uow, deu, Offer(
                id="", member="DEU", item="155-a", quantity=100, available_from=date(2023, 3, 1), depot="DEU",
                source=Source.STOCKS, status=OfferStatus.DRAFT, visibility=Visibility.MEMBER),
                status=OfferStatus.COMMITTED, committed_on=date(2023, 3, 1))
            a = svc.propose_allocation(uow, admin, offer=offer.id, requirement=req.id, quantity=100,
                                       on=date(2023, 3, 10))
            svc.move_allocation(uow, deu, a.id, "accept")
            svc.move_allocation(uow, ukr, a.id, "accept")
            svc.move_allocation(uow, admin, a.id, "confirm")
            d = svc.dispatch(uow, deu, allocation=a.id, quantity=100, dispatched_on=date(2023, 3, 20))
            svc.receive(uow, ukr, d.id, received_on=date(2023, 4, 2))
        assert world.db.state().allocations[a.id].proposed_on == date(2023, 3, 10)
        entries = queries.history_of(world.db, "deu", HistoryKind.ALLOCATION, a.id)
        assert entries[0].effective == date(2023, 3, 10) and entries[0].at.year == 2024
        assert [e.effective for e in entries if e.type.startswith("Shipment")] == [date(2023, 3, 20),
                                                                                    date(2023, 4, 2)]

    def test_a_proposal_is_not_dated_in_the_future(self, world: World) -> None:
        req = open_requirement(world)
        offer = enter_offer(world)
        with pytest.raises(ValidationFailed, match=r"on: 2025-01-01 is in the future"):
            world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=5, on=date(2025, 1, 1))

    def test_requirement_moves_and_consent_decisions_keep_the_day_they_happened(self, world: World) -> None:
        with world.db.transaction() as uow:
            ukr, admin, deu, usa = (world.caller(n) for n in ("ukr", "admin", "deu", "usa"))
            req = svc.draft_requirement(uow, ukr, item_class="155mm", quantity=100, priority=1,
                                        needed_by=date(2023, 5, 1), destination="UKR-West", on=date(2023, 2, 1))
            for who, verb, day in ((ukr, "submit", 2), (admin, "validate", 3), (admin, "open", 4)):
                svc.move_requirement(uow, who, req.id, verb, on=date(2023, 2, day))
            offer = svc.enter_offer(uow, deu, replace(OFFER, consent_from="USA"))
            consent = svc.request_consent(uow, deu, offer.id, on=date(2023, 2, 10))
            svc.decide_consent(uow, usa, consent.id, "grant", on=date(2023, 2, 20))
        assert world.db.state().consents[consent.id].decided_on == date(2023, 2, 20)
        entries = queries.history_of(world.db, "deu", HistoryKind.REQUIREMENT, req.id)
        assert [e.effective for e in entries] == [date(2023, 2, d) for d in (1, 2, 3, 4)]
        assert all(e.at.year == 2024 for e in entries)  # the record keeps when each was entered too

    @pytest.mark.parametrize(("on", "message"), [
        (date(2025, 1, 1), r"on: 2025-01-01 is in the future \(today is 2024-07-01\)"),
        (date(1899, 12, 31), r"on: 1899-12-31 is outside 1900-01-01\.\."),
        (date(2024, 6, 30), r"on: 2024-06-30 is before consent K-00001 was requested \(2024-07-01\)"),
    ])
    def test_a_consent_decision_is_not_dated_in_the_future_nor_before_its_request(
            self, world: World, on: date, message: str) -> None:
        consent = world.do(svc.request_consent, "deu", enter_offer(world, consent_from="USA"))
        before = world.event_count()
        with pytest.raises(ValidationFailed, match=message):
            world.do(svc.decide_consent, "usa", consent.id, "grant", on=on)
        assert world.event_count() == before
        assert world.db.state().consents[consent.id].status is ConsentStatus.REQUESTED

    def test_a_requirement_move_is_not_dated_before_it_was_raised(self, world: World) -> None:
        req = world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=10, priority=1,
                       needed_by=date(2023, 9, 1), destination="UKR-West", on=date(2023, 2, 1))
        with pytest.raises(ValidationFailed, match=r"on: 2023-01-31 is before requirement R-00001 was raised"):
            world.do(svc.move_requirement, "ukr", req.id, "submit", on=date(2023, 1, 31))
        with pytest.raises(ValidationFailed, match=r"on: 2025-01-01 is in the future"):
            world.do(svc.move_requirement, "ukr", req.id, "cancel", on=date(2025, 1, 1))
        assert world.db.state().requirements[req.id].status is RequirementStatus.DRAFT
