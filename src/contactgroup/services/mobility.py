"""The transport network of the record: legs, border rules and mobility zones recorded by the coordinator, and
`network_of`, the pure core's `mobility.Network` built from the record for routing and scheduling."""

from __future__ import annotations

from datetime import date

from contactgroup import mobility
from contactgroup.domain import network as rules
from contactgroup.domain.model import BorderRule, CapacityUnit, Leg, Place, Zone
from contactgroup.domain.state import State
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

ACTION = "network:define"


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
