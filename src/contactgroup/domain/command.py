"""Commands: each `decide` function checks a request against the state and returns the events it produces.

They never change the state themselves; a typed error means nothing happens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from contactgroup.domain import codes, text
from contactgroup.domain import model as m
from contactgroup.domain.errors import Conflict, NotFound, Problem, ValidationFailed
from contactgroup.domain.event import MOVES, TABLE_WORKFLOW, Context, Event
from contactgroup.domain.state import State, as_data
from contactgroup.domain.workflow import check

# Matched with fullmatch only: `$` also matches before a trailing newline, so `match` took "deu-desk\n" for a
# second deu-desk. Digits are [0-9]: `\d` would take Arabic-Indic and other digits too.
ISO3 = re.compile(r"[A-Z]{3}")
ORG_CODE = re.compile(r"[A-Z][A-Z0-9-]{1,15}")
CURRENCY = re.compile(r"[A-Z]{3}")
NSN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{3}-[0-9]{4}")
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _fail(where: str, message: str) -> ValidationFailed:
    return ValidationFailed([Problem(where, message)])


def _get(table: dict[str, Any], kind: str, ident: str) -> Any:
    try:
        return table[ident]
    except KeyError:
        raise NotFound(f"no {kind} {ident!r}") from None


def _next_id(state: State, table: str, prefix: str) -> str:
    return f"{prefix}-{len(state.tables[table]) + 1:05d}"


def _positive(where: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(where, f"must be a positive whole number, got {value!r}")
    _at_most(where, value)


def _dated(where: str, value: date) -> None:
    if not m.FIRST_DAY <= value <= m.LAST_DAY:
        raise _fail(where, f"{value} is outside {m.FIRST_DAY}..{m.LAST_DAY}")


def _at_most(where: str, value: int) -> None:
    if value > m.MAX_UNITS:
        raise _fail(where, f"must be at most {m.MAX_UNITS:,} (10^12), got {value}")


def amount_problems(where: str, value: Decimal) -> list[Problem]:
    """A money amount must be finite, below `MAX_AMOUNT` and short enough to store exactly."""
    if not value.is_finite():
        return [Problem(where, f"must be a finite number, got {value}")]
    if abs(value) >= m.MAX_AMOUNT:
        return [Problem(where, f"must be below 10^18, got {value}")]
    if len(format(value, "f")) > m.MAX_AMOUNT_CHARS:
        return [Problem(where, f"has too many digits ({value}); at most {m.MAX_AMOUNT_CHARS} characters")]
    return []


def _amount(where: str, value: Decimal) -> None:
    problems = amount_problems(where, value)
    if problems:
        raise ValidationFailed(problems)


def _money_currency(code: str) -> bool:
    return bool(CURRENCY.fullmatch(code)) and codes.is_money_currency(code)


def _words(*, names: dict[str, str] | None = None, texts: dict[str, str] | None = None) -> list[Problem]:
    """The length and character rules of domain/text.py for an entity's names and free text, by field."""
    found = [p for field, value in (names or {}).items() for p in text.name_problems(field, value)]
    return found + [p for field, value in (texts or {}).items() for p in text.text_problems(field, value)]


def _checked_words(**fields: dict[str, str]) -> None:
    problems = _words(**fields)
    if problems:
        raise ValidationFailed(problems)


def _party_exists(state: State, code: str, where: str) -> None:
    if code not in state.members and code not in state.funds:
        raise NotFound(f"{where}: no member or fund {code!r}")


def _unused_ref(entities: Any, ref: str, member: str | None, kind: str) -> None:
    """A reference names one object of its member (of the recipient, for requirements): a second use is refused,
    since a spreadsheet re-imported would otherwise enter the same line twice."""
    if not ref:
        return
    for e in entities:
        if e.ref == ref and (member is None or e.member == member):
            owner = f" of {member}" if member else ""
            raise Conflict(f"ref {ref!r} is already used by {kind} {e.id}{owner}: a ref names one {kind}",
                           code="duplicate-ref", ref=ref, id=e.id)


# --- the coordination itself -------------------------------------------------------------------------------------


