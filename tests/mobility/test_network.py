"""A network is refused as a whole, with every bad row named by its table, row number and field."""

from __future__ import annotations

from datetime import date

import pytest

from contactgroup.domain.errors import ValidationFailed
from contactgroup.mobility import BorderRule, Capacity, Mode, Network, Router, Unit, Zone, check, validate
from tests.mobility.network_factory import leg, place

PLACES = (place("RTM", "NLD"), place("DUI", "DEU"), place("RZE", "POL"))


def findings(network: Network) -> list[str]:
    return [str(p) for p in validate(network)]


def test_a_sound_network_has_no_findings() -> None:
    network = Network(PLACES, (leg("RTM", "DUI", 1), leg("DUI", "RZE", 2, Mode.RAIL, Capacity(400, Unit.TONNES))),
                      (BorderRule("POL", Mode.RAIL, lead_days=5),),
                      (Zone("CORR", "North Sea–eastern flank", frozenset({"NLD", "DEU", "POL"}), date(2026, 1, 1)),))
    assert validate(network) == []
    check(network)


def test_a_leg_to_an_unknown_place_is_named_by_row_and_field() -> None:
    assert findings(Network(PLACES, (leg("RTM", "DUI", 1), leg("DUI", "LVIV", 2)))) == [
        "legs[1].to: unknown place 'LVIV'"]


def test_a_leg_from_a_place_to_itself_is_refused() -> None:
    assert findings(Network(PLACES, (leg("DUI", "DUI", 0),))) == [
        "legs[0].to: a leg cannot lead from 'DUI' to itself"]


def test_a_negative_capacity_is_refused_on_a_place_and_on_a_leg() -> None:
    hub = place("RZE-HUB", "POL", capacity=Capacity(-3))
    assert findings(Network((*PLACES, hub), (leg("RZE", "RZE-HUB", 1, capacity=Capacity(-1, Unit.TONNES)),))) == [
        "places[3].capacity: must be a non-negative whole number, got -3",
        "legs[0].capacity: must be a non-negative whole number, got -1"]


def test_a_zone_with_an_unknown_country_is_refused() -> None:
    zone = Zone("CORR", "corridor", frozenset({"NLD", "DEU", "XYZ"}), date(2026, 1, 1))
    assert findings(Network(PLACES, (), (), (zone,))) == [
        "zones[0].countries: 'XYZ' is not an ISO 3166 alpha-3 country code"]


def test_other_bad_rows_are_all_found_in_one_pass() -> None:
    network = Network(
        (*PLACES, place("RTM", "nl"), place("bad code", "DEU")),
        (leg("RTM", "DUI", -1), leg("RTM", "DUI", 2)),
        (BorderRule("POL", Mode.RAIL, lead_days=-2, preauthorised=frozenset({"ZZZ"})),),
        (Zone("ONE", "one country", frozenset({"POL"}), date(2026, 1, 1), lead_days=-1, modes=frozenset()),))
    assert findings(network) == [
        "places[3].country: 'nl' is not an ISO 3166 alpha-3 country code",
        "places[4].code: 'bad code' is not a valid code: use letters, digits, '.', '_' or '-'",
        "places[3]: duplicate of places[0] (RTM)",
        "legs[0].transit_days: must be a non-negative whole number, got -1",
        "legs[1]: duplicate of legs[0] (RTM>DUI/road)",
        "rules[0].lead_days: must be a non-negative whole number, got -2",
        "rules[0].preauthorised: 'ZZZ' is not an ISO 3166 alpha-3 country code",
        "zones[0].countries: a zone joins at least two countries",
        "zones[0].lead_days: must be a non-negative whole number, got -1",
        "zones[0].modes: a zone applies to at least one mode",
    ]


def test_a_router_refuses_a_bad_network_before_routing() -> None:
    with pytest.raises(ValidationFailed) as refused:
        Router(Network(PLACES, (leg("RTM", "NOWHERE", 1),)))
    assert refused.value.code == "invalid-network"
    assert [str(p) for p in refused.value.problems] == ["legs[0].to: unknown place 'NOWHERE'"]
