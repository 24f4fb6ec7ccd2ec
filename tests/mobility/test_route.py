"""Earliest-arrival routes: permissions on the granting country's working days, zones from their start day,
pre-authorisation, refusals; and, on random networks, the same ETA as an independent time-expanded search."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays
import networkx as nx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contactgroup.domain.errors import ValidationFailed
from contactgroup.mobility import (
    BorderRule,
    Leg,
    Mode,
    Network,
    NoRoute,
    Route,
    Router,
    Shipment,
    WorkingDays,
    Zone,
)
from tests.mobility.network_factory import leg, place

CALENDAR = WorkingDays()
NL_DE_PL = frozenset({"NLD", "DEU", "POL"})
# Rotterdam → (road) Venlo border → Duisburg → (rail) Frankfurt (Oder) → Świecko → Rzeszów hub; and a longer
# all-road way round through Czechia.
CORRIDOR = Network(
    (place("RTM", "NLD"), place("VENLO", "NLD"), place("DUI", "DEU"), place("FFO", "DEU"), place("SWI", "POL"),
     place("RZE-HUB", "POL"), place("CZ-HUB", "CZE")),
    (leg("RTM", "VENLO", 1), leg("VENLO", "DUI", 1), leg("DUI", "FFO", 2, Mode.RAIL), leg("FFO", "SWI", 0, Mode.RAIL),
     leg("SWI", "RZE-HUB", 2, Mode.RAIL), leg("DUI", "CZ-HUB", 3), leg("CZ-HUB", "RZE-HUB", 3)),
    (BorderRule("DEU", Mode.ROAD, lead_days=3, dangerous_extra_days=5),
     BorderRule("POL", Mode.RAIL, lead_days=10, preauthorised=frozenset({"USA"})),
     BorderRule("POL", Mode.ROAD, lead_days=4), BorderRule("CZE", Mode.ROAD, lead_days=2)))
MONDAY = date(2026, 3, 2)


def ship(leaves: date = MONDAY, nationality: str = "NLD", dangerous: bool = False, origin: str = "RTM",
         planned: date | None = None) -> Shipment:
    return Shipment("S-1", origin, "RZE-HUB", leaves, nationality, dangerous, planned)


def routed(network: Network, shipment: Shipment,
           refused: tuple[tuple[str, Mode], ...] | dict[tuple[str, Mode], date] = ()) -> Route:
    found = Router(network, CALENDAR).route(shipment, refused)
    assert isinstance(found, Route), found
    return found


def test_a_shipment_waits_at_each_border_until_its_permission_is_ready() -> None:
    found = routed(CORRIDOR, ship())
    # DEU road: 3 working days from Mon 2 March → Thu 5 March; reached Venlo on Tue 3 March, so waits 2 days.
    # POL road (via CZ) needs 4 days and CZE 2; POL rail: 10 working days → Mon 16 March; via Czechia:
    # CZ-HUB on 10 March, POL road ready Fri 6 March, RZE-HUB on 13 March: the road round wins.
    assert [(s.leg.to, s.departs, s.arrives) for s in found.steps] == [
        ("VENLO", MONDAY, date(2026, 3, 3)), ("DUI", date(2026, 3, 5), date(2026, 3, 6)),
        ("CZ-HUB", date(2026, 3, 6), date(2026, 3, 9)), ("RZE-HUB", date(2026, 3, 9), date(2026, 3, 12))]
    assert found.steps[1].waited == 2
    assert [(p.country, p.mode, p.lead_days, p.ready) for p in found.permissions] == [
        ("DEU", Mode.ROAD, 3, date(2026, 3, 5)), ("CZE", Mode.ROAD, 2, date(2026, 3, 4)),
        ("POL", Mode.ROAD, 4, date(2026, 3, 6))]
    assert found.eta == date(2026, 3, 12)


def test_ammunition_waits_longer_for_its_permission() -> None:
    found = routed(CORRIDOR, ship(dangerous=True))
    # DEU road for UN class 1: 3 + 5 = 8 working days from Mon 2 March → Thu 12 March.
    assert found.permissions[0].lead_days == 8
    assert found.steps[1].departs == date(2026, 3, 12)


def test_pre_authorised_and_own_nationals_need_no_permission() -> None:
    us = routed(CORRIDOR, ship(nationality="USA"))
    assert [p.country for p in us.permissions] == ["DEU"]  # POL rail pre-authorises US movements
    assert [s.leg.to for s in us.steps][-2:] == ["SWI", "RZE-HUB"]
    german = routed(CORRIDOR, ship(nationality="DEU", origin="DUI"))
    assert "DEU" not in {p.country for p in german.permissions}


def test_a_zone_removes_the_permission_from_its_start_day() -> None:
    zone = Zone("CORR", "North Sea–eastern flank corridor", NL_DE_PL, date(2026, 3, 4))
    found = routed(Network(CORRIDOR.places, CORRIDOR.legs, CORRIDOR.rules, (zone,)), ship())
    # The rail crossing into Poland now needs nothing; entering Germany waits for the zone's start (Wed 4 March,
    # a day before the permission would be ready).
    assert found.permissions == ()
    assert [(s.leg.to, s.departs, s.zone) for s in found.steps] == [
        ("VENLO", MONDAY, None), ("DUI", date(2026, 3, 4), "CORR"), ("FFO", date(2026, 3, 5), None),
        ("SWI", date(2026, 3, 7), "CORR"), ("RZE-HUB", date(2026, 3, 7), None)]
    assert found.eta == date(2026, 3, 9)


def test_a_zone_that_only_shortens_the_lead_time_still_asks_for_a_permission() -> None:
    zone = Zone("CORR", "corridor", NL_DE_PL, date(2026, 1, 1), lead_days=1)
    found = routed(Network(CORRIDOR.places, CORRIDOR.legs, CORRIDOR.rules, (zone,)), ship())
    assert [(p.country, p.lead_days, p.zone, p.ready) for p in found.permissions] == [
        ("DEU", 1, "CORR", date(2026, 3, 3)), ("POL", 1, "CORR", date(2026, 3, 3))]
    assert found.eta == date(2026, 3, 8)


def test_a_refused_permission_re_routes() -> None:
    found = routed(CORRIDOR, ship(nationality="USA"), refused=(("POL", Mode.RAIL),))
    # Pre-authorised rail needs no permission, so a refusal of rail permissions does not bar it.
    assert [s.leg.to for s in found.steps][-1:] == ["RZE-HUB"]
    rerouted = routed(CORRIDOR, ship(), refused=(("CZE", Mode.ROAD),))
    assert [s.leg.to for s in rerouted.steps] == ["VENLO", "DUI", "FFO", "SWI", "RZE-HUB"]
    assert rerouted.eta == date(2026, 3, 18)  # POL rail ready Mon 16 March, then 2 days


def test_a_refusal_with_no_other_route_waits_for_a_new_permission() -> None:
    # Every way from Rotterdam enters Germany by road. Refused on Wednesday 4 March, the permission is requested
    # again that day: 3 working days → Monday 9 March. The shipment waits at Venlo, the last place before the
    # border, from Tuesday 3 March; then as before (CZE and POL road permissions were ready long since).
    found = routed(CORRIDOR, ship(), refused={("DEU", Mode.ROAD): date(2026, 3, 4)})
    assert [(s.leg.to, s.departs, s.arrives) for s in found.steps] == [
        ("VENLO", MONDAY, date(2026, 3, 3)), ("DUI", date(2026, 3, 9), date(2026, 3, 10)),
        ("CZ-HUB", date(2026, 3, 10), date(2026, 3, 13)), ("RZE-HUB", date(2026, 3, 13), date(2026, 3, 16))]
    [(step, renewed)] = found.renewals()
    assert (step.leg.origin, step.reached, step.departs, step.waited) == ("VENLO", date(2026, 3, 3),
                                                                          date(2026, 3, 9), 6)
    assert (renewed.country, renewed.mode, renewed.refused_on, renewed.requested, renewed.ready) == (
        "DEU", Mode.ROAD, date(2026, 3, 4), date(2026, 3, 4), date(2026, 3, 9))
    assert [p.refused_on for p in found.permissions[1:]] == [None, None]
    # Given as pairs alone, a refusal is taken as made on the planning day (Monday 2 March: ready Thursday 5).
    assert routed(CORRIDOR, ship(), refused=(("DEU", Mode.ROAD),)).steps[1].departs == date(2026, 3, 5)


def test_a_refusal_re_routes_rather_than_waits_where_another_route_exists() -> None:
    # Refused by rail into Poland, and by road into Czechia: the way round through Czechia is barred too, so it
    # waits; refused only by road into Czechia, it goes by rail (test above), never waiting for Czechia.
    rerouted = routed(CORRIDOR, ship(), refused={("CZE", Mode.ROAD): MONDAY})
    assert rerouted.renewals() == ()
    both = routed(CORRIDOR, ship(), refused={("CZE", Mode.ROAD): MONDAY, ("POL", Mode.RAIL): MONDAY})
    assert [p.country for _, p in both.renewals()] == ["CZE"]  # CZE's 2 days beat POL rail's 10


def test_no_route_says_why() -> None:
    backwards = Router(CORRIDOR, CALENDAR).route(Shipment("S-2", "RZE-HUB", "RTM", MONDAY, "NLD"))
    assert isinstance(backwards, NoRoute) and backwards.reason == "no legs lead from RZE-HUB to RTM"


def test_a_bad_shipment_is_refused_naming_each_field() -> None:
    bad = Shipment("S-4", "LVIV", "RZE-HUB", date(3100, 1, 1), "XX")
    with pytest.raises(ValidationFailed) as refused:
        Router(CORRIDOR, CALENDAR).route(bad)
    assert [str(p) for p in refused.value.problems] == [
        "shipment.origin: unknown place 'LVIV'",
        "shipment.nationality: 'XX' is not an ISO 3166 alpha-3 country code",
        "shipment.leaves: must be between 1900-01-01 and 2999-12-31, got 3100-01-01"]


def test_a_shipment_already_at_its_destination_arrives_the_day_it_leaves() -> None:
    found = routed(CORRIDOR, Shipment("S-3", "RZE-HUB", "RZE-HUB", MONDAY, "NLD"))
    assert found.steps == () and found.eta == MONDAY


# --- against an independent computation -------------------------------------------------------------------------

COUNTRIES = ["NLD", "DEU", "POL", "ISR", "UKR"]
MODES = [Mode.ROAD, Mode.RAIL]
HORIZON = 150
# Leaving days next to Christmas, Easter 2026 (3-6 April), Polish 3 May and an ordinary week.
LEAVING = [date(2025, 12, 19), date(2025, 12, 23), date(2026, 4, 1), date(2026, 4, 30), date(2026, 6, 10)]


@functools.cache
def _holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=range(2025, 2028))


@functools.cache
def _ready(country: str, requested: date, lead: int) -> date:
    """Written apart from workday.py: step through the days, asking `holidays` directly."""
    calendar = _holidays(country)
    day = requested
    while lead > 0:
        day += timedelta(days=1)
        if day.weekday() not in calendar.weekend and day not in calendar:
            lead -= 1
    return day


Refused = dict[tuple[str, Mode], date]


def _may_cross(network: Network, leg: Leg, day: date, shipment: Shipment, refused: Refused, renew: bool) -> bool:
    """Whether a shipment may leave along `leg` on `day`, by the rules as docs/mobility.md states them: a refused
    permission bars the crossing, or with `renew` is asked for again on the day it was refused."""
    country = {p.code: p.country for p in network.places}
    a, b = country[leg.origin], country[leg.to]
    rule = next((r for r in network.rules if (r.country, r.mode) == (b, leg.mode)), None)
    if a == b or rule is None or not rule.permission or shipment.nationality in (*rule.preauthorised, b):
        return True
    requested = refused.get((b, leg.mode), shipment.planned or shipment.leaves)
    barred = (b, leg.mode) in refused and not renew
    lead = rule.lead_days + rule.dangerous_extra_days * shipment.dangerous
    allowed = not barred and day >= _ready(b, requested, lead)
    for zone in network.zones:
        if {a, b} <= zone.countries and leg.mode in zone.modes and day >= zone.starts:
            allowed |= zone.lead_days is None or (not barred and day >= _ready(b, requested, zone.lead_days))
    return allowed


def _earliest(network: Network, shipment: Shipment, refused: Refused) -> tuple[date | None, bool]:
    """The earliest arrival avoiding refused crossings, else with the refused permissions asked for again (and
    whether it was that), each in the time-expanded graph."""
    found = _expanded(network, shipment, refused, False)
    return (found, False) if found is not None or not refused else (_expanded(network, shipment, refused, True), True)


def _expanded(network: Network, shipment: Shipment, refused: Refused, renew: bool) -> date | None:
    """The earliest arrival in the time-expanded graph: a node per place and day, a waiting arc to the next day,
    and an arc per leg from each day a shipment may leave on it."""
    days = [shipment.leaves + timedelta(days=k) for k in range(HORIZON)]
    graph = nx.DiGraph()
    for p in network.places:
        graph.add_edges_from(((p.code, d), (p.code, d + timedelta(days=1))) for d in days[:-1])
    for leg_ in network.legs:
        graph.add_edges_from(((leg_.origin, d), (leg_.to, d + timedelta(days=leg_.transit_days)))
                             for d in days if _may_cross(network, leg_, d, shipment, refused, renew))
    reached = nx.descendants(graph, (shipment.origin, shipment.leaves)) | {(shipment.origin, shipment.leaves)}
    return min((d for code, d in reached if code == shipment.destination), default=None)


def _check_route(network: Network, found: Route, refused: Refused, renew: bool) -> None:
    """The route is one the rules allow: legs join up, none leaves early or crosses where it may not."""
    at, day = found.shipment.origin, found.shipment.leaves
    for step in found.steps:
        assert step.leg.origin == at and step.reached == day and step.departs >= day
        assert step.arrives == step.departs + timedelta(days=step.leg.transit_days)
        assert _may_cross(network, step.leg, step.departs, found.shipment, refused, renew)
        at, day = step.leg.to, step.arrives
    assert at == found.shipment.destination and found.eta == day
    for permission in found.permissions:
        assert permission.ready == _ready(permission.country, permission.requested, permission.lead_days)
        assert permission.refused_on == refused.get((permission.country, permission.mode))
        assert permission.refused_on is None or permission.requested == permission.refused_on


@st.composite
def cases(draw: st.DrawFn) -> tuple[Network, Shipment, Refused]:
    n = draw(st.integers(2, 7))
    # Drawn so that Hypothesis's simplest examples are its hardest: neighbours in different countries, long leads.
    places = tuple(place(f"P{i}", COUNTRIES[(i + draw(st.integers(0, 4))) % 5]) for i in range(n))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(MODES))
                          .filter(lambda t: t[0] != t[1]), min_size=n - 1, max_size=3 * n, unique=True))
    legs = tuple(leg(f"P{a}", f"P{b}", draw(st.integers(0, 3)), mode) for a, b, mode in pairs)
    rules = tuple(BorderRule(c, m, draw(st.sampled_from([True, True, True, False])), 6 - draw(st.integers(0, 6)),
                             4 - draw(st.integers(0, 4)),
                             frozenset(draw(st.lists(st.sampled_from(COUNTRIES), max_size=1))))
                  for c in COUNTRIES for m in MODES if draw(st.integers(0, 3)) < 3)
    leaves = draw(st.sampled_from(LEAVING))
    zones = tuple(Zone(f"Z{i}", f"zone {i}",
                       frozenset(COUNTRIES) - set(draw(st.lists(st.sampled_from(COUNTRIES), max_size=3))),
                       leaves + timedelta(days=draw(st.integers(-5, 15))), draw(st.none() | st.integers(0, 4)),
                       frozenset(draw(st.lists(st.sampled_from(MODES), min_size=1, unique=True))))
                  for i in range(2 - draw(st.integers(0, 2))))
    shipment = Shipment("S", "P0", f"P{draw(st.integers(1, n - 1))}", leaves,
                        draw(st.sampled_from(["USA", *COUNTRIES])), draw(st.booleans()),
                        leaves - timedelta(days=draw(st.integers(0, 4))))
    # Refusals of the crossings the legs make, up to a week either side of the planning day (a refusal after it:
    # planned before it was known), so that a refusal often bars a route.
    entered = sorted({(places[b].country, mode) for a, b, mode in pairs if places[a].country != places[b].country})
    refused = draw(st.dictionaries(st.sampled_from(entered or [("POL", Mode.ROAD)]),
                                   st.integers(-7, 7).map(lambda k: leaves + timedelta(days=k)), max_size=2))
    return Network(places, legs, rules, zones), shipment, refused


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_the_eta_is_the_earliest_arrival_of_an_independent_time_expanded_search(
        case: tuple[Network, Shipment, Refused]) -> None:
    network, shipment, refused = case
    found = Router(network, CALENDAR).route(shipment, refused)
    expected, renew = _earliest(network, shipment, refused)
    if expected is None:
        assert isinstance(found, NoRoute)
    else:
        assert isinstance(found, Route), found
        assert found.eta == expected
        _check_route(network, found, refused, renew)
        assert bool(found.renewals()) <= renew  # a refusal waits only where no other route exists
        event(f"waited at a border: {any(s.waited for s in found.steps)}; waited for a renewal: "
              f"{bool(found.renewals())}")
        zoned = any(s.zone for s in found.steps) or any(p.zone for p in found.permissions)
        event(f"permissions: {min(len(found.permissions), 2)}; zones used: {zoned}")
    event(f"routed: {expected is not None}")
