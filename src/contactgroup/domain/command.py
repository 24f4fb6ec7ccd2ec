"""Commands: each `decide` function checks a request against the state and returns the events it produces.

They never change the state themselves; a typed error means nothing happens.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from contactgroup.domain import codes, network, place, text
from contactgroup.domain.errors import Conflict, NotFound, Problem, ValidationFailed
from contactgroup.domain.event import MOVES, TABLE_WORKFLOW, Context, Event
from contactgroup.domain.model import (
    FIRST_DAY,
    LAST_DAY,
    MAX_AMOUNT,
    MAX_AMOUNT_CHARS,
    MAX_UNITS,
    Allocation,
    AllocationStatus,
    Coalition,
    Consent,
    ConsentStatus,
    Contribution,
    Delivery,
    DeliveryStatus,
    Fund,
    Gdp,
    IatiOrganisation,
    Item,
    ItemClass,
    Member,
    MemberKind,
    Offer,
    OfferStatus,
    Rate,
    Requirement,
    RequirementStatus,
    Role,
    TrackedAid,
    TrackedDonor,
    User,
)
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
    if not FIRST_DAY <= value <= LAST_DAY:
        raise _fail(where, f"{value} is outside {FIRST_DAY}..{LAST_DAY}")


def _at_most(where: str, value: int) -> None:
    if value > MAX_UNITS:
        raise _fail(where, f"must be at most {MAX_UNITS:,} (10^12), got {value}")


def amount_problems(where: str, value: Decimal) -> list[Problem]:
    """A money amount must be finite, below `MAX_AMOUNT` and short enough to store exactly."""
    if not value.is_finite():
        return [Problem(where, f"must be a finite number, got {value}")]
    if abs(value) >= MAX_AMOUNT:
        return [Problem(where, f"must be below 10^18, got {value}")]
    if len(format(value, "f")) > MAX_AMOUNT_CHARS:
        return [Problem(where, f"has too many digits ({value}); at most {MAX_AMOUNT_CHARS} characters")]
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


def admit_member(state: State, ctx: Context, member: Member) -> list[Event]:
    problems = _words(names={"name": member.name})
    if member.kind is MemberKind.NATION:
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


def _donor(state: State, code: str) -> None:
    """A member, or a donor a tracker names that is not one: both have GDP and tracked aid."""
    if code not in state.members and code not in state.tracked_donors:
        raise NotFound(f"no member or tracked donor {code!r}", code="not-found", kind="member", id=code)


def record_gdp(state: State, ctx: Context, gdp: Gdp) -> list[Event]:
    _donor(state, gdp.member)
    _amount("amount", gdp.amount)
    _checked_words(names={"source": gdp.source})
    if gdp.amount <= 0:
        raise _fail("amount", f"GDP must be positive, got {gdp.amount}")
    if not _money_currency(gdp.currency):
        raise _fail("currency", f"{gdp.currency!r} is not an ISO 4217 currency code")
    if not 1950 <= gdp.year <= 2100:
        raise _fail("year", f"{gdp.year} is not a plausible year")
    return [ctx.event("GdpRecorded", as_data(gdp))]


# An IATI organisation identifier: a registration agency's prefix (country code or XM/XI), a hyphen, the agency's
# identifier; letters, digits and hyphens only (IATI forbids / : ' " and spaces in identifiers).
IATI_ORG_ID = re.compile(r"[A-Z]{2}-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
MAX_IATI_ORG_ID = 100


def record_iati_identifier(state: State, ctx: Context, org: IatiOrganisation) -> list[Event]:
    """A member publishes its activities under this identifier (a later one replaces it)."""
    if org.member not in state.members:
        raise NotFound(f"no member {org.member!r}", code="not-found", kind="member", id=org.member)
    if len(org.identifier) > MAX_IATI_ORG_ID or not IATI_ORG_ID.fullmatch(org.identifier):
        raise _fail("identifier", f"{org.identifier[:MAX_IATI_ORG_ID]!r} is not an IATI organisation identifier "
                                  f"(agency prefix, hyphen, identifier: XM-DAC-5-7; letters, digits and hyphens, "
                                  f"at most {MAX_IATI_ORG_ID} characters)")
    return [ctx.event("IatiIdentifierRecorded", as_data(org))]


def name_key(name: str) -> str:
    """What tells user names apart: not case, nor '.', '_' against '-' (nsatu-admin and NSATU_Admin are one)."""
    return name.casefold().replace("_", "-").replace(".", "-")


def look_alike(state: State, name: str) -> str | None:
    """An existing user whose name differs from `name` only in what `name_key` ignores."""
    key = name_key(name)
    return next((u for u in sorted(state.users) if name_key(u) == key), None)


def register_user(state: State, ctx: Context, user: User) -> list[Event]:
    if not CODE.fullmatch(user.name):
        raise _fail("name", f"{user.name!r}: use letters, digits, '.', '_' or '-'")
    if user.name in state.users:
        raise Conflict(f"user {user.name} already exists")
    if (existing := look_alike(state, user.name)) is not None:
        raise Conflict(f"user {user.name} is too like the existing user {existing} (names that differ only in case "
                       "or in '.', '_' and '-' are one name): choose another")
    _check_role(state, user)
    return [ctx.event("UserRegistered", as_data(user))]


def _check_role(state: State, user: User) -> None:
    """The role `user` may have for its party: coordinators act for the authority, liaisons for the recipient."""
    authority = state.authority
    is_authority = authority is not None and user.party == authority.name
    if not is_authority and user.party not in state.members and user.party != state.recipient:
        raise NotFound(f"party: {user.party!r} is neither a member, the recipient, nor the coordinating authority")
    if user.role is Role.COORDINATOR and not is_authority:
        raise _fail("role", f"only the coordinating authority's users can be coordinators, not {user.party}'s")
    if user.role is Role.RECIPIENT_LIAISON and user.party != state.recipient:
        raise _fail("role", f"recipient liaisons act for the recipient {state.recipient}, not {user.party}")
    if user.role in (Role.DESK_OFFICER, Role.COALITION_LEAD) and user.party not in state.members:
        raise _fail("role", f"{user.role.value.replace('_', ' ')}s act for a member; {user.party} is "
                            f"{'the recipient' if user.party == state.recipient else 'the coordinating authority'}")


def change_role(state: State, ctx: Context, name: str, role: Role) -> list[Event]:
    user = _get(state.users, "user", name)
    if user.role is role:
        raise Conflict(f"user {name} is already {role.value.replace('_', ' ')} for {user.party}")
    _check_role(state, dataclasses.replace(user, role=role))
    return [ctx.event("UserRoleChanged", {"name": name, "old": {"role": user.role.value},
                                          "new": {"role": role.value}})]


def set_user_active(state: State, ctx: Context, name: str, active: bool) -> list[Event]:
    """Disable or enable a user; a user cannot disable itself (the last coordinator would lock everyone out)."""
    user = _get(state.users, "user", name)
    if user.active is active:
        raise Conflict(f"user {name} is already {'enabled' if active else 'disabled'}")
    if not active and name == ctx.actor:
        raise Conflict(f"user {name} may not disable itself: ask another user who may manage {user.party}'s users")
    return [ctx.event("UserEnabled" if active else "UserDisabled", {"name": name})]


def form_coalition(state: State, ctx: Context, coalition: Coalition) -> list[Event]:
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


def catalogue_item(state: State, ctx: Context, item: Item) -> list[Event]:
    problems = _words(names={"name": item.name, "unit": item.unit})
    if not CODE.fullmatch(item.code):
        problems.append(Problem("code", f"{item.code!r} is not a valid code"))
    if item.nsn is not None and not NSN.fullmatch(item.nsn):
        problems.append(Problem("nsn", f"{item.nsn!r} is not a NATO Stock Number (NNNN-NN-NNN-NNNN)"))
    if item.unit_value_eur is not None:
        problems.extend(amount_problems("unit_value_eur", item.unit_value_eur))
        if item.unit_value_eur < 0:
            problems.append(Problem("unit_value_eur", f"must not be negative, got {item.unit_value_eur}"))
    if item.mass_kg is not None and not (item.mass_kg.is_finite() and 0 < item.mass_kg <= network.MAX_MASS_KG
                                         and network.decimals(item.mass_kg) <= network.MAX_MASS_DECIMALS):
        problems.append(Problem("mass_kg", f"must be a positive mass in kg up to {network.MAX_MASS_KG:,}, with at "
                                           f"most {network.MAX_MASS_DECIMALS} decimals, got {item.mass_kg}"))
    if item.hazard_class and not network.HAZARD_CLASS.fullmatch(item.hazard_class):
        problems.append(Problem("hazard_class", f"{item.hazard_class!r} is not a UN dangerous goods class or "
                                                "division (1, 1.1 to 1.6, 2.1 to 2.3, 3, 4.1 to 4.3, 5.1, 5.2, "
                                                "6.1, 6.2, 7, 8, 9)"))
    if problems:
        raise ValidationFailed(problems)
    if item.code in state.items:
        raise Conflict(f"item {item.code} already exists")
    return [ctx.event("ItemCatalogued", as_data(item))]


def define_item_class(state: State, ctx: Context, item_class: ItemClass) -> list[Event]:
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


def change_item_class(state: State, ctx: Context, code: str, *, add: Sequence[str] = (),
                      remove: Sequence[str] = ()) -> list[Event]:
    """Items join or leave a class. An item still held by a pending allocation to one of the class's requirements
    cannot leave it (decline the allocation first); confirmed allocations stay as they were agreed."""
    cls = _get(state.item_classes, "item class", code)
    for item in add:
        _get(state.items, "item", item)
    problems = [Problem("add", f"item {i} is already in class {code}") for i in add if i in cls.items]
    problems += [Problem("remove", f"item {i} is not in class {code}") for i in remove if i not in cls.items]
    problems += [Problem("add", f"item {i} is both added and removed") for i in add if i in remove]
    if problems:
        raise ValidationFailed(problems)
    items = tuple(i for i in (*cls.items, *dict.fromkeys(add)) if i not in remove)
    if not items:
        raise _fail("remove", f"an item class must list at least one item; {code} would have none")
    if not add and not remove:
        raise _fail("items", "name an item to add or to remove")
    for a in state.allocations.values():
        if a.status in (AllocationStatus.CONFIRMED, AllocationStatus.DECLINED):
            continue
        item = state.offers[a.offer].item
        if item in remove and state.requirements[a.requirement].item_class == code:
            raise Conflict(f"item {item} cannot leave class {code}: allocation {a.id} of it to requirement "
                           f"{a.requirement} is {a.status.value}; decline it first")
    return [ctx.event("ItemClassChanged", {"code": code, "old": {"items": list(cls.items)},
                                           "new": {"items": list(items)}})]


def _changes(current: Any, new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (old, new) plain values of the fields that `new` changes."""
    before = as_data(current)
    after = {k: v for k, v in as_data(dataclasses.replace(current, **new)).items() if k in new}
    changed = [k for k in after if after[k] != before[k]]
    return {k: before[k] for k in changed}, {k: after[k] for k in changed}