def founding_problems(*, recipient: str, authority: str, origin: str, admin: str | None = None) -> list[Problem]:
    """Everything wrong with how a coordination is to be founded, checked before anything is created."""
    problems = _words(names={"authority": authority, "origin": origin})
    if not (ISO3.fullmatch(recipient) and codes.is_country(recipient)):
        problems.append(Problem("recipient", f"must be an ISO 3166 alpha-3 country code, got {recipient!r}"))
    if not authority.strip():
        problems.append(Problem("authority", "must not be empty"))
    if not origin.strip():
        problems.append(Problem("origin", "the log origin must not be empty"))
    if admin is not None and not CODE.fullmatch(admin):
        problems.append(Problem("admin", f"{admin!r} is not a user name: use letters, digits, '.', '_' or '-'"))
    return problems


def found(state: State, ctx: Context, *, recipient: str, authority: str, origin: str) -> list[Event]:
    if state.recipient:
        raise Conflict(f"this coordination is already founded (recipient {state.recipient})")
    problems = founding_problems(recipient=recipient, authority=authority, origin=origin)
    if problems:
        raise ValidationFailed(problems)
    return [ctx.event("CoordinationFounded", {"recipient": recipient, "authority": authority,
                                              "origin": origin, "at": ctx.at.isoformat()})]


def admit_member(state: State, ctx: Context, member: m.Member) -> list[Event]:
    problems = _words(names={"name": member.name})
    if member.kind is m.MemberKind.NATION:
        if not (ISO3.fullmatch(member.code) and codes.is_country(member.code)):
            problems.append(Problem("code", f"{member.code!r} is not an ISO 3166 alpha-3 country code"))
    elif not ORG_CODE.fullmatch(member.code):
        problems.append(Problem("code", f"{member.code!r} is not a valid organisation code (capitals, digits, '-')"))
    if not member.name.strip():
        problems.append(Problem("name", "must not be empty"))
    if not (CURRENCY.fullmatch(member.currency) and codes.is_currency(member.currency)):
        problems.append(Problem("currency", f"{member.currency!r} is not an ISO 4217 currency code"))
    if problems:
        raise ValidationFailed(problems)
    if member.code in state.members:
        raise Conflict(f"member {member.code} already exists")
    if member.code == state.recipient:
        raise Conflict(f"{member.code} is the recipient of this coordination; the recipient is not a donor member")
    return [ctx.event("MemberAdmitted", as_data(member))]


def record_gdp(state: State, ctx: Context, gdp: m.Gdp) -> list[Event]:
    _get(state.members, "member", gdp.member)
    _amount("amount", gdp.amount)
    _checked_words(names={"source": gdp.source})
    if gdp.amount <= 0:
        raise _fail("amount", f"GDP must be positive, got {gdp.amount}")
    if not _money_currency(gdp.currency):
        raise _fail("currency", f"{gdp.currency!r} is not an ISO 4217 currency code")
    if not 1950 <= gdp.year <= 2100:
        raise _fail("year", f"{gdp.year} is not a plausible year")
    return [ctx.event("GdpRecorded", as_data(gdp))]


def name_key(name: str) -> str:
    """What tells user names apart: not case, nor '.', '_' against '-' (nsatu-admin and NSATU_Admin are one)."""
    return name.casefold().replace("_", "-").replace(".", "-")


def look_alike(state: State, name: str) -> str | None:
    """An existing user whose name differs from `name` only in what `name_key` ignores."""
    key = name_key(name)
    return next((u for u in sorted(state.users) if name_key(u) == key), None)


def register_user(state: State, ctx: Context, user: m.User) -> list[Event]:
    if not CODE.fullmatch(user.name):
        raise _fail("name", f"{user.name!r}: use letters, digits, '.', '_' or '-'")
    if user.name in state.users:
        raise Conflict(f"user {user.name} already exists")
    if (existing := look_alike(state, user.name)) is not None:
        raise Conflict(f"user {user.name} is too like the existing user {existing} (names that differ only in case "
                       "or in '.', '_' and '-' are one name): choose another")
    authority = state.authority
    is_authority = authority is not None and user.party == authority.name
    if not is_authority and user.party not in state.members and user.party != state.recipient:
        raise NotFound(f"party: {user.party!r} is neither a member, the recipient, nor the coordinating authority")
    if user.role is m.Role.COORDINATOR and not is_authority:
        raise _fail("role", f"only the coordinating authority's users can be coordinators, not {user.party}'s")
    if user.role is m.Role.RECIPIENT_LIAISON and user.party != state.recipient:
        raise _fail("role", f"recipient liaisons act for the recipient {state.recipient}, not {user.party}")
    if user.role in (m.Role.DESK_OFFICER, m.Role.COALITION_LEAD) and user.party not in state.members:
        raise _fail("role", f"{user.role.value.replace('_', ' ')}s act for a member; {user.party} is "
                            f"{'the recipient' if user.party == state.recipient else 'the coordinating authority'}")
    return [ctx.event("UserRegistered", as_data(user))]


