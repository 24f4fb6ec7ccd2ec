"""Commands over the coordination's objects: members, users, catalogue, requirements, offers, funds,
allocations, consents and deliveries. Each is a thin call into `services.coordination`."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import typer
from rich.markup import escape

from contactgroup.cli import remote, seam
from contactgroup.cli.common import (
    AsOption,
    DbOption,
    Format,
    FormatOption,
    caller,
    database,
    emit,
    err,
    fail,
    handles_errors,
    out,
    whole_number,
    worded,
    writer,
)
from contactgroup.domain import text
from contactgroup.domain.model import (
    Allocation,
    AllocationStatus,
    Category,
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
    Requirement,
    RequirementStatus,
    Role,
    Source,
    User,
    ValuationBasis,
    Visibility,
)
from contactgroup.domain.state import State, as_data
from contactgroup.domain.workflow import (
    AllocationAction,
    ConsentAction,
    OfferAction,
    RequirementAction,
    ShipmentAction,
    choices,
    parse_action,
)
from contactgroup.encoding.canonical import plain
from contactgroup.io.offers import EXPORT as OFFER_COLUMNS
from contactgroup.io.requirements import EXPORT as REQUIREMENT_COLUMNS
from contactgroup.services import access, accounts, queries
from contactgroup.services import coordination as svc
from contactgroup.services.clock import SystemClock

T = TypeVar("T")


def _date(value: str, option: str) -> date:
    try:
        return text.day(value)
    except ValueError as exc:
        raise fail(f"{option}: {exc}", 2) from None


def _decimal(value: str, option: str) -> Decimal:
    try:
        return text.number(value)
    except ValueError as exc:
        raise fail(f"{option}: {exc}", 2) from None


def _fields(cls: type) -> tuple[str, ...]:
    """The columns of a list of `cls`, so that an empty list still prints its header (CSV)."""
    return tuple(f.name for f in dataclasses.fields(cls))


def _list(db: str | None, as_: str | None, local: Callable[[State], list[Any]], path: str, cls: type, title: str,
          fmt: Format) -> None:
    """A list open to every user: of the local state, or every page of the server's `path`."""
    found = seam.open_listing(db, as_, local, seam.Remote("GET", path, seam.typed(cls)))
    emit([as_data(x) for x in found.rows], fmt, title=title, synthetic=found.synthetic, columns=_fields(cls))


def _recorded(work: Callable[[Any, svc.Caller], object], obj: T) -> Callable[[Any, svc.Caller], T]:
    """A local change whose service returns nothing, answering the object it recorded (as the server does)."""

    def run(uow: Any, who: svc.Caller) -> T:
        work(uow, who)
        return obj

    return run


def _at(*parts: str) -> str:
    """An API path with each id escaped (`/api/v1/users/a%2Fb`)."""
    return "/api/v1/" + "/".join(quote(p, safe="") for p in parts)


def _columns(fmt: Format, sheet: tuple[str, ...], table: tuple[str, ...]) -> tuple[str, ...]:
    """A list's columns: in a spreadsheet (CSV, XLSX), those its import reads, in the order the export writes them,
    so that the file imports back unchanged; on screen, `table`."""
    return sheet if fmt in (Format.CSV, Format.XLSX) else table


def _show_data(data: dict[str, Any], fmt: Format, synthetic: bool) -> None:
    if fmt is Format.TABLE:
        emit([{"field": k, "value": v} for k, v in data.items()], fmt, synthetic=synthetic)
    else:
        emit([data], fmt, synthetic=synthetic)


def _done(message: str) -> None:
    out.print(f"[green]✓[/] {message}", highlight=False)


# --- moving many objects at once: by id, or by a filter ----------------------------------------------------------

# Filters the lists share.
OfMember = Annotated[str | None, typer.Option("--member", help="Only of this member's offers (that you may see).")]
OfItem = Annotated[str | None, typer.Option("--item", help="Only of this item.")]
ForArea = Annotated[str | None, typer.Option("--area", help="Only for requirements of this capability area.")]


AwaitingOption = Annotated[bool, typer.Option(
    "--awaiting-me", help="Instead of ids: every one you may move so now (see `contactgroup inbox`).")]
MemberFilter = Annotated[str | None, typer.Option(
    "--member", help="Instead of ids: those of this member's offers that you may move so now.")]


def _ids_and_verb(words: list[str]) -> tuple[list[str], str]:
    """`A-1 A-2 accept`: the ids, then the verb (the verb alone when a filter selects the ids)."""
    return words[:-1], words[-1]


def _move_many(db: str | None, as_: str | None, kind: str, ids: list[str], verb: str, awaiting_me: bool,
               member: str | None, move: Callable[[Any, svc.Caller, str], T],
               served: Callable[[seam.Selection], seam.Remote[list[T]]]) -> list[T]:
    """Move the ids given, or those the filter selects, in one transaction: all, or none with every refusal named
    (the exit code of the refusals' kind). A filter that selects nothing says so and changes nothing.

    Against a server, `served` is the one request that selects and moves them all (all or none there too)."""
    if ids and (awaiting_me or member):
        raise fail(f"name the {kind} ids or select them with --awaiting-me/--member, not both", 2)
    if not ids and not (awaiting_me or member):
        raise fail(f"name the {kind} ids before '{verb}', or select them with --awaiting-me or --member", 2)
    if seam.against_server():
        selection = {"ids": ids} if ids else {"member": member} if member else {"awaiting_me": True}
        done = seam.ask(db, as_, served(selection))
        if not done:
            _nothing_to_move(kind, member, seam.user_name(as_), verb)
        return done
    who = caller(as_)
    try:
        with writer(db) as uow:
            chosen = ids or queries.movable(uow.state, access.user(uow.state, who.user), kind, verb, member=member)
            if not chosen:
                _nothing_to_move(kind, member, who.user, verb)
                return []
            return svc.move_each(kind, chosen, lambda ident: move(uow, who, ident))
    except svc.Refused as exc:
        raise fail(exc.said(worded), exc.exit_code) from None


def _nothing_to_move(kind: str, member: str | None, user: str, verb: str) -> None:
    of = f" of {member}" if member else ""
    out.print(f"no {kind}{of} that {user} may {verb} now: nothing changed", highlight=False)


def _amended(kind: str, ident: str, before: Any, after: Any) -> None:
    """Say what an amendment changed, field by field, or that it changed nothing (and recorded nothing)."""
    old, new = as_data(before), as_data(after)
    changed = [f"{k} {old[k] if old[k] is not None else '(none)'} → {new[k]}" for k in new if new[k] != old[k]]
    _done(f"{kind} {ident} amended: {'; '.join(changed)}" if changed else f"{kind} {ident} unchanged: nothing recorded")


