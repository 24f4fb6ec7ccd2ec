"""`/api/v1` over the coordination's reference data, open to every signed-in user to read: members, users,
coalitions, the catalogue (items, item classes), places, transit times, exchange rates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Request, Response
from pydantic import BaseModel, Field

from contactgroup.api.caller import Reader, Writer, source
from contactgroup.api.problem import problem_responses
from contactgroup.api.resource import (
    TAGGED,
    Code,
    IfMatch,
    Page,
    Pages,
    act,
    changed,
    list_responses,
    listed,
    sorting,
    state,
    tagged,
)
from contactgroup.api.routing import Router
from contactgroup.domain.errors import NotFound
from contactgroup.domain.model import (
    BorderRule,
    CapacityUnit,
    Category,
    Coalition,
    Gdp,
    IatiOrganisation,
    Item,
    ItemClass,
    Leg,
    Member,
    MemberKind,
    Place,
    PlaceKind,
    Rate,
    Role,
    User,
    Zone,
)
from contactgroup.services import accounts, mobility, place, queries, transit
from contactgroup.services import coordination as svc
from contactgroup.services.tokens import SignedIn
from contactgroup.storage.database import UnitOfWork

router = Router(prefix="/api/v1")

Name = Annotated[str, Field(min_length=1, max_length=200)]
PathCode = Annotated[str, Path(min_length=1, max_length=64)]
WRITES = problem_responses(400, 401, 403, 404, 409)
ACTIONS = {**TAGGED, **problem_responses(400, 401, 403, 404, 409, 412)}


def _key(field: str) -> Any:
    return lambda row: str(getattr(row, field))


# --- members and users -------------------------------------------------------------------------------------------

class MemberIn(BaseModel):
    code: Code
    name: Name
    kind: MemberKind = MemberKind.NATION
    currency: Annotated[str, Field(pattern="^[A-Z]{3}$")]
    nato: bool = False
    eu: bool = False


class GdpIn(BaseModel):
    year: Annotated[int, Field(ge=1900, le=2200)]
    amount: Annotated[Decimal, Field(gt=0, max_digits=30, decimal_places=2)]
    currency: Annotated[str, Field(pattern="^[A-Z]{3}$")]
    source: Annotated[str, Field(max_length=500)] = "entered over the API"


@router.get("/members", tags=["members"], response_model=Page[Member], responses=list_responses())
def list_members(request: Request, caller: Reader, paging: Pages,
                 sort: Annotated[str, sorting("code", "name", "kind")] = "code") -> Any:
    """Every member, with its currency and NATO/EU flags."""
    return listed(queries.members(state(request)), Member, "members", paging, sort, _key("code"))


@router.post("/members", tags=["members"], status_code=201, response_model=Member, responses=WRITES)
def admit_member(request: Request, caller: Writer, body: MemberIn) -> Member:
    """Admit a member (the coordinator; under governance, only by an admit-member proposal)."""
    member = Member(body.code, body.name, body.kind, body.currency, body.nato, body.eu)
    return act(request, caller, lambda uow, who: svc.admit_member(uow, who, member))


@router.post("/members/{code}/gdp", tags=["members"], status_code=201, response_model=Gdp, responses=WRITES)
def record_gdp(request: Request, caller: Writer, code: PathCode, body: GdpIn) -> Gdp:
    """Record a member's GDP for a year (full units of its currency)."""
    gdp = Gdp(code, body.year, body.amount, body.currency, body.source)
    act(request, caller, lambda uow, who: svc.record_gdp(uow, who, gdp))
    return gdp


class IatiIn(BaseModel):
    identifier: Annotated[str, Field(min_length=1, max_length=200, description="e.g. XM-DAC-5-7")]


@router.post("/members/{code}/iati", tags=["members"], status_code=201, response_model=IatiOrganisation,
             responses=WRITES)
def record_iati_identifier(request: Request, caller: Writer, code: PathCode, body: IatiIn) -> IatiOrganisation:
    """Record the IATI organisation identifier a member's aid is published under."""
    org = IatiOrganisation(code, body.identifier)
    act(request, caller, lambda uow, who: svc.record_iati_identifier(uow, who, org))
    return org


class UserIn(BaseModel):
    name: Name
    party: Code
    role: Role


class RoleIn(BaseModel):
    role: Role


@router.get("/users", tags=["users"], response_model=Page[User], responses=list_responses())
def list_users(request: Request, caller: Reader, paging: Pages,
               sort: Annotated[str, sorting("name", "party", "role")] = "name") -> Any:
    """Every registered user, its party and role."""
    return listed(queries.users(state(request)), User, "users", paging, sort, _key("name"))


