"""The current state of a coordination: every entity by key, rebuilt by folding events (see `event.evolve`)."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from contactgroup.domain.model import (
    Allocation,
    AllocationStatus,
    Approval,
    Authority,
    BorderRule,
    Coalition,
    Consent,
    Contribution,
    Delivery,
    DeliveryStatus,
    Fund,
    Gdp,
    IatiOrganisation,
    Item,
    ItemClass,
    Leg,
    Member,
    MemberKey,
    Mode,
    MovementPermission,
    Offer,
    Place,
    Proposal,
    QuorumRule,
    Rate,
    Requirement,
    Setting,
    ShipmentPosition,
    TrackedAid,
    TrackedDonor,
    TransitTime,
    User,
    Witness,
    Zone,
)
from contactgroup.encoding.canonical import plain


@dataclass(frozen=True, slots=True)
class Table:
    """One kind of entity: its class and the fields that make its key."""

    name: str
    entity: type[Any]
    key: tuple[str, ...]


TABLES: Mapping[str, Table] = {
    t.name: t
    for t in (
        Table("members", Member, ("code",)),
        Table("gdp", Gdp, ("member", "year")),
        Table("authorities", Authority, ("name", "since")),
        Table("users", User, ("name",)),
        Table("coalitions", Coalition, ("area",)),
        Table("items", Item, ("code",)),
        Table("item_classes", ItemClass, ("code",)),
        Table("requirements", Requirement, ("id",)),
        Table("offers", Offer, ("id",)),
        Table("funds", Fund, ("code",)),
        Table("contributions", Contribution, ("id",)),
        Table("allocations", Allocation, ("id",)),
        Table("consents", Consent, ("id",)),
        Table("deliveries", Delivery, ("id",)),
        Table("tracked_aid", TrackedAid, ("key",)),
        Table("rates", Rate, ("currency", "on")),
        Table("settings", Setting, ("name",)),
        Table("member_keys", MemberKey, ("key",)),
        Table("proposals", Proposal, ("id",)),
        Table("approvals", Approval, ("key",)),
        Table("transit_times", TransitTime, ("origin", "destination")),
        Table("witnesses", Witness, ("name",)),
        Table("quorum_rules", QuorumRule, ("decision",)),
        Table("places", Place, ("code",)),
        Table("legs", Leg, ("origin", "to", "mode")),
        Table("border_rules", BorderRule, ("country", "mode", "since")),
        Table("zones", Zone, ("code",)),
        Table("tracked_donors", TrackedDonor, ("code",)),
        Table("movement_permissions", MovementPermission, ("key",)),
        Table("shipment_positions", ShipmentPosition, ("shipment",)),
        Table("iati_organisations", IatiOrganisation, ("member",)),
    )
}
TABLE_OF: Mapping[type[Any], Table] = {t.entity: t for t in TABLES.values()}


def key_of(entity: Any) -> Any:
    """The key of an entity in its table: the field's value, or a tuple for composite keys."""
    fields = TABLE_OF[type(entity)].key
    return getattr(entity, fields[0]) if len(fields) == 1 else tuple(getattr(entity, f) for f in fields)


_FIELD_TYPES: dict[type[Any], dict[str, Any]] = {}


def field_types(cls: type[Any]) -> dict[str, Any]:
    """The resolved annotations of an entity class, by field name (cached: they never change)."""
    if cls not in _FIELD_TYPES:
        _FIELD_TYPES[cls] = typing.get_type_hints(cls)
    return _FIELD_TYPES[cls]


def as_data(entity: Any) -> dict[str, Any]:
    """An entity as plain JSON values (the form events carry)."""
    return {f.name: plain(getattr(entity, f.name)) for f in dataclasses.fields(entity)}


Convert = Callable[[Any], Any]
_CONVERTERS: dict[Any, Convert] = {}
_ENTITY_CONVERTERS: dict[type[Any], list[tuple[str, Convert]]] = {}


def _same(value: Any) -> Any:
    return value


def _converter(tp: Any) -> Convert:
    """How a plain value becomes a value of type `tp` (None stays None), worked out once per type: replaying a log
    converts every field of every event, and resolving the type each time was most of a replay's time."""
    found = _CONVERTERS.get(tp)
    if found is None:
        found = _CONVERTERS[tp] = _make_converter(tp)
    return found


