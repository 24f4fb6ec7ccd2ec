"""Reads for every front door: visibility-filtered lists and show views, as typed records.

The CLI, the API and the pages only format what these return. A list never holds an object its reader may not
see; a show of a hidden object is the same `NotFound` as for one that does not exist (see `coordination.hidden`).
Lists open to every user (members, users, catalogue, coalitions, requirements, funds) take no user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from contactgroup.domain import governance as gov
from contactgroup.domain import model as m
from contactgroup.domain.errors import NotFound
from contactgroup.domain.state import State
from contactgroup.services import policy
from contactgroup.services.coordination import hidden

T = TypeVar("T")
CENT = Decimal("0.01")


def reader(state: State, name: str | None) -> m.User | None:
    """Who reads a list open to everyone: nobody needs to say, but a name given must be a registered user."""
    return policy.user(state, name) if name else None


def _in_key_order(table: dict[str, T]) -> list[T]:
    return [x for _, x in sorted(table.items())]


# --- open to every user ------------------------------------------------------------------------------------------


def members(state: State) -> list[m.Member]:
    return _in_key_order(state.members)


def users(state: State) -> list[m.User]:
    return _in_key_order(state.users)


def items(state: State) -> list[m.Item]:
    return _in_key_order(state.items)


def item_classes(state: State) -> list[m.ItemClass]:
    return _in_key_order(state.item_classes)


def coalitions(state: State) -> list[m.Coalition]:
    return _in_key_order(state.coalitions)


def requirements(state: State, *, status: m.RequirementStatus | None = None,
                 area: str | None = None) -> list[m.Requirement]:
    """By priority, then id."""
    return [r for r in sorted(state.requirements.values(), key=lambda r: (r.priority, r.id))
            if (status is None or r.status is status) and (area is None or r.area == area)]


def requirement(state: State, req_id: str) -> m.Requirement:
    req = state.requirements.get(req_id)
    if req is None:
        raise NotFound(f"no requirement {req_id!r}", code="not-found", kind="requirement", id=req_id)
    return req


# --- offers, allocations, consents, deliveries: what the reader may see ------------------------------------------


def offers(state: State, who: m.User, *, member: str | None = None,
           status: m.OfferStatus | None = None) -> list[m.Offer]:
    """The offers `who` may see, in the order they were entered."""
    return [o for o in state.offers.values()
            if policy.can_see_offer(state, who, o) and (member is None or o.member == member)
            and (status is None or o.status is status)]


def offer(state: State, who: m.User, offer_id: str) -> m.Offer:
    o = state.offers.get(offer_id)
    if o is None or not policy.can_see_offer(state, who, o):
        raise hidden("offer", offer_id, who)
    return o


@dataclass(frozen=True, slots=True)
class AllocationView:
    """An allocation with its offer's member and item and its shipments."""

    allocation: m.Allocation
    member: str
    item: str
    shipments: tuple[str, ...]
    shipped: int
    received: int
    owed: int = 0  # confirmed units neither received in good order nor in transit
    owed_after_receipt: int = 0  # of which arrived short, damaged or wrong


def allocations(state: State, who: m.User, *, status: m.AllocationStatus | None = None) -> list[m.Allocation]:
    """Allocations of offers `who` may see, and (recipient liaison) those proposed to the recipient."""
    return [a for a in state.allocations.values()
            if policy.can_see_allocation(state, who, a) and (status is None or a.status is status)]


def allocation(state: State, who: m.User, alloc_id: str) -> AllocationView:
    a = state.allocations.get(alloc_id)
    if a is None or not policy.can_see_allocation(state, who, a):
        raise hidden("allocation", alloc_id, who)
    o = state.offers[a.offer]
    shipped = state.where("deliveries", "allocation", alloc_id)
    books = state.shipped(alloc_id)
    confirmed = a.status is m.AllocationStatus.CONFIRMED
    return AllocationView(a, o.member, o.item, tuple(d.id for d in shipped), sum(d.quantity for d in shipped),
                          sum(d.received for d in shipped), books.owed if confirmed else 0,
                          books.short_owed if confirmed else 0)