class Enrolling(BaseModel):
    """A user's one-time enrolment code: hand it to the user, who sets its own password and second factor with it
    (`POST /api/v1/enrol`). Shown only now; the server keeps its hash."""

    user: str
    enrolment_code: str
    expires_at: datetime


def _enrolling(enrolment: accounts.Enrolment) -> Enrolling:
    return Enrolling(user=enrolment.user, enrolment_code=enrolment.code, expires_at=enrolment.expires_at)


@router.post("/users", tags=["users"], status_code=201, response_model=Enrolling, responses=WRITES)
def register_user(request: Request, caller: Writer, body: UserIn) -> Enrolling:
    """Register a user and issue its enrolment code (under governance a member's users are its own desk officers'
    to add)."""
    user = User(body.name, body.party, body.role)
    return _enrolling(act(request, caller, lambda uow, who: accounts.register_user(uow, who, user,
                                                                                   source=source(request))))


@router.post("/users/{name}/reset", tags=["users"], response_model=Enrolling, responses=WRITES)
def reset_user(request: Request, caller: Writer, name: PathCode) -> Enrolling:
    """Forget the user's password, second factor and passkeys, end its sessions and tokens, and issue a new
    enrolment code (whoever may manage that user)."""
    return _enrolling(act(request, caller, lambda uow, who: accounts.reset_user(uow, who, name,
                                                                                source=source(request))))


def _user(request: Request, name: str) -> User:
    found = state(request).users.get(name)
    if found is None:
        raise NotFound(f"no user {name!r}", code="not-found", kind="user", id=name)
    return found


@router.get("/users/{name}", tags=["users"], response_model=User, responses={**TAGGED,
            **problem_responses(400, 401, 404)})
def show_user(request: Request, response: Response, caller: Reader, name: PathCode) -> User:
    return tagged(response, _user(request, name))


def _user_action(request: Request, response: Response, caller: SignedIn, name: str, if_match: str | None,
                 do: Callable[[UnitOfWork, svc.Caller], User]) -> User:
    """`do` to user `name`, checking an If-Match sent against the user as the transaction sees it."""

    def checked(uow: UnitOfWork, who: svc.Caller) -> User:
        current = uow.state.users.get(name)
        if current is not None:
            changed(if_match, required=False)(current)
        return do(uow, who)

    return tagged(response, act(request, caller, checked))


@router.post("/users/{name}/disable", tags=["users"], response_model=User, responses=ACTIONS)
def disable_user(request: Request, response: Response, caller: Writer, name: PathCode,
                 if_match: IfMatch = None) -> User:
    """From its next request on, the user can do nothing (its events stay in the record)."""
    return _user_action(request, response, caller, name, if_match,
                        lambda uow, who: accounts.disable_user(uow, who, name, source=source(request)))


@router.post("/users/{name}/enable", tags=["users"], response_model=User, responses=ACTIONS)
def enable_user(request: Request, response: Response, caller: Writer, name: PathCode,
                if_match: IfMatch = None) -> User:
    return _user_action(request, response, caller, name, if_match, lambda uow, who: svc.enable_user(uow, who, name))


@router.post("/users/{name}/role", tags=["users"], response_model=User, responses=ACTIONS)
def change_role(request: Request, response: Response, caller: Writer, name: PathCode, body: RoleIn,
                if_match: IfMatch = None) -> User:
    """Change a user's role (whoever may add that user; the role must suit its party)."""
    return _user_action(request, response, caller, name, if_match,
                        lambda uow, who: svc.change_role(uow, who, name, body.role))


# --- coalitions and the catalogue --------------------------------------------------------------------------------

class CoalitionIn(BaseModel):
    area: Code
    name: Name
    leads: Annotated[list[Code], Field(min_length=1, max_length=50)]


@router.get("/coalitions", tags=["coalitions"], response_model=Page[Coalition],
            responses=list_responses())
def list_coalitions(request: Request, caller: Reader, paging: Pages,
                    sort: Annotated[str, sorting("area", "name")] = "area") -> Any:
    """Every capability coalition and its lead members."""
    return listed(queries.coalitions(state(request)), Coalition, "coalitions", paging, sort, _key("area"))


@router.post("/coalitions", tags=["coalitions"], status_code=201, response_model=Coalition, responses=WRITES)
def form_coalition(request: Request, caller: Writer, body: CoalitionIn) -> Coalition:
    """Form a capability coalition (the coordinator; under governance, only by a change-lead proposal)."""
    coalition = Coalition(body.area, body.name, tuple(body.leads))
    act(request, caller, lambda uow, who: svc.form_coalition(uow, who, coalition))
    return coalition