def form_coalition(state: State, ctx: Context, coalition: m.Coalition) -> list[Event]:
    if not CODE.fullmatch(coalition.area):
        raise _fail("area", f"{coalition.area!r} is not a valid code")
    _checked_words(names={"name": coalition.name})
    if coalition.area in state.coalitions:
        raise Conflict(f"capability coalition {coalition.area} already exists")
    for lead in coalition.leads:
        _get(state.members, "member", lead)
    if not coalition.leads:
        raise _fail("leads", "a capability coalition needs at least one lead member")
    return [ctx.event("CoalitionFormed", as_data(coalition))]


def catalogue_item(state: State, ctx: Context, item: m.Item) -> list[Event]:
    problems = _words(names={"name": item.name, "unit": item.unit})
    if not CODE.fullmatch(item.code):
        problems.append(Problem("code", f"{item.code!r} is not a valid code"))
    if item.nsn is not None and not NSN.fullmatch(item.nsn):
        problems.append(Problem("nsn", f"{item.nsn!r} is not a NATO Stock Number (NNNN-NN-NNN-NNNN)"))
    if item.unit_value_eur is not None:
        problems.extend(amount_problems("unit_value_eur", item.unit_value_eur))
        if item.unit_value_eur < 0:
            problems.append(Problem("unit_value_eur", f"must not be negative, got {item.unit_value_eur}"))
    if problems:
        raise ValidationFailed(problems)
    if item.code in state.items:
        raise Conflict(f"item {item.code} already exists")
    return [ctx.event("ItemCatalogued", as_data(item))]


def define_item_class(state: State, ctx: Context, item_class: m.ItemClass) -> list[Event]:
    if not CODE.fullmatch(item_class.code):
        raise _fail("code", f"{item_class.code!r} is not a valid code")
    _checked_words(names={"name": item_class.name})
    if item_class.code in state.item_classes:
        raise Conflict(f"item class {item_class.code} already exists")
    for item in item_class.items:
        _get(state.items, "item", item)
    if not item_class.items:
        raise _fail("items", "an item class must list at least one item")
    if item_class.area not in state.coalitions:
        raise NotFound(f"area: no capability area {item_class.area!r}", code="not-found", kind="capability area",
                       id=item_class.area)
    return [ctx.event("ItemClassDefined", as_data(item_class))]


# --- requirements ------------------------------------------------------------------------------------------------


def draft_requirement(
    state: State,
    ctx: Context,
    *,
    item_class: str,
    quantity: int,
    priority: int,
    needed_by: date,
    destination: str,
    area: str | None = None,
    note: str = "",
    ref: str = "",
) -> list[Event]:
    _checked_words(names={"destination": destination, "ref": ref}, texts={"note": note})
    _unused_ref(state.requirements.values(), ref, None, "requirement")
    cls = _get(state.item_classes, "item class", item_class)
    _positive("quantity", quantity)
    _positive("priority", priority)
    _dated("needed_by", needed_by)
    if not destination.strip():
        raise _fail("destination", "must not be empty: name the delivery point")
    area = area or cls.area
    if area not in state.coalitions:
        raise NotFound(f"area: no capability area {area!r}")
    req = m.Requirement(
        id=_next_id(state, "requirements", "R"),
        item_class=item_class,
        quantity=quantity,
        priority=priority,
        needed_by=needed_by,
        destination=destination.strip(),
        area=area,
        status=m.RequirementStatus.DRAFT,
        note=note,
        ref=ref,
    )
    return [ctx.event("RequirementDrafted", as_data(req))]