def _amended(ctx: Context, event: str, key: str, ident: str, current: Any, new: dict[str, Any],
             on: date | None = None) -> list[Event]:
    old, after = _changes(current, new)
    if not after:
        return []  # nothing changes: nothing is recorded (importing the same file twice changes nothing)
    data: dict[str, Any] = {key: ident, "old": old, "new": after}
    if on is not None:
        data["on"] = on.isoformat()
    return [ctx.event(event, data)]


def _effective(ctx: Context, on: date | None) -> date:
    """The day a command records as having happened: `on` for a historical entry (never in the future), else
    today."""
    if on is None:
        return ctx.today
    _dated("on", on)
    if on > ctx.today:
        raise ValidationFailed(f"{on} is in the future (today is {ctx.today}): a historical entry is dated by what "
                               "already happened", where="on", code="future-entry", on=on.isoformat())
    return on


def _not_before(ctx: Context, on: date | None, earliest: date | None, what: str) -> date:
    """The effective day of a command (`_effective`), which may not precede the day its object began."""
    day = _effective(ctx, on)
    if earliest is not None and day < earliest:
        raise ValidationFailed(f"{day} is before {what} ({earliest})", where="on", code="before-start",
                               on=day.isoformat(), earliest=earliest.isoformat())
    return day


def _not_past(needed_by: date, on: date | None, ctx: Context) -> None:
    day = _effective(ctx, on)
    if needed_by < day:
        if on is None:
            raise ValidationFailed(f"{needed_by} is already past (today is {ctx.today}); a historical entry gives "
                                   "the day it was raised", where="needed_by", code="past-needed-by",
                                   needed_by=needed_by.isoformat())
        raise _fail("needed_by", f"{needed_by} is before the entry's own date {on}")


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
    on: date | None = None,
    ref: str = "",
) -> list[Event]:
    """`on`: a historical entry, raised on that day (its needed-by date may be past today, not before `on`)."""
    _checked_words(names={"destination": destination, "ref": ref}, texts={"note": note})
    _unused_ref(state.requirements.values(), ref, None, "requirement")
    cls = _get(state.item_classes, "item class", item_class)
    _positive("quantity", quantity)
    _positive("priority", priority)
    _dated("needed_by", needed_by)
    _not_past(needed_by, on, ctx)
    area = area or cls.area
    if area not in state.coalitions:
        raise NotFound(f"area: no capability area {area!r}")
    if problems := place.check_destination(state, destination.strip()):
        raise ValidationFailed(problems)
    req = Requirement(
        id=_next_id(state, "requirements", "R"),
        item_class=item_class,
        quantity=quantity,
        priority=priority,
        needed_by=needed_by,
        destination=destination.strip(),
        area=area,
        status=RequirementStatus.DRAFT,
        note=note,
        entered_on=on,
        ref=ref,
    )
    return [ctx.event("RequirementDrafted", as_data(req))]


