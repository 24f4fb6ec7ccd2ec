"""The coordination's use cases: each authorizes the caller, lets the domain decide, and records the events.

Every function takes the unit of work it runs in; the caller (CLI, API, demo) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from contactgroup.domain import command
from contactgroup.domain.errors import (
    ContactGroupError,
    DatabaseBusy,
    DatabaseUnavailable,
    Forbidden,
    IntegrityError,
    NotFound,
    ValidationFailed,
)
from contactgroup.domain.event import Context, Event
from contactgroup.domain.model import (
    FIRST_DAY,
    Allocation,
    Coalition,
    Consent,
    Contribution,
    Delivery,
    Fund,
    Gdp,
    IatiOrganisation,
    Item,
    ItemClass,
    Member,
    Offer,
    OfferStatus,
    Rate,
    Requirement,
    Role,
    TrackedAid,
    User,
    ValuationBasis,
    Visibility,
)
from contactgroup.domain.state import State
from contactgroup.domain.workflow import (
    ALLOCATION_ACTIONS,
    CONSENT_ACTIONS,
    OFFER_ACTIONS,
    RECIPIENT_ACCEPTANCE,
    REQUIREMENT_ACTIONS,
    SHIPMENT_ACTIONS,
    Action,
    AllocationAction,
    ConsentAction,
    OfferAction,
    RequirementAction,
    ShipmentAction,
    parse_action,
)
from contactgroup.services import access
from contactgroup.services.clock import Clock
from contactgroup.storage.database import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking (a registered user's name) and the clock that stamps what they do."""

    user: str
    clock: Clock


def _context(uow: UnitOfWork, who: User, clock: Clock) -> Context:
    authority = uow.state.authority
    return Context(who.name, who.party, authority.name if authority else "", clock.now())


def authorized(
    uow: UnitOfWork, caller: Caller, action: str, *, owner: str | None = None, area: str | None = None,
    named: str | None = None,
) -> Context:
    """The context to decide in, once the policy allows `caller` to take `action`.

    `named` is what a refusal calls the action when the permission covers several (`offer:commit` is checked as
    `offer:enter`), so that the user reads the action they tried."""
    who = access.user(uow.state, caller.user)
    access.authorize(uow.state, who, action, owner=owner, area=area, named=named)
    return _context(uow, who, caller.clock)


def record_events(uow: UnitOfWork, events: Sequence[Event]) -> Sequence[Event]:
    """Apply and queue the events in this unit of work; returned so callers can read the ids they carry."""
    uow.record(events)
    return events


# --- founding and reference data ---------------------------------------------------------------------------------


def found(
    uow: UnitOfWork, clock: Clock, *, recipient: str, authority: str, origin: str, admin: str
) -> User:
    """Start a coordination: its recipient, its first coordinating authority, and that authority's first user."""
    ctx = Context(admin, authority, authority, clock.now())
    record_events(uow, command.found(uow.state, ctx, recipient=recipient, authority=authority, origin=origin))
    admin_user = User(admin, authority, Role.COORDINATOR)
    record_events(uow, command.register_user(uow.state, ctx, admin_user))
    return admin_user


def admit_member(uow: UnitOfWork, caller: Caller, member: Member) -> Member:
    ctx = authorized(uow, caller, "member:admit")
    access.check_new_member(uow.state, member.code, ctx.at)
    record_events(uow, command.admit_member(uow.state, ctx, member))
    return member


def record_gdp(uow: UnitOfWork, caller: Caller, gdp: Gdp) -> None:
    ctx = authorized(uow, caller, "member:gdp")
    record_events(uow, command.record_gdp(uow.state, ctx, gdp))


def record_iati_identifier(uow: UnitOfWork, caller: Caller, org: IatiOrganisation) -> None:
    ctx = authorized(uow, caller, "member:iati")
    record_events(uow, command.record_iati_identifier(uow.state, ctx, org))


def register_user(uow: UnitOfWork, caller: Caller, user: User) -> User:
    ctx = authorized(uow, caller, "user:register", owner=user.party)
    access.check_new_user(uow.state, access.user(uow.state, caller.user), user, ctx.at)
    record_events(uow, command.register_user(uow.state, ctx, user))
    return user