def consents(state: State, who: m.User) -> list[m.Consent]:
    """Consents of offers `who` may see, or asked of the member it acts for; by id."""
    return [c for c in sorted(state.consents.values(), key=lambda c: c.id) if policy.can_see_consent(state, who, c)]


@dataclass(frozen=True, slots=True)
class ConsentView:
    """What a member is asked to consent to: the item, how many, for what end use, to where. The offer and its
    member are named only to a reader who may see the offer (None otherwise): the origin member asked for its
    consent learns what would be re-exported, not who offers it."""

    consent: m.Consent
    item: str
    item_name: str
    quantity: int
    end_use: str
    destination: str
    offer: str | None
    member: str | None


def consent_views(state: State, who: m.User) -> list[ConsentView]:
    """The consents `who` may see (of offers it may see, or asked of its member), by id, with what they are for."""
    return [_consent_view(state, who, c) for c in consents(state, who)]


def _consent_view(state: State, who: m.User, c: m.Consent) -> ConsentView:
    o = state.offers[c.offer]
    item = state.items.get(o.item)
    # Where the units would go: the destinations of the requirements the offer is allocated to, else the recipient.
    places = sorted({state.requirements[a.requirement].destination for a in state.allocations_of_offer(o.id)
                     if a.status is not m.AllocationStatus.DECLINED})
    seen = policy.can_see_offer(state, who, o)
    return ConsentView(c, o.item, item.name if item else "", o.quantity, o.end_use,
                       ", ".join(places) or state.recipient, o.id if seen else None, o.member if seen else None)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A shipment with its allocation's offer, member, item and requirement."""

    delivery: m.Delivery
    offer: str
    member: str
    item: str
    requirement: str


def deliveries(state: State, who: m.User) -> list[m.Delivery]:
    return [d for d in state.deliveries.values() if policy.can_see_delivery(state, who, d)]


def delivery(state: State, who: m.User, delivery_id: str) -> DeliveryView:
    d = state.deliveries.get(delivery_id)
    if d is None or not policy.can_see_delivery(state, who, d):
        raise hidden("delivery", delivery_id, who)
    a = state.allocations[d.allocation]
    o = state.offers[a.offer]
    return DeliveryView(d, o.id, o.member, o.item, a.requirement)


# --- funds -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FundRow:
    fund: m.Fund
    contributors: int
    pledges: int


@dataclass(frozen=True, slots=True)
class Pledge:
    """A contribution, its value in EUR at its pledge date, and its member's share of the fund (in %)."""

    contribution: str
    member: str
    amount: Decimal
    currency: str
    pledged_on: Any
    eur: Decimal
    member_share: Decimal


@dataclass(frozen=True, slots=True)
class Purchase:
    """An offer the fund made (what it bought)."""

    offer: str
    item: str
    quantity: int
    status: m.OfferStatus
    value_eur: Decimal | None


@dataclass(frozen=True, slots=True)
class FundView:
    """A fund, who pledged what, and the offers it made that the reader may see; the others only as a total."""

    fund: m.Fund
    pledges: tuple[Pledge, ...]
    bought: tuple[Purchase, ...]
    not_shown: int
    not_shown_eur: Decimal


