"""Reads for every front door: visibility-filtered lists and show views, as typed records.

The CLI, the API and the pages only format what these return. A list never holds an object its reader may not
see; a show of a hidden object is the same `NotFound` as for one that does not exist (see `coordination.hidden`).
Lists open to every user (members, users, catalogue, coalitions, requirements, funds) take no user.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from contactgroup.domain import governance as gov
from contactgroup.domain import workflow as wf
from contactgroup.domain.errors import ContactGroupError, NotFound
from contactgroup.domain.event import Event
from contactgroup.domain.model import (
    Allocation,
    AllocationStatus,
    Authority,
    Coalition,
    Consent,
    ConsentStatus,
    Delivery,
    DeliveryStatus,
    Fund,
    Item,
    ItemClass,
    Member,
    MemberKey,
    Offer,
    OfferStatus,
    Proposal,
    ProposalStatus,
    Requirement,
    RequirementStatus,
    User,
    Visibility,
)
from contactgroup.domain.state import State
from contactgroup.services import access, movement
from contactgroup.services.coordination import allocation_action, hidden
from contactgroup.storage.database import Database, decode, load_state, read_events

T = TypeVar("T")
CENT = Decimal("0.01")


def reader(state: State, name: str | None) -> User | None:
    """Who reads a list open to everyone: nobody needs to say, but a name given must be a registered user."""
    return access.user(state, name) if name else None


def _in_key_order(table: dict[str, T]) -> list[T]:
    return [x for _, x in sorted(table.items())]


# --- open to every user ------------------------------------------------------------------------------------------


def members(state: State) -> list[Member]:
    return _in_key_order(state.members)


def users(state: State) -> list[User]:
    return _in_key_order(state.users)


def items(state: State) -> list[Item]:
    return _in_key_order(state.items)


def item_classes(state: State) -> list[ItemClass]:
    return _in_key_order(state.item_classes)


def coalitions(state: State) -> list[Coalition]:
    return _in_key_order(state.coalitions)


def requirements(state: State, *, status: RequirementStatus | None = None,
                 area: str | None = None, item: str | None = None) -> list[Requirement]:
    """By priority, then id; `item`: the requirement's class is that code or the item satisfies it."""
    return [r for r in sorted(state.requirements.values(), key=lambda r: (r.priority, r.id))
            if (status is None or r.status is status) and (area is None or r.area == area)
            and (item is None or _asks_for(state, r, item))]


def _asks_for(state: State, req: Requirement, item: str) -> bool:
    cls = state.item_classes.get(req.item_class)
    return req.item_class == item or (cls is not None and item in cls.items)


def requirement(state: State, req_id: str) -> Requirement:
    req = state.requirements.get(req_id)
    if req is None:
        raise NotFound(f"no requirement {req_id!r}", code="not-found", kind="requirement", id=req_id)
    return req


# --- offers, allocations, consents, deliveries: what the reader may see ------------------------------------------


def offers(state: State, who: User, *, member: str | None = None,
           status: OfferStatus | None = None, item: str | None = None, area: str | None = None) -> list[Offer]:
    """The offers `who` may see, in the order they were entered (`area`: its item satisfies a class of the area)."""
    sees = access.offer_sight(state, who)
    return [o for o in state.offers.values()
            if sees(o) and (member is None or o.member == member)
            and (status is None or o.status is status) and (item is None or o.item == item)
            and (area is None or area in access.offer_areas(state, o))]


def offer(state: State, who: User, offer_id: str) -> Offer:
    o = state.offers.get(offer_id)
    if o is None or not access.can_see_offer(state, who, o):
        raise hidden("offer", offer_id, who)
    return o


@dataclass(frozen=True, slots=True)
class AllocationView:
    """An allocation with its offer's member (None for a reader who may not see the offer: the recipient's liaison
    accepts what it is offered without learning whose it is) and item and its shipments."""

    allocation: Allocation
    member: str | None
    item: str
    shipments: tuple[str, ...]
    shipped: int
    received: int
    owed: int = 0  # confirmed units neither received in good order nor in transit
    owed_after_receipt: int = 0  # of which arrived short, damaged or wrong