def _history(db: str | None, as_: str | None, kind: queries.HistoryKind, ident: str, fmt: Format) -> None:
    """Every event of one object with its log index (`contactgroup ledger receipt --index INDEX` proves exactly
    that event)."""
    path = {queries.HistoryKind.REQUIREMENT: "requirements", queries.HistoryKind.OFFER: "offers",
            queries.HistoryKind.ALLOCATION: "allocations"}[kind]
    found = seam.shown(db, as_, lambda _, who: queries.history_of(database(db), _user(who).name, kind, ident),
                       seam.Remote("GET", f"/api/v1/{path}/{quote(ident, safe='')}/history",
                                   seam.typed(list[queries.HistoryEntry])))
    emit([dataclasses.asdict(e) for e in found.rows[0]], fmt, title=f"History of {kind.value} {ident}",
         synthetic=found.synthetic, columns=_fields(queries.HistoryEntry), drop=("party", "effective", "at"))


OnOption = Annotated[str | None, typer.Option(
    help="A historical entry: the day it really happened (YYYY-MM-DD, not in the future). The record keeps both "
         "that day and the time it was entered.")]


# --- members and users -------------------------------------------------------------------------------------------

member_app = typer.Typer(help="Members of the coordination: nations and organisations.", no_args_is_help=True)