def reprioritise(state: State, ctx: Context, req_id: str, priority: int) -> list[Event]:
    req = _get(state.requirements, "requirement", req_id)
    _positive("priority", priority)
    if req.status in (RequirementStatus.CLOSED, RequirementStatus.CANCELLED):
        raise Conflict(f"requirement {req_id} is {req.status.value}; its priority can no longer change")
    return [ctx.event("RequirementReprioritised", {"id": req_id, "priority": priority})]


AMENDABLE_REQUIREMENT = frozenset(set(RequirementStatus) - {RequirementStatus.CLOSED,
                                                                 RequirementStatus.CANCELLED})


def amend_requirement(
    state: State, ctx: Context, req_id: str, *, quantity: int | None = None, needed_by: date | None = None,
    destination: str | None = None, note: str | None = None, on: date | None = None,
) -> list[Event]:
    """Change what a requirement asks for while it is not closed or cancelled; never below the units already
    allocated (proposed, accepted or confirmed) or received. `on`: the day the change was really made."""
    req = _get(state.requirements, "requirement", req_id)
    if req.status not in AMENDABLE_REQUIREMENT:
        raise Conflict(f"requirement {req_id} is {req.status.value}; it can no longer be amended",
                       code="not-amendable", kind="requirement", id=req_id, status=req.status.value)
    new: dict[str, Any] = {}
    if quantity is not None:
        _positive("quantity", quantity)
        held = state.confirmed_of_requirement(req_id) + state.pending_of_requirement(req_id)
        received = sum(d.received for a in state.allocations_of_requirement(req_id)
                       for d in state.where("deliveries", "allocation", a.id))
        if quantity < max(held, received):
            what = (f"{held:,} unit(s) are allocated to it" if held >= received
                    else f"{received:,} unit(s) were received for it")
            raise Conflict(f"requirement {req_id} cannot ask for {quantity:,}: {what}", code="below-allocated",
                           kind="requirement", id=req_id, quantity=quantity, held=max(held, received))
        new["quantity"] = quantity
    if needed_by is not None:
        _dated("needed_by", needed_by)
        _not_past(needed_by, on, ctx)
        new["needed_by"] = needed_by
    else:
        _effective(ctx, on)
    if destination is not None:
        _checked_words(names={"destination": destination})
        if problems := place.check_destination(state, destination.strip()):
            raise ValidationFailed(problems)
        new["destination"] = destination.strip()
    if note is not None:
        _checked_words(texts={"note": note})
        new["note"] = note
    return _amended(ctx, "RequirementAmended", "id", req_id, req, new, on)


