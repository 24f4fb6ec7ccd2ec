"""Military mobility over HTTP, on the reference network: a shipment's movement permission requested by its donor's
desk (once, whatever the retries) and granted by the member whose country it enters; a shipment the caller may not
see answers like one that does not exist; a zone comparison lists by id only what the caller may see; the map is an
SVG document; bad input is a problem document naming the parameter."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from contactgroup.services import mobility
from tests.api.conftest import bearer
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ON = {"from": "2026-12-05"}


@pytest.fixture
def shipment(world: World) -> str:
    """France's 60 units from Antwerp to the Lviv hand-over point, confirmed: entering Germany by rail needs
    Germany's permission (France is no national of it)."""
    world.do(mobility.load_reference, "admin")
    return confirmed_allocation(world, enter_offer(world, "fra", member="FRA", depot="ANR-PORT"),
                                open_requirement(world, 100, destination="LVIV-HP"), 60, donor="fra")


def test_a_permission_is_requested_once_and_granted_by_the_member_entered(world: World, client: TestClient,
                                                                          shipment: str) -> None:
    plan = client.get(f"/api/v1/shipments/{shipment}/plan", params=ON, headers=bearer(world, "fra")).json()
    assert (plan["no_route"], plan["steps"][0]["leg"], plan["steps"][0]["status"]) == (
        "", "ANR-PORT → DUI-RAIL", "to request")
    retry = {**bearer(world, "fra"), "Idempotency-Key": "permits-1"}
    asked = client.post(f"/api/v1/shipments/{shipment}/permissions", headers=retry)
    assert asked.status_code == 200, asked.text
    key = f"{shipment}/DEU/rail"
    assert key in [p["key"] for p in asked.json()]  # with those of the borders after it
    count = world.event_count()
    again = client.post(f"/api/v1/shipments/{shipment}/permissions", headers=retry)
    assert again.json() == asked.json() and world.event_count() == count
    # only the desk of the member whose country it enters decides
    refused = client.post("/api/v1/movement-permissions/actions/grant", json={"key": key},
                          headers=bearer(world, "usa"))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    granted = client.post("/api/v1/movement-permissions/actions/grant", json={"key": key},
                          headers=bearer(world, "deu"))
    assert granted.status_code == 200 and granted.json()["status"] == "granted"
    listed = client.get("/api/v1/movement-permissions", params={"shipment": shipment}, headers=bearer(world, "deu"))
    assert (key, "granted") in [(p["key"], p["status"]) for p in listed.json()["items"]]
    assert client.get("/api/v1/movement-permissions", headers=bearer(world, "usa")).json()["items"] == []


def test_a_shipment_the_caller_may_not_see_answers_like_a_missing_one(world: World, client: TestClient,
                                                                      shipment: str) -> None:
    usa = bearer(world, "usa")
    for path in ("/api/v1/shipments/{}/plan", "/api/v1/mobility/map?shipment={}"):
        hidden = client.get(path.format(shipment), headers=usa)
        missing = client.get(path.format("A-99999"), headers=usa)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text.replace(shipment, "X") == missing.text.replace("A-99999", "X")
    reached = client.post(f"/api/v1/shipments/{shipment}/positions", json={"place": "DUI-RAIL", "on": "2026-12-05"},
                          headers=usa)
    assert reached.status_code == 404


def test_a_comparison_lists_only_the_shipments_the_caller_may_see(world: World, client: TestClient,
                                                                  shipment: str) -> None:
    params = {"zone": "NLD,DEU,POL", **ON}
    seen = client.get("/api/v1/mobility/compare", params=params, headers=bearer(world, "fra")).json()
    assert (seen["countries"], seen["hidden"]) == (["DEU", "NLD", "POL"], 0)
    assert [r["key"] for r in seen["rows"] if r["level"] == "shipment"] == [shipment]
    other = client.get("/api/v1/mobility/compare", params=params, headers=bearer(world, "usa")).json()
    assert other["hidden"] == 1 and [r for r in other["rows"] if r["level"] == "shipment"] == []
    assert other["rows"][-1] == seen["rows"][-1]  # the totals count it either way


@pytest.mark.parametrize(("params", "where", "said"), [
    ({"zone": "NLD,XYZ"}, "zone", "'XYZ' is not an ISO 3166 alpha-3 country code"),
    ({"zone": "NLD,DEU", "from": "2026-02-30"}, "from", "'2026-02-30' is not a date"),
    ({"zone": "NLD,DEU", "zone_starts": "3100-01-01"}, "zone_starts", "3100-01-01 is outside 1900-01-01..2999-12-31"),
])
def test_a_bad_zone_or_day_is_a_problem_naming_it(world: World, client: TestClient, params: dict[str, str],
                                                  where: str, said: str) -> None:
    answer = client.get("/api/v1/mobility/compare", params=params, headers=bearer(world, "deu"))
    assert answer.status_code == 400 and answer.headers["content-type"] == "application/problem+json"
    [error] = answer.json()["errors"]
    assert error["where"] == where and said in error["message"]


def test_the_map_is_an_svg_document(world: World, client: TestClient, shipment: str) -> None:
    drawn = client.get("/api/v1/mobility/map", params={"shipment": shipment, **ON}, headers=bearer(world, "fra"))
    assert drawn.status_code == 200 and drawn.headers["content-type"].startswith("image/svg+xml")
    assert ET.fromstring(drawn.content).tag == "{http://www.w3.org/2000/svg}svg"


def test_a_shipment_under_way_reaches_a_place_and_is_planned_on_from_there(world: World, client: TestClient,
                                                                          shipment: str) -> None:
    today = world.clock.now().date().isoformat()
    sent = client.post("/api/v1/deliveries", json={"allocation": shipment, "quantity": 60, "dispatched_on": today},
                       headers=bearer(world, "fra")).json()["id"]
    reached = client.post(f"/api/v1/shipments/{sent}/positions", json={"place": "DUI-RAIL", "on": today},
                          headers=bearer(world, "fra"))
    assert reached.status_code == 201, reached.text
    assert reached.json() == {"shipment": sent, "place": "DUI-RAIL", "on": today}
    plan = client.get(f"/api/v1/shipments/{sent}/plan", headers=bearer(world, "fra")).json()
    assert (plan["shipment"]["origin"], plan["steps"][0]["leg"].split(" → ")[0]) == ("DUI-RAIL", "DUI-RAIL")
    nowhere = client.post(f"/api/v1/shipments/{sent}/positions", json={"place": "NOWHERE", "on": "5 Dec"},
                          headers=bearer(world, "fra"))
    assert nowhere.status_code == 400 and nowhere.json()["errors"][0]["where"] == "on"
