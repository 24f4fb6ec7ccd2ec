"""The transport network in the record: places with coordinates, legs, dated border rules and zones recorded as
events, read back from the tables as they were written, and handed to the pure core by `network_of`."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from contactgroup import mobility
from contactgroup.domain.errors import Forbidden, ValidationFailed
from contactgroup.domain.model import BorderRule, CapacityUnit, Category, Item, Leg, Mode, Place, PlaceKind, Zone
from contactgroup.services import coordination, place, transit
from contactgroup.services import mobility as svc
from contactgroup.services.allocation import problem_from_state
from contactgroup.services.verify import verify
from tests.factories import World, enter_offer

RTM = Place("RTM-PORT", "Port of Rotterdam", "NLD", PlaceKind.PORT, lat=Decimal("51.95"), lon=Decimal("4.14"),
            capacity=40, capacity_unit=CapacityUnit.SHIPMENTS, source="https://www.portofrotterdam.com")
RZE = Place("RZE-HUB", "Rzeszów logistics hub", "POL", PlaceKind.LOGISTICS_HUB, lat=Decimal("50.11"),
            lon=Decimal("22.02"), capacity=500, capacity_unit=CapacityUnit.TONNES)
LEG = Leg("RTM-PORT", "RZE-HUB", Mode.RAIL, 4, capacity=10, source="DB Cargo timetable")
OLD = BorderRule("POL", Mode.RAIL, date(2020, 1, 1), lead_days=10, dangerous_extra_days=5)
NEW = BorderRule("POL", Mode.RAIL, date(2024, 6, 1), lead_days=3, preauthorised=("DEU",))
SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # rules, not storage: one engine is enough
CORRIDOR = Zone("NL-DE-PL", "NL–DE–PL military corridor", ("NLD", "DEU", "POL"), date(2024, 1, 31))


@pytest.fixture
def network(world: World) -> World:
    for p in (RTM, RZE):
        world.do(place.define_place, "admin", p)
    world.do(svc.set_leg, "admin", LEG)
    world.do(svc.set_border_rule, "admin", OLD)
    world.do(svc.set_border_rule, "admin", NEW)
    world.do(svc.declare_zone, "admin", CORRIDOR)
    return world


class TestRecord:
    """On both engines: the tables hold decimals, dates and JSON lists of enums."""

    def test_the_network_reads_back_from_the_tables_as_recorded_and_verifies(self, network: World) -> None:
        state = network.db.state()
        assert place.listed(state) == [RTM, RZE]
        assert svc.legs(state) == [LEG] and svc.border_rules(state) == [OLD, NEW] and svc.zones(state) == [CORRIDOR]
        assert isinstance(svc.zones(state)[0].modes[0], Mode)  # a tuple of enums comes back as enums
        assert verify(network.db).ok


@SQLITE
class TestRules:
    def test_a_later_leg_for_the_same_ends_and_mode_replaces_it(self, network: World) -> None:
        network.do(svc.set_leg, "admin", dataclasses.replace(LEG, transit_days=6))
        assert [leg.transit_days for leg in svc.legs(network.db.state())] == [6]

    def test_a_desk_officer_may_not_change_the_network(self, network: World) -> None:
        with pytest.raises(Forbidden, match="network:define"):
            network.do(svc.set_leg, "deu", dataclasses.replace(LEG, transit_days=1))

    @pytest.mark.parametrize(("leg", "words"), [
        (dataclasses.replace(LEG, to="LVIV"), "to: unknown place 'LVIV'"),
        (dataclasses.replace(LEG, to="RTM-PORT"), "to: a leg cannot lead from 'RTM-PORT' to itself"),
        (dataclasses.replace(LEG, capacity=-1), "capacity: must be a whole number, 0 or more, got -1"),
        (dataclasses.replace(LEG, transit_days=400), "transit_days: must be at most 365"),
    ])
    def test_a_bad_leg_is_refused_and_nothing_is_written(self, network: World, leg: Leg, words: str) -> None:
        before = network.event_count()
        with pytest.raises(ValidationFailed, match=words):
            network.do(svc.set_leg, "admin", leg)
        assert network.event_count() == before

    def test_a_leg_needs_places_with_coordinates(self, network: World) -> None:
        network.do(place.define_place, "admin", Place("LVIV-HP", "Lviv", "UKR", PlaceKind.HANDOVER_POINT))
        with pytest.raises(ValidationFailed, match="place 'LVIV-HP' has no coordinates"):
            network.do(svc.set_leg, "admin", Leg("RZE-HUB", "LVIV-HP", Mode.ROAD, 1))

    def test_a_zone_with_an_unknown_country_is_refused(self, network: World) -> None:
        with pytest.raises(ValidationFailed, match="countries: 'XYZ' is not an ISO 3166 alpha-3"):
            network.do(svc.declare_zone, "admin", dataclasses.replace(CORRIDOR, countries=("NLD", "XYZ")))

    def test_a_place_with_one_coordinate_or_out_of_range_is_refused(self, world: World) -> None:
        with pytest.raises(ValidationFailed) as caught:
            world.do(place.define_place, "admin", dataclasses.replace(RTM, lon=None, lat=Decimal(91)))
        assert {p.where for p in caught.value.problems} == {"lon", "lat"}

    def test_a_coordinate_written_past_a_millimetre_is_refused(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="lat: at most 8 decimals"):
            world.do(place.define_place, "admin", dataclasses.replace(RTM, lat=Decimal("51." + "1" * 60)))


@SQLITE
class TestNetworkOf:
    def test_the_rule_in_force_on_the_day_is_the_latest_before_it(self, network: World) -> None:
        state = network.db.state()
        before, after = svc.network_of(state, date(2024, 5, 31)), svc.network_of(state, date(2024, 6, 1))
        assert [r.lead_days for r in before.rules] == [10] and [r.lead_days for r in after.rules] == [3]
        assert after.rules[0].preauthorised == frozenset({"DEU"})
        assert svc.network_of(state, date(2019, 12, 31)).rules == ()

    def test_it_is_the_pure_cores_network_and_routes(self, network: World) -> None:
        net = svc.network_of(network.db.state(), date(2024, 3, 1))
        assert mobility.validate(net) == []
        assert net.places[0] == mobility.Place("RTM-PORT", "Port of Rotterdam", "NLD", PlaceKind.PORT, 51.95, 4.14,
                                               mobility.Capacity(40, CapacityUnit.SHIPMENTS))
        assert net.zones[0].countries == frozenset({"NLD", "DEU", "POL"})
        route = mobility.Router(net).route(mobility.Shipment("S1", "RTM-PORT", "RZE-HUB", date(2024, 3, 1), "NLD"))
        assert isinstance(route, mobility.Route) and route.eta == date(2024, 3, 5)  # the corridor waives POL's rule

    def test_places_without_coordinates_are_left_out(self, network: World) -> None:
        network.do(place.define_place, "admin", Place("LVIV-HP", "Lviv", "UKR", PlaceKind.HANDOVER_POINT))
        assert [p.code for p in svc.network_of(network.db.state(), date(2024, 3, 1)).places] == ["RTM-PORT",
                                                                                                   "RZE-HUB"]


@SQLITE
class TestItemsAndOffers:
    def test_an_offer_may_ship_from_a_place_and_allocation_counts_transit_from_its_country(
            self, network: World) -> None:
        network.do(transit.set_transit, "admin", "NLD", "UKR", 6)
        offer = enter_offer(network, depot="RTM-PORT")
        assert network.db.state().offers[offer].depot == "RTM-PORT"
        problem = problem_from_state(network.db.state())
        assert [o.origin for o in problem.offers if o.id == offer] == ["NLD"]

    def test_an_offer_depot_that_is_neither_country_nor_place_is_refused(self, network: World) -> None:
        with pytest.raises(ValidationFailed, match="'NOWHERE' is neither an ISO 3166 alpha-3 country code nor"):
            enter_offer(network, depot="NOWHERE")

    def test_an_item_carries_its_mass_and_un_class_and_class_1_is_explosive(self, world: World) -> None:
        shell = Item("155-he", "155 mm HE round", Category.MILITARY, "round", mass_kg=Decimal("46.5"),
                     hazard_class="1.1")
        world.do(coordination.catalogue_item, "admin", shell)
        assert world.db.state().items["155-he"] == shell and shell.explosive
        assert not dataclasses.replace(shell, hazard_class="2.1").explosive

    @pytest.mark.parametrize(("changes", "words"), [
        ({"hazard_class": "1.9"}, "hazard_class: '1.9' is not a UN dangerous goods class"),
        ({"mass_kg": Decimal(0)}, "mass_kg: must be a positive mass in kg"),
        ({"mass_kg": Decimal("1.0001")}, "mass_kg: must be a positive mass in kg .* at most 3 decimals"),
    ])
    def test_a_bad_mass_or_hazard_class_is_refused(self, world: World, changes: dict[str, object],
                                                   words: str) -> None:
        with pytest.raises(ValidationFailed, match=words):
            world.do(coordination.catalogue_item, "admin",
                     dataclasses.replace(Item("x-1", "X", Category.MILITARY, "each"), **changes))


def test_the_records_bounds_are_the_cores() -> None:
    from contactgroup.domain import network as record
    from contactgroup.mobility import network as core

    assert (record.MAX_TRANSIT_DAYS, record.MAX_LEAD_DAYS, record.MAX_CAPACITY) == (
        core.MAX_TRANSIT_DAYS, core.MAX_LEAD_DAYS, core.MAX_CAPACITY)