# --- offers ------------------------------------------------------------------------------------------------------


def draft_offer(state: State, ctx: Context, offer: Offer) -> list[Event]:
    """`offer.id` is ignored: the next free id is assigned."""
    _checked_words(names={"ref": offer.ref}, texts={"end_use": offer.end_use})
    _unused_ref(state.offers.values(), offer.ref, offer.member, "offer")
    _party_exists(state, offer.member, "member")
    _get(state.items, "item", offer.item)
    _positive("quantity", offer.quantity)
    _dated("available_from", offer.available_from)
    problems = _offer_terms(state, offer)
    if offer.consent_from is not None and offer.consent_from not in state.members:
        problems.append(Problem("consent_from", f"no member {offer.consent_from!r}"))
    if problems:
        raise ValidationFailed(problems)
    new = Offer(**{**{f: getattr(offer, f) for f in Offer.__slots__}, "id": _next_id(state, "offers", "O"),
                     "status": OfferStatus.DRAFT, "committed_on": None})
    return [ctx.event("OfferDrafted", as_data(new))]


def _offer_terms(state: State, offer: Offer) -> list[Problem]:
    """What is wrong with an offer's depot (a country, or a place of the record) and declared value, as entered or
    as amended."""
    problems = []
    if not (ISO3.fullmatch(offer.depot) and codes.is_country(offer.depot)) and offer.depot not in state.places:
        problems.append(Problem("depot", f"{offer.depot!r} is neither an ISO 3166 alpha-3 country code nor the code "
                                         "of a place the record knows"))
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
            problems.append(Problem("currency", "a currency needs a declared value; without one the "
                                                "catalogue value in EUR is used"))
        if offer.basis is not None:
            problems.append(Problem("basis", "a valuation basis needs a declared value"))
    if offer.currency is not None and not _money_currency(offer.currency):
        problems.append(Problem("currency", f"{offer.currency!r} is not an ISO 4217 currency code"))
    return problems


