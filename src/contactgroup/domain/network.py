"""The transport network in the record: what is wrong with a place's network facts, a leg, a border rule or a
mobility zone, and the events that record them (`PlaceDefined`, `LegSet`, `BorderRuleSet`, `ZoneDeclared`).

Each check returns its findings as data, every one naming the field it is about behind `where` (a file's row and
column when an import calls it), so that an import reports every bad cell in one pass and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from contactgroup.domain import codes, text
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.event import Context, Event
from contactgroup.domain.model import FIRST_DAY, LAST_DAY, BorderRule, Leg, Place, Zone
from contactgroup.domain.state import State, as_data

# The bounds of the pure core (`mobility/network.py`), repeated here because the domain may not import it; a test
# holds them equal.
MAX_TRANSIT_DAYS = 365
MAX_LEAD_DAYS = 250
MAX_CAPACITY = 10**9
MAX_SOURCE = 500
# UN dangerous goods classes and divisions (UN Model Regulations, part 2).
HAZARD_CLASS = re.compile(r"1(\.[1-6])?|2(\.[1-3])?|3|4(\.[1-3])?|5(\.[12])?|6(\.[12])?|7|8|9")
MAX_MASS_KG = Decimal(10) ** 9
MAX_MASS_DECIMALS = 3  # grams
MAX_DEGREE_DECIMALS = 8  # with the bounds, every coordinate and mass fits its 64-character column


def decimals(value: Decimal) -> int:
    """How many digits a decimal writes after its point (`50.110` has 3; `5E+1` none)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def at(where: str, field: str) -> str:
    """A field's name, behind a file's row when there is one (`places.csv: row 3, column lat`)."""
    return f"{where}, column {field}" if where else field


def _count(value: object, where: str, limit: int) -> list[Problem]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return [Problem(where, f"must be a whole number, 0 or more, got {value!r}")]
    if value > limit:
        return [Problem(where, f"must be at most {limit:,}, got {value!r}")]
    return []


def _country(value: str, where: str) -> list[Problem]:
    if re.fullmatch(r"[A-Z]{3}", value) and codes.is_country(value):
        return []
    return [Problem(where, f"{value!r} is not an ISO 3166 alpha-3 country code")]


def _day(value: date, where: str) -> list[Problem]:
    return [] if FIRST_DAY <= value <= LAST_DAY else [Problem(where, f"must lie between {FIRST_DAY} and {LAST_DAY}")]


def _source(value: str, where: str) -> list[Problem]:
    return text.name_problems(at(where, "source"), value, limit=MAX_SOURCE)


def place_facts(place: Place, where: str = "") -> list[Problem]:
    """What is wrong with a place's network facts: coordinates (both or neither, in range), capacity, source."""
    found: list[Problem] = []
    if (place.lat is None) != (place.lon is None):
        found.append(Problem(at(where, "lat" if place.lat is None else "lon"),
                             "give both coordinates (lat and lon) or neither"))
    for field, value, bound in (("lat", place.lat, 90), ("lon", place.lon, 180)):
        if value is not None and not (value.is_finite() and -bound <= value <= bound):
            found.append(Problem(at(where, field), f"must be decimal degrees from -{bound} to {bound}, got {value}"))
        elif value is not None and decimals(value) > MAX_DEGREE_DECIMALS:
            found.append(Problem(at(where, field), f"at most {MAX_DEGREE_DECIMALS} decimals (a millimetre), got "
                                                   f"{value}"))
    if place.capacity is not None:
        found += _count(place.capacity, at(where, "capacity"), MAX_CAPACITY)
    return found + _source(place.source, where)