def reprioritise(state: State, ctx: Context, req_id: str, priority: int) -> list[Event]:
    req = _get(state.requirements, "requirement", req_id)
    _positive("priority", priority)
    if req.status in (m.RequirementStatus.CLOSED, m.RequirementStatus.CANCELLED):
        raise Conflict(f"requirement {req_id} is {req.status.value}; its priority can no longer change")
    return [ctx.event("RequirementReprioritised", {"id": req_id, "priority": priority})]


# --- offers ------------------------------------------------------------------------------------------------------


def draft_offer(state: State, ctx: Context, offer: m.Offer) -> list[Event]:
    """`offer.id` is ignored: the next free id is assigned."""
    _checked_words(names={"ref": offer.ref}, texts={"end_use": offer.end_use})
    _unused_ref(state.offers.values(), offer.ref, offer.member, "offer")
    _party_exists(state, offer.member, "member")
    _get(state.items, "item", offer.item)
    _positive("quantity", offer.quantity)
    _dated("available_from", offer.available_from)
    problems = []
    if not (ISO3.fullmatch(offer.depot) and codes.is_country(offer.depot)):
        problems.append(Problem("depot", f"{offer.depot!r} is not an ISO 3166 alpha-3 country code"))
    if offer.value is not None:
        problems.extend(amount_problems("value", offer.value))
        if offer.value < 0:
            problems.append(Problem("value", f"must not be negative, got {offer.value}"))
        if offer.currency is None:
            problems.append(Problem("currency", f"a declared value needs an ISO 4217 currency, got {offer.currency!r}"))
        if offer.basis is None:
            problems.append(Problem("basis", "a declared value needs its valuation basis (market, replacement, book)"))
    else:
        if offer.currency is not None:
            problems.append(Problem("currency", "a currency needs a declared value (--value); without one the "
                                                "catalogue value in EUR is used"))
        if offer.basis is not None:
            problems.append(Problem("basis", "a valuation basis needs a declared value (--value)"))
    if offer.currency is not None and not _money_currency(offer.currency):
        problems.append(Problem("currency", f"{offer.currency!r} is not an ISO 4217 currency code"))
    if offer.consent_from is not None and offer.consent_from not in state.members:
        problems.append(Problem("consent_from", f"no member {offer.consent_from!r}"))
    if problems:
        raise ValidationFailed(problems)
    new = m.Offer(**{**{f: getattr(offer, f) for f in m.Offer.__slots__}, "id": _next_id(state, "offers", "O"),
                     "status": m.OfferStatus.DRAFT, "committed_on": None})
    return [ctx.event("OfferDrafted", as_data(new))]


def move(state: State, ctx: Context, event_type: str, ident: str, **changes: Any) -> list[Event]:
    """A plain lifecycle move (submit, validate, commit, grant, ...): checked against its workflow table."""
    if isinstance(changes.get("reason"), str):
        _checked_words(texts={"reason": changes["reason"]})
    table, to = MOVES[event_type]
    kind, rules = TABLE_WORKFLOW[table]
    current = _get(state.tables[table], kind, ident)
    check(rules, kind, ident, current.status, to)
    return [ctx.event(event_type, {"id": ident, **changes})]


def withdraw_offer(state: State, ctx: Context, offer_id: str, reason: str = "") -> list[Event]:
    _checked_words(texts={"reason": reason})
    offer = _get(state.offers, "offer", offer_id)
    check(TABLE_WORKFLOW["offers"][1], "offer", offer_id, offer.status, m.OfferStatus.WITHDRAWN)
    confirmed = [a.id for a in state.allocations_of_offer(offer_id) if a.status is m.AllocationStatus.CONFIRMED]
    if confirmed:
        raise Conflict(f"offer {offer_id} has confirmed allocations ({', '.join(confirmed)}); they are pinned")
    pending = [a.id for a in state.allocations_of_offer(offer_id) if a.status is not m.AllocationStatus.DECLINED]
    events = [ctx.event("AllocationDeclined", {"id": a, "reason": f"offer {offer_id} withdrawn"}) for a in pending]
    return [*events, ctx.event("OfferWithdrawn", {"id": offer_id, "reason": reason})]


# --- funds -------------------------------------------------------------------------------------------------------