AMENDABLE_OFFER = frozenset({OfferStatus.DRAFT, OfferStatus.OFFERED, OfferStatus.COMMITTED,
                             OfferStatus.ALLOCATED, OfferStatus.IN_DELIVERY})
# The terms of an offer an amendment may change (its member, item and source are what it is: withdraw and re-enter).
OFFER_TERMS = ("quantity", "available_from", "depot", "value", "currency", "basis", "visibility", "end_use")


def amend_offer(state: State, ctx: Context, offer_id: str, changes: dict[str, Any],
                on: date | None = None) -> list[Event]:
    """Change an offer's terms (`changes`: field -> new value, fields of `OFFER_TERMS`) while it is not delivered
    or withdrawn; never below the units allocated to it (not declined) or shipped. No change records nothing."""
    offer = _get(state.offers, "offer", offer_id)
    unknown = sorted(set(changes) - set(OFFER_TERMS))
    if unknown:
        raise _fail(unknown[0], f"an offer's {unknown[0]} cannot be amended; amend {', '.join(OFFER_TERMS)}")
    if offer.status not in AMENDABLE_OFFER:
        raise Conflict(f"offer {offer_id} is {offer.status.value}; it can no longer be amended",
                       code="not-amendable", kind="offer", id=offer_id, status=offer.status.value)
    _effective(ctx, on)
    after = dataclasses.replace(offer, **changes)
    if "quantity" in changes:
        _positive("quantity", after.quantity)
        held = state.allocated_of_offer(offer_id)
        shipped = sum(d.quantity for a in state.allocations_of_offer(offer_id)
                      for d in state.where("deliveries", "allocation", a.id))
        if after.quantity < max(held, shipped):
            what = (f"{held:,} unit(s) are allocated from it" if held >= shipped
                    else f"{shipped:,} unit(s) were shipped from it")
            raise Conflict(f"offer {offer_id} cannot offer {after.quantity:,}: {what}", code="below-allocated",
                           kind="offer", id=offer_id, quantity=after.quantity, held=max(held, shipped))
    if "available_from" in changes:
        _dated("available_from", after.available_from)
    _checked_words(texts={"end_use": after.end_use})
    problems = _offer_terms(state, after)
    if problems:
        raise ValidationFailed(problems)
    return _amended(ctx, "OfferAmended", "id", offer_id, offer, dict(changes), on)


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
    check(TABLE_WORKFLOW["offers"][1], "offer", offer_id, offer.status, OfferStatus.WITHDRAWN)
    confirmed = [a.id for a in state.allocations_of_offer(offer_id) if a.status is AllocationStatus.CONFIRMED]
    if confirmed:
        raise Conflict(f"offer {offer_id} has confirmed allocations ({', '.join(confirmed)}); they are pinned")
    pending = [a.id for a in state.allocations_of_offer(offer_id) if a.status is not AllocationStatus.DECLINED]
    events = [ctx.event("AllocationDeclined", {"id": a, "reason": f"offer {offer_id} withdrawn"}) for a in pending]
    return [*events, ctx.event("OfferWithdrawn", {"id": offer_id, "reason": reason})]


