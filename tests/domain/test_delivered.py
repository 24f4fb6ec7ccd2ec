"""When an offer is delivered, on a plain `State`: once its good units received (with the owed units released)
cover what it offers — after a receipt, a release, or an amendment down to what was received — and not before."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from contactgroup.domain import command
from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.event import Context, Event, evolve, replay
from contactgroup.domain.model import (
    AllocationStatus,
    Category,
    Coalition,
    Item,
    ItemClass,
    Member,
    MemberKind,
    Offer,
    OfferStatus,
    Source,
    Visibility,
)
from contactgroup.domain.state import State, as_data

CTX = Context("admin", "IDCC", "IDCC", datetime(2024, 7, 1, tzinfo=UTC))
DAY = CTX.today


class Books:
    """One offer of `quantity` units and one requirement, built through the domain's commands."""

    def __init__(self, quantity: int = 100, needed: int = 1000) -> None:
        self.state, self.log = State(), list[Event]()
        self.apply(command.found(self.state, CTX, recipient="UKR", authority="IDCC", origin="test"))
        self.apply(command.admit_member(self.state, CTX, Member("DEU", "DEU", MemberKind.NATION, "EUR")))
        self.apply(command.form_coalition(self.state, CTX, Coalition("art", "Artillery", ("DEU",))))
        self.apply(command.catalogue_item(self.state, CTX, Item("a", "a", Category.MILITARY, "round", None,
                                                                  Decimal(10))))
        self.apply(command.define_item_class(self.state, CTX, ItemClass("c", "c", "art", ("a",))))
        self.apply(command.draft_requirement(self.state, CTX, item_class="c", quantity=needed, priority=1,
                                             needed_by=date(2024, 9, 1), destination="UKR"))
        for step in ("RequirementSubmitted", "RequirementValidated", "RequirementOpened"):
            self.apply(command.move(self.state, CTX, step, "R-00001"))
        self.apply(command.draft_offer(self.state, CTX, Offer(
            "", "DEU", "a", quantity, date(2024, 2, 1), "DEU", Source.STOCKS, OfferStatus.DRAFT,
            Visibility.PUBLIC)))
        self.apply(command.move(self.state, CTX, "OfferMade", "O-00001"))

    def apply(self, events: list[Event]) -> None:
        for e in events:
            evolve(self.state, e)
            self.log.append(e)

    def confirmed(self, quantity: int) -> str:
        (proposed,) = command.propose_allocation(self.state, CTX, offer="O-00001", requirement="R-00001",
                                                 quantity=quantity)
        self.apply([proposed])
        alloc = proposed.data["id"]
        for step in ("AllocationAcceptedByDonor", "AllocationAcceptedByRecipient"):
            self.apply(command.move(self.state, CTX, step, alloc))
        self.apply(command.confirm_allocation(self.state, CTX, alloc))
        return str(alloc)

    def shipped(self, alloc: str, quantity: int, short: int = 0) -> None:
        (dispatched,) = command.dispatch(self.state, CTX, allocation=alloc, quantity=quantity, dispatched_on=DAY)
        self.apply([dispatched])
        self.apply(command.receive(self.state, CTX, dispatched.data["id"], received_on=DAY, short=short))

    @property
    def status(self) -> OfferStatus:
        return self.state.offers["O-00001"].status