def _managed_user(uow: UnitOfWork, caller: Caller, name: str) -> tuple[Context, User]:
    """The context to change user `name` in: the caller may manage it as it may add such a user."""
    target = uow.state.users.get(name)
    if target is None:
        raise NotFound(f"no user {name!r}", code="not-found", kind="user", id=name)
    ctx = authorized(uow, caller, "user:manage", owner=target.party)
    access.check_user_change(uow.state, access.user(uow.state, caller.user), target)
    return ctx, target


def disable_user(uow: UnitOfWork, caller: Caller, name: str) -> User:
    """From its next command on, the user can do nothing (its events and approvals stay in the record)."""
    ctx, _ = _managed_user(uow, caller, name)
    record_events(uow, command.set_user_active(uow.state, ctx, name, False))
    return uow.state.users[name]


def enable_user(uow: UnitOfWork, caller: Caller, name: str) -> User:
    ctx, _ = _managed_user(uow, caller, name)
    record_events(uow, command.set_user_active(uow.state, ctx, name, True))
    return uow.state.users[name]


def change_role(uow: UnitOfWork, caller: Caller, name: str, role: Role) -> User:
    ctx, _ = _managed_user(uow, caller, name)
    record_events(uow, command.change_role(uow.state, ctx, name, role))
    return uow.state.users[name]


def form_coalition(uow: UnitOfWork, caller: Caller, coalition: Coalition) -> None:
    ctx = authorized(uow, caller, "coalition:form")
    record_events(uow, command.form_coalition(uow.state, ctx, coalition))


def catalogue_item(uow: UnitOfWork, caller: Caller, item: Item) -> None:
    ctx = authorized(uow, caller, "catalogue:edit")
    record_events(uow, command.catalogue_item(uow.state, ctx, item))


def define_item_class(uow: UnitOfWork, caller: Caller, item_class: ItemClass) -> None:
    ctx = authorized(uow, caller, "catalogue:edit")
    record_events(uow, command.define_item_class(uow.state, ctx, item_class))


def change_item_class(uow: UnitOfWork, caller: Caller, code: str, *, add: Sequence[str] = (),
                      remove: Sequence[str] = ()) -> ItemClass:
    ctx = authorized(uow, caller, "catalogue:edit")
    record_events(uow, command.change_item_class(uow.state, ctx, code, add=add, remove=remove))
    return uow.state.item_classes[code]


def record_rates(uow: UnitOfWork, caller: Caller, rates: Sequence[Rate]) -> None:
    ctx = authorized(uow, caller, "import:reference")
    for rate in rates:
        record_events(uow, command.record_rate(uow.state, ctx, rate))


def track_aid(uow: UnitOfWork, caller: Caller, aid: Sequence[TrackedAid]) -> None:
    ctx = authorized(uow, caller, "import:reference")
    record_events(uow, command.track_aid(uow.state, ctx, aid))


# --- requirements ------------------------------------------------------------------------------------------------

def draft_requirement(
    uow: UnitOfWork, caller: Caller, *, item_class: str, quantity: int, priority: int, needed_by: date,
    destination: str, area: str | None = None, note: str = "", on: date | None = None, ref: str = "",
) -> Requirement:
    """`on`: a historical entry, raised on that day (a needed-by date already past is refused without it)."""
    ctx = authorized(uow, caller, "requirement:draft")
    (event,) = record_events(uow, command.draft_requirement(
        uow.state, ctx, item_class=item_class, quantity=quantity, priority=priority, needed_by=needed_by,
        destination=destination, area=area, note=note, on=on, ref=ref))
    return uow.state.requirements[event.data["id"]]


