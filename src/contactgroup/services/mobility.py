"""The transport network of the record: legs, border rules and mobility zones recorded by the coordinator, and
`network_of`, the pure core's `mobility.Network` built from the record for routing and scheduling."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from contactgroup import mobility
from contactgroup.domain import network as rules
from contactgroup.domain import place as places
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.model import BorderRule, CapacityUnit, Leg, Place, Zone
from contactgroup.domain.state import State
from contactgroup.io import network as files
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

ACTION = "network:define"
PLACE_ACTION = "place:define"  # an import defines places as `place add` does


def _capacity(amount: int | None, unit: CapacityUnit) -> mobility.Capacity | None:
    return None if amount is None else mobility.Capacity(amount, unit)


def _place(place: Place) -> mobility.Place:
    assert place.lat is not None and place.lon is not None  # only places with coordinates are taken
    return mobility.Place(place.code, place.name, place.country, place.kind, float(place.lat), float(place.lon),
                          _capacity(place.capacity, place.capacity_unit))


def network_of(state: State, on: date) -> mobility.Network:
    """The network as the pure core reads it on day `on`: every place with coordinates (a place without them, an
    older handover point, no leg can use), every leg, for each country and mode the border rule in force on `on`,
    and every zone (the router itself lets a zone apply from its start day on)."""
    places = tuple(_place(p) for _, p in sorted(state.places.items()) if p.lat is not None)
    legs = tuple(mobility.Leg(leg.origin, leg.to, leg.mode, leg.transit_days,
                              _capacity(leg.capacity, leg.capacity_unit))
                 for _, leg in sorted(state.legs.items()))
    in_force = tuple(mobility.BorderRule(r.country, r.mode, r.permission, r.lead_days, r.dangerous_extra_days,
                                         frozenset(r.preauthorised))
                     for r in rules.rules_in_force(state, on))
    zones = tuple(mobility.Zone(z.code, z.name, frozenset(z.countries), z.starts, z.lead_days, frozenset(z.modes))
                  for _, z in sorted(state.zones.items()))
    return mobility.Network(places, legs, in_force, zones)


def legs(state: State) -> list[Leg]:
    """Every leg, by origin, end and mode (the network is public: every user sees it)."""
    return [leg for _, leg in sorted(state.legs.items())]


def border_rules(state: State) -> list[BorderRule]:
    """Every border rule, by country, mode and date (earlier ones stay: each was in force until the next)."""
    return [rule for _, rule in sorted(state.border_rules.items())]


def zones(state: State) -> list[Zone]:
    return [zone for _, zone in sorted(state.zones.items())]


def set_leg(uow: UnitOfWork, caller: svc.Caller, leg: Leg) -> Leg:
    """Record a leg, replacing the one with the same ends and mode (coordinator)."""
    ctx = svc.authorized(uow, caller, ACTION)
    svc.record_events(uow, rules.set_leg(uow.state, ctx, leg))
    return leg


def set_border_rule(uow: UnitOfWork, caller: svc.Caller, rule: BorderRule) -> BorderRule:
    """Record a border rule from its date on (coordinator)."""
    ctx = svc.authorized(uow, caller, ACTION)
    svc.record_events(uow, rules.set_border_rule(uow.state, ctx, rule))
    return rule


def declare_zone(uow: UnitOfWork, caller: svc.Caller, zone: Zone) -> Zone:
    """Record a mobility zone, replacing the one with the same code (coordinator)."""
    ctx = svc.authorized(uow, caller, ACTION)
    svc.record_events(uow, rules.declare_zone(uow.state, ctx, zone))
    return zone


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import recorded per table, and how many of its rows the record already held as they are."""

    recorded: dict[str, int]
    unchanged: int
    ignored: tuple[str, ...]


def _checked(found: list[Problem], rows: Sequence[tuple[str, Any]], key: Callable[[Any], str],
             check: Callable[[str, Any], list[Problem]]) -> list[Any]:
    """The rows without findings; the findings of the others into `found`, a row repeating another's key too."""
    first: dict[str, str] = {}
    good = []
    for where, value in rows:
        bad = check(where, value)
        if not bad and key(value) in first:
            bad = [Problem(f"{where}, column (row)", f"repeats {first[key(value)]} ({key(value)})")]
        first.setdefault(key(value), where)
        found += bad
        if not bad:
            good.append(value)
    return good