class TestAmendedDownToWhatArrived:
    def test_an_offer_in_delivery_lowered_to_what_was_received_is_delivered_at_once(self) -> None:
        books = Books(quantity=100)
        books.shipped(books.confirmed(60), 60)
        assert books.status is OfferStatus.IN_DELIVERY  # 40 units still free to allocate
        books.apply(command.amend_offer(books.state, CTX, "O-00001", {"quantity": 60}))
        assert books.status is OfferStatus.DELIVERED

    def test_units_still_owed_keep_it_in_delivery_until_released(self) -> None:
        books = Books(quantity=100)
        alloc = books.confirmed(60)
        books.shipped(alloc, 60, short=5)
        books.apply(command.amend_offer(books.state, CTX, "O-00001", {"quantity": 60}))
        assert books.status is OfferStatus.IN_DELIVERY  # 5 owed: a replacement may still come
        books.apply(command.release_owed(books.state, CTX, alloc, 5))
        assert books.status is OfferStatus.DELIVERED

    def test_a_pending_proposal_keeps_it_in_delivery(self) -> None:
        books = Books(quantity=100)
        first = books.confirmed(60)
        (dispatched,) = command.dispatch(books.state, CTX, allocation=first, quantity=60, dispatched_on=DAY)
        books.apply([dispatched])
        books.apply(command.propose_allocation(books.state, CTX, offer="O-00001", requirement="R-00001",
                                               quantity=40))
        books.apply(command.receive(books.state, CTX, dispatched.data["id"], received_on=DAY))
        assert books.status is OfferStatus.IN_DELIVERY  # the 40 proposed will be owed once confirmed

    def test_a_delivered_offer_is_no_longer_amended(self) -> None:
        books = Books(quantity=60)
        books.shipped(books.confirmed(60), 60)
        assert books.status is OfferStatus.DELIVERED
        try:
            command.amend_offer(books.state, CTX, "O-00001", {"quantity": 80})
        except ContactGroupError as exc:
            assert "O-00001 is delivered; it can no longer be amended" in str(exc)
        else:
            raise AssertionError("a delivered offer was amended")


# One step of a desk's week: (kind, a number the step reads as a quantity or a share).
STEPS = st.lists(st.tuples(st.sampled_from(["allocate", "ship", "ship", "short", "release", "amend", "amend",
                                            "propose"]), st.integers(1, 40)), min_size=1, max_size=25)


def _attempt(books: Books, fn: object, *args: object, **kwargs: object) -> None:
    with contextlib.suppress(ContactGroupError):  # a refused step changes nothing: the books go on as they were
        books.apply(fn(books.state, CTX, *args, **kwargs))  # type: ignore[operator]


def _step(books: Books, kind: str, n: int) -> None:
    confirmed = [a.id for a in books.state.allocations.values() if a.status is AllocationStatus.CONFIRMED]
    if kind == "allocate":
        with contextlib.suppress(ContactGroupError):
            books.confirmed(n)
    elif kind == "propose":
        _attempt(books, command.propose_allocation, offer="O-00001", requirement="R-00001", quantity=n)
    elif kind == "amend":  # just below, at or just above what is allocated: where the rule turns
        held = books.state.allocated_of_offer("O-00001")
        _attempt(books, command.amend_offer, "O-00001", {"quantity": max(held + n % 3 - 1, 1)})
    elif kind == "release" and confirmed:
        _attempt(books, command.release_owed, confirmed[n % len(confirmed)], n % 7 + 1)
    elif kind in ("ship", "short") and confirmed:
        alloc = confirmed[n % len(confirmed)]
        owed = books.state.shipped(alloc).owed
        if owed:
            short = min(n % 4, owed) if kind == "short" else 0
            books.shipped(alloc, owed, short=short)


@settings(max_examples=300, deadline=None)
@given(quantity=st.integers(1, 60), first=st.integers(1, 60), steps=STEPS)
def test_delivered_exactly_when_good_and_released_units_cover_the_offer(quantity: int, first: int,
                                                                        steps: list[tuple[str, int]]) -> None:
    """After any sequence of allocations, shipments (some short), releases and amendments, an offer that shipped
    anything is delivered if and only if the good units received plus the owed units released reach its quantity;
    one that never shipped is never delivered; and replaying the log gives the same offer."""
    books = Books(quantity=quantity)
    books.confirmed(min(first, quantity))  # something to ship from the first step on
    for kind, n in steps:
        _step(books, kind, n)
        offer = books.state.offers["O-00001"]
        allocations = [a for a in books.state.allocations_of_offer(offer.id)
                       if a.status is AllocationStatus.CONFIRMED]
        good = sum(books.state.shipped(a.id).received for a in allocations)
        released = sum(a.released for a in allocations)
        shipped = any(books.state.where("deliveries", "allocation", a.id) for a in allocations)
        assert (offer.status is OfferStatus.DELIVERED) == (shipped and good + released >= offer.quantity), (
            offer, good, released)
    rebuilt = replay(books.log)
    assert as_data(rebuilt.offers["O-00001"]) == as_data(books.state.offers["O-00001"])