def move_requirement(uow: UnitOfWork, caller: Caller, req_id: str, action: RequirementAction,
                     reason: str = "", *, on: date | None = None) -> Requirement:
    """Every user sees every requirement: a refusal may name the permission without revealing anything. `on`
    dates a move made earlier."""
    action = parse_action(RequirementAction, action)
    act = REQUIREMENT_ACTIONS[action]
    ctx = authorized(uow, caller, act.permission)
    record_events(uow, command.move_requirement(uow.state, ctx, act.event, req_id, on=on, reason=reason))
    return uow.state.requirements[req_id]


def reprioritise(uow: UnitOfWork, caller: Caller, req_id: str, priority: int) -> Requirement:
    ctx = authorized(uow, caller, "requirement:reprioritise")
    record_events(uow, command.reprioritise(uow.state, ctx, req_id, priority))
    return uow.state.requirements[req_id]


def amend_requirement(
    uow: UnitOfWork, caller: Caller, req_id: str, *, quantity: int | None = None, needed_by: date | None = None,
    destination: str | None = None, note: str | None = None, on: date | None = None,
) -> Requirement:
    """Change what a requirement asks for (None: unchanged); `on` dates a change made earlier. Every user sees
    every requirement, so a refusal names the permission without revealing anything."""
    ctx = authorized(uow, caller, "requirement:amend")
    record_events(uow, command.amend_requirement(uow.state, ctx, req_id, quantity=quantity, needed_by=needed_by,
                                                 destination=destination, note=note, on=on))
    return uow.state.requirements[req_id]


# --- offers and funds --------------------------------------------------------------------------------------------

def hidden(kind: str, ident: str, who: User) -> NotFound:
    """The one answer for an object that does not exist and for one `who` may not see: identical, so that a
    refusal reveals neither its owner nor its content."""
    return NotFound(f"no {kind} {ident!r} that {who.name} may see", code="not-found", kind=kind, id=ident,
                    user=who.name)


# The statuses an offer may be entered in, and the verbs that take a new draft there.
ENTRY_STEPS: Mapping[OfferStatus, tuple[OfferAction, ...]] = {
    OfferStatus.DRAFT: (),
    OfferStatus.OFFERED: (OfferAction.MAKE,),
    OfferStatus.COMMITTED: (OfferAction.MAKE, OfferAction.COMMIT),
}


def enter_offer(
    uow: UnitOfWork, caller: Caller, offer: Offer, *, status: OfferStatus = OfferStatus.OFFERED,
    committed_on: date | None = None,
) -> Offer:
    """Enter an offer as a draft, or straight on to `offered` or `committed` (the usual case for a desk).

    `committed_on` dates a commitment made earlier (a historical pledge is valued at its own date)."""
    if status not in ENTRY_STEPS:
        raise ValidationFailed(f"{status!r} must be draft, offered or committed", where="status",
                               code="unknown-status", status=status)
    ctx = authorized(uow, caller, "offer:enter", owner=offer.member)
    if offer.consent_from is not None and offer.consent_from not in uow.state.members:
        # An unknown reference is not found (exit 3), as an unknown --member is, not a bad value (exit 2).
        raise NotFound(f"consent_from: no member {offer.consent_from!r}", code="not-found", kind="member",
                       id=offer.consent_from)
    if committed_on is not None and status != OfferStatus.COMMITTED:
        raise ValidationFailed("a commitment date needs status committed", where="committed_on")
    (event,) = record_events(uow, command.draft_offer(uow.state, ctx, offer))
    offer_id = event.data["id"]
    for step in ENTRY_STEPS[status]:
        move_offer(uow, caller, offer_id, step, on=committed_on or ctx.today)
    return uow.state.offers[offer_id]


def move_offer(
    uow: UnitOfWork, caller: Caller, offer_id: str, action: OfferAction, *, on: date | None = None, reason: str = ""
) -> Offer:
    action = parse_action(OfferAction, action)
    offer = visible_offer(uow, caller, offer_id)
    act = OFFER_ACTIONS[action]
    ctx = authorized(uow, caller, act.permission, owner=offer.member, named=act.named)
    if action is OfferAction.WITHDRAW:
        record_events(uow, command.withdraw_offer(uow.state, ctx, offer_id, reason))
    else:
        commit = action is OfferAction.COMMIT
        if commit and on is not None and on > ctx.today:
            raise ValidationFailed(f"{on} is in the future: a commitment is recorded once made", where="committed_on")
        if commit and on is not None and on < FIRST_DAY:
            raise ValidationFailed(f"{on} is before {FIRST_DAY}", where="committed_on")
        extra = {"committed_on": (on or ctx.today).isoformat()} if commit else {}
        record_events(uow, command.move(uow.state, ctx, act.event, offer_id, **extra))
    return uow.state.offers[offer_id]


