"""Open shipments from the record, routed on the network, and what a zone saves them: on a plain `State` and the
Rotterdam–Rzeszów corridor of tests/mobility/test_route.py (every figure is worked out there and in
tests/mobility/test_compare.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from contactgroup.domain.errors import Forbidden, InvalidTransition, ValidationFailed
from contactgroup.domain.model import (
    Allocation,
    AllocationStatus,
    Category,
    Delivery,
    DeliveryStatus,
    Fund,
    Item,
    MovementPermission,
    Offer,
    OfferStatus,
    PermissionStatus,
    Requirement,
    RequirementStatus,
    Role,
    Source,
    TransitTime,
    User,
    Visibility,
)
from contactgroup.domain.state import State
from contactgroup.mobility import BorderRule, Mode, Network, PlaceKind, Route
from contactgroup.reports.gaps import gaps
from contactgroup.services import coordination as svc
from contactgroup.services import movement, queries
from contactgroup.services.transit import set_transit
from contactgroup.services.verify import verify
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement
from tests.mobility.network_factory import leg, place
from tests.mobility.test_route import CALENDAR, CORRIDOR, MONDAY

NLD_DESK = User("nld", "NLD", Role.DESK_OFFICER)


def offer(ident: str, member: str, depot: str, quantity: int = 100) -> Offer:
    return Offer(ident, member, "fuel", quantity, MONDAY, depot, Source.STOCKS, OfferStatus.ALLOCATED,
                 Visibility.MEMBER)


def requirement(ident: str, priority: int, needed_by: date, destination: str = "RZE-HUB") -> Requirement:
    return Requirement(ident, "fuel", 1000, priority, needed_by, destination, "logistics", RequirementStatus.OPEN)


def allocation(ident: str, offer_id: str, req: str, quantity: int,
               status: AllocationStatus = AllocationStatus.CONFIRMED) -> Allocation:
    return Allocation(ident, offer_id, req, quantity, status, MONDAY)


@pytest.fixture
def state() -> State:
    s = State()
    s.put(Item("fuel", "Diesel", Category.MILITARY, "m3"))
    s.put(Fund("FUEL", "Fuel initiative", "DEU", "logistics"))
    for r in (requirement("R1", 2, date(2026, 3, 12)), requirement("R2", 2, date(2026, 3, 5)),
              requirement("R3", 1, date(2026, 3, 20), destination="UKR-West")):
        s.put(r)
    s.put(offer("O1", "NLD", "RTM"))
    s.put(offer("O2", "FUEL", "DUI"))  # a fund's offer, moved by its managing member: Germany
    s.put(offer("O3", "FRA", "FRA"))  # a depot that is only a country
    s.put(allocation("A1", "O1", "R1", 40))
    s.put(allocation("A2", "O2", "R2", 30))
    s.put(allocation("A3", "O3", "R3", 5))
    s.put(allocation("A4", "O1", "R2", 60, AllocationStatus.PROPOSED))  # not confirmed: not a shipment yet
    # Of A2's 30 units, 10 left Duisburg on Monday and are under way; 20 have not left.
    s.put(Delivery("D1", "A2", 10, DeliveryStatus.DISPATCHED, MONDAY))
    return s


def test_open_shipments_are_undispatched_units_and_deliveries_under_way(state: State) -> None:
    found = movement.open_shipments(state, MONDAY)
    assert [(s.id, s.units, s.dispatched, s.nationality, s.member) for s in found] == [
        ("A3", 5, False, "FRA", "FRA"), ("A2", 20, False, "DEU", "FUEL"), ("D1", 10, True, "DEU", "FUEL"),
        ("A1", 40, False, "NLD", "NLD")]


def test_a_received_delivery_is_no_longer_open(state: State) -> None:
    state.put(Delivery("D1", "A2", 10, DeliveryStatus.RECEIVED, MONDAY, MONDAY, 10))
    assert "D1" not in [s.id for s in movement.open_shipments(state, MONDAY)]


def test_the_zone_saves_days_for_the_shipments_on_the_network(state: State) -> None:
    found = movement.compare_zone(state, CORRIDOR, NLD_DESK, ["NLD", "DEU", "POL"], MONDAY,
                                  starts=date(2026, 3, 4), calendar=CALENDAR)
    # A1 (NL fuel from Rotterdam): 12 March without the zone, 9 March with it (test_compare's NL-FUEL).
    # A2 and D1 (German, from Duisburg, leaving Monday): 10 March by road round Czechia without, 6 March by rail
    # through Świecko with it (test_compare's DE-SPARES). A3's depot is a country: not routed.
    assert [(s.id, s.eta_without, s.eta_with, s.days_saved) for s in found.comparison.savings] == [
        ("A2", date(2026, 3, 10), date(2026, 3, 6), 4), ("D1", date(2026, 3, 10), date(2026, 3, 6), 4),
        ("A1", date(2026, 3, 12), date(2026, 3, 9), 3)]
    assert [(u.shipment.id, u.reason) for u in found.unplaced] == [
        ("A3", "depot 'FRA' and destination 'UKR-West' are not places of the network")]
    # Priority 2, needed by 5 March (A2, D1): 5 days late each without, 1 with; A1 on time both ways (12 March).
    tier = found.comparison.tiers[2]
    assert (tier.days_saved, tier.late_days_without, tier.late_days_with) == (11, 10, 2)
    assert found.comparison.members["FUEL"].days_saved == 8
    # The Dutch desk sees its own shipment by id; the fund's and France's are counted, not listed.
    assert found.seen == {"A1"} and found.hidden == 3


def test_the_networks_own_zone_is_compared_and_left_out_without(state: State) -> None:
    from contactgroup.mobility import Zone

    own = Zone("CORRIDOR", "NL–DE–PL corridor", frozenset({"NLD", "DEU", "POL"}), date(2026, 3, 4))
    found = movement.compare_zone(state, replace(CORRIDOR, zones=(own,)), NLD_DESK, ["POL", "DEU", "NLD"], MONDAY,
                                  calendar=CALENDAR)
    assert found.comparison.zone == own
    assert found.comparison.total.days_saved == 11


@pytest.mark.parametrize(("text", "message"), [
    ("NLD,XYZ,POL", "zone: 'XYZ' is not an ISO 3166 alpha-3 country code"),
    ("NLD,Germany", "zone: 'GERMANY' is not an ISO 3166 alpha-3 country code"),
    ("NLD,nld", "zone: a zone joins at least two countries"),
    ("", "zone: a zone joins at least two countries"),
])
def test_a_zone_with_an_unknown_country_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        movement.zone_countries(text)
    assert message in str(caught.value) and caught.value.code == "invalid-zone"


def test_a_record_without_places_leaves_the_flat_transit_table_to_answer() -> None:
    assert movement.known_network(State(), MONDAY) is None


def test_the_allocation_problem_takes_arrival_days_from_the_routes(state: State) -> None:
    from contactgroup.services.allocation import problem_from_state

    state.put(requirement("R4", 3, date(2026, 4, 1)))  # open, so that the problem holds RZE-HUB and UKR-West
    plain = problem_from_state(state)
    routed = problem_from_state(state, network=CORRIDOR)
    assert plain.route_days == {} and routed.transit_days == plain.transit_days
    # From Monday 2 March: Rotterdam → Rzeszów hub 10 days (12 March), Duisburg → 8 days (by road round Czechia,
    # 10 March, moved by Germany: no German permission). France's depot is a country: the flat table answers.
    assert routed.route_days == {("O1", "RZE-HUB"): 10, ("O2", "RZE-HUB"): 8}


def test_late_shipments_by_route_and_by_the_flat_table(state: State) -> None:
    # On the corridor: A2 and D1 arrive on 10 March, 5 days after R2's 5 March; A1 arrives on its day (12 March).
    # A3 (France, no route) leaves Monday 2 March with 0 recorded transit days: on time for 20 March.
    late = movement.late_shipments(state, CORRIDOR, MONDAY)
    assert [(x.shipment.id, x.eta, x.days, x.routed) for x in late] == [
        ("A2", date(2026, 3, 10), 5, True), ("D1", date(2026, 3, 10), 5, True)]
    assert movement.late_by_requirement(state, CORRIDOR, MONDAY) == {"R2": (30, date(2026, 3, 10), "")}
    # Without a network every shipment takes the flat table; 40 transit days from France make A3 late.
    state.put(TransitTime("FRA", "UKR-West", 40))
    assert [(x.shipment.id, x.eta, x.routed) for x in movement.late_shipments(state, None, MONDAY)] == [
        ("A3", date(2026, 4, 11), False)]


def test_gaps_flag_confirmed_units_arriving_late(state: State) -> None:
    state.put(requirement("R5", 3, date(2026, 3, 5)))
    state.put(replace(state.requirements["R5"], quantity=10))
    state.put(allocation("A5", "O1", "R5", 10))  # R5 is fully confirmed, but arrives on 12 March
    rows = {r.requirement: r for r in gaps(state, None, late=movement.late_by_requirement(state, CORRIDOR, MONDAY))}
    assert (rows["R2"].missing, rows["R2"].late, rows["R2"].eta) == (970, 30, date(2026, 3, 10))
    assert "30 confirmed units expected after the needed-by date (latest 2026-03-10)" in rows["R2"].detail
    assert (rows["R5"].missing, rows["R5"].late, rows["R5"].reason) == (0, 10, "arriving_late")
    assert "R5" not in {r.requirement for r in gaps(state, None)}  # without ETAs it is not a gap


def test_a_refusal_with_no_way_round_waits_and_the_gaps_say_where(state: State) -> None:
    # Every way from Rotterdam enters Germany by road. Germany refused A1's permission on Wednesday 4 March: it is
    # asked again that day, 3 working days → Monday 9 March; A1 waits at Venlo from Tuesday 3 March, then via
    # Czechia (tests/mobility/test_route.py): Rzeszów Monday 16 March, 4 days after R1's 12 March (on time before).
    state.put(MovementPermission("A1/DEU/road", "A1", "DEU", "road", PermissionStatus.REFUSED, MONDAY,
                                 date(2026, 3, 5), date(2026, 3, 4), "convoy rules"))
    [late] = [x for x in movement.late_shipments(state, CORRIDOR, MONDAY) if x.shipment.id == "A1"]
    why = "waits at Venlo for a new DEU permission: refused 4 March, new request ready 9 March"
    assert (late.eta, late.days, late.routed, late.reason) == (date(2026, 3, 16), 4, True, why)
    rows = {r.requirement: r for r in gaps(state, None, late=movement.late_by_requirement(state, CORRIDOR, MONDAY))}
    assert f"40 confirmed units expected after the needed-by date (latest 2026-03-16: {why})" in rows["R1"].detail
    # Needed a week later, it is on time, and still waits at Venlo: its desk is told (the inbox's "WAITS: ...").
    state.put(replace(state.requirements["R1"], needed_by=date(2026, 3, 19)))
    assert "A1" not in {x.shipment.id for x in movement.late_shipments(state, CORRIDOR, MONDAY)}
    assert movement.waiting_for_permission(state, CORRIDOR, MONDAY) == {"A1": why}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_inbox_flags_a_shipment_that_will_arrive_late(world: World) -> None:
    allocated = confirmed_allocation(world, enter_offer(world, "deu"), open_requirement(world, 100), 60)
    who = world.db.state().users["deu"]
    # Available 1 August, needed by 1 September: on time with no transit days recorded ...
    [entry] = [e for e in queries.inbox(world.db.state(), who, world.clock.at).entries if e.id == allocated]
    assert "LATE" not in entry.detail
    world.do(set_transit, "admin", "DEU", "UKR-West", 45)  # ... and 14 days late with 45
    [entry] = [e for e in queries.inbox(world.db.state(), who, world.clock.at).entries if e.id == allocated]
    assert entry.detail.endswith("; LATE: expected 2024-09-15, 14 days after its needed-by date 2024-09-01")


# The world's offers ship from DEU to UKR-West: a network whose places bear those codes routes them. Through
# Poland (a Polish road permission, 3 working days) it takes 3 days; round through Slovakia, 7.
DETOUR = Network(
    (place("DEU", "DEU"), place("PL-HUB", "POL", PlaceKind.LOGISTICS_HUB), place("SK-HUB", "SVK"),
     place("UKR-West", "UKR")),
    (leg("DEU", "PL-HUB", 2), leg("PL-HUB", "UKR-West", 1), leg("DEU", "SK-HUB", 4), leg("SK-HUB", "UKR-West", 3)),
    (BorderRule("POL", Mode.ROAD, lead_days=3), BorderRule("SVK", Mode.ROAD, lead_days=1),
     BorderRule("UKR", Mode.ROAD, permission=False)))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_permissions_requested_refused_and_the_plan_goes_round(world: World) -> None:
    world.do(svc.register_user, "admin", User("pol", "POL", Role.DESK_OFFICER))
    allocated = confirmed_allocation(world, enter_offer(world, "deu"), open_requirement(world, 100), 60)
    # Requested on Monday 1 July 2024 (the clock), ready Thursday 4 July; it leaves when available, 1 August.
    [asked] = world.do(movement.request_permissions, "deu", allocated, DETOUR)
    assert (asked.key, asked.status, asked.requested_on, asked.ready) == (
        f"{allocated}/POL/road", PermissionStatus.REQUESTED, date(2024, 7, 1), date(2024, 7, 4))
    assert world.do(movement.request_permissions, "deu", allocated, DETOUR) == []  # asked once only
    with pytest.raises(Forbidden):  # only Poland's desk decides on entering Poland
        world.do(movement.decide_permission, "deu", asked.key, True)
    refused = world.do(movement.decide_permission, "pol", asked.key, False, "convoy rules")
    assert (refused.status, refused.decided_on, refused.reason) == (PermissionStatus.REFUSED, date(2024, 7, 1),
                                                                    "convoy rules")
    with pytest.raises(InvalidTransition):
        world.do(movement.decide_permission, "pol", asked.key, True)
    state, deu = world.db.state(), world.db.state().users["deu"]
    route = movement.route_of(state, DETOUR, deu, allocated, date(2024, 7, 1))
    assert isinstance(route, Route)
    assert [s.leg.to for s in route.steps] == ["SK-HUB", "UKR-West"] and route.eta == date(2024, 8, 8)
    [again] = world.do(movement.request_permissions, "deu", allocated, DETOUR)
    assert again.key == f"{allocated}/SVK/road"
    assert verify(world.db).ok  # the new tables are what the log says


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_shipment_under_way_is_planned_from_the_last_place_it_reached(world: World) -> None:
    allocated = confirmed_allocation(world, enter_offer(world, "deu"), open_requirement(world, 100), 60)
    world.clock.at = world.clock.at.replace(month=8, day=10)
    d = world.do(svc.dispatch, "deu", allocation=allocated, quantity=60, dispatched_on=date(2024, 8, 1))
    before = world.event_count()
    with pytest.raises(ValidationFailed) as caught:
        world.do(movement.record_position, "deu", d.id, "ODESSA", date(2024, 7, 30), DETOUR)
    assert [str(p) for p in caught.value.problems] == [
        "place: unknown place 'ODESSA': not a place of the network",
        "on: 2024-07-30 is before 2024-08-01, when it left its last place"]
    with pytest.raises(ValidationFailed, match="on: 2024-08-11 is in the future"):
        world.do(movement.record_position, "deu", d.id, "SK-HUB", date(2024, 8, 11), DETOUR)
    assert world.event_count() == before  # nothing written
    world.do(movement.record_position, "deu", d.id, "SK-HUB", date(2024, 8, 6), DETOUR)
    state = world.db.state()
    [under_way] = [s for s in movement.open_shipments(state, date(2024, 8, 6)) if s.id == d.id]
    assert (under_way.origin, under_way.leaves) == ("SK-HUB", date(2024, 8, 6))
    route = movement.route_of(state, DETOUR, state.users["deu"], d.id, date(2024, 8, 6))
    assert isinstance(route, Route) and route.eta == date(2024, 8, 9)  # SK-HUB → UKR-West, 3 days


# Entering the recipient needs its clearance: the recipient is no member and has no desk, so its liaison decides.
INTO_UKRAINE = Network(
    (place("DEU", "DEU"), place("UKR-West", "UKR")), (leg("DEU", "UKR-West", 2),),
    (BorderRule("UKR", Mode.ROAD, lead_days=2),))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_recipients_liaison_decides_on_entering_the_recipient_and_nowhere_else(world: World) -> None:
    world.do(svc.register_user, "admin", User("pol", "POL", Role.DESK_OFFICER))
    allocated = confirmed_allocation(world, enter_offer(world, "deu"), open_requirement(world, 100), 60)
    [into] = world.do(movement.request_permissions, "deu", allocated, INTO_UKRAINE)
    assert into.key == f"{allocated}/UKR/road"
    state = world.db.state()
    assert into.key in {p.key for p in movement.visible_permissions(state, state.users["ukr"])}  # asked of it
    with pytest.raises(Forbidden):  # no member's desk decides for the recipient
        world.do(movement.decide_permission, "pol", into.key, True)
    assert world.do(movement.decide_permission, "ukr", into.key, True).status is PermissionStatus.GRANTED
    [through] = world.do(movement.request_permissions, "deu", confirmed_allocation(
        world, enter_offer(world, "deu"), open_requirement(world, 100), 60), DETOUR)
    with pytest.raises(Forbidden, match="decides only on entering UKR"):  # Poland's own crossing is Poland's
        world.do(movement.decide_permission, "ukr", through.key, True)
