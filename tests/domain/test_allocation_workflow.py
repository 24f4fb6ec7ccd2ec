"""A Hypothesis state machine over the pure core: any sequence of commands keeps the books consistent,
and replaying the events it produced gives the same state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from contactgroup.domain import command
from contactgroup.domain import model as m
from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.event import Context, Event, evolve, replay
from contactgroup.domain.state import State, as_data

AT = datetime(2024, 1, 1, tzinfo=UTC)


class Coordination(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = State()
        self.log: list[Event] = []
        ctx = Context("admin", "IDCC", "IDCC", AT)
        self.apply(command.found(self.state, ctx, recipient="UKR", authority="IDCC", origin="test"))
        for code in ("DEU", "USA"):
            self.apply(command.admit_member(self.state, ctx, m.Member(code, code, m.MemberKind.NATION, "EUR")))
        self.apply(command.form_coalition(self.state, ctx, m.Coalition("art", "Artillery", ("DEU",))))
        for item in ("a", "b"):
            self.apply(command.catalogue_item(self.state, ctx, m.Item(item, item, m.Category.MILITARY, "round",
                                                                      None, Decimal(10))))
        self.apply(command.define_item_class(self.state, ctx, m.ItemClass("c", "c", "art", ("a", "b"))))
        self.ctx = ctx

    def apply(self, events: list[Event]) -> None:
        for e in events:
            evolve(self.state, e)
            self.log.append(e)

    def attempt(self, fn: object, *args: object, **kwargs: object) -> None:
        """Run a command; a refusal must leave the state exactly as it was."""
        before = {t: dict(rows) for t, rows in self.state.tables.items()}
        try:
            self.apply(fn(self.state, self.ctx, *args, **kwargs))  # type: ignore[operator]
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
        offer = m.Offer("", member, item, quantity, date(2024, 2, 1), member, m.Source.STOCKS, m.OfferStatus.DRAFT,
                        m.Visibility.PUBLIC, consent_from="USA" if consent and member == "DEU" else None)
        events = command.draft_offer(self.state, self.ctx, offer)
        self.apply(events)
        self.attempt(command.move, "OfferMade", events[0].data["id"])

    @rule(o=st.integers(0, 20), r=st.integers(0, 20), quantity=st.integers(1, 60))
    def propose(self, o: int, r: int, quantity: int) -> None:
        self.attempt(command.propose_allocation, offer=self.pick("offers", o), requirement=self.pick("requirements", r),
                     quantity=quantity)

    @rule(a=st.integers(0, 30), step=st.sampled_from(["AllocationAcceptedByDonor", "AllocationAcceptedByRecipient",
                                                      "AllocationDeclined"]))
    def step(self, a: int, step: str) -> None:
        self.attempt(command.move, step, self.pick("allocations", a))

    @rule(a=st.integers(0, 30))
    def confirm(self, a: int) -> None:
        self.attempt(command.confirm_allocation, self.pick("allocations", a))

    @rule(o=st.integers(0, 20), grant=st.booleans())
    def consent(self, o: int, grant: bool) -> None:
        oid = self.pick("offers", o)
        self.attempt(command.request_consent, oid)
        for c in list(self.state.consents.values()):
            if c.offer == oid and c.status is m.ConsentStatus.REQUESTED:
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

    @rule(a=st.integers(0, 30), quantity=st.integers(1, 60), short=st.integers(0, 5))
    def ship(self, a: int, quantity: int, short: int) -> None:
        before = len(self.state.deliveries)
        self.attempt(command.dispatch, allocation=self.pick("allocations", a), quantity=quantity,
                     dispatched_on=date(2024, 3, 1))
        if len(self.state.deliveries) > before:
            self.attempt(command.receive, self.pick("deliveries", before), received_on=date(2024, 3, 5), short=short)

    @invariant()
    def offers_are_never_overallocated(self) -> None:
        for offer in self.state.offers.values():
            assert self.state.allocated_of_offer(offer.id) <= offer.quantity

    @invariant()
    def requirements_are_never_overfilled_and_status_follows_confirmations(self) -> None:
        for r in self.state.requirements.values():
            confirmed = self.state.confirmed_of_requirement(r.id)
            assert confirmed + self.state.pending_of_requirement(r.id) <= r.quantity
            expected = (m.RequirementStatus.MET if confirmed == r.quantity else
                        m.RequirementStatus.PARTIALLY_MET if confirmed else m.RequirementStatus.OPEN)
            assert r.status is expected

    @invariant()
    def no_requirement_is_needed_before_it_was_entered(self) -> None:
        assert all(r.needed_by >= AT.date() for r in self.state.requirements.values())

    @invariant()
    def confirmed_allocations_have_consent_and_shipments_fit(self) -> None:
        for a in self.state.allocations.values():
            offer = self.state.offers[a.offer]
            if a.status is m.AllocationStatus.CONFIRMED:
                assert not command.consent_pending(self.state, offer)
            shipped = sum(d.quantity for d in self.state.deliveries.values() if d.allocation == a.id)
            assert shipped <= (a.quantity if a.status is m.AllocationStatus.CONFIRMED else 0)

    @invariant()
    def replaying_the_log_gives_the_same_state(self) -> None:
        rebuilt = replay(self.log)
        for table, rows in self.state.tables.items():
            assert {k: as_data(v) for k, v in rebuilt.tables[table].items()} == {k: as_data(v) for k, v in rows.items()}


TestCoordination = Coordination.TestCase
TestCoordination.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