def funds(state: State) -> list[FundRow]:
    rows = []
    for f in sorted(state.funds.values(), key=lambda f: f.code):
        contributions = [c for c in state.contributions.values() if c.fund == f.code]
        rows.append(FundRow(f, len({c.member for c in contributions}), len(contributions)))
    return rows


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def fund(state: State, code: str, who: m.User | None) -> FundView:
    """The fund `code` as `who` sees it (None: a reader who named no user sees the public offers by name)."""
    from contactgroup.reports.burden import fund_shares
    from contactgroup.reports.valuation import Valuer

    f = state.funds.get(code)
    if f is None:
        raise NotFound(f"no fund {code!r}", code="not-found", kind="fund", id=code)
    valuer = Valuer.of(state)
    shares = dict(fund_shares(state, valuer).get(code, []))
    pledges = tuple(
        Pledge(c.id, c.member, c.amount, c.currency, c.pledged_on,
               valuer.to_eur(c.amount, c.currency, c.pledged_on).quantize(CENT),
               (shares.get(c.member, Decimal(0)) * 100).quantize(CENT))
        for c in sorted(state.contributions.values(), key=lambda c: c.id) if c.fund == code)
    bought, not_shown, not_shown_eur = [], 0, Decimal(0)
    for o in sorted(state.offers.values(), key=lambda o: o.id):
        if o.member != code:
            continue
        value = _cents(valuer.offer_value_eur(o, state.items))
        if _sees(state, who, o):
            bought.append(Purchase(o.id, o.item, o.quantity, o.status, value))
        else:
            not_shown += 1
            not_shown_eur += value or 0
    return FundView(f, pledges, tuple(bought), not_shown, not_shown_eur)


def _sees(state: State, who: m.User | None, o: m.Offer) -> bool:
    if who is None:
        return o.visibility is m.Visibility.PUBLIC
    return policy.can_see_offer(state, who, o)


# --- governance --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal with its status as of `now` (`expired`: open but past its date), what it does, its quorum."""

    proposal: m.Proposal
    status: str
    what: str
    quorum: gov.Quorum
    approved_at: tuple[tuple[str, datetime], ...] = ()

    @property
    def rule(self) -> str:
        """The rule applied now, with its fallback when the proposal's own rule cannot be met."""
        q = self.quorum
        return f"{q.rule} ({q.fallback})" if q.fallback else q.rule


def proposal_status(p: m.Proposal, now: datetime) -> str:
    """open, effective, withdrawn — or expired: open but past its date, so it can no longer take effect."""
    if p.status is m.ProposalStatus.OPEN and now > p.expires_at:
        return "expired"
    return p.status.value


def _view(state: State, p: m.Proposal, now: datetime, *, approvals: bool = False) -> ProposalView:
    from contactgroup.services.governance import payload_summary

    when: tuple[tuple[str, datetime], ...] = ()
    if approvals:
        when = tuple((a.member, a.approved_at) for a in state.approvals.values() if a.proposal == p.id)
    return ProposalView(p, proposal_status(p, now), payload_summary(p), gov.quorum(state, p), when)


def proposals(state: State, now: datetime) -> list[ProposalView]:
    return [_view(state, p, now) for p in sorted(state.proposals.values(), key=lambda p: p.id)]


def proposal(state: State, pid: str, now: datetime) -> ProposalView:
    p = state.proposals.get(pid)
    if p is None:
        raise NotFound(f"no proposal {pid!r}", code="not-found", kind="proposal", id=pid)
    return _view(state, p, now, approvals=True)


def member_keys(state: State, *, member: str | None = None) -> list[m.MemberKey]:
    """Registered member keys (every user sees them: they check approvals), by member and registration."""
    return [k for k in sorted(state.member_keys.values(), key=lambda k: (k.member, k.registered_at))
            if member is None or k.member == member]


def authorities(state: State) -> list[m.Authority]:
    """Every coordinating authority's term, the first first."""
    return sorted(state.tables["authorities"].values(), key=lambda a: a.since)


def took_effect_with(before: Sequence[str], state: State, pid: str) -> list[str]:
    """The proposals, open in `before`, other than `pid`, that are now effective: an enactment that changes who
    decides can settle others in the same transaction."""
    return sorted(i for i in before if i != pid and state.proposals[i].status is m.ProposalStatus.EFFECTIVE)


def open_proposals(state: State) -> list[str]:
    return [p.id for p in state.proposals.values() if p.status is m.ProposalStatus.OPEN]