# --- funds -------------------------------------------------------------------------------------------------------


def create_fund(state: State, ctx: Context, fund: Fund) -> list[Event]:
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
    c = Contribution(_next_id(state, "contributions", "C"), fund, member, amount, currency, pledged_on)
    return [ctx.event("ContributionPledged", as_data(c))]


# --- allocations and consents ------------------------------------------------------------------------------------

ALLOCATABLE_OFFER = (OfferStatus.OFFERED, OfferStatus.COMMITTED, OfferStatus.ALLOCATED,
                     OfferStatus.IN_DELIVERY)
OPEN_REQUIREMENT = (RequirementStatus.OPEN, RequirementStatus.PARTIALLY_MET)


def propose_allocation(state: State, ctx: Context, *, offer: str, requirement: str, quantity: int,
                       on: date | None = None) -> list[Event]:
    """`on`: a historical proposal, made that day (so shipments of past years can be dated after it)."""
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
    if (declined := declined_pair(state, offer, requirement)) is not None:
        raise Conflict(f"offer {offer} to requirement {requirement} was {declined_words(declined)}; it is not "
                       f"proposed again until reopened (allocation {declined.id})", code="declined-pair",
                       offer=offer, requirement=requirement, allocation=declined.id)
    missing = r.quantity - state.confirmed_of_requirement(requirement) - state.pending_of_requirement(requirement)
    if quantity > missing:
        raise Conflict(f"requirement {requirement} still needs {missing} units, not {quantity}")
    a = Allocation(_next_id(state, "allocations", "A"), offer, requirement, quantity,
                     AllocationStatus.PROPOSED, _effective(ctx, on))
    return [ctx.event("AllocationProposed", as_data(a))]


def consent_pending(state: State, offer: Offer) -> bool:
    """True if the offer needs a re-export consent that has not been granted."""
    if offer.consent_from is None:
        return False
    return not any(c.offer == offer.id and c.status is ConsentStatus.GRANTED for c in state.consents.values())


NOT_REQUESTED = "needs consent (not requested)"


def consent_standing(state: State, offer: Offer) -> str | None:
    """Why an offer is held back for its re-export consent, in the words gaps and plans both use —
    "needs consent (not requested)", "consent requested on DATE", "consent refused on DATE" — or None when it
    needs none or has it."""
    if not consent_pending(state, offer):
        return None
    asked = [c for c in state.consents.values() if c.offer == offer.id]
    if not asked:
        return NOT_REQUESTED
    last = max(asked, key=lambda c: c.id)
    if last.status is ConsentStatus.REFUSED:
        return f"consent refused on {last.decided_on}"
    return f"consent requested on {last.requested_on}"


def declined_pair(state: State, offer: str, requirement: str) -> Allocation | None:
    """The allocation by which a party declined this offer for this requirement and that nobody reopened; a
    plan's superseding or an offer's withdrawal is not a party's decline."""
    return next((a for a in state.allocations_of_offer(offer)
                 if a.requirement == requirement and a.status is AllocationStatus.DECLINED
                 and not a.superseded and not a.reopened and a.declined_on is not None), None)