@dataclass(frozen=True, slots=True)
class Listed:
    """What a list row of an allocation, consent or shipment shows of its offer: its member (None when the reader
    may not see the offer, so that a row never names a member the reader may not see), item and quantity, and the
    area of its requirement (of its offer's item for a consent)."""

    member: str | None
    item: str
    area: str | None


def _listed_offer(state: State, who: User, offer_id: str, area: str | None) -> Listed:
    o = state.offers[offer_id]
    return Listed(o.member if access.can_see_offer(state, who, o) else None, o.item, area)


def listed_allocation(state: State, who: User, a: Allocation) -> Listed:
    req = state.requirements.get(a.requirement)
    return _listed_offer(state, who, a.offer, req.area if req else None)


def listed_consent(state: State, who: User, c: Consent) -> Listed:
    areas = sorted(access.offer_areas(state, state.offers[c.offer]))
    return _listed_offer(state, who, c.offer, ", ".join(areas) or None)


def listed_delivery(state: State, who: User, d: Delivery) -> Listed:
    return listed_allocation(state, who, state.allocations[d.allocation])


def _matches(row: Listed, member: str | None, item: str | None, area: str | None) -> bool:
    # A member filter never matches a row whose member is hidden: the answer would tell whose offer it is.
    return ((member is None or row.member == member) and (item is None or row.item == item)
            and (area is None or area in (row.area or "").split(", ")))


def allocations(state: State, who: User, *, status: AllocationStatus | None = None, member: str | None = None,
                item: str | None = None, area: str | None = None) -> list[Allocation]:
    """Allocations of offers `who` may see, and (recipient liaison) those proposed to the recipient."""
    return [a for a in state.allocations.values()
            if access.can_see_allocation(state, who, a) and (status is None or a.status is status)
            and _matches(listed_allocation(state, who, a), member, item, area)]


def allocation(state: State, who: User, alloc_id: str) -> AllocationView:
    a = state.allocations.get(alloc_id)
    if a is None or not access.can_see_allocation(state, who, a):
        raise hidden("allocation", alloc_id, who)
    o = state.offers[a.offer]
    shipped = state.where("deliveries", "allocation", alloc_id)
    books = state.shipped(alloc_id)
    confirmed = a.status is AllocationStatus.CONFIRMED
    member = o.member if access.can_see_offer(state, who, o) else None
    return AllocationView(a, member, o.item, tuple(d.id for d in shipped), sum(d.quantity for d in shipped),
                          sum(d.received for d in shipped), books.owed if confirmed else 0,
                          books.short_owed if confirmed else 0)


def consents(state: State, who: User, *, status: ConsentStatus | None = None, member: str | None = None,
             item: str | None = None, area: str | None = None) -> list[Consent]:
    """Consents of offers `who` may see, or asked of the member it acts for; by id. `member` is the offer's."""
    return [c for c in sorted(state.consents.values(), key=lambda c: c.id) if access.can_see_consent(state, who, c)
            and (status is None or c.status is status) and _matches(listed_consent(state, who, c), member, item, area)]


@dataclass(frozen=True, slots=True)
class ConsentView:
    """What a member is asked to consent to: the item, how many, for what end use, to where. The offer and its
    member are named only to a reader who may see the offer (None otherwise): the origin member asked for its
    consent learns what would be re-exported, not who offers it."""

    consent: Consent
    item: str
    item_name: str
    quantity: int
    end_use: str
    destination: str
    offer: str | None
    member: str | None


def consent_views(state: State, who: User) -> list[ConsentView]:
    """The consents `who` may see (of offers it may see, or asked of its member), by id, with what they are for."""
    return [_consent_view(state, who, c) for c in consents(state, who)]