def amend_offer(
    uow: UnitOfWork, caller: Caller, offer_id: str, *, quantity: int | None = None,
    available_from: date | None = None, depot: str | None = None, value: Decimal | None = None,
    currency: str | None = None, basis: ValuationBasis | None = None, visibility: Visibility | None = None,
    end_use: str | None = None, on: date | None = None,
) -> Offer:
    """Amend an offer's terms; an argument left None stays as it is. Changing nothing records nothing (a
    re-imported row that is unchanged), so callers may pass every term they read. An offer the caller may not see
    is refused as one that does not exist; one delivered or withdrawn, or a quantity below what is allocated or
    shipped, is a `Conflict` naming the offer. `on` dates a change made earlier."""
    offer = visible_offer(uow, caller, offer_id)
    ctx = authorized(uow, caller, "offer:enter", owner=offer.member, named="offer:amend")
    given = {"quantity": quantity, "available_from": available_from, "depot": depot, "value": value,
             "currency": currency, "basis": basis, "visibility": visibility, "end_use": end_use}
    changes = {k: v for k, v in given.items() if v is not None}
    record_events(uow, command.amend_offer(uow.state, ctx, offer_id, changes, on=on))
    return uow.state.offers[offer_id]


def create_fund(uow: UnitOfWork, caller: Caller, fund: Fund) -> None:
    ctx = authorized(uow, caller, "fund:create")
    record_events(uow, command.create_fund(uow.state, ctx, fund))


def contribute(
    uow: UnitOfWork, caller: Caller, *, fund: str, member: str, amount: Decimal, currency: str, pledged_on: date
) -> Contribution:
    ctx = authorized(uow, caller, "fund:contribute", owner=member)
    (event,) = record_events(uow, command.pledge_contribution(
        uow.state, ctx, fund=fund, member=member, amount=amount, currency=currency, pledged_on=pledged_on))
    return uow.state.contributions[event.data["id"]]


# --- allocations, consents, deliveries ---------------------------------------------------------------------------


def _visible(uow: UnitOfWork, caller: Caller, found: T | None, kind: str, ident: str,
             sees: Callable[[State, User, T], bool]) -> T:
    """`found` if the caller may see it; otherwise the same NotFound as for one that does not exist, so that a
    refusal reveals nothing of a hidden object (not its owner, not its content)."""
    who = access.user(uow.state, caller.user)
    if found is None or not sees(uow.state, who, found):
        raise hidden(kind, ident, who)
    return found


def visible_offer(uow: UnitOfWork, caller: Caller, offer_id: str) -> Offer:
    return _visible(uow, caller, uow.state.offers.get(offer_id), "offer", offer_id, access.can_see_offer)


def visible_allocation(uow: UnitOfWork, caller: Caller, alloc_id: str) -> Allocation:
    return _visible(uow, caller, uow.state.allocations.get(alloc_id), "allocation", alloc_id,
                    access.can_see_allocation)


def visible_consent(uow: UnitOfWork, caller: Caller, consent_id: str) -> Consent:
    return _visible(uow, caller, uow.state.consents.get(consent_id), "consent", consent_id, access.can_see_consent)


def visible_delivery(uow: UnitOfWork, caller: Caller, delivery_id: str) -> Delivery:
    return _visible(uow, caller, uow.state.deliveries.get(delivery_id), "delivery", delivery_id,
                    access.can_see_delivery)