def create_fund(state: State, ctx: Context, fund: m.Fund) -> list[Event]:
    if not ORG_CODE.fullmatch(fund.code):
        raise _fail("code", f"{fund.code!r} is not a valid fund code (capitals, digits, '-')")
    _checked_words(names={"name": fund.name})
    if fund.code in state.funds or fund.code in state.members:
        raise Conflict(f"{fund.code} is already a fund or a member")
    _get(state.members, "member", fund.manager)
    if fund.area not in state.coalitions:
        raise NotFound(f"area: no capability area {fund.area!r}")
    return [ctx.event("FundCreated", as_data(fund))]


def pledge_contribution(
    state: State, ctx: Context, *, fund: str, member: str, amount: Decimal, currency: str, pledged_on: date
) -> list[Event]:
    _get(state.funds, "fund", fund)
    _get(state.members, "member", member)
    _amount("amount", amount)
    _dated("pledged_on", pledged_on)
    if amount <= 0:
        raise _fail("amount", f"must be positive, got {amount}")
    if not _money_currency(currency):
        raise _fail("currency", f"{currency!r} is not an ISO 4217 currency code")
    c = m.Contribution(_next_id(state, "contributions", "C"), fund, member, amount, currency, pledged_on)
    return [ctx.event("ContributionPledged", as_data(c))]


# --- allocations and consents ------------------------------------------------------------------------------------

ALLOCATABLE_OFFER = (m.OfferStatus.OFFERED, m.OfferStatus.COMMITTED, m.OfferStatus.ALLOCATED,
                     m.OfferStatus.IN_DELIVERY)
OPEN_REQUIREMENT = (m.RequirementStatus.OPEN, m.RequirementStatus.PARTIALLY_MET)


def propose_allocation(state: State, ctx: Context, *, offer: str, requirement: str, quantity: int) -> list[Event]:
    o = _get(state.offers, "offer", offer)
    r = _get(state.requirements, "requirement", requirement)
    _positive("quantity", quantity)
    if o.status not in ALLOCATABLE_OFFER:
        raise Conflict(f"offer {offer} is {o.status.value}; only offered or committed offers can be allocated")
    if r.status not in OPEN_REQUIREMENT:
        raise Conflict(f"requirement {requirement} is {r.status.value}; only open requirements take allocations")
    if o.item not in state.item_classes[r.item_class].items:
        raise Conflict(f"offer {offer} ({o.item}) does not satisfy requirement {requirement} ({r.item_class})")
    free = o.quantity - state.allocated_of_offer(offer)
    if quantity > free:
        raise Conflict(f"offer {offer} has {free} units left to allocate, not {quantity}")
    missing = r.quantity - state.confirmed_of_requirement(requirement) - state.pending_of_requirement(requirement)
    if quantity > missing:
        raise Conflict(f"requirement {requirement} still needs {missing} units, not {quantity}")
    a = m.Allocation(_next_id(state, "allocations", "A"), offer, requirement, quantity,
                     m.AllocationStatus.PROPOSED, ctx.today)
    return [ctx.event("AllocationProposed", as_data(a))]


def consent_pending(state: State, offer: m.Offer) -> bool:
    """True if the offer needs a re-export consent that has not been granted."""
    if offer.consent_from is None:
        return False
    return not any(c.offer == offer.id and c.status is m.ConsentStatus.GRANTED for c in state.consents.values())


def confirm_allocation(state: State, ctx: Context, alloc_id: str) -> list[Event]:
    """Confirm an allocation. An offer still only `offered` is committed by it: the donor accepted the allocation,
    which is a formal pledge, so its commitment is recorded as its own event (dated today) first."""
    a = _get(state.allocations, "allocation", alloc_id)
    offer = state.offers[a.offer]
    if consent_pending(state, offer):
        raise Conflict(
            f"allocation {alloc_id} cannot be confirmed: offer {offer.id} needs re-export consent "
            f"from {offer.consent_from}, not granted yet"
        )
    confirmed = move(state, ctx, "AllocationConfirmed", alloc_id)
    if offer.status is m.OfferStatus.OFFERED:
        return [*move(state, ctx, "OfferCommitted", offer.id, committed_on=ctx.today.isoformat()), *confirmed]
    return confirmed