def _make_converter(tp: Any) -> Convert:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return _converter(next(a for a in typing.get_args(tp) if a is not type(None)))
    if origin is tuple:
        inner = _converter(typing.get_args(tp)[0])
        return lambda value: None if value is None else tuple(inner(v) for v in value)
    if tp is Decimal:
        return lambda value: None if value is None else Decimal(value)
    if tp is datetime:
        return lambda value: value if value is None or isinstance(value, datetime) else datetime.fromisoformat(value)
    if tp is date:
        return lambda value: value if value is None or isinstance(value, date) else date.fromisoformat(value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda value: None if value is None else tp(value)
    return _same


def from_data(cls: type[Any], data: Mapping[Any, Any]) -> Any:
    """Rebuild an entity from plain values (an event's data or a database row)."""
    fields = _ENTITY_CONVERTERS.get(cls)
    if fields is None:
        fields = _ENTITY_CONVERTERS[cls] = [(name, _converter(tp)) for name, tp in field_types(cls).items()]
    return cls(**{name: convert(data[name]) for name, convert in fields if name in data})


@dataclass(frozen=True, slots=True)
class Shipped:
    """An allocation's confirmed units: `received + in_transit + owed` is its quantity; `short_owed` of the owed
    units arrived short, damaged or as the wrong item."""

    received: int
    in_transit: int
    owed: int
    short_owed: int


class State:
    """Every entity by table and key, plus the set of keys changed since the last flush."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Any, Any]] = {name: {} for name in TABLES}
        self.dirty: set[tuple[str, Any]] = set()
        # Keys by (table, field) -> field value, built on first use and kept up to date by `put`. The fields
        # indexed never change after creation (an allocation's offer, a shipment's allocation). The sets are never
        # changed in place (a new set replaces one), so that a fork may share them.
        self._indexes: dict[tuple[str, str], dict[Any, frozenset[Any]]] = {}
        # Tables (and indexes) still shared with the state this one was forked from: copied on their first change.
        self._shared: set[Any] = set()
        # Tables that received a key smaller than their last one: `in_key_order` sorts them.
        self._unordered: set[str] = set()

    def fork(self) -> State:
        """A state that starts equal to this one and changes without changing it: each table is copied on its
        first change (a copy of the dict, not of the entities, which are immutable)."""
        child = State()
        child.tables = dict(self.tables)
        child._indexes = dict(self._indexes)
        child._shared = {*self.tables, *self._indexes}
        child._unordered = set(self._unordered)
        return child

    def put(self, entity: Any) -> None:
        table = TABLE_OF[type(entity)].name
        key = key_of(entity)
        rows = self.tables[table]
        if table in self._shared:
            rows = self.tables[table] = dict(rows)
            self._shared.discard(table)
        if key not in rows and rows and not key > next(reversed(rows)):
            self._unordered.add(table)
        rows[key] = entity
        self.dirty.add((table, key))
        for name, index in self._indexes.items():
            if name[0] == table:
                if name in self._shared:
                    index = self._indexes[name] = dict(index)
                    self._shared.discard(name)
                value = getattr(entity, name[1])
                index[value] = index.get(value, frozenset()) | {key}

    def in_key_order(self) -> None:
        """Put every table in key order, as loading from the tables does: reports that add Decimals in table
        order then give the same sums to the last digit whichever way the state was filled."""
        for table in sorted(self._unordered):
            self.tables[table] = dict(sorted(self.tables[table].items()))
            self._shared.discard(table)
        self._unordered.clear()

    def where(self, table: str, field: str, value: Any) -> list[Any]:
        """The entities of `table` whose `field` equals `value`, in key order."""
        index = self._indexes.get((table, field))
        if index is None:
            keys: dict[Any, set[Any]] = {}
            for key, entity in self.tables[table].items():
                keys.setdefault(getattr(entity, field), set()).add(key)
            index = self._indexes[(table, field)] = {value: frozenset(ks) for value, ks in keys.items()}
        return [self.tables[table][k] for k in sorted(index.get(value, ()))]

    def allocations_of_offer(self, offer_id: str) -> list[Allocation]:
        return self.where("allocations", "offer", offer_id)

    def allocations_of_requirement(self, req_id: str) -> list[Allocation]:
        return self.where("allocations", "requirement", req_id)

    def changed(self) -> Iterator[tuple[str, Any, Any]]:
        """(table, key, entity) for everything put since the last `flushed()`."""
        for table, key in sorted(self.dirty, key=lambda tk: (tk[0], str(tk[1]))):
            yield table, key, self.tables[table][key]

    def flushed(self) -> None:
        self.dirty.clear()

    # Typed views of the tables the core reads most.
    @property
    def members(self) -> dict[str, Member]:
        return self.tables["members"]

    @property
    def users(self) -> dict[str, User]:
        return self.tables["users"]

    @property
    def coalitions(self) -> dict[str, Coalition]:
        return self.tables["coalitions"]

    @property
    def items(self) -> dict[str, Item]:
        return self.tables["items"]

    @property
    def item_classes(self) -> dict[str, ItemClass]:
        return self.tables["item_classes"]

    @property
    def requirements(self) -> dict[str, Requirement]:
        return self.tables["requirements"]

    @property
    def offers(self) -> dict[str, Offer]:
        return self.tables["offers"]

    @property
    def funds(self) -> dict[str, Fund]:
        return self.tables["funds"]

    @property
    def contributions(self) -> dict[str, Contribution]:
        return self.tables["contributions"]

    @property
    def allocations(self) -> dict[str, Allocation]:
        return self.tables["allocations"]

    @property
    def consents(self) -> dict[str, Consent]:
        return self.tables["consents"]

    @property
    def deliveries(self) -> dict[str, Delivery]:
        return self.tables["deliveries"]

    @property
    def gdp(self) -> dict[tuple[str, int], Gdp]:
        return self.tables["gdp"]

    @property
    def tracked_aid(self) -> dict[str, TrackedAid]:
        return self.tables["tracked_aid"]

    @property
    def rates(self) -> dict[tuple[str, date], Rate]:
        return self.tables["rates"]

    @property
    def member_keys(self) -> dict[str, MemberKey]:
        return self.tables["member_keys"]

    @property
    def proposals(self) -> dict[str, Proposal]:
        return self.tables["proposals"]

    @property
    def approvals(self) -> dict[str, Approval]:
        return self.tables["approvals"]

    @property
    def transit_times(self) -> dict[tuple[str, str], TransitTime]:
        return self.tables["transit_times"]

    @property
    def witnesses(self) -> dict[str, Witness]:
        return self.tables["witnesses"]

    @property
    def quorum_rules(self) -> dict[str, QuorumRule]:
        return self.tables["quorum_rules"]

    @property
    def places(self) -> dict[str, Place]:
        return self.tables["places"]

    @property
    def legs(self) -> dict[tuple[str, str, Mode], Leg]:
        return self.tables["legs"]

    @property
    def border_rules(self) -> dict[tuple[str, Mode, date], BorderRule]:
        return self.tables["border_rules"]

    @property
    def zones(self) -> dict[str, Zone]:
        return self.tables["zones"]

    @property
    def movement_permissions(self) -> dict[str, MovementPermission]:
        return self.tables["movement_permissions"]

    @property
    def shipment_positions(self) -> dict[str, ShipmentPosition]:
        return self.tables["shipment_positions"]

    @property
    def iati_organisations(self) -> dict[str, IatiOrganisation]:
        return self.tables["iati_organisations"]

    @property
    def tracked_donors(self) -> dict[str, TrackedDonor]:
        return self.tables["tracked_donors"]

    def setting(self, name: str, default: str = "") -> str:
        s = self.tables["settings"].get(name)
        return s.value if s else default

    @property
    def recipient(self) -> str:
        return self.setting("recipient")

    @property
    def authority(self) -> Authority | None:
        current = [a for a in self.tables["authorities"].values() if a.until is None]
        return current[0] if current else None

    # Derived quantities, computed from allocations (never stored, so they cannot drift).
    def allocated_of_offer(self, offer_id: str) -> int:
        """Units of an offer held by allocations that are not declined (owed units released stay spent)."""
        return sum(a.quantity + a.released for a in self.allocations_of_offer(offer_id)
                   if a.status is not AllocationStatus.DECLINED)

    def shipped(self, alloc_id: str) -> Shipped:
        """What became of an allocation's confirmed units: received in good order, in transit, still owed."""
        deliveries = self.where("deliveries", "allocation", alloc_id)
        good = sum(d.received for d in deliveries if d.status is DeliveryStatus.RECEIVED)
        moving = sum(d.quantity for d in deliveries if d.status is not DeliveryStatus.RECEIVED)
        quantity = self.allocations[alloc_id].quantity
        owed = quantity - good - moving
        # Owed units that were shipped once and arrived short, damaged or as the wrong item (the rest were never
        # shipped): what a replacement shipment or a release settles.
        unshipped = max(quantity - sum(d.quantity for d in deliveries), 0)
        return Shipped(good, moving, owed, max(owed - unshipped, 0))

    def owed_after_receipt(self, req_id: str) -> int:
        """Units of a requirement's confirmed allocations that arrived short, damaged or wrong and are still owed."""
        return sum(self.shipped(a.id).short_owed for a in self.allocations_of_requirement(req_id)
                   if a.status is AllocationStatus.CONFIRMED)

    def confirmed_of_requirement(self, req_id: str) -> int:
        return sum(a.quantity for a in self.allocations_of_requirement(req_id)
                   if a.status is AllocationStatus.CONFIRMED)

    def pending_of_requirement(self, req_id: str) -> int:
        """Units proposed or accepted for a requirement but not yet confirmed."""
        return sum(a.quantity for a in self.allocations_of_requirement(req_id)
                   if a.status not in (AllocationStatus.CONFIRMED, AllocationStatus.DECLINED))