def propose_allocation(uow: UnitOfWork, caller: Caller, *, offer: str, requirement: str, quantity: int,
                       on: date | None = None) -> Allocation:
    # Whether the caller may propose in the requirement's area depends on nothing hidden: asked first, it says why.
    req = uow.state.requirements.get(requirement)
    ctx = authorized(uow, caller, "allocation:propose", area=req.area if req else None)
    visible_offer(uow, caller, offer)
    (event,) = record_events(uow, command.propose_allocation(
        uow.state, ctx, offer=offer, requirement=requirement, quantity=quantity, on=on))
    return uow.state.allocations[event.data["id"]]


def move_allocation(uow: UnitOfWork, caller: Caller, alloc_id: str, action: AllocationAction,
                    reason: str = "", *, units: int | None = None) -> Allocation:
    """accept (by the donor's desk or the recipient's liaison, whichever is next), confirm, decline, reopen a
    declined pair (the party that declined, or the coordinator), or release owed `units` (the coordinator)."""
    action = parse_action(AllocationAction, action)
    alloc = visible_allocation(uow, caller, alloc_id)
    owner = uow.state.offers[alloc.offer].member
    act = allocation_action(access.user(uow.state, caller.user), action)
    if (units is not None) != (action is AllocationAction.RELEASE_OWED):
        raise ValidationFailed("units are given to release-owed, and only to it", where="units",
                               code="units-for-release", action=action.value)
    if action is AllocationAction.CONFIRM:
        ctx = authorized(uow, caller, act.permission)
        record_events(uow, command.confirm_allocation(uow.state, ctx, alloc_id))
    elif action is AllocationAction.RELEASE_OWED:
        ctx = authorized(uow, caller, act.permission, named=act.named)
        record_events(uow, command.release_owed(uow.state, ctx, alloc_id, units or 0, reason))
    elif action is AllocationAction.REOPEN:
        who = access.user(uow.state, caller.user)
        # The party that declined acts for itself: its scope is its own decline, checked by the domain.
        ctx = authorized(uow, caller, act.permission, named=act.named)
        record_events(uow, command.reopen_allocation(uow.state, ctx, alloc_id, reason=reason,
                                                     coordinator=who.role is Role.COORDINATOR))
    else:
        ctx = authorized(uow, caller, act.permission, owner=owner, named=act.named)
        extra = {"reason": reason} if action is AllocationAction.DECLINE else {}
        record_events(uow, command.move(uow.state, ctx, act.event, alloc_id, **extra))
    return uow.state.allocations[alloc_id]


def allocation_action(who: User, action: AllocationAction) -> Action:
    """What `action` means when `who` says it: `accept` by the recipient's liaison is the recipient's acceptance."""
    if action is AllocationAction.ACCEPT and who.role is Role.RECIPIENT_LIAISON:
        return RECIPIENT_ACCEPTANCE
    return ALLOCATION_ACTIONS[action]


def request_consent(uow: UnitOfWork, caller: Caller, offer_id: str, *, on: date | None = None) -> Consent:
    """`on` dates a request made earlier."""
    ctx = authorized(uow, caller, "consent:request", owner=visible_offer(uow, caller, offer_id).member)
    (event,) = record_events(uow, command.request_consent(uow.state, ctx, offer_id, on))
    return uow.state.consents[event.data["id"]]


def decide_consent(uow: UnitOfWork, caller: Caller, consent_id: str, action: ConsentAction,
                   reason: str = "", *, on: date | None = None) -> Consent:
    """`on` dates a decision made earlier."""
    action = parse_action(ConsentAction, action, what="decision")
    consent = visible_consent(uow, caller, consent_id)
    act = CONSENT_ACTIONS[action]
    ctx = authorized(uow, caller, act.permission, owner=consent.origin, named=act.named)
    record_events(uow, command.decide_consent(uow.state, ctx, act.event, consent_id, on=on, reason=reason))
    return uow.state.consents[consent_id]


def dispatch(uow: UnitOfWork, caller: Caller, *, allocation: str, quantity: int, dispatched_on: date) -> Delivery:
    owner = uow.state.offers[visible_allocation(uow, caller, allocation).offer].member
    ctx = authorized(uow, caller, "delivery:ship", owner=owner)
    (event,) = record_events(uow, command.dispatch(
        uow.state, ctx, allocation=allocation, quantity=quantity, dispatched_on=dispatched_on))
    return uow.state.deliveries[event.data["id"]]