def declined_words(a: Allocation) -> str:
    return f"declined on {a.declined_on}: {a.reason}" if a.reason else f"declined on {a.declined_on}"


def reopen_allocation(state: State, ctx: Context, alloc_id: str, *, coordinator: bool, reason: str = "") -> list[Event]:
    """Let a declined pair be proposed again: by the party that declined it, or by the coordinator."""
    _checked_words(texts={"reason": reason})
    a = _get(state.allocations, "allocation", alloc_id)
    if a.status is not AllocationStatus.DECLINED or a.superseded or a.reopened:
        state_ = "reopened already" if a.reopened else ("superseded by a plan, so its pair is open" if a.superseded
                                                        else a.status.value)
        raise Conflict(f"allocation {alloc_id} is {state_}; only a declined pair can be reopened",
                       code="not-declined", id=alloc_id)
    if not coordinator and a.declined_by != ctx.party:
        raise Conflict(f"allocation {alloc_id} was declined by {a.declined_by}; only it or the coordinator may "
                       f"reopen the pair", code="declined-by-other", id=alloc_id, party=a.declined_by)
    return [ctx.event("AllocationReopened", {"id": alloc_id, "reason": reason})]


def release_owed(state: State, ctx: Context, alloc_id: str, units: int, reason: str = "") -> list[Event]:
    """Release owed units (short, damaged, wrong, or never shipped) that will not come: the allocation's
    confirmed quantity drops by them and its requirement misses them again, for a plan to find elsewhere."""
    _checked_words(texts={"reason": reason})
    a = _get(state.allocations, "allocation", alloc_id)
    _positive("units", units)
    if a.status is not AllocationStatus.CONFIRMED:
        raise Conflict(f"allocation {alloc_id} is {a.status.value}; only a confirmed allocation owes units",
                       code="not-confirmed", id=alloc_id)
    owed = state.shipped(alloc_id).owed
    if units > owed:
        raise Conflict(f"allocation {alloc_id} owes {owed:,} units, not {units:,}", code="owed", id=alloc_id,
                       owed=owed, units=units)
    return [ctx.event("AllocationOwedReleased", {"id": alloc_id, "units": units, "reason": reason})]


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
    if offer.status is OfferStatus.OFFERED:
        return [*move(state, ctx, "OfferCommitted", offer.id, committed_on=ctx.today.isoformat()), *confirmed]
    return confirmed


def move_requirement(state: State, ctx: Context, event_type: str, req_id: str, *, on: date | None = None,
                     reason: str = "") -> list[Event]:
    """A requirement's lifecycle move (submit, validate, open, close, cancel, ...). `on`: a historical entry, the
    day the move really happened (never in the future, nor before the day a historical requirement was raised)."""
    req = _get(state.requirements, "requirement", req_id)
    extra: dict[str, Any] = {"reason": reason} if reason else {}
    if on is not None:
        extra["on"] = _not_before(ctx, on, req.entered_on, f"requirement {req_id} was raised").isoformat()
    if event_type == "RequirementCancelled":
        return cancel_requirement(state, ctx, req_id, **extra)
    return move(state, ctx, event_type, req_id, **extra)


def cancel_requirement(state: State, ctx: Context, req_id: str, **extra: Any) -> list[Event]:
    """Cancel a requirement, unless something was already received for it: those units would vanish from
    coverage while their allocations still count in burden sharing. Such a requirement is closed instead."""
    _get(state.requirements, "requirement", req_id)
    received = sum(d.received for a in state.allocations_of_requirement(req_id)
                   for d in state.where("deliveries", "allocation", a.id) if d.status is DeliveryStatus.RECEIVED)
    if received:
        raise Conflict(f"requirement {req_id} cannot be cancelled: {received:,} unit(s) were already received for "
                       f"it; close it instead (a coordinator's step)", code="received-requirement", id=req_id,
                       received=received)
    return move(state, ctx, "RequirementCancelled", req_id, **extra)


