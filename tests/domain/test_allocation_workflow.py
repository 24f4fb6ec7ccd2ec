"""A Hypothesis state machine over the pure core: any sequence of commands — declines by either party, reopened
pairs, short receipts, replacements and released owed units included — keeps the books consistent (allocated ≤
offered; received + in transit + owed = confirmed; missing never negative), and replaying the events it produced
gives the same state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from contactgroup.domain import command
from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.event import Context, Event, evolve, replay
from contactgroup.domain.model import (
    AllocationStatus,
    Category,
    Coalition,
    ConsentStatus,
    Item,
    ItemClass,
    Member,
    MemberKind,
    Offer,
    OfferStatus,
    RequirementStatus,
    Source,
    Visibility,
)
from contactgroup.domain.state import State, as_data
from contactgroup.reports.gaps import gaps

AT = datetime(2024, 1, 1, tzinfo=UTC)


class Coordination(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = State()
        self.log: list[Event] = []
        ctx = Context("admin", "IDCC", "IDCC", AT)
        self.apply(command.found(self.state, ctx, recipient="UKR", authority="IDCC", origin="test"))
        for code in ("DEU", "USA"):
            self.apply(command.admit_member(self.state, ctx, Member(code, code, MemberKind.NATION, "EUR")))
        self.apply(command.form_coalition(self.state, ctx, Coalition("art", "Artillery", ("DEU",))))
        for item in ("a", "b"):
            self.apply(command.catalogue_item(self.state, ctx, Item(item, item, Category.MILITARY, "round",
                                                                      None, Decimal(10))))
        self.apply(command.define_item_class(self.state, ctx, ItemClass("c", "c", "art", ("a", "b"))))
        self.ctx = ctx
        # Something to allocate from the first step on, so that the steps reach confirmations and shipments.
        self.requirement(quantity=30, priority=1)
        self.offer(member="DEU", item="a", quantity=40, consent=False)

    def apply(self, events: list[Event]) -> None:
        for e in events:
            evolve(self.state, e)
            self.log.append(e)

    def attempt(self, fn: object, *args: object, ctx: Context | None = None, **kwargs: object) -> None:
        """Run a command; a refusal must leave the state exactly as it was."""
        before = {t: dict(rows) for t, rows in self.state.tables.items()}
        try:
            self.apply(fn(self.state, ctx or self.ctx, *args, **kwargs))  # type: ignore[operator]
        except ContactGroupError:
            assert {t: dict(rows) for t, rows in self.state.tables.items()} == before

    def pick(self, table: str, i: int) -> str:
        keys = sorted(self.state.tables[table])
        return keys[i % len(keys)] if keys else "none"

    @rule(quantity=st.integers(1, 50), priority=st.integers(1, 3))
    def requirement(self, quantity: int, priority: int) -> None:
        events = command.draft_requirement(self.state, self.ctx, item_class="c", quantity=quantity,
                                           priority=priority, needed_by=date(2024, 6, 1), destination="UKR")
        self.apply(events)
        rid = events[0].data["id"]
        for t in ("RequirementSubmitted", "RequirementValidated", "RequirementOpened"):
            self.apply(command.move(self.state, self.ctx, t, rid))

    @rule(member=st.sampled_from(["DEU", "USA"]), item=st.sampled_from(["a", "b"]), quantity=st.integers(1, 50),
          consent=st.booleans())
    def offer(self, member: str, item: str, quantity: int, consent: bool) -> None:
        offer = Offer("", member, item, quantity, date(2024, 2, 1), member, Source.STOCKS, OfferStatus.DRAFT,
                        Visibility.PUBLIC, consent_from="USA" if consent and member == "DEU" else None)
        events = command.draft_offer(self.state, self.ctx, offer)
        self.apply(events)
        self.attempt(command.move, "OfferMade", events[0].data["id"])

    @rule(o=st.integers(0, 20), r=st.integers(0, 20), quantity=st.integers(1, 25))
    def propose(self, o: int, r: int, quantity: int) -> None:
        offer, req = self.pick("offers", o), self.pick("requirements", r)
        closed = command.declined_pair(self.state, offer, req) is not None
        before = len(self.state.allocations)
        self.attempt(command.propose_allocation, offer=offer, requirement=req, quantity=quantity)
        assert not (closed and len(self.state.allocations) > before), "a declined pair was proposed again"

    @rule(a=st.integers(0, 30), party=st.sampled_from(["IDCC", "DEU", "UKR"]))
    def decline(self, a: int, party: str) -> None:
        self.attempt(command.move, "AllocationDeclined", self.pick("allocations", a), reason="no",
                     ctx=Context(party.lower(), party, "IDCC", AT))

    @rule(a=st.integers(0, 30), party=st.sampled_from(["IDCC", "DEU", "UKR"]), coordinator=st.booleans())
    def reopen(self, a: int, party: str, coordinator: bool) -> None:
        alloc = self.pick("allocations", a)
        was = self.state.allocations.get(alloc)
        self.attempt(command.reopen_allocation, alloc, coordinator=coordinator,
                     ctx=Context(party.lower(), party, "IDCC", AT))
        now = self.state.allocations.get(alloc)
        if was is not None and now is not None and now.reopened and not was.reopened:
            assert coordinator or was.declined_by == party

    @rule(a=st.integers(0, 30), units=st.integers(1, 20))
    def release(self, a: int, units: int) -> None:
        self.attempt(command.release_owed, self.pick_confirmed(a), units)

    @rule(a=st.integers(0, 30), step=st.sampled_from(["AllocationAcceptedByDonor", "AllocationAcceptedByRecipient",
                                                      "AllocationDeclined"]))
    def step(self, a: int, step: str) -> None:
        self.attempt(command.move, step, self.pick("allocations", a))

    @rule(a=st.integers(0, 30))
    def confirm(self, a: int) -> None:
        self.attempt(command.confirm_allocation, self.pick("allocations", a))

    @rule(a=st.integers(0, 30))
    def agree(self, a: int) -> None:
        """Both sides accept and the coordinator confirms: the common path, so that shipments follow often."""
        alloc = self.pick("allocations", a)
        for step in ("AllocationAcceptedByDonor", "AllocationAcceptedByRecipient"):
            self.attempt(command.move, step, alloc)
        self.attempt(command.confirm_allocation, alloc)

    def pick_confirmed(self, i: int) -> str:
        keys = sorted(k for k, a in self.state.allocations.items() if a.status is AllocationStatus.CONFIRMED)
        return keys[i % len(keys)] if keys else "none"

    @rule(o=st.integers(0, 20), grant=st.booleans())
    def consent(self, o: int, grant: bool) -> None:
        oid = self.pick("offers", o)
        self.attempt(command.request_consent, oid)
        for c in list(self.state.consents.values()):
            if c.offer == oid and c.status is ConsentStatus.REQUESTED:
                self.attempt(command.move, "ConsentGranted" if grant else "ConsentRefused", c.id)

    @rule(o=st.integers(0, 20))
    def withdraw(self, o: int) -> None:
        self.attempt(command.withdraw_offer, self.pick("offers", o))

    @rule(r=st.integers(0, 20), quantity=st.integers(1, 80), days=st.integers(-40, 200))
    def amend_requirement(self, r: int, quantity: int, days: int) -> None:
        """Amendments never go below what is allocated; a needed-by date before today is refused."""
        self.attempt(command.amend_requirement, self.pick("requirements", r), quantity=quantity,
                     needed_by=date(2024, 1, 1) + timedelta(days=days))

    @rule(o=st.integers(0, 20), quantity=st.integers(1, 80))
    def amend_offer(self, o: int, quantity: int) -> None:
        self.attempt(command.amend_offer, self.pick("offers", o), {"quantity": quantity})

    @rule(item=st.sampled_from(["a", "b"]), add=st.booleans())
    def change_class(self, item: str, add: bool) -> None:
        self.attempt(command.change_item_class, "c", **{"add" if add else "remove": [item]})

    @rule(a=st.integers(0, 30), quantity=st.integers(1, 15), short=st.integers(0, 5), damaged=st.integers(0, 3),
          wrong=st.integers(0, 2), arrives=st.booleans())
    def ship(self, a: int, quantity: int, short: int, damaged: int, wrong: int, arrives: bool) -> None:
        """A shipment (a replacement, if units are owed after a receipt), received now or left in transit."""
        before = len(self.state.deliveries)
        self.attempt(command.dispatch, allocation=self.pick_confirmed(a), quantity=quantity,
                     dispatched_on=AT.date())
        if len(self.state.deliveries) > before and arrives:
            self.attempt(command.receive, self.pick("deliveries", before), received_on=AT.date(), short=short,
                         damaged=damaged, wrong_item=wrong)

    @rule(d=st.integers(0, 30))
    def arrive(self, d: int) -> None:
        self.attempt(command.receive, self.pick("deliveries", d), received_on=AT.date())

    @invariant()
    def offers_are_never_overallocated(self) -> None:
        for offer in self.state.offers.values():
            assert self.state.allocated_of_offer(offer.id) <= offer.quantity

    @invariant()
    def requirements_are_never_overfilled_and_status_follows_confirmations(self) -> None:
        for r in self.state.requirements.values():
            confirmed = self.state.confirmed_of_requirement(r.id)
            assert confirmed + self.state.pending_of_requirement(r.id) <= r.quantity
            expected = (RequirementStatus.MET if confirmed == r.quantity else
                        RequirementStatus.PARTIALLY_MET if confirmed else RequirementStatus.OPEN)
            assert r.status is expected

    @invariant()
    def no_requirement_is_needed_before_it_was_entered(self) -> None:
        assert all(r.needed_by >= AT.date() for r in self.state.requirements.values())

    @invariant()
    def confirmed_allocations_have_consent_and_shipments_fit(self) -> None:
        for a in self.state.allocations.values():
            offer = self.state.offers[a.offer]
            if a.status is AllocationStatus.CONFIRMED:
                assert not command.consent_pending(self.state, offer)
            if a.status is not AllocationStatus.CONFIRMED:
                assert not self.state.where("deliveries", "allocation", a.id) and a.released == 0
                continue
            books = self.state.shipped(a.id)
            assert books.received + books.in_transit + books.owed == a.quantity
            assert min(books.received, books.in_transit, books.owed) >= 0 and 0 <= books.short_owed <= books.owed

    @invariant()
    def an_offer_is_delivered_only_when_nothing_of_it_is_owed(self) -> None:
        for o in self.state.offers.values():
            if o.status is OfferStatus.DELIVERED:
                assert all(self.state.shipped(a.id).owed == 0 for a in self.state.allocations_of_offer(o.id)
                           if a.status is AllocationStatus.CONFIRMED)

    @invariant()
    def an_offer_that_shipped_is_delivered_exactly_when_good_and_released_units_cover_it(self) -> None:
        for o in self.state.offers.values():
            confirmed = [a for a in self.state.allocations_of_offer(o.id) if a.status is AllocationStatus.CONFIRMED]
            covered = sum(self.state.shipped(a.id).received + a.released for a in confirmed) >= o.quantity
            shipped = any(self.state.where("deliveries", "allocation", a.id) for a in confirmed)
            assert (o.status is OfferStatus.DELIVERED) == (shipped and covered), o

    @invariant()
    def missing_is_never_negative_and_counts_what_is_owed(self) -> None:
        for row in gaps(self.state, None):
            assert row.missing > 0 and row.owed >= 0
            assert row.missing == max(row.needed - row.committed, 0) + row.owed
            assert sum(units for _, units in row.breakdown) == row.missing

    @invariant()
    def replaying_the_log_gives_the_same_state(self) -> None:
        rebuilt = replay(self.log)
        for table, rows in self.state.tables.items():
            assert {k: as_data(v) for k, v in rebuilt.tables[table].items()} == {k: as_data(v) for k, v in rows.items()}


TestCoordination = Coordination.TestCase
TestCoordination.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