def track_shipment(uow: UnitOfWork, caller: Caller, delivery_id: str, action: ShipmentAction) -> Delivery:
    """hub (reached the hub) or handover (handed over to the recipient)."""
    action = parse_action(ShipmentAction, action, what="step")
    d = visible_delivery(uow, caller, delivery_id)
    owner = uow.state.offers[uow.state.allocations[d.allocation].offer].member
    act = SHIPMENT_ACTIONS[action]
    ctx = authorized(uow, caller, act.permission, owner=owner, named=act.named)
    record_events(uow, command.move(uow.state, ctx, act.event, delivery_id))
    return uow.state.deliveries[delivery_id]


def receive(
    uow: UnitOfWork, caller: Caller, delivery_id: str, *, received_on: date, short: int = 0, damaged: int = 0,
    wrong_item: int = 0,
) -> Delivery:
    visible_delivery(uow, caller, delivery_id)
    ctx = authorized(uow, caller, "delivery:receive")
    record_events(uow, command.receive(uow.state, ctx, delivery_id, received_on=received_on, short=short,
                                 damaged=damaged, wrong_item=wrong_item))
    return uow.state.deliveries[delivery_id]


# --- many objects at once ----------------------------------------------------------------------------------------


class Refused(ContactGroupError):
    """Some of many moves were refused, so none was made: every refused id with its own error, in the order given.

    Its status and exit code are those of the refusals' kind (of the first refusal when kinds differ)."""

    def __init__(self, kind: str, total: int, refusals: Sequence[tuple[str, ContactGroupError]]) -> None:
        self.kind, self.total, self.refusals = kind, total, tuple(refusals)
        super().__init__(self.said(str), code="refused", kind=kind, ids=tuple(i for i, _ in self.refusals))
        first = self.refusals[0][1]
        self.status, self.exit_code = first.status, first.exit_code

    def said(self, word: Callable[[ContactGroupError], str]) -> str:
        """The refusals, each worded by `word` (each front door words its own hints)."""
        head = f"{len(self.refusals)} of {self.total} {self.kind} moves refused, so none was made"
        return "\n".join([f"{head}:", *(f"  {ident}: {word(e)}" for ident, e in self.refusals)])


# Errors of the database, not of one object: they end the whole batch at once (a busy database is retried).
_NOT_A_REFUSAL = (DatabaseBusy, DatabaseUnavailable, IntegrityError)


def move_each(kind: str, ids: Sequence[str], move: Callable[[str], T]) -> list[T]:
    """Apply `move` to each id in one unit of work: all or nothing. A single id's refusal is raised as it is; of
    several, every refusal is collected and raised together as `Refused` (the unit of work then writes nothing).
    An id given twice is moved once."""
    unique = list(dict.fromkeys(ids))
    done: list[T] = []
    refused: list[tuple[str, ContactGroupError]] = []
    for ident in unique:
        try:
            done.append(move(ident))
        except _NOT_A_REFUSAL:
            raise
        except ContactGroupError as exc:
            if len(unique) == 1:
                raise
            refused.append((ident, exc))
    if refused:
        raise Refused(kind, len(unique), refused)
    return done


# Settings that only governance may change once set: the log key moves only by a quorum-approved handover.
GOVERNED_SETTINGS = frozenset({"log_verifier_key"})


def record_setting(uow: UnitOfWork, caller: Caller, name: str, value: str, *,
                   action: str = "coordination:found") -> None:
    """Record a setting; `action` is the permission it needs (a transit route: `transit:set`)."""
    ctx = authorized(uow, caller, action)
    if (name in GOVERNED_SETTINGS or name.startswith("quorum:")) and uow.state.setting(name):
        raise Forbidden(f"{name} is set and changes only by a governance proposal that a quorum approves")
    record_events(uow, [ctx.event("SettingChanged", {"name": name, "value": value})])
