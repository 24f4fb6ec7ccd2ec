"""The transport network as plain values: places, directed legs, border rules and mobility zones, and the checks
that refuse a network naming the row and field at fault (`validate` returns findings, `check` raises them)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from contactgroup.domain import codes, text
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.model import CapacityUnit as Unit
from contactgroup.domain.model import Mode, PlaceKind

# One enum each for the record and the core (a place's kind, a leg's mode, a capacity's unit), imported from
# `domain.model` and re-exported here.
__all__ = ["BorderRule", "Capacity", "Leg", "Mode", "Network", "Place", "PlaceKind", "Unit", "Zone", "check",
           "validate"]

# Bounds that keep every day count and every sum the scheduler forms small integers.
MAX_TRANSIT_DAYS = 365
MAX_LEAD_DAYS = 250  # working days: about a year
MAX_CAPACITY = 10**9
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True, slots=True)
class Capacity:
    """At most `amount` of `unit` per day: passing a place, or departing on a leg."""

    amount: int
    unit: Unit = Unit.SHIPMENTS

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value}/day"


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str
    country: str  # ISO 3166-1 alpha-3
    kind: PlaceKind
    lat: float
    lon: float
    capacity: Capacity | None = None


@dataclass(frozen=True, slots=True)
class Leg:
    """A directed leg: leaving `origin` on day d, a shipment reaches `to` on day d + `transit_days`. A leg whose
    ends lie in different countries crosses a border into the country of `to`, whose rule for `mode` applies."""

    origin: str
    to: str
    mode: Mode
    transit_days: int
    capacity: Capacity | None = None

    @property
    def key(self) -> str:
        return f"{self.origin}>{self.to}/{self.mode.value}"


@dataclass(frozen=True, slots=True)
class BorderRule:
    """What entering `country` by `mode` takes: a permission (or diplomatic clearance) granted `lead_days`
    working days of that country after it is requested, `dangerous_extra_days` more for UN class 1; none for
    movements by the nationals in `preauthorised` (annual pre-authorisation) or by the country's own. A country
    and mode without a rule needs no permission."""

    country: str
    mode: Mode
    permission: bool = True
    lead_days: int = 0
    dangerous_extra_days: int = 0
    preauthorised: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Zone:
    """Countries whose crossings among themselves need no per-movement permission (`lead_days` None) or one granted
    within `lead_days` working days at most, for crossings on or after `starts` by one of `modes`."""

    code: str
    name: str
    countries: frozenset[str]
    starts: date
    lead_days: int | None = None
    modes: frozenset[Mode] = frozenset(Mode)


@dataclass(frozen=True, slots=True)
class Network:
    places: tuple[Place, ...]
    legs: tuple[Leg, ...]
    rules: tuple[BorderRule, ...] = ()
    zones: tuple[Zone, ...] = ()


def _count(value: object, where: str, limit: int) -> list[Problem]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return [Problem(where, f"must be a non-negative whole number, got {value!r}")]
    if value > limit:
        return [Problem(where, f"must be at most {limit}, got {value!r}")]
    return []


def _capacity(capacity: Capacity | None, where: str) -> list[Problem]:
    return [] if capacity is None else _count(capacity.amount, where, MAX_CAPACITY)


def _country(value: str, where: str) -> list[Problem]:
    if re.fullmatch(r"[A-Z]{3}", value) and codes.is_country(value):
        return []
    return [Problem(where, f"{value!r} is not an ISO 3166 alpha-3 country code")]


def _place(i: int, place: Place) -> Iterator[Problem]:
    where = f"places[{i}]"
    if not CODE.fullmatch(place.code):
        yield Problem(f"{where}.code", f"{place.code!r} is not a valid code: use letters, digits, '.', '_' or '-'")
    yield from text.name_problems(f"{where}.name", place.name)
    yield from _country(place.country, f"{where}.country")
    if not -90.0 <= place.lat <= 90.0:
        yield Problem(f"{where}.lat", f"must be between -90 and 90, got {place.lat!r}")
    if not -180.0 <= place.lon <= 180.0:
        yield Problem(f"{where}.lon", f"must be between -180 and 180, got {place.lon!r}")
    yield from _capacity(place.capacity, f"{where}.capacity")


def _leg(i: int, leg: Leg, known: set[str]) -> Iterator[Problem]:
    where = f"legs[{i}]"
    for field, code in (("origin", leg.origin), ("to", leg.to)):
        if code not in known:
            yield Problem(f"{where}.{field}", f"unknown place {code!r}")
    if leg.origin == leg.to:
        yield Problem(f"{where}.to", f"a leg cannot lead from {leg.origin!r} to itself")
    yield from _count(leg.transit_days, f"{where}.transit_days", MAX_TRANSIT_DAYS)
    yield from _capacity(leg.capacity, f"{where}.capacity")


def _rule(i: int, rule: BorderRule) -> Iterator[Problem]:
    where = f"rules[{i}]"
    yield from _country(rule.country, f"{where}.country")
    yield from _count(rule.lead_days, f"{where}.lead_days", MAX_LEAD_DAYS)
    yield from _count(rule.dangerous_extra_days, f"{where}.dangerous_extra_days", MAX_LEAD_DAYS)
    for code in sorted(rule.preauthorised):
        yield from _country(code, f"{where}.preauthorised")


def _zone(i: int, zone: Zone) -> Iterator[Problem]:
    where = f"zones[{i}]"
    if not CODE.fullmatch(zone.code):
        yield Problem(f"{where}.code", f"{zone.code!r} is not a valid code: use letters, digits, '.', '_' or '-'")
    yield from text.name_problems(f"{where}.name", zone.name)
    for code in sorted(zone.countries):
        yield from _country(code, f"{where}.countries")
    if len(zone.countries) < 2:
        yield Problem(f"{where}.countries", "a zone joins at least two countries")
    if zone.lead_days is not None:
        yield from _count(zone.lead_days, f"{where}.lead_days", MAX_LEAD_DAYS)
    if not zone.modes:
        yield Problem(f"{where}.modes", "a zone applies to at least one mode")


def _duplicates(kind: str, keys: Iterable[object]) -> Iterator[Problem]:
    listed = list(keys)
    seen = Counter(listed)
    first: dict[object, int] = {}
    for i, key in enumerate(listed):
        if seen[key] > 1 and key in first:
            yield Problem(f"{kind}[{i}]", f"duplicate of {kind}[{first[key]}] ({key})")
        first.setdefault(key, i)


def validate(network: Network) -> list[Problem]:
    """Every finding about `network`, each naming its row and field (`legs[3].to: unknown place 'RZE-HUB'`)."""
    known = {p.code for p in network.places}
    found = [p for i, place in enumerate(network.places) for p in _place(i, place)]
    found += _duplicates("places", (p.code for p in network.places))
    found += [p for i, leg in enumerate(network.legs) for p in _leg(i, leg, known)]
    found += _duplicates("legs", (leg.key for leg in network.legs))
    found += [p for i, rule in enumerate(network.rules) for p in _rule(i, rule)]
    found += _duplicates("rules", (f"{r.country}/{r.mode.value}" for r in network.rules))
    found += [p for i, zone in enumerate(network.zones) for p in _zone(i, zone)]
    found += _duplicates("zones", (z.code for z in network.zones))
    return found


def check(network: Network) -> None:
    """Raise ValidationFailed with every finding, if there is any."""
    problems = validate(network)
    if problems:
        raise ValidationFailed(problems, code="invalid-network")