def leg_problems(state: State, leg: Leg, where: str = "", places: Mapping[str, Place] | None = None) -> list[Problem]:
    """What is wrong with a leg: its ends must be places with coordinates (`places`: those an import adds besides
    the record's), distinct; its transit days and capacity whole numbers in range."""
    found: list[Problem] = []
    for field, code in (("origin", leg.origin), ("to", leg.to)):
        place = state.places.get(code) or (places or {}).get(code)
        if place is None:
            found.append(Problem(at(where, field), f"unknown place {code!r}: define it first (or in the same import)"))
        elif place.lat is None:
            found.append(Problem(at(where, field), f"place {code!r} has no coordinates: a place a leg uses needs "
                                                    "lat and lon"))
    if leg.origin == leg.to:
        found.append(Problem(at(where, "to"), f"a leg cannot lead from {leg.origin!r} to itself"))
    found += _count(leg.transit_days, at(where, "transit_days"), MAX_TRANSIT_DAYS)
    if leg.capacity is not None:
        found += _count(leg.capacity, at(where, "capacity"), MAX_CAPACITY)
    return found + _source(leg.source, where)


def rule_problems(rule: BorderRule, where: str = "") -> list[Problem]:
    """What is wrong with a border rule: its country and the pre-authorised ones ISO alpha-3, lead times in range."""
    found = _country(rule.country, at(where, "country")) + _day(rule.since, at(where, "since"))
    found += _count(rule.lead_days, at(where, "lead_days"), MAX_LEAD_DAYS)
    found += _count(rule.dangerous_extra_days, at(where, "dangerous_extra_days"), MAX_LEAD_DAYS)
    for code in rule.preauthorised:
        found += _country(code, at(where, "preauthorised"))
    if len(set(rule.preauthorised)) != len(rule.preauthorised):
        found.append(Problem(at(where, "preauthorised"), "names a country twice"))
    return found + _source(rule.source, where)


def zone_problems(zone: Zone, where: str = "") -> list[Problem]:
    """What is wrong with a zone: a valid code and name, at least two known countries, a mode, a lead in range."""
    found = text.name_problems(at(where, "name"), zone.name)
    if not zone.name.strip():
        found.append(Problem(at(where, "name"), "must not be empty"))
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", zone.code):
        found.append(Problem(at(where, "code"), f"{zone.code!r} is not a valid code: use letters, digits, '.', "
                                                 "'_' or '-'"))
    for code in zone.countries:
        found += _country(code, at(where, "countries"))
    if len(set(zone.countries)) < 2:
        found.append(Problem(at(where, "countries"), "a zone joins at least two countries"))
    elif len(set(zone.countries)) != len(zone.countries):
        found.append(Problem(at(where, "countries"), "names a country twice"))
    found += _day(zone.starts, at(where, "starts"))
    if zone.lead_days is not None:
        found += _count(zone.lead_days, at(where, "lead_days"), MAX_LEAD_DAYS)
    if not zone.modes:
        found.append(Problem(at(where, "modes"), "a zone applies to at least one mode"))
    elif len(set(zone.modes)) != len(zone.modes):
        found.append(Problem(at(where, "modes"), "names a mode twice"))
    return found + _source(zone.source, where)


def _raise(found: Iterable[Problem]) -> None:
    problems = list(found)
    if problems:
        raise ValidationFailed(problems, code="invalid-network")


def set_leg(state: State, ctx: Context, leg: Leg) -> list[Event]:
    """Record a leg, or replace the one with the same ends and mode."""
    _raise(leg_problems(state, leg))
    return [ctx.event("LegSet", as_data(leg))]


def set_border_rule(state: State, ctx: Context, rule: BorderRule) -> list[Event]:
    """Record a border rule from its date on, or replace the one for the same country, mode and date."""
    _raise(rule_problems(rule))
    return [ctx.event("BorderRuleSet", as_data(rule))]


def declare_zone(state: State, ctx: Context, zone: Zone) -> list[Event]:
    """Record a mobility zone, or replace the one with the same code."""
    _raise(zone_problems(zone))
    return [ctx.event("ZoneDeclared", as_data(zone))]


def rules_in_force(state: State, on: date) -> list[BorderRule]:
    """For each country and mode, the latest rule whose date is `on` or earlier (a later one waits for its day)."""
    latest: dict[tuple[str, str], BorderRule] = {}
    for rule in sorted(state.border_rules.values(), key=lambda r: r.since):
        if rule.since <= on:
            latest[(rule.country, rule.mode.value)] = rule
    return [latest[k] for k in sorted(latest)]