def request_consent(state: State, ctx: Context, offer_id: str, on: date | None = None) -> list[Event]:
    """`on`: a historical entry, the day the consent was really asked for (never in the future)."""
    offer = _get(state.offers, "offer", offer_id)
    if offer.consent_from is None:
        raise Conflict(f"offer {offer_id} needs no re-export consent")
    open_ = [c.id for c in state.consents.values()
             if c.offer == offer_id and c.status is not ConsentStatus.REFUSED]
    if open_:
        raise Conflict(f"offer {offer_id} already has consent {open_[0]}")
    c = Consent(_next_id(state, "consents", "K"), offer_id, offer.consent_from, ConsentStatus.REQUESTED,
                  _effective(ctx, on))
    return [ctx.event("ConsentRequested", as_data(c))]


def decide_consent(state: State, ctx: Context, event_type: str, consent_id: str, *, on: date | None = None,
                   reason: str = "") -> list[Event]:
    """Grant or refuse a consent, decided today or, for a historical entry, `on` (never in the future, nor
    before the consent was requested)."""
    c = _get(state.consents, "consent", consent_id)
    day = _not_before(ctx, on, c.requested_on, f"consent {consent_id} was requested")
    extra = {"reason": reason} if reason else {}
    return move(state, ctx, event_type, consent_id, decided_on=day.isoformat(), **extra)


# --- deliveries --------------------------------------------------------------------------------------------------


def dispatch(state: State, ctx: Context, *, allocation: str, quantity: int, dispatched_on: date) -> list[Event]:
    a = _get(state.allocations, "allocation", allocation)
    _positive("quantity", quantity)
    if a.status is not AllocationStatus.CONFIRMED:
        raise Conflict(f"allocation {allocation} is {a.status.value}; only confirmed allocations ship")
    if dispatched_on < a.proposed_on:
        raise _fail("dispatched_on", f"{dispatched_on} is before allocation {allocation} was proposed "
                                     f"({a.proposed_on})")
    if dispatched_on > ctx.today:
        raise _fail("dispatched_on", f"{dispatched_on} is in the future (today is {ctx.today}): record a "
                                     f"shipment once it left")
    # What is owed may ship: units never shipped, and replacements for units that arrived short, damaged or wrong.
    owed = state.shipped(allocation).owed
    if quantity > owed:
        raise Conflict(f"allocation {allocation} has {owed} units left to ship, not {quantity}")
    d = Delivery(_next_id(state, "deliveries", "D"), allocation, quantity, DeliveryStatus.DISPATCHED,
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


def track_aid(state: State, ctx: Context, aid: Sequence[TrackedAid]) -> list[Event]:
    for a in aid:
        _donor(state, a.member)
    return [ctx.event("AidTracked", as_data(a)) for a in aid]


def track_donor(state: State, ctx: Context, donor: TrackedDonor) -> list[Event]:
    """Record a tracker's donor that is not a member, without admitting it (no proposal needed under governance)."""
    problems = _words(names={"name": donor.name, "source": donor.source})
    if donor.kind is MemberKind.NATION and not (ISO3.fullmatch(donor.code) and codes.is_country(donor.code)):
        problems.append(Problem("code", f"{donor.code!r} is not an ISO 3166 alpha-3 country code"))
    elif donor.kind is MemberKind.ORGANISATION and not ORG_CODE.fullmatch(donor.code):
        problems.append(Problem("code", f"{donor.code!r} is not a valid organisation code (capitals, digits, '-')"))
    if problems:
        raise ValidationFailed(problems)
    for taken, what in ((state.members, "a member"), (state.tracked_donors, "a tracked donor"),
                        (state.funds, "a fund"), ({state.recipient: None}, "the recipient")):
        if donor.code in taken:
            raise Conflict(f"{donor.code} is already {what}", code="exists", kind="tracked donor", id=donor.code)
    return [ctx.event("DonorTracked", as_data(donor))]


def record_rate(state: State, ctx: Context, rate: Rate) -> list[Event]:
    if not _money_currency(rate.currency):
        raise _fail("currency", f"{rate.currency!r} is not an ISO 4217 currency code")
    _amount("per_eur", rate.per_eur)
    if rate.per_eur <= 0:
        raise _fail("per_eur", f"must be positive, got {rate.per_eur}")
    return [ctx.event("RateRecorded", as_data(rate))]
