"""The reference network shipped with the package: real places whose coordinates are the GeoNames gazetteer's, a
public source on every row, and a network the router can use from Rotterdam to the Polish–Ukrainian border."""

from __future__ import annotations

import csv
import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from contactgroup import mobility
from contactgroup.domain.state import State
from contactgroup.io import network as files
from contactgroup.services import mobility as svc
from contactgroup.services import movement
from tests.factories import World

pytestmark = pytest.mark.xdist_group("demo-state")  # one worker builds the demo state, not each


def rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(files.reference_paths()[files.REFERENCE.index(name)].open(encoding="utf-8")))


def test_every_place_has_the_gazetteers_coordinates_and_every_row_a_source() -> None:
    places = rows("network_places.csv")
    found = files.gazetteer(int(p["geonameid"]) for p in places)
    assert {p["code"]: (Decimal(p["lat"]), Decimal(p["lon"])) for p in places} == \
        {p["code"]: found[int(p["geonameid"])] for p in places}
    for name in files.REFERENCE:
        assert all(r["source"].strip() for r in rows(name)), name


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_reference_loads_and_routes_ammunition_from_rotterdam_to_the_polish_ukrainian_border(
        world: World) -> None:
    done = world.do(svc.load_reference, "admin")
    assert done.recorded == {"places": 94, "legs": 215, "rules": 24, "zones": 1} and not done.ignored
    assert world.do(svc.load_reference, "admin").unchanged == 334  # loading twice records nothing
    net = svc.network_of(world.db.state(), date(2024, 3, 1))
    assert mobility.validate(net) == []
    ammunition = mobility.Shipment("S1", "RTM-PORT", "RZE-HUB", date(2024, 3, 1), "NLD", dangerous=True)
    with_zone = mobility.Router(net).route(ammunition)
    without = mobility.Router(dataclasses.replace(net, zones=())).route(ammunition)
    assert isinstance(with_zone, mobility.Route) and isinstance(without, mobility.Route)
    assert with_zone.eta <= without.eta
    assert any(step.zone == "NL-DE-PL" for step in with_zone.steps)


def test_every_demo_shipment_is_routed_on_the_reference_network_and_the_corridor_saves_days(
        demo_state: State) -> None:
    # The demo's offers leave national depots (DEPOT-NLD) for handover points (LVIV-HP): none is left unrouted.
    on = date(2026, 12, 7)
    net = svc.network_of(demo_state, on)
    routable, unplaced = movement.placed(net, movement.open_shipments(demo_state, on))
    assert len(routable) > 100 and unplaced == []
    corridor = next(z for z in net.zones if z.code == "NL-DE-PL")
    found = mobility.compare(net, [mobility.Consignment(s.shipment(on), s.member, s.priority, s.units, s.needed_by)
                                   for s in routable], corridor)
    assert found.total.compared == len(routable) and found.total.days_saved > 0
    assert all(saving.days_saved is not None and saving.days_saved >= 0 for saving in found.savings)