def cancel_requirement(state: State, ctx: Context, req_id: str, **extra: Any) -> list[Event]:
    """Cancel a requirement, unless something was already received for it: those units would vanish from
    coverage while their allocations still count in burden sharing. Such a requirement is closed instead."""
    _get(state.requirements, "requirement", req_id)
    received = sum(d.received for a in state.allocations_of_requirement(req_id)
                   for d in state.where("deliveries", "allocation", a.id) if d.status is m.DeliveryStatus.RECEIVED)
    if received:
        raise Conflict(f"requirement {req_id} cannot be cancelled: {received:,} unit(s) were already received for "
                       f"it; close it instead (a coordinator's step)", code="received-requirement", id=req_id,
                       received=received)
    return move(state, ctx, "RequirementCancelled", req_id, **extra)


def request_consent(state: State, ctx: Context, offer_id: str) -> list[Event]:
    offer = _get(state.offers, "offer", offer_id)
    if offer.consent_from is None:
        raise Conflict(f"offer {offer_id} needs no re-export consent")
    open_ = [c.id for c in state.consents.values()
             if c.offer == offer_id and c.status is not m.ConsentStatus.REFUSED]
    if open_:
        raise Conflict(f"offer {offer_id} already has consent {open_[0]}")
    c = m.Consent(_next_id(state, "consents", "K"), offer_id, offer.consent_from, m.ConsentStatus.REQUESTED,
                  ctx.today)
    return [ctx.event("ConsentRequested", as_data(c))]


# --- deliveries --------------------------------------------------------------------------------------------------


def dispatch(state: State, ctx: Context, *, allocation: str, quantity: int, dispatched_on: date) -> list[Event]:
    a = _get(state.allocations, "allocation", allocation)
    _positive("quantity", quantity)
    if a.status is not m.AllocationStatus.CONFIRMED:
        raise Conflict(f"allocation {allocation} is {a.status.value}; only confirmed allocations ship")
    if dispatched_on < a.proposed_on:
        raise _fail("dispatched_on", f"{dispatched_on} is before allocation {allocation} was proposed "
                                     f"({a.proposed_on})")
    if dispatched_on > ctx.today:
        raise _fail("dispatched_on", f"{dispatched_on} is in the future (today is {ctx.today}): record a "
                                     f"shipment once it left")
    shipped = sum(d.quantity for d in state.where("deliveries", "allocation", allocation))
    if quantity > a.quantity - shipped:
        raise Conflict(f"allocation {allocation} has {a.quantity - shipped} units left to ship, not {quantity}")
    d = m.Delivery(_next_id(state, "deliveries", "D"), allocation, quantity, m.DeliveryStatus.DISPATCHED,
                   dispatched_on)
    return [ctx.event("ShipmentDispatched", as_data(d))]


def receive(
    state: State, ctx: Context, delivery: str, *, received_on: date, short: int = 0, damaged: int = 0,
    wrong_item: int = 0,
) -> list[Event]:
    d = _get(state.deliveries, "delivery", delivery)
    for name, value in (("short", short), ("damaged", damaged), ("wrong_item", wrong_item)):
        if value < 0:
            raise _fail(name, f"must not be negative, got {value}")
        _at_most(name, value)
    received = d.quantity - short - damaged - wrong_item
    if received < 0:
        raise _fail("short", f"discrepancies ({short + damaged + wrong_item}) exceed the {d.quantity} shipped")
    if received_on < d.dispatched_on:
        raise _fail("received_on", f"{received_on} is before the dispatch date {d.dispatched_on}")
    if received_on > ctx.today:
        raise _fail("received_on", f"{received_on} is in the future (today is {ctx.today})")
    return move(state, ctx, "ShipmentReceived", delivery, received_on=received_on.isoformat(), received=received,
                short=short, damaged=damaged, wrong_item=wrong_item)


# --- reference data ----------------------------------------------------------------------------------------------


def track_aid(state: State, ctx: Context, aid: Sequence[m.TrackedAid]) -> list[Event]:
    for a in aid:
        _get(state.members, "member", a.member)
    return [ctx.event("AidTracked", as_data(a)) for a in aid]


def record_rate(state: State, ctx: Context, rate: m.Rate) -> list[Event]:
    if not _money_currency(rate.currency):
        raise _fail("currency", f"{rate.currency!r} is not an ISO 4217 currency code")
    _amount("per_eur", rate.per_eur)
    if rate.per_eur <= 0:
        raise _fail("per_eur", f"must be positive, got {rate.per_eur}")
    return [ctx.event("RateRecorded", as_data(rate))]