class ItemIn(BaseModel):
    code: Code
    name: Name
    category: Category
    unit: Code
    nsn: Annotated[str | None, Field(pattern="^[0-9]{4}-[0-9]{2}-[0-9]{3}-[0-9]{4}$")] = None
    unit_value_eur: Annotated[Decimal | None, Field(ge=0, max_digits=20, decimal_places=2)] = None
    mass_kg: Annotated[Decimal | None, Field(gt=0, max_digits=14, decimal_places=3)] = None
    hazard_class: Annotated[str, Field(max_length=3, description="UN dangerous goods class or division: 1.1")] = ""


class ItemClassIn(BaseModel):
    code: Code
    name: Name
    area: Code
    items: Annotated[list[Code], Field(min_length=1, max_length=200)]


class ItemClassChange(BaseModel):
    add: Annotated[list[Code], Field(max_length=200)] = []
    remove: Annotated[list[Code], Field(max_length=200)] = []


@router.get("/items", tags=["catalogue"], response_model=Page[Item], responses=list_responses())
def list_items(request: Request, caller: Reader, paging: Pages,
               sort: Annotated[str, sorting("code", "name", "category", "unit_value_eur")] = "code") -> Any:
    """The catalogue's items."""
    return listed(queries.items(state(request)), Item, "items", paging, sort, _key("code"))


@router.post("/items", tags=["catalogue"], status_code=201, response_model=Item, responses=WRITES)
def catalogue_item(request: Request, caller: Writer, body: ItemIn) -> Item:
    item = Item(body.code, body.name, body.category, body.unit, body.nsn, body.unit_value_eur, body.mass_kg,
                body.hazard_class)
    act(request, caller, lambda uow, who: svc.catalogue_item(uow, who, item))
    return item


@router.get("/item-classes", tags=["catalogue"], response_model=Page[ItemClass],
            responses=list_responses())
def list_item_classes(request: Request, caller: Reader, paging: Pages,
                      sort: Annotated[str, sorting("code", "name", "area")] = "code") -> Any:
    """The item classes requirements ask for, and the items that satisfy each."""
    return listed(queries.item_classes(state(request)), ItemClass, "item-classes", paging, sort, _key("code"))


@router.get("/item-classes/{code}", tags=["catalogue"], response_model=ItemClass,
            responses={**TAGGED, **problem_responses(400, 401, 404)})
def show_item_class(request: Request, response: Response, caller: Reader, code: PathCode) -> ItemClass:
    found = state(request).item_classes.get(code)
    if found is None:
        raise NotFound(f"no item class {code!r}", code="not-found", kind="item class", id=code)
    return tagged(response, found)


@router.post("/item-classes", tags=["catalogue"], status_code=201, response_model=ItemClass, responses=WRITES)
def define_item_class(request: Request, caller: Writer, body: ItemClassIn) -> ItemClass:
    item_class = ItemClass(body.code, body.name, body.area, tuple(body.items))
    act(request, caller, lambda uow, who: svc.define_item_class(uow, who, item_class))
    return item_class


@router.patch("/item-classes/{code}", tags=["catalogue"], response_model=ItemClass,
              responses={**TAGGED, **problem_responses(400, 401, 403, 404, 409, 412, 428)})
def change_item_class(request: Request, response: Response, caller: Writer, code: PathCode, body: ItemClassChange,
                      if_match: IfMatch = None) -> ItemClass:
    """Add items to a class or remove them (an item held by a pending allocation cannot leave it)."""

    def change(uow: UnitOfWork, who: svc.Caller) -> ItemClass:
        current = uow.state.item_classes.get(code)
        if current is not None:
            changed(if_match)(current)
        return svc.change_item_class(uow, who, code, add=body.add, remove=body.remove)

    return tagged(response, act(request, caller, change))


# --- places, transit, rates --------------------------------------------------------------------------------------

class PlaceIn(BaseModel):
    code: Code
    name: Name
    country: Annotated[str, Field(pattern="^[A-Z]{3}$")]
    kind: PlaceKind
    region: Annotated[str, Field(max_length=64)] = ""
    lat: Annotated[Decimal | None, Field(ge=-90, le=90, max_digits=12, decimal_places=8)] = None
    lon: Annotated[Decimal | None, Field(ge=-180, le=180, max_digits=12, decimal_places=8)] = None
    capacity: Annotated[int | None, Field(ge=0, le=10**9)] = None
    capacity_unit: CapacityUnit = CapacityUnit.SHIPMENTS
    source: Annotated[str, Field(max_length=500)] = ""