@member_app.command("list")
@handles_errors
def member_list(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List members with their currency and NATO/EU flags."""
    _list(db, as_, queries.members, "/api/v1/members", Member, "Members", fmt)


@member_app.command("add")
@handles_errors
def member_add(
    code: Annotated[str, typer.Argument(help="ISO 3166 alpha-3 code, or a short code for an organisation.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 currency code.")],
    organisation: Annotated[bool, typer.Option("--organisation", help="An organisation, not a nation.")] = False,
    nato: Annotated[bool, typer.Option("--nato")] = False,
    eu: Annotated[bool, typer.Option("--eu")] = False,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Admit a member (coordinator; once member keys exist, only by an admit-member proposal)."""
    member = Member(code, name, MemberKind.ORGANISATION if organisation else MemberKind.NATION, currency, nato, eu)
    body = {k: v for k, v in plain(as_data(member)).items() if k != "active"}
    seam.change(db, as_, lambda uow, who: svc.admit_member(uow, who, member),
                seam.Remote("POST", "/api/v1/members", seam.typed(Member), json=body))
    _done(f"member {code} admitted")


@member_app.command("gdp")
@handles_errors
def member_gdp(
    code: str,
    year: Annotated[int, typer.Option(parser=whole_number)],
    amount: Annotated[str, typer.Option(help="GDP in the given currency, full units (not billions).")],
    currency: Annotated[str, typer.Option()],
    source: Annotated[str, typer.Option()] = "entered by hand",
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Record a member's GDP for a year."""
    gdp = Gdp(code, year, _decimal(amount, "--amount"), currency, source)
    seam.change(db, as_, _recorded(lambda uow, who: svc.record_gdp(uow, who, gdp), gdp),
                seam.Remote("POST", _at("members", code, "gdp"), seam.typed(Gdp), json=plain(
                    {"year": year, "amount": gdp.amount, "currency": currency, "source": source})))
    _done(f"GDP {year} of {code} recorded")


@member_app.command("iati")
@handles_errors
def member_iati(
    code: str,
    identifier: Annotated[str, typer.Option("--id", help="The member's IATI organisation identifier (XM-DAC-5-7).")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Record the IATI organisation identifier a member's aid is published under (`contactgroup publish`)."""
    org = IatiOrganisation(code, identifier)
    seam.change(db, as_, _recorded(lambda uow, who: svc.record_iati_identifier(uow, who, org), org),
                seam.Remote("POST", _at("members", code, "iati"), seam.typed(IatiOrganisation),
                            json={"identifier": identifier}))
    _done(f"IATI identifier of {code} recorded: {identifier}")


user_app = typer.Typer(help="Users: who acts, for which party, in which role.", no_args_is_help=True)


@user_app.command("list")
@handles_errors
def user_list(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List registered users (every user sees them all; --as is accepted like everywhere)."""
    _list(db, as_, queries.users, "/api/v1/users", User, "Users", fmt)


@user_app.command("add")
@handles_errors
def user_add(
    name: str,
    party: Annotated[str, typer.Option(help="Member code, the recipient, or the coordinating authority.")],
    role: Annotated[Role, typer.Option(help="What the user does.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Register a user (coordinator; once member keys exist, a member's users are added by its own desk
    officers, the coordinator adding only the first user of a member that has none)."""
    enrolment = seam.change(db, as_, lambda uow, who: accounts.register_user(uow, who, User(name, party, role)),
                            seam.Remote("POST", "/api/v1/users", _enrolling,
                                        json={"name": name, "party": party, "role": role.value}))
    _done(f"user {name} registered ({role.value} for {party})")
    _enrolment(enrolment)


def _enrolling(answer: Any) -> accounts.Enrolment:
    """The server's enrolment answer (`Enrolling`) as the local call returns it."""
    return seam.typed(accounts.Enrolment)({"user": answer["user"], "code": answer["enrolment_code"],
                                           "expires_at": answer["expires_at"]})


def _enrolment(enrolment: accounts.Enrolment) -> None:
    """The one-time code, printed once: whoever hands it over never learns the password or second factor set."""
    err.print(f"enrolment code for {enrolment.user}, valid until {enrolment.expires_at:%Y-%m-%d %H:%M} UTC and "
              "shown only now: the user sets its own password and second factor with it", highlight=False)
    typer.echo(enrolment.code)


@user_app.command("reset")
@handles_errors
def user_reset(name: str, db: DbOption = None, as_: AsOption = None) -> None:
    """Reset a user's sign-in: its password and second factor stop working, its tokens and sessions end, and a new
    enrolment code is printed (whoever may add that user; under governance a member's own desk officers)."""
    enrolment = seam.change(db, as_, lambda uow, who: accounts.reset_user(uow, who, name),
                            seam.Remote("POST", _at("users", name, "reset"), _enrolling))
    _done(f"user {name}'s password and second factor reset")
    _enrolment(enrolment)


@user_app.command("enrol")
@handles_errors
def user_enrol(db: DbOption = None) -> None:
    """Enrol with your one-time code: set your own password and, for a role that can change the record, your TOTP
    second factor; on the server CONTACTGROUP_SERVER names (before any `contactgroup login`), or on the server's
    machine. Everything is asked for, nothing is echoed or on the command line."""
    where = remote.server()
    remote.refuse_local_identity(None, db)
    db_ = database(db) if where is None else None
    code = typer.prompt("Enrolment code", hide_input=True)
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    if db_ is not None:
        factor = accounts.enrol(db_, db_.state(), code, password, now=SystemClock().now())
        name, secret, uri = factor.user, factor.secret, factor.uri

        def confirm(totp: str) -> None:
            accounts.confirm_enrolment(db_, db_.state(), code, totp, now=SystemClock().now())
    else:
        client = remote.Client(str(where))  # no token: the enrolment code is the credential
        answer = client.request("POST", "/api/v1/enrol", json={"code": code, "password": password})
        name, secret, uri = str(answer["user"]), answer.get("totp_secret"), str(answer.get("otpauth_uri"))

        def confirm(totp: str) -> None:
            client.request("POST", "/api/v1/enrol/confirm", json={"code": code, "totp": totp})
    if secret is None:
        _done(f"{name} enrolled: this role signs in with its password alone")
        return
    typer.echo(f"Add this account to your authenticator app (secret {secret}):\n{uri}")
    confirm(typer.prompt("The app's code"))
    _done(f"{name} enrolled: sign in with your password and the app's code")


@user_app.command("security-log")
@handles_errors
def user_security_log(
    user: Annotated[str | None, typer.Option(help="Only this account's entries.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many entries, newest first.")] = 200,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Sign-ins, tokens, enrolments, resets and disabled users: the coordinator reads every entry, a desk officer
    its member's accounts', anyone else its own."""
    def here() -> list[dict[str, Any]]:
        db_ = database(db)
        return [{"at": e.at, "user": e.user_name, "party": e.party, "actor": e.actor, "kind": e.kind,
                 "source": e.source, "detail": e.detail}
                for e in accounts.security_log(db_, db_.state(), caller(as_).user, user=user, limit=limit)]

    def served(rows: Any) -> list[dict[str, Any]]:
        return [{**row, "at": datetime.fromisoformat(row["at"])} for row in rows]

    entries = seam.either(db, as_, here, seam.Remote("GET", "/api/v1/security-log", served,
                                                   params={"limit": limit, **seam.given({"user": user})}))
    emit([{**e, "at": e["at"].isoformat(timespec="seconds")} for e in entries], fmt, title="Security log")


@user_app.command("disable")
@handles_errors
def user_disable(name: str, db: DbOption = None, as_: AsOption = None) -> None:
    """Disable a user: from its next command on it can do nothing, and every token and session of it ends at once
    (whoever may add that user; under governance a member's users are its own desk officers' to manage)."""
    seam.change(db, as_, lambda uow, who: accounts.disable_user(uow, who, name),
                seam.Remote("POST", _at("users", name, "disable"), seam.typed(User)))
    _done(f"user {name} disabled; its tokens and sessions ended")


@user_app.command("enable")
@handles_errors
def user_enable(name: str, db: DbOption = None, as_: AsOption = None) -> None:
    """Enable a disabled user again (whoever may add that user)."""
    seam.change(db, as_, lambda uow, who: svc.enable_user(uow, who, name),
                seam.Remote("POST", _at("users", name, "enable"), seam.typed(User)))
    _done(f"user {name} enabled")


@user_app.command("role")
@handles_errors
def user_role(
    name: str,
    role: Annotated[Role, typer.Argument(help="The user's new role.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Change a user's role (whoever may add that user; the role must suit its party)."""
    before, user = seam.amend(db, as_, lambda uow, who: (uow.state.users.get(name),
                                                        svc.change_role(uow, who, name, role)),
                              seam.Remote("GET", _at("users", name), seam.typed(User)),
                              seam.Remote("POST", _at("users", name, "role"), seam.typed(User),
                                          json={"role": role.value}))
    _done(f"user {name} is now {user.role.value} for {user.party}"
          + (f" (was {before.role.value})" if before else ""))


# --- catalogue and coalitions ------------------------------------------------------------------------------------

catalogue_app = typer.Typer(help="The catalogue: items, and the item classes requirements ask for.",
                            no_args_is_help=True)


@catalogue_app.command("items")
@handles_errors
def catalogue_items(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List catalogue items."""
    _list(db, as_, queries.items, "/api/v1/items", Item, "Items", fmt)


@catalogue_app.command("classes")
@handles_errors
def catalogue_classes(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List item classes and the items that satisfy each."""
    _list(db, as_, queries.item_classes, "/api/v1/item-classes", ItemClass, "Item classes", fmt)


@catalogue_app.command("add-item")
@handles_errors
def catalogue_add_item(
    code: str,
    name: Annotated[str, typer.Option()],
    category: Annotated[Category, typer.Option()],
    unit: Annotated[str, typer.Option(help="Unit of issue: round, each, kit, ...")],
    nsn: Annotated[str | None, typer.Option(help="NATO Stock Number NNNN-NN-NNN-NNNN.")] = None,
    unit_value_eur: Annotated[str | None, typer.Option(help="Reference value of one unit in EUR.")] = None,
    mass_kg: Annotated[str | None, typer.Option(help="Mass of one unit as shipped, in kg (for capacities in "
                                                     "tonnes).")] = None,
    hazard_class: Annotated[str, typer.Option(help="UN dangerous goods class or division (1.1 for ammunition); "
                                                   "class 1 adds border lead time.")] = "",
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Add an item to the catalogue."""
    value = _decimal(unit_value_eur, "--unit-value-eur") if unit_value_eur is not None else None
    mass = _decimal(mass_kg, "--mass-kg") if mass_kg is not None else None
    item = Item(code, name, category, unit, nsn, value, mass, hazard_class)
    seam.change(db, as_, _recorded(lambda uow, who: svc.catalogue_item(uow, who, item), item),
                seam.Remote("POST", "/api/v1/items", seam.typed(Item), json=plain(as_data(item))))
    _done(f"item {code} catalogued")


@catalogue_app.command("add-class")
@handles_errors
def catalogue_add_class(
    code: str,
    name: Annotated[str, typer.Option()],
    area: Annotated[str, typer.Option(help="Capability area (coalition) the class belongs to.")],
    items: Annotated[list[str], typer.Option("--item", help="An item that satisfies the class (repeat).")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Define an item class and the interchangeable items that satisfy it."""
    item_class = ItemClass(code, name, area, tuple(items))
    seam.change(db, as_, _recorded(lambda uow, who: svc.define_item_class(uow, who, item_class), item_class),
                seam.Remote("POST", "/api/v1/item-classes", seam.typed(ItemClass),
                            json={"code": code, "name": name, "area": area, "items": items}))
    _done(f"item class {code} defined")


@catalogue_app.command("class-items")
@handles_errors
def catalogue_class_items(
    code: str,
    add: Annotated[list[str] | None, typer.Option("--add", help="An item that now satisfies the class (repeat).")]
    = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="An item that no longer does (repeat).")]
    = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Add items to an item class or remove them (coordinator); an item held by a pending allocation to one of
    the class's requirements cannot leave it."""
    before, after = seam.amend(
        db, as_, lambda uow, who: (uow.state.item_classes.get(code),
                                   svc.change_item_class(uow, who, code, add=add or (), remove=remove or ())),
        seam.Remote("GET", _at("item-classes", code), seam.typed(ItemClass)),
        seam.Remote("PATCH", _at("item-classes", code), seam.typed(ItemClass),
                    json={"add": add or [], "remove": remove or []}))
    _done(f"item class {code}: {', '.join(before.items if before else ())} → {', '.join(after.items)}")


coalition_app = typer.Typer(help="Capability coalitions and their lead members.", no_args_is_help=True)


@coalition_app.command("list")
@handles_errors
def coalition_list(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List capability coalitions."""
    _list(db, as_, queries.coalitions, "/api/v1/coalitions", Coalition, "Capability coalitions", fmt)


@coalition_app.command("add")
@handles_errors
def coalition_add(
    area: str,
    name: Annotated[str, typer.Option()],
    leads: Annotated[list[str], typer.Option("--lead", help="A lead member (repeat).")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Form a capability coalition (coordinator; once member keys exist, only by a change-lead proposal)."""
    coalition = Coalition(area, name, tuple(leads))
    seam.change(db, as_, _recorded(lambda uow, who: svc.form_coalition(uow, who, coalition), coalition),
                seam.Remote("POST", "/api/v1/coalitions", seam.typed(Coalition),
                            json={"area": area, "name": name, "leads": leads}))
    _done(f"capability coalition {area} formed")


# --- requirements ------------------------------------------------------------------------------------------------

requirement_app = typer.Typer(help="The recipient's prioritised requirements.", no_args_is_help=True)


@requirement_app.command("add")
@handles_errors
def requirement_add(
    item_class: Annotated[str, typer.Option("--class", help="The item class asked for.")],
    quantity: Annotated[int, typer.Option(parser=whole_number)],
    priority: Annotated[int, typer.Option(parser=whole_number, help="1 = most important.")],
    needed_by: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    destination: Annotated[str, typer.Option(help="Delivery point: a country (UKR), a region (UKR-West) or a "
                                                  "defined place's code (`place list`).")],
    area: Annotated[str | None, typer.Option(help="Capability area; default: the class's.")] = None,
    note: Annotated[str, typer.Option()] = "",
    submit: Annotated[bool, typer.Option("--submit", help="Submit at once instead of keeping a draft.")] = False,
    on: OnOption = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Draft a requirement (recipient liaison). A needed-by date already past is refused unless the entry is
    historical (--on)."""
    when = _date(needed_by, "--needed-by")
    entered = _date(on, "--on") if on else None

    def add(uow: Any, who: svc.Caller) -> Requirement:
        req = svc.draft_requirement(uow, who, item_class=item_class, quantity=quantity, priority=priority,
                                    needed_by=when, destination=destination, area=area, note=note, on=entered)
        return svc.move_requirement(uow, who, req.id, RequirementAction.SUBMIT, on=entered) if submit else req

    body = {"item_class": item_class, "quantity": quantity, "priority": priority, "needed_by": when,
            "destination": destination, "area": area, "note": note, "on": entered, "submit": submit}
    req = seam.change(db, as_, add, seam.Remote("POST", "/api/v1/requirements", seam.typed(Requirement),
                                                json=plain(body)))
    _done(f"requirement {req.id} {req.status.value}")
    out.print(req.id)


@requirement_app.command("list")
@handles_errors
def requirement_list(
    status: Annotated[RequirementStatus | None, typer.Option(help="Only this status.")] = None,
    area: Annotated[str | None, typer.Option(help="Only this capability area.")] = None,
    item: Annotated[str | None, typer.Option(help="Only for this item class, or classes this item satisfies.")]
    = None,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List requirements by priority (every user sees them all; --as is accepted like everywhere).

    `--format csv` or `xlsx` writes a file `import requirements` reads back unchanged (edited rows amend the
    requirements they name)."""
    found = seam.open_listing(db, as_, lambda state: queries.requirements(state, status=status, area=area, item=item),
                              seam.Remote("GET", "/api/v1/requirements", seam.typed(Requirement),
                                          params=seam.given({"status": status, "area": area, "item": item})))
    emit([as_data(r) for r in found.rows], fmt, title="Requirements", synthetic=found.synthetic,
         columns=_columns(fmt, REQUIREMENT_COLUMNS, ("id", "ref", "priority", "item_class", "quantity", "needed_by",
                                                     "destination", "area", "status")),
         drop=("area", "destination", "ref", "needed_by", "item_class"))  # the area follows from the class


@requirement_app.command("show")
@handles_errors
def requirement_show(req_id: str, db: DbOption = None, as_: AsOption = None,
                     fmt: FormatOption = Format.TABLE) -> None:
    """Show one requirement (every user sees them all; --as is accepted like everywhere)."""
    found = seam.shown(db, as_, lambda state, _: queries.requirement(state, req_id),
                       seam.Remote("GET", f"/api/v1/requirements/{quote(req_id, safe='')}",
                                   seam.typed(Requirement)), open_to_all=True)
    _show_data(as_data(found.rows[0]), fmt, found.synthetic)


@requirement_app.command("move")
@handles_errors
def requirement_move(
    words: Annotated[list[str], typer.Argument(
        metavar="ID... ACTION", help=f"The requirements, then the action: {choices(RequirementAction)}.")],
    reason: Annotated[str, typer.Option()] = "",
    awaiting_me: AwaitingOption = False,
    on: OnOption = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Move requirements along their lifecycle: all of them, or none; --on enters moves made in the past (not
    before the day a historical requirement was raised)."""
    ids, action = _ids_and_verb(words)
    verb = parse_action(RequirementAction, action)
    when = _date(on, "--on") if on else None
    served = seam.moves("requirements", verb, Requirement, plain({"reason": reason, "on": when}))
    for req in _move_many(db, as_, "requirement", ids, verb, awaiting_me, None,
                          lambda uow, who, ident: svc.move_requirement(uow, who, ident, verb, reason, on=when),
                          served):
        _done(f"requirement {req.id} is {req.status.value}" + (f" (on {when})" if when else ""))


@requirement_app.command("prioritise")
@handles_errors
def requirement_prioritise(req_id: str, priority: Annotated[int, typer.Argument(parser=whole_number)],
                           db: DbOption = None, as_: AsOption = None) -> None:
    """Change a requirement's priority (recipient liaison)."""
    seam.change(db, as_, lambda uow, who: svc.reprioritise(uow, who, req_id, priority),
                seam.Remote("POST", _at("requirements", req_id, "priority"), seam.typed(Requirement),
                            json={"priority": priority}))
    _done(f"requirement {req_id} now has priority {priority}")


@requirement_app.command("amend")
@handles_errors
def requirement_amend(
    req_id: str,
    quantity: Annotated[int | None, typer.Option(parser=whole_number, help="Units now needed (not below what is "
                                                 "allocated or received).")] = None,
    needed_by: Annotated[str | None, typer.Option(help="YYYY-MM-DD; not past, unless --on.")] = None,
    destination: Annotated[str | None, typer.Option(help="Delivery point.")] = None,
    note: Annotated[str | None, typer.Option(help="Description.")] = None,
    on: OnOption = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Amend a requirement that is not closed or cancelled (recipient liaison or coordinator); the record keeps
    the old and new values."""
    when = _date(needed_by, "--needed-by") if needed_by is not None else None
    entered = _date(on, "--on") if on else None
    before, after = seam.amend(
        db, as_, lambda uow, who: (uow.state.requirements.get(req_id), svc.amend_requirement(
            uow, who, req_id, quantity=quantity, needed_by=when, destination=destination, note=note, on=entered)),
        seam.Remote("GET", _at("requirements", req_id), seam.typed(Requirement)),
        seam.Remote("PATCH", _at("requirements", req_id), seam.typed(Requirement), json=plain(seam.given(
            {"quantity": quantity, "needed_by": when, "destination": destination, "note": note, "on": entered}))))
    _amended("requirement", req_id, before, after)


@requirement_app.command("history")
@handles_errors
def requirement_history(req_id: str, db: DbOption = None, as_: AsOption = None,
                        fmt: FormatOption = Format.TABLE) -> None:
    """Every event of a requirement: log index, type, actor, time, effective date, what changed."""
    _history(db, as_, queries.HistoryKind.REQUIREMENT, req_id, fmt)


# --- offers and funds --------------------------------------------------------------------------------------------

offer_app = typer.Typer(help="Members' offers in kind.", no_args_is_help=True)


DEPOT_HELP = "Where the offer ships from: a country (ISO3) or a place of the transport network."


@offer_app.command("add")
@handles_errors
def offer_add(
    member: Annotated[str, typer.Option(help="The offering member (or fund).")],
    item: Annotated[str, typer.Option()],
    quantity: Annotated[int, typer.Option(parser=whole_number)],
    available_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    depot: Annotated[str, typer.Option(help=DEPOT_HELP)],
    source: Annotated[Source, typer.Option()] = Source.STOCKS,
    visibility: Annotated[Visibility, typer.Option(help="Who besides the member and authority may see it.")]
    = Visibility.MEMBER,
    value: Annotated[str | None, typer.Option(help="Declared total value (default: catalogue value).")] = None,
    currency: Annotated[str | None, typer.Option()] = None,
    basis: Annotated[ValuationBasis | None, typer.Option()] = None,
    consent_from: Annotated[str | None, typer.Option(help="Member whose re-export consent is needed.")] = None,
    end_use: Annotated[str, typer.Option(help="End-use restrictions.")] = "",
    status: Annotated[str, typer.Option(help="draft, offered or committed.")] = "offered",
    committed_on: Annotated[str | None, typer.Option(
        help="With --status committed: the date it was pledged (YYYY-MM-DD), default today; "
             "a historical pledge is valued at its own date.")] = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Enter an offer (desk officer of the member, or coordinator)."""
    if status not in ("draft", "offered", "committed"):
        raise fail(f"--status: {status!r} must be draft, offered or committed", 2)
    pledged = _date(committed_on, "--committed-on") if committed_on is not None else None
    if pledged is not None and status != "committed":
        raise fail("--committed-on: a commitment date needs --status committed", 2)
    offer = Offer(
        id="", member=member, item=item, quantity=quantity, available_from=_date(available_from, "--available-from"),
        depot=depot, source=source, status=OfferStatus.DRAFT, visibility=visibility,
        value=_decimal(value, "--value") if value is not None else None, currency=currency, basis=basis,
        consent_from=consent_from, end_use=end_use,
    )
    body = {k: v for k, v in as_data(offer).items() if k not in ("id", "status", "ref", "committed_on")}  # OfferIn
    created = seam.change(
        db, as_, lambda uow, who: svc.enter_offer(uow, who, offer, status=OfferStatus(status), committed_on=pledged),
        seam.Remote("POST", "/api/v1/offers", seam.typed(Offer),
                    json={**body, "status": status, "committed_on": plain(pledged)}))
    _done(f"offer {created.id} {created.status.value}")
    out.print(created.id)


@offer_app.command("list")
@handles_errors
def offer_list(
    member: Annotated[str | None, typer.Option(help="Only this member's offers.")] = None,
    status: Annotated[OfferStatus | None, typer.Option()] = None,
    item: Annotated[str | None, typer.Option(help="Only offers of this item.")] = None,
    area: Annotated[str | None, typer.Option(help="Only offers whose item a class of this area takes.")] = None,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List the offers you may see."""
    found = seam.listing(db, as_, lambda state, who: queries.offers(state, who, member=member, status=status,
                                                                    item=item, area=area),
                         seam.Remote("GET", "/api/v1/offers", seam.typed(Offer), params=seam.given(
                             {"member": member, "status": status, "item": item, "area": area})))
    emit([as_data(o) for o in found.rows], fmt, title="Offers", synthetic=found.synthetic,
         columns=_columns(fmt, OFFER_COLUMNS, ("id", "ref", "member", "item", "quantity", "available_from", "depot",
                                               "status", "visibility", "value", "currency", "consent_from")),
         drop=("ref", "consent_from", "visibility", "depot", "available_from", "currency", "value", "item"))


@offer_app.command("show")
@handles_errors
def offer_show(offer_id: str, db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """Show one offer, if you may see it."""
    found = seam.shown(db, as_, lambda state, who: queries.offer(state, _user(who), offer_id),
                       seam.Remote("GET", f"/api/v1/offers/{quote(offer_id, safe='')}", seam.typed(Offer)))
    _show_data(as_data(found.rows[0]), fmt, found.synthetic)


@offer_app.command("move")
@handles_errors
def offer_move(
    words: Annotated[list[str], typer.Argument(
        metavar="ID... ACTION", help=f"The offers, then the action: {choices(OfferAction)}.")],
    on: Annotated[str | None, typer.Option(help="Commitment date (YYYY-MM-DD), default today.")] = None,
    reason: Annotated[str, typer.Option(help="Why (recorded with a withdrawal).")] = "",
    awaiting_me: AwaitingOption = False,
    member: MemberFilter = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Move offers along their lifecycle: all of them, or none."""
    ids, action = _ids_and_verb(words)
    verb = parse_action(OfferAction, action)
    when = _date(on, "--on") if on else None
    for offer in _move_many(db, as_, "offer", ids, verb, awaiting_me, member,
                            lambda uow, who, ident: svc.move_offer(uow, who, ident, verb, on=when, reason=reason),
                            seam.moves("offers", verb, Offer, plain({"on": when, "reason": reason}))):
        _done(f"offer {offer.id} is {offer.status.value}")


@offer_app.command("amend")
@handles_errors
def offer_amend(
    offer_id: str,
    quantity: Annotated[int | None, typer.Option(parser=whole_number, help="Units offered (not below what is "
                                                 "allocated or shipped).")] = None,
    available_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    depot: Annotated[str | None, typer.Option(help=DEPOT_HELP)] = None,
    value: Annotated[str | None, typer.Option(help="Declared total value (with --currency and --basis).")] = None,
    currency: Annotated[str | None, typer.Option()] = None,
    basis: Annotated[ValuationBasis | None, typer.Option()] = None,
    visibility: Annotated[Visibility | None, typer.Option()] = None,
    end_use: Annotated[str | None, typer.Option(help="End-use restrictions.")] = None,
    on: OnOption = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Amend an offer that is not delivered or withdrawn (desk officer of the member, or coordinator); the record
    keeps the old and new values."""
    change: dict[str, Any] = {"quantity": quantity, "depot": depot, "currency": currency, "basis": basis,
              "visibility": visibility,
              "end_use": end_use, "on": _date(on, "--on") if on else None,
              "available_from": _date(available_from, "--available-from") if available_from is not None else None,
              "value": _decimal(value, "--value") if value is not None else None}
    before, after = seam.amend(
        db, as_, lambda uow, who: (uow.state.offers.get(offer_id), svc.amend_offer(uow, who, offer_id, **change)),
        seam.Remote("GET", _at("offers", offer_id), seam.typed(Offer)),
        seam.Remote("PATCH", _at("offers", offer_id), seam.typed(Offer), json=plain(seam.given(change))))
    _amended("offer", offer_id, before, after)


@offer_app.command("history")
@handles_errors
def offer_history(offer_id: str, db: DbOption = None, as_: AsOption = None,
                  fmt: FormatOption = Format.TABLE) -> None:
    """Every event of an offer you may see: log index, type, actor, time, effective date, what changed."""
    _history(db, as_, queries.HistoryKind.OFFER, offer_id, fmt)


fund_app = typer.Typer(help="Funds: pooled money that buys items and offers them.", no_args_is_help=True)


@fund_app.command("list")
@handles_errors
def fund_list(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List funds and their contributions (every user sees them all; --as is accepted like everywhere)."""
    def rows(state: State) -> list[dict[str, Any]]:
        return [{**as_data(r.fund), "contributors": r.contributors, "pledges": r.pledges} for r in queries.funds(state)]

    def served(row: Any) -> dict[str, Any]:
        fund = seam.typed(Fund)({k: row[k] for k in _fields(Fund)})
        return {**as_data(fund), "contributors": row["contributors"], "pledges": row["pledges"]}

    found = seam.open_listing(db, as_, rows, seam.Remote("GET", "/api/v1/funds", served))
    emit(found.rows, fmt, title="Funds", synthetic=found.synthetic,
         columns=(*_fields(Fund), "contributors", "pledges"))


@fund_app.command("show")
@handles_errors
def fund_show(code: str, db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """Show a fund: who pledged how much (currency, EUR at the pledge date, share) and what it bought.

    The share is what reports attribute to each contributor of what the fund's offers allocate and deliver. Its
    offers are listed as you may see them (without --as: the public ones); the others count only in a total."""
    found = seam.shown(db, as_, lambda state, who: queries.fund(state, code, who),
                       seam.Remote("GET", _at("funds", code), seam.typed(queries.FundView)), open_to_all=True)
    view, synthetic = found.rows[0], found.synthetic
    pledges = [dataclasses.asdict(p) for p in view.pledges]
    bought = [dataclasses.asdict(b) for b in view.bought]
    hidden = (f"{view.not_shown} offer(s) you may not see, EUR {view.not_shown_eur:,.2f} in all"
              + ("" if as_ or seam.against_server() else " (without --as, only public offers are listed)")
              if view.not_shown else "")
    rates = "; ".join(view.rate_notes)
    if fmt is not Format.TABLE:
        for note in view.rate_notes:
            err.print(f"[bold yellow]note[/]: {escape(note)}", highlight=False)
        not_shown = {"offers_not_shown": view.not_shown, "offers_not_shown_eur": plain(view.not_shown_eur)}
        data = {**as_data(view.fund), "contributions": [plain_row(p) for p in pledges],
                "offers": [plain_row(b) for b in bought], **(not_shown if view.not_shown else {}),
                **({"synthetic": True} if synthetic else {})}
        emit([data], fmt) if fmt is Format.JSON else emit(
            [{**p, "fund": code} for p in pledges], fmt, synthetic=synthetic)
        return
    emit([{"field": k, "value": v} for k, v in as_data(view.fund).items()], fmt, title=f"Fund {code}",
         synthetic=synthetic)
    emit(pledges, fmt, title="Pledges (member share % = pro-rata attribution)", synthetic=synthetic, caption=rates)
    emit(bought, fmt, title="What the fund bought (its offers)", synthetic=synthetic, caption=hidden)


def plain_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) if not isinstance(v, enum.Enum) else v.value for k, v in row.items()}


@fund_app.command("add")
@handles_errors
def fund_add(
    code: str,
    name: Annotated[str, typer.Option()],
    manager: Annotated[str, typer.Option(help="The member that manages the fund.")],
    area: Annotated[str, typer.Option(help="Capability area.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Create a fund (coordinator)."""
    fund = Fund(code, name, manager, area)
    seam.change(db, as_, _recorded(lambda uow, who: svc.create_fund(uow, who, fund), fund),
                seam.Remote("POST", "/api/v1/funds", seam.typed(Fund), json=as_data(fund)))
    _done(f"fund {code} created")


@fund_app.command("pledge")
@handles_errors
def fund_pledge(
    fund: str,
    member: Annotated[str, typer.Option()],
    amount: Annotated[str, typer.Option()],
    currency: Annotated[str, typer.Option()],
    on: Annotated[str, typer.Option(help="Pledge date YYYY-MM-DD.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Pledge money to a fund."""
    money, when = _decimal(amount, "--amount"), _date(on, "--on")
    c = seam.change(db, as_, lambda uow, who: svc.contribute(uow, who, fund=fund, member=member, amount=money,
                                                             currency=currency, pledged_on=when),
                    seam.Remote("POST", _at("funds", fund, "pledges"), seam.typed(Contribution), json=plain(
                        {"member": member, "amount": money, "currency": currency, "pledged_on": when})))
    _done(f"contribution {c.id}: {member} pledged {amount} {currency} to {fund}")


# --- allocations, consents, deliveries ---------------------------------------------------------------------------

allocation_app = typer.Typer(help="Allocations of offers to requirements.", no_args_is_help=True)


@allocation_app.command("propose")
@handles_errors
def allocation_propose(
    offer: Annotated[str, typer.Option()],
    requirement: Annotated[str, typer.Option()],
    quantity: Annotated[int, typer.Option(parser=whole_number)],
    on: OnOption = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Propose an allocation by hand (coordinator or coalition lead); --on enters one made in the past."""
    when = _date(on, "--on") if on else None
    a = seam.change(db, as_, lambda uow, who: svc.propose_allocation(uow, who, offer=offer, requirement=requirement,
                                                                     quantity=quantity, on=when),
                    seam.Remote("POST", "/api/v1/allocations", seam.typed(Allocation), json=plain(
                        {"offer": offer, "requirement": requirement, "quantity": quantity, "on": when})))
    _done(f"allocation {a.id} proposed: {quantity} of {offer} to {requirement}")
    out.print(a.id)


@allocation_app.command("list")
@handles_errors
def allocation_list(
    status: Annotated[AllocationStatus | None, typer.Option()] = None,
    member: OfMember = None,
    item: OfItem = None,
    area: ForArea = None,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List allocations of offers you may see, and (recipient liaison) those proposed to the recipient; the
    member is shown only if you may see the offer."""
    def rows(state: State, who: User) -> list[dict[str, Any]]:
        return [_with_offer(as_data(a), queries.listed_allocation(state, who, a))
                for a in queries.allocations(state, who, status=status, member=member, item=item, area=area)]

    found = seam.listing(db, as_, rows, seam.Remote("GET", "/api/v1/allocations", _listed_row(Allocation),
                                                    params=seam.given({"status": status, "member": member,
                                                                       "item": item, "area": area})))
    emit(found.rows, fmt, title="Allocations", synthetic=found.synthetic,
         columns=(*_fields(Allocation), "member", "item"))


def _user(who: User | None) -> User:
    """The user a show that is not open to all is given (`seam.shown` names one for it)."""
    if who is None:
        raise fail("say who you are: pass --as NAME or set CONTACTGROUP_USER (see `contactgroup user list`)", 2)
    return who


def _with_offer(row: dict[str, Any], seen: queries.Listed) -> dict[str, Any]:
    return {**row, "member": seen.member, "item": seen.item}


def _listed_row(cls: type) -> Callable[[Any], dict[str, Any]]:
    """A server's list row as the local list prints it: the object's fields, its offer's member and item."""
    parse: Callable[[Any], Any] = seam.typed(cls)
    return lambda row: {**as_data(parse(row)), "member": row["member"], "item": row["item"]}


@allocation_app.command("show")
@handles_errors
def allocation_show(alloc_id: str, db: DbOption = None, as_: AsOption = None,
                    fmt: FormatOption = Format.TABLE) -> None:
    """Show one allocation, with its offer's member and item and its shipments, if you may see the offer (or,
    as the recipient liaison, it was proposed to the recipient)."""
    found = seam.shown(db, as_, lambda state, who: queries.allocation(state, _user(who), alloc_id),
                       seam.Remote("GET", f"/api/v1/allocations/{quote(alloc_id, safe='')}",
                                   seam.typed(queries.AllocationView)))
    v = found.rows[0]
    _show_data({**as_data(v.allocation), "member": v.member, "item": v.item, "shipments": ", ".join(v.shipments),
                "shipped": v.shipped, "received": v.received, "owed": v.owed,
                "owed_after_receipt": v.owed_after_receipt}, fmt, found.synthetic)


@allocation_app.command("move")
@handles_errors
def allocation_move(
    words: Annotated[list[str], typer.Argument(
        metavar="ID... ACTION", help=f"The allocations, then the action: {choices(AllocationAction)} (accept: "
                                       "the donor's desk, then the recipient liaison; reopen: the party that "
                                       "declined, or the coordinator; release-owed: the coordinator, with --units).")],
    reason: Annotated[str, typer.Option(help="Why (decline, reopen, release-owed); recorded.")] = "",
    units: Annotated[int | None, typer.Option(parser=whole_number, metavar="N",
                                              help="release-owed: how many owed units will not come.")] = None,
    awaiting_me: AwaitingOption = False,
    member: MemberFilter = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Accept, confirm or decline allocations, reopen declined pairs, release owed units: all of them, or none
    (every refusal named).

    A declined pair (offer, requirement) is not proposed again until reopened.

    Units that arrived short, damaged or wrong stay owed: the donor dispatches replacements against the same
    allocation, or the coordinator releases them and the requirement misses them again.
    """
    ids, action = _ids_and_verb(words)
    verb = parse_action(AllocationAction, action)
    served = seam.moves("allocations", verb, Allocation, {"reason": reason, "units": units})
    for a in _move_many(db, as_, "allocation", ids, verb, awaiting_me, member,
                        lambda uow, who, ident: svc.move_allocation(uow, who, ident, verb, reason, units=units),
                        served):
        if verb is AllocationAction.REOPEN:
            _done(f"allocation {a.id}: offer {a.offer} may be proposed for {a.requirement} again")
        elif verb is AllocationAction.RELEASE_OWED:
            _done(f"allocation {a.id}: {units or 0:,} owed units released; {a.quantity:,} units confirmed")
        else:
            _done(f"allocation {a.id} is {a.status.value}")


@allocation_app.command("history")
@handles_errors
def allocation_history(alloc_id: str, db: DbOption = None, as_: AsOption = None,
                       fmt: FormatOption = Format.TABLE) -> None:
    """Every event of an allocation you may see, and of its shipments: log index, type, actor, time."""
    _history(db, as_, queries.HistoryKind.ALLOCATION, alloc_id, fmt)


consent_app = typer.Typer(help="Re-export consents from an item's country of origin.", no_args_is_help=True)


@consent_app.command("request")
@handles_errors
def consent_request(offer_id: str, on: OnOption = None, db: DbOption = None, as_: AsOption = None) -> None:
    """Request the re-export consent an offer needs; --on enters a request made in the past."""
    when = _date(on, "--on") if on else None
    c = seam.change(db, as_, lambda uow, who: svc.request_consent(uow, who, offer_id, on=when),
                    seam.Remote("POST", "/api/v1/consents", seam.typed(Consent),
                                json=plain({"offer": offer_id, "on": when})))
    _done(f"consent {c.id} requested from {c.origin}")
    out.print(c.id)


@consent_app.command("decide")
@handles_errors
def consent_decide(
    words: Annotated[list[str], typer.Argument(
        metavar="ID... DECISION", help=f"The consents, then the decision: {choices(ConsentAction)}.")],
    awaiting_me: AwaitingOption = False,
    member: MemberFilter = None,
    reason: Annotated[str, typer.Option(help="Why; recorded with the decision.")] = "",
    on: OnOption = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Grant or refuse consents (desk officer of the origin member): all of them, or none; --on enters decisions
    made in the past (not before the consent was requested)."""
    ids, decision = _ids_and_verb(words)
    verb = parse_action(ConsentAction, decision, what="decision")
    when = _date(on, "--on") if on else None
    for c in _move_many(db, as_, "consent", ids, verb, awaiting_me, member,
                        lambda uow, who, ident: svc.decide_consent(uow, who, ident, verb, reason, on=when),
                        seam.moves("consents", verb, Consent, plain({"reason": reason, "on": when}))):
        _done(f"consent {c.id} {c.status.value}" + (f" on {c.decided_on}" if when else ""))


@consent_app.command("list")
@handles_errors
def consent_list(
    status: Annotated[ConsentStatus | None, typer.Option()] = None,
    member: OfMember = None,
    item: OfItem = None,
    area: Annotated[str | None, typer.Option(help="Only of items a class of this capability area takes.")] = None,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List the consents you may see: of offers you may see, or asked of the member you act for.

    Each shows what it is for: item, quantity, end use and destination.

    The offer and its member are shown only if you may see the offer."""
    def rows(state: State, who: User) -> list[dict[str, Any]]:
        chosen = {c.id for c in queries.consents(state, who, status=status, member=member, item=item, area=area)}
        return [_consent_row(as_data(v.consent), {k: getattr(v, k) for k in CONSENT_ABOUT})
                for v in queries.consent_views(state, who) if v.consent.id in chosen]

    found = seam.listing(db, as_, rows, seam.Remote("GET", "/api/v1/consents", _served_consent,
                                                    params=seam.given({"status": status, "member": member,
                                                                       "item": item, "area": area})))
    emit(found.rows, fmt, title="Consents", synthetic=found.synthetic,
         columns=(*_fields(Consent), "item", "item_name", "quantity", "end_use", "destination", "member"))


CONSENT_ABOUT = ("item", "item_name", "quantity", "end_use", "destination", "offer", "member")


def _consent_row(consent: dict[str, Any], about: dict[str, Any]) -> dict[str, Any]:
    """A consent and what it is asked for; the offer and its member only where the caller may see the offer."""
    return {**consent, **about, "offer": about["offer"] or "", "member": about["member"] or ""}


def _served_consent(row: Any) -> dict[str, Any]:
    """A server's consent row as the local list prints it."""
    consent = seam.typed(Consent)({**row, "offer": row["offer"] or ""})
    return _consent_row(as_data(consent), {k: row[k] for k in CONSENT_ABOUT})


delivery_app = typer.Typer(help="Shipments of allocated quantities, to receipt.", no_args_is_help=True)


@delivery_app.command("dispatch")
@handles_errors
def delivery_dispatch(
    allocation: Annotated[str, typer.Option()],
    quantity: Annotated[int, typer.Option(parser=whole_number)],
    on: Annotated[str, typer.Option(help="Dispatch date YYYY-MM-DD.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Dispatch a shipment for a confirmed allocation."""
    when = _date(on, "--on")
    d = seam.change(db, as_, lambda uow, who: svc.dispatch(uow, who, allocation=allocation, quantity=quantity,
                                                           dispatched_on=when),
                    seam.Remote("POST", "/api/v1/deliveries", seam.typed(Delivery), json={
                        "allocation": allocation, "quantity": quantity, "dispatched_on": plain(when)}))
    _done(f"shipment {d.id} dispatched")
    out.print(d.id)


@delivery_app.command("track")
@handles_errors
def delivery_track(
    words: Annotated[list[str], typer.Argument(
        metavar="ID... STEP", help=f"The shipments, then the step: {choices(ShipmentAction)}.")],
    awaiting_me: AwaitingOption = False,
    member: MemberFilter = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Record that shipments reached the hub or were handed over: all of them, or none."""
    ids, step = _ids_and_verb(words)
    verb = parse_action(ShipmentAction, step, what="step")
    for d in _move_many(db, as_, "delivery", ids, verb, awaiting_me, member,
                        lambda uow, who, ident: svc.track_shipment(uow, who, ident, verb),
                        seam.moves("deliveries", verb, Delivery, {})):
        _done(f"shipment {d.id} is {d.status.value}")


@delivery_app.command("receive")
@handles_errors
def delivery_receive(
    on: Annotated[str, typer.Option(help="Receipt date YYYY-MM-DD.")],
    delivery_ids: Annotated[list[str] | None, typer.Argument(metavar="ID...", help="The shipments received.")]
    = None,
    short: Annotated[int, typer.Option(parser=whole_number, help="Units missing.")] = 0,
    damaged: Annotated[int, typer.Option(parser=whole_number, help="Units damaged.")] = 0,
    wrong_item: Annotated[int, typer.Option(parser=whole_number, help="Units of the wrong item.")] = 0,
    awaiting_me: AwaitingOption = False,
    member: MemberFilter = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Confirm receipt of shipments, with any discrepancies (recipient liaison): all of them, or none (every
    refusal named).

    Discrepancies are stated per shipment: with --short, --damaged or --wrong-item, name one shipment."""
    ids = delivery_ids or []
    if (short or damaged or wrong_item) and len(ids) != 1:
        raise fail("--short/--damaged/--wrong-item: discrepancies are stated per shipment; name exactly one "
                   "shipment", 2)
    when = _date(on, "--on")
    said = {"received_on": plain(when), "short": short, "damaged": damaged, "wrong_item": wrong_item}
    done = _move_many(db, as_, "delivery", ids, queries.RECEIVE, awaiting_me, member,
                      lambda uow, who, ident: svc.receive(uow, who, ident, received_on=when, short=short,
                                                          damaged=damaged, wrong_item=wrong_item),
                      lambda chosen: seam.Remote("POST", "/api/v1/deliveries/receive", seam.typed(list[Delivery]),
                                                 json={**said, **chosen}))
    if len(done) == 1:
        d = done[0]
        _done(f"shipment {d.id} received: {d.received} of {d.quantity} in good order")
    elif done:
        good, shipped = sum(d.received for d in done), sum(d.quantity for d in done)
        _done(f"{len(done)} shipments received on {when}: {good:,} of {shipped:,} units in good order "
              f"({', '.join(d.id for d in done)})")


@delivery_app.command("show")
@handles_errors
def delivery_show(delivery_id: str, db: DbOption = None, as_: AsOption = None,
                  fmt: FormatOption = Format.TABLE) -> None:
    """Show one shipment, with its allocation, offer and requirement, if you may see its allocation."""
    found = seam.shown(db, as_, lambda state, who: queries.delivery(state, _user(who), delivery_id),
                       seam.Remote("GET", f"/api/v1/deliveries/{quote(delivery_id, safe='')}",
                                   seam.typed(queries.DeliveryView)))
    v = found.rows[0]
    _show_data({**as_data(v.delivery), "offer": v.offer, "member": v.member, "item": v.item,
                "requirement": v.requirement}, fmt, found.synthetic)


@delivery_app.command("list")
@handles_errors
def delivery_list(
    status: Annotated[DeliveryStatus | None, typer.Option()] = None,
    member: OfMember = None,
    item: OfItem = None,
    area: ForArea = None,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List shipments of allocations you may see (the recipient liaison: every shipment to the recipient); the
    member is shown only if you may see the offer."""
    def rows(state: State, who: User) -> list[dict[str, Any]]:
        return [_with_offer(as_data(d), queries.listed_delivery(state, who, d))
                for d in queries.deliveries(state, who, status=status, member=member, item=item, area=area)]

    found = seam.listing(db, as_, rows, seam.Remote("GET", "/api/v1/deliveries", _listed_row(Delivery),
                                                    params=seam.given({"status": status, "member": member,
                                                                       "item": item, "area": area})))
    emit(found.rows, fmt, title="Deliveries", synthetic=found.synthetic,
         columns=(*_fields(Delivery), "member", "item"))