def _place_check(state: State, where: str, place: Place) -> list[Problem]:
    found = places.place_problems(state, place, where)
    held = state.places.get(place.code)
    if not found and held is not None and held != place:
        found.append(Problem(rules.at(where, "code"), f"place {place.code} is already defined with other facts; a "
                                                      "place is defined once"))
    return found


def import_network(uow: UnitOfWork, caller: svc.Caller, paths: Iterable[Path]) -> Imported:
    """Record the places, legs, border rules and zones of CSV files or XLSX workbooks, or nothing if any row is bad
    (every bad cell is reported by file, row and column). Rows the record already holds as they are are skipped."""
    svc.authorized(uow, caller, PLACE_ACTION)  # refuse before reading: a refusal costs nothing
    svc.authorized(uow, caller, ACTION)
    read = files.read(paths)
    state = uow.state
    found = list(read.problems)
    new_places = _checked(found, read.places, lambda p: p.code, lambda w, p: _place_check(state, w, p))
    known = {p.code: p for p in new_places}
    new_legs = _checked(found, read.legs, lambda g: f"{g.origin} > {g.to} by {g.mode.value}",
                        lambda w, g: rules.leg_problems(state, g, w, known))
    new_rules = _checked(found, read.rules, lambda r: f"{r.country} by {r.mode.value} from {r.since}",
                         lambda w, r: rules.rule_problems(r, w))
    new_zones = _checked(found, read.zones, lambda z: z.code, lambda w, z: rules.zone_problems(z, w))
    if found:
        raise ValidationFailed(found, code="invalid-network")
    held: list[tuple[dict[Any, Any], list[Any], Callable[[Any], Any]]] = [
        (state.places, new_places, lambda p: p.code),
        (state.legs, new_legs, lambda g: (g.origin, g.to, g.mode)),
        (state.border_rules, new_rules, lambda r: (r.country, r.mode, r.since)),
        (state.zones, new_zones, lambda z: z.code),
    ]
    changed = [[v for v in values if table.get(key(v)) != v] for table, values, key in held]
    unchanged = sum(len(values) for _, values, _ in held) - sum(len(c) for c in changed)
    ctx = svc.authorized(uow, caller, PLACE_ACTION)
    for place in changed[0]:
        svc.record_events(uow, places.define_place(uow.state, ctx, place))
    ctx = svc.authorized(uow, caller, ACTION)
    for leg in changed[1]:
        svc.record_events(uow, rules.set_leg(uow.state, ctx, leg))
    for rule in changed[2]:
        svc.record_events(uow, rules.set_border_rule(uow.state, ctx, rule))
    for zone in changed[3]:
        svc.record_events(uow, rules.declare_zone(uow.state, ctx, zone))
    recorded = dict(zip(("places", "legs", "rules", "zones"), (len(c) for c in changed), strict=True))
    return Imported(recorded, unchanged, tuple(read.ignored))


def export_network(state: State, path: Path, fmt: str) -> list[Path]:
    """Write the network as `read` reads it back: `csv`, four files in the directory `path`; `xlsx`, one workbook
    of four sheets."""
    return write_network(path, fmt, places.sorted_places(state), legs(state), border_rules(state), zones(state))


def write_network(path: Path, fmt: str, places_: Iterable[Place], legs_: Iterable[Leg],
                  rules_: Iterable[BorderRule], zones_: Iterable[Zone]) -> list[Path]:
    """`export_network` of the four tables however they were read (a server's lists): each in the record's order."""
    tables = files.tables(sorted(places_, key=lambda p: p.code),
                          sorted(legs_, key=lambda leg: (leg.origin, leg.to, leg.mode)),
                          sorted(rules_, key=lambda rule: (rule.country, rule.mode, rule.since)),
                          sorted(zones_, key=lambda zone: zone.code))
    if fmt == "csv":
        return files.write_csv(path, tables)
    files.write_xlsx(path, tables)
    return [path]


def load_reference(uow: UnitOfWork, caller: svc.Caller) -> Imported:
    """Record the reference network shipped with the package (real places, legs, border rules and the NL-DE-PL
    corridor, each row citing its source), as `network import` would."""
    return import_network(uow, caller, files.reference_paths())