class TransitIn(BaseModel):
    origin: Code
    destination: Code
    days: Annotated[int, Field(ge=0, le=3650)]


class RateIn(BaseModel):
    currency: Annotated[str, Field(pattern="^[A-Z]{3}$")]
    on: date
    per_eur: Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=10)]


@router.get("/places", tags=["places"], response_model=Page[Place], responses=list_responses())
def list_places(request: Request, caller: Reader, paging: Pages,
                sort: Annotated[str, sorting("code", "name", "country", "kind")] = "code") -> Any:
    """The named places requirements go to and offers ship from."""
    return listed(place.listed(state(request)), Place, "places", paging, sort, _key("code"))


@router.post("/places", tags=["places"], status_code=201, response_model=Place, responses=WRITES)
def define_place(request: Request, caller: Writer, body: PlaceIn) -> Place:
    new = Place(body.code, body.name, body.country, body.kind, body.region, body.lat, body.lon, body.capacity,
                body.capacity_unit, body.source)
    return act(request, caller, lambda uow, who: place.define_place(uow, who, new))


# --- the transport network (places above): legs, border rules, mobility zones --------------------------------------

def _leg(row: Any) -> str:
    return f"{row.origin}/{row.to}/{row.mode}"


def _rule(row: Any) -> str:
    return f"{row.country}/{row.mode}/{row.since}"


@router.get("/legs", tags=["network"], response_model=Page[Leg], responses=list_responses())
def list_legs(request: Request, caller: Reader, paging: Pages,
              sort: Annotated[str, sorting("origin", "to", "mode", "transit_days")] = "origin") -> Any:
    """The directed legs of the transport network: mode, transit days, daily capacity."""
    return listed(mobility.legs(state(request)), Leg, "legs", paging, sort, _leg)


@router.get("/border-rules", tags=["network"], response_model=Page[BorderRule], responses=list_responses())
def list_border_rules(request: Request, caller: Reader, paging: Pages,
                      sort: Annotated[str, sorting("country", "mode", "since", "lead_days")] = "country") -> Any:
    """What entering a country by a mode takes, each rule in force from its date until the next for the pair."""
    return listed(mobility.border_rules(state(request)), BorderRule, "border-rules", paging, sort, _rule)


@router.get("/zones", tags=["network"], response_model=Page[Zone], responses=list_responses())
def list_zones(request: Request, caller: Reader, paging: Pages,
               sort: Annotated[str, sorting("code", "name", "starts")] = "code") -> Any:
    """Mobility zones: countries whose crossings among themselves need no per-movement permission, or a shorter
    one, from their start day on."""
    return listed(mobility.zones(state(request)), Zone, "zones", paging, sort, _key("code"))


def _route(row: Any) -> str:
    return f"{row.origin}/{row.destination}"


@router.get("/transit", tags=["transit"], response_model=Page[transit.Transit], responses=list_responses())
def list_transit(request: Request, caller: Reader, paging: Pages,
                 sort: Annotated[str, sorting("origin", "destination", "days")] = "origin") -> Any:
    """The recorded transit times, in days, from an origin to a destination."""
    return listed(transit.listed(state(request)), transit.Transit, "transit", paging, sort, _route)


@router.post("/transit", tags=["transit"], status_code=201, response_model=transit.Transit, responses=WRITES)
def set_transit(request: Request, caller: Writer, body: TransitIn) -> transit.Transit:
    """Record the days from an origin to a destination (replacing an earlier figure)."""
    return act(request, caller, lambda uow, who: transit.set_transit(uow, who, body.origin, body.destination,
                                                                     body.days))


def _rate(row: Any) -> str:
    return f"{row.currency}/{row.on}"


@router.get("/rates", tags=["rates"], response_model=Page[Rate], responses=list_responses())
def list_rates(request: Request, caller: Reader, paging: Pages,
               sort: Annotated[str, sorting("currency", "on", "per_eur")] = "on") -> Any:
    """The exchange rates recorded beyond the bundled ECB series (units of the currency per euro)."""
    return listed(list(state(request).rates.values()), Rate, "rates", paging, sort, _rate)


@router.post("/rates", tags=["rates"], status_code=201, response_model=list[Rate], responses=WRITES)
def record_rates(request: Request, caller: Writer,
                 body: Annotated[list[RateIn], Field(min_length=1, max_length=10000)]) -> list[Rate]:
    """Record exchange rates (a rate for a currency and day already known is replaced)."""
    rates = [Rate(r.currency, r.on, r.per_eur) for r in body]
    act(request, caller, lambda uow, who: svc.record_rates(uow, who, rates))
    return rates