def _consent_view(state: State, who: User, c: Consent) -> ConsentView:
    o = state.offers[c.offer]
    item = state.items.get(o.item)
    # Where the units would go: the destinations of the requirements the offer is allocated to, else the recipient.
    places = sorted({state.requirements[a.requirement].destination for a in state.allocations_of_offer(o.id)
                     if a.status is not AllocationStatus.DECLINED})
    seen = access.can_see_offer(state, who, o)
    return ConsentView(c, o.item, item.name if item else "", o.quantity, o.end_use,
                       ", ".join(places) or state.recipient, o.id if seen else None, o.member if seen else None)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A shipment with its allocation's offer, member, item and requirement; the offer and its member only for a
    reader who may see the offer (the recipient's liaison receives goods without learning whose they are)."""

    delivery: Delivery
    offer: str | None
    member: str | None
    item: str
    requirement: str


def deliveries(state: State, who: User, *, status: DeliveryStatus | None = None, member: str | None = None,
               item: str | None = None, area: str | None = None) -> list[Delivery]:
    return [d for d in state.deliveries.values() if access.can_see_delivery(state, who, d)
            and (status is None or d.status is status) and _matches(listed_delivery(state, who, d), member, item, area)]


def delivery(state: State, who: User, delivery_id: str) -> DeliveryView:
    d = state.deliveries.get(delivery_id)
    if d is None or not access.can_see_delivery(state, who, d):
        raise hidden("delivery", delivery_id, who)
    a = state.allocations[d.allocation]
    o = state.offers[a.offer]
    seen = access.can_see_offer(state, who, o)
    return DeliveryView(d, o.id if seen else None, o.member if seen else None, o.item, a.requirement)


# --- funds -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FundRow:
    fund: Fund
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
    status: OfferStatus
    value_eur: Decimal | None


@dataclass(frozen=True, slots=True)
class FundView:
    """A fund, who pledged what, and the offers it made that the reader may see; the others only as a total."""

    fund: Fund
    pledges: tuple[Pledge, ...]
    bought: tuple[Purchase, ...]
    not_shown: int
    not_shown_eur: Decimal
    rate_notes: tuple[str, ...] = ()  # rates standing in beyond the bundled ECB series (`Valuer.notes`)


def funds(state: State) -> list[FundRow]:
    rows = []
    for f in sorted(state.funds.values(), key=lambda f: f.code):
        contributions = [c for c in state.contributions.values() if c.fund == f.code]
        rows.append(FundRow(f, len({c.member for c in contributions}), len(contributions)))
    return rows


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def fund(state: State, code: str, who: User | None) -> FundView:
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
    return FundView(f, pledges, tuple(bought), not_shown, not_shown_eur, tuple(valuer.notes()))


def _sees(state: State, who: User | None, o: Offer) -> bool:
    if who is None:
        return o.visibility is Visibility.PUBLIC
    return access.can_see_offer(state, who, o)


# --- governance --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal with its status as of `now` (`expired`: open but past its date), what it does, its quorum."""

    proposal: Proposal
    status: str
    what: str
    quorum: gov.Quorum
    approved_at: tuple[tuple[str, datetime], ...] = ()

    @property
    def rule(self) -> str:
        """The rule applied now, with its fallback when the proposal's own rule cannot be met."""
        q = self.quorum
        return f"{q.rule} ({q.fallback})" if q.fallback else q.rule


def proposal_status(p: Proposal, now: datetime) -> str:
    """open, effective, withdrawn — or expired: open but past its date, so it can no longer take effect."""
    if p.status is ProposalStatus.OPEN and now > p.expires_at:
        return "expired"
    return p.status.value


def _view(state: State, p: Proposal, now: datetime, *, approvals: bool = False) -> ProposalView:
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


def member_keys(state: State, *, member: str | None = None) -> list[MemberKey]:
    """Registered member keys (every user sees them: they check approvals), by member and registration."""
    return [k for k in sorted(state.member_keys.values(), key=lambda k: (k.member, k.registered_at))
            if member is None or k.member == member]


def authorities(state: State) -> list[Authority]:
    """Every coordinating authority's term, the first first."""
    return sorted(state.tables["authorities"].values(), key=lambda a: a.since)


def took_effect_with(before: Sequence[str], state: State, pid: str) -> list[str]:
    """The proposals, open in `before`, other than `pid`, that are now effective: an enactment that changes who
    decides can settle others in the same transaction."""
    return sorted(i for i in before if i != pid and state.proposals[i].status is ProposalStatus.EFFECTIVE)


def open_proposals(state: State) -> list[str]:
    return [p.id for p in state.proposals.values() if p.status is ProposalStatus.OPEN]


# --- what a user may do next, and what awaits it -----------------------------------------------------------------


def _may(state: State, who: User, permission: str, owner: str | None = None) -> bool:
    try:
        access.authorize(state, who, permission, owner=owner)
    except ContactGroupError:
        return False
    return True


def _allowed(state: State, who: User, table: Mapping[Any, frozenset[Any]], current: enum.Enum,
             actions: Mapping[Any, wf.Action], owner: str | None) -> tuple[str, ...]:
    return tuple(str(verb) for verb, act in actions.items()
                 if act.applies(table, current) and _may(state, who, act.permission, owner))


def _offer_owner(state: State, offer_id: str) -> str:
    return state.offers[offer_id].member


def _requirement_verbs(state: State, who: User, ident: str) -> tuple[str, ...]:
    r = state.requirements[ident]
    return _allowed(state, who, wf.REQUIREMENT, r.status, wf.REQUIREMENT_ACTIONS, None)


def _offer_verbs(state: State, who: User, ident: str) -> tuple[str, ...]:
    o = state.offers[ident]
    return _allowed(state, who, wf.OFFER, o.status, wf.OFFER_ACTIONS, o.member)


def _allocation_verbs(state: State, who: User, ident: str) -> tuple[str, ...]:
    a = state.allocations[ident]
    actions = {verb: allocation_action(who, verb) for verb in wf.AllocationAction}
    return _allowed(state, who, wf.ALLOCATION, a.status, actions, _offer_owner(state, a.offer))


def _consent_verbs(state: State, who: User, ident: str) -> tuple[str, ...]:
    c = state.consents[ident]
    return _allowed(state, who, wf.CONSENT, c.status, wf.CONSENT_ACTIONS, c.origin)


def _delivery_verbs(state: State, who: User, ident: str) -> tuple[str, ...]:
    """The tracking steps `who` may take, and `receive` if `who` may now confirm its receipt."""
    d = state.deliveries[ident]
    owner = _offer_owner(state, state.allocations[d.allocation].offer)
    steps = _allowed(state, who, wf.DELIVERY, d.status, wf.SHIPMENT_ACTIONS, owner)
    return (*steps, RECEIVE) if _receivable(state, who, d) else steps


RECEIVE = "receive"  # a receipt is a command of its own (it carries the discrepancies), not a tracking step


def _receivable(state: State, who: User, d: Delivery) -> bool:
    return (DeliveryStatus.RECEIVED in wf.DELIVERY[d.status] and access.can_see_delivery(state, who, d)
            and _may(state, who, "delivery:receive"))


# kind -> (its table in the state, who may see one, the verbs of its lifecycle `who` may say to it now)
_MOVABLE: Mapping[str, tuple[str, Callable[[State, User, str], bool], Callable[[State, User, str],
                                                                                   tuple[str, ...]]]] = {
    "requirement": ("requirements", lambda s, w, i: True, _requirement_verbs),
    "offer": ("offers", lambda s, w, i: access.can_see_offer(s, w, s.offers[i]), _offer_verbs),
    "allocation": ("allocations", lambda s, w, i: access.can_see_allocation(s, w, s.allocations[i]),
                   _allocation_verbs),
    "consent": ("consents", lambda s, w, i: access.can_see_consent(s, w, s.consents[i]), _consent_verbs),
    "delivery": ("deliveries", lambda s, w, i: access.can_see_delivery(s, w, s.deliveries[i]), _delivery_verbs),
}


def verbs(state: State, who: User, kind: str, ident: str) -> tuple[str, ...]:
    """The verbs of its lifecycle `who` may say now to the `kind` object `ident` it may see (a page shows a button
    for each); a delivery's include `receive` when `who` may confirm its receipt."""
    return _MOVABLE[kind][2](state, who, ident)


def may(state: State, who: User, permission: str, owner: str | None = None) -> bool:
    """Whether the policy lets `who` take `permission` (for `owner`'s object) now: whether a page offers it."""
    return _may(state, who, permission, owner)


@dataclass(frozen=True, slots=True)
class ToDispatch:
    """A confirmed allocation with units owed that `who` may ship: never shipped, or replacements for units that
    arrived short, damaged or wrong."""

    allocation: Allocation
    member: str
    item: str
    requirement: str
    owed: int


def to_dispatch(state: State, who: User) -> list[ToDispatch]:
    """The confirmed allocations `who` may see and ship that still owe units, in id order."""
    out = []
    for ident in sorted(state.allocations):
        a = state.allocations[ident]
        if a.status is not AllocationStatus.CONFIRMED or not access.can_see_allocation(state, who, a):
            continue
        owner = _offer_owner(state, a.offer)
        owed = state.shipped(ident).owed
        if owed > 0 and _may(state, who, "delivery:ship", owner):
            out.append(ToDispatch(a, owner, state.offers[a.offer].item, a.requirement, owed))
    return out


def _member_of(state: State, who: User, kind: str, ident: str) -> str | None:
    """The member an object answers to, as `who` may see it (None: hidden, or a requirement)."""
    if kind == "offer":
        return state.offers[ident].member
    if kind == "allocation":
        return listed_allocation(state, who, state.allocations[ident]).member
    if kind == "consent":
        return listed_consent(state, who, state.consents[ident]).member
    if kind == "delivery":
        return listed_delivery(state, who, state.deliveries[ident]).member
    return None


def movable(state: State, who: User, kind: str, verb: str, *, member: str | None = None) -> list[str]:
    """The ids of the `kind` objects `who` may see and may now move with `verb` (its lifecycle table allows the
    move from their status and the policy lets `who` take it), of `member` if given; in id order."""
    table, sees, verbs = _MOVABLE[kind]
    return [ident for ident in sorted(state.tables[table]) if sees(state, who, ident)
            and verb in verbs(state, who, ident)
            and (member is None or _member_of(state, who, kind, ident) == member)]


class InboxKind(enum.StrEnum):
    REQUIREMENT = "requirement"
    ALLOCATION = "allocation"
    CONSENT = "consent"
    DELIVERY = "delivery"
    PROPOSAL = "proposal"


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """An object awaiting its reader: what it is, what the reader may do to it now (`verbs`), since when (None:
    the record keeps no date for it), and its member, item and quantity where the reader may see them."""

    kind: InboxKind
    id: str
    verbs: tuple[str, ...]
    since: date | None
    member: str | None
    item: str | None
    quantity: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class Inbox:
    """The entries (oldest first, filtered, at most `limit`) and how many of each kind await in all."""

    entries: tuple[InboxEntry, ...]
    counts: tuple[tuple[InboxKind, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


# What makes an object await someone: a verb that moves it on (a decline or a cancel is possible, not awaited).
AWAITING: Mapping[InboxKind, frozenset[str]] = {
    InboxKind.REQUIREMENT: frozenset({wf.RequirementAction.VALIDATE}),
    InboxKind.ALLOCATION: frozenset({wf.AllocationAction.ACCEPT, wf.AllocationAction.CONFIRM}),
    InboxKind.CONSENT: frozenset(wf.ConsentAction),
}


def _awaits(kind: InboxKind, verbs: tuple[str, ...]) -> bool:
    return bool(AWAITING[kind] & set(verbs))


def _inbox_requirements(state: State, who: User) -> list[InboxEntry]:
    out = []
    for r in state.requirements.values():
        if _awaits(InboxKind.REQUIREMENT, verbs := _requirement_verbs(state, who, r.id)):
            out.append(InboxEntry(InboxKind.REQUIREMENT, r.id, verbs, None, None, r.item_class, r.quantity,
                                  f"priority {r.priority}, needed by {r.needed_by}, to {r.destination}"))
    return out


def _late(late: Mapping[str, movement.Late | str], ident: str) -> str:
    """A shipment's flag when its ETA misses its requirement's needed-by date, with why; or, on time, when it waits
    at a border for a permission asked again after a refusal."""
    found = late.get(ident)
    if found is None:
        return ""
    if isinstance(found, str):
        return f"; WAITS: {found}"
    return (f"; LATE: expected {found.eta}, {found.days:,} day{'' if found.days == 1 else 's'} after its needed-by "
            f"date {found.shipment.needed_by}" + (f" ({found.reason})" if found.reason else ""))


def _inbox_allocations(state: State, who: User, late: Mapping[str, movement.Late | str]) -> list[InboxEntry]:
    out = []
    for a in state.allocations.values():
        if not access.can_see_allocation(state, who, a):
            continue
        seen = listed_allocation(state, who, a)
        if _awaits(InboxKind.ALLOCATION, verbs := _allocation_verbs(state, who, a.id)):
            out.append(InboxEntry(InboxKind.ALLOCATION, a.id, verbs, a.proposed_on, seen.member, seen.item,
                                  a.quantity, f"{a.status.value}, for {a.requirement}"))
        elif (left := _left_to_ship(state, who, a)) > 0:
            out.append(InboxEntry(InboxKind.ALLOCATION, a.id, ("dispatch",), a.proposed_on, seen.member,
                                  seen.item, left, f"{left:,} units left to ship, for {a.requirement}"
                                                   f"{_late(late, a.id)}"))
    return out


def _left_to_ship(state: State, who: User, a: Allocation) -> int:
    """Units of a confirmed allocation not yet shipped, when shipping them is `who`'s own member's job (the
    coordinator may ship too, but a shipment awaits the donor)."""
    owner = _offer_owner(state, a.offer)
    if (a.status is not AllocationStatus.CONFIRMED or access.owner_party(state, owner) != who.party
            or not _may(state, who, "delivery:ship", owner)):
        return 0
    return a.quantity - int(sum(d.quantity for d in state.where("deliveries", "allocation", a.id)))


def _inbox_consents(state: State, who: User) -> list[InboxEntry]:
    out = []
    for c in state.consents.values():
        if not access.can_see_consent(state, who, c):
            continue
        if _awaits(InboxKind.CONSENT, verbs := _consent_verbs(state, who, c.id)):
            seen = listed_consent(state, who, c)
            o = state.offers[c.offer]
            named = f" for offer {o.id}" if seen.member is not None else ""
            out.append(InboxEntry(InboxKind.CONSENT, c.id, verbs, c.requested_on, seen.member, o.item, o.quantity,
                                  f"re-export consent asked of {c.origin}{named}"))
    return out


def _inbox_deliveries(state: State, who: User, late: Mapping[str, movement.Late | str]) -> list[InboxEntry]:
    out = []
    for d in state.deliveries.values():
        if _receivable(state, who, d):
            seen = listed_delivery(state, who, d)
            out.append(InboxEntry(InboxKind.DELIVERY, d.id, (RECEIVE,), d.dispatched_on, seen.member, seen.item,
                                  d.quantity, f"{d.status.value}, for {state.allocations[d.allocation].requirement}"
                                              f"{_late(late, d.id)}"))
    return out


def _inbox_proposals(state: State, who: User, now: datetime) -> list[InboxEntry]:
    if not _may(state, who, "governance:approve"):
        return []
    out = []
    for p in state.proposals.values():
        if not gov.is_open(p, now):
            continue
        q = gov.quorum(state, p)
        if who.party in q.eligible and who.party not in q.approved:
            out.append(InboxEntry(InboxKind.PROPOSAL, p.id, ("approve",), p.made_at.date(), None, None, None,
                                  f"{p.kind.value}: {len(q.approved)} of {q.needed} approvals, open until "
                                  f"{p.expires_at:%Y-%m-%d %H:%M} UTC"))
    return out


def inbox(state: State, who: User, now: datetime, *, kind: InboxKind | None = None, member: str | None = None,
          limit: int | None = None) -> Inbox:
    """What awaits `who`: allocations to accept or confirm, consents to decide, allocations to ship, shipments to
    receive, requirements to validate, open proposals its member has not approved. Oldest first (what the record
    keeps no date for, a requirement, first of all); `member` never matches an entry whose member is hidden. A
    shipment to make or to receive whose ETA misses its requirement's needed-by date says so (`movement.late`)."""
    today = now.date()
    network = movement.known_network(state, today)
    late: dict[str, movement.Late | str] = {**movement.waiting_for_permission(state, network, today)}
    late.update({found.shipment.id: found for found in movement.late_shipments(state, network, today)})
    found = [*_inbox_requirements(state, who), *_inbox_allocations(state, who, late), *_inbox_consents(state, who),
             *_inbox_deliveries(state, who, late), *_inbox_proposals(state, who, now)]
    chosen = sorted((e for e in found if (kind is None or e.kind is kind) and (member is None or e.member == member)),
                    key=lambda e: (e.since or date.min, list(InboxKind).index(e.kind), e.id))
    counts = tuple((k, n) for k in InboxKind if (n := sum(1 for e in chosen if e.kind is k)))
    return Inbox(tuple(chosen[:limit] if limit is not None else chosen), counts)


# --- history: every event of one object, from the log --------------------------------------------------------------


class HistoryKind(enum.StrEnum):
    REQUIREMENT = "requirement"
    OFFER = "offer"
    ALLOCATION = "allocation"


# The day an event says something happened, when it is not the event's own time (a historical entry, a dispatch).
EFFECTIVE_FIELDS = ("on", "entered_on", "committed_on", "proposed_on", "dispatched_on", "received_on", "decided_on")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One event of an object: its log index (ask for a receipt of exactly it), who, when, and what changed."""

    index: int
    type: str
    actor: str
    party: str
    at: datetime
    effective: date | None
    detail: str


def _detail(data: Mapping[str, Any], ident: str) -> str:
    """What an event changed, in one line: `quantity 100 -> 80` for an amendment, otherwise the fields it carries
    that say something (not the object's own id, its status — the type says it — nor zeros and blanks)."""
    if "old" in data and "new" in data:
        old, new = data["old"], data["new"]
        return "; ".join(f"{k} {_plain(old.get(k))} -> {_plain(new[k])}" for k in new)
    return "; ".join(f"{k} {_plain(v)}" for k, v in data.items()
                     if v != ident and k != "status" and v not in (None, "", [], 0))


def _plain(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _belongs(state: State, kind: HistoryKind, ident: str, event: Event) -> bool:
    data = event.data
    if kind is HistoryKind.ALLOCATION:
        if event.type.startswith("Allocation") or event.type == "ShipmentDispatched":
            return data.get("id") == ident or data.get("allocation") == ident
        if event.type.startswith("Shipment"):
            d = state.deliveries.get(str(data.get("id")))
            return d is not None and d.allocation == ident
        return False
    prefix = "Requirement" if kind is HistoryKind.REQUIREMENT else "Offer"
    return event.type.startswith(prefix) and data.get("id") == ident


def history(state: State, who: User, kind: HistoryKind, ident: str,
            log: Iterable[tuple[int, Event]]) -> list[HistoryEntry]:
    """The events of requirement, offer or allocation `ident`, in log order, if `who` may see it: a history of a
    hidden object is the NotFound of one that does not exist. An allocation's history includes its shipments."""
    if kind is HistoryKind.REQUIREMENT:
        requirement(state, ident)
    elif kind is HistoryKind.OFFER:
        offer(state, who, ident)
    else:
        allocation(state, who, ident)
    rows = []
    for index, event in log:
        if _belongs(state, kind, ident, event):
            day = next((event.data[f] for f in EFFECTIVE_FIELDS if event.data.get(f)), None)
            rows.append(HistoryEntry(index, event.type, event.actor, event.party, event.at,
                                     date.fromisoformat(day) if isinstance(day, str) else None,
                                     _detail(event.data, ident)))
    return rows


def history_of(db: Database, user: str, kind: HistoryKind, ident: str) -> list[HistoryEntry]:
    """`history` read from one snapshot of the database: its state and its log."""
    with db.reader() as conn:
        state, _ = load_state(conn)
        who = access.user(state, user)
        # Only the events that name the object (or, for an allocation, one of its shipments) are decoded: a
        # history reads the whole log, and decoding every event of it is what would take the time.
        named = [ident, *(d.id for d in state.where("deliveries", "allocation", ident))] \
            if kind is HistoryKind.ALLOCATION else [ident]
        wanted = [n.encode() for n in named]
        return history(state, who, kind, ident, ((seq, decode(body)) for seq, body, _ in read_events(conn)
                                                  if any(w in body for w in wanted)))
