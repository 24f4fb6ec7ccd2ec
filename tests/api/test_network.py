"""The transport network over HTTP: a place with coordinates and capacity is defined, and the legs, border rules
and zones of the record are read as pages or as a file."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from contactgroup.services import mobility
from tests.api.conftest import bearer
from tests.factories import World

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_a_network_place_is_defined_and_the_network_is_read(world: World, client: TestClient) -> None:
    place = {"code": "RZE-DEPOT", "name": "Rzeszów depot", "country": "POL", "kind": "depot",
             "lat": "50.04132", "lon": "21.99901", "capacity": 12, "capacity_unit": "shipments"}
    made = client.post("/api/v1/places", json=place, headers=bearer(world, "admin"))
    assert made.status_code == 201, made.text
    assert made.json()["lat"] == "50.04132" and made.json()["capacity"] == 12
    world.do(mobility.load_reference, "admin")
    reader = bearer(world, "deu")
    legs = client.get("/api/v1/legs", params={"sort": "-transit_days", "limit": 2}, headers=reader).json()
    # the longest: from the depots of New Zealand and Australia by sea to Constanța
    assert [(leg["origin"], leg["mode"], leg["transit_days"]) for leg in legs["items"]] == [
        ("DEPOT-NZL", "sea", 38), ("DEPOT-AUS", "sea", 33)]
    rules = client.get("/api/v1/border-rules", params={"limit": 100}, headers=reader).json()["items"]
    assert {"country": "POL", "mode": "air", "since": "2022-01-01", "permission": True, "lead_days": 3,
            "dangerous_extra_days": 2, "preauthorised": ["USA", "GBR"]}.items() <= rules[
        [r["country"] + r["mode"] for r in rules].index("POLair")].items()
    zones = client.get("/api/v1/zones", headers=reader).json()["items"]
    assert [(z["code"], z["countries"], z["starts"], z["lead_days"]) for z in zones] == [
        ("NL-DE-PL", ["NLD", "DEU", "POL"], "2024-01-30", None)]
    csv = client.get("/api/v1/zones", params={"format": "csv"}, headers=reader)
    assert csv.status_code == 200 and "NL-DE-PL" in csv.text



def test_a_network_file_is_imported_all_rows_or_none(world: World, client: TestClient) -> None:
    admin = bearer(world, "admin")
    bad = "code,name,countries,starts\nEAST,Eastern flank,POL XYZ,2025-01-01\n"
    refused = client.post("/api/v1/imports/network", files={"file": ("zones.csv", bad)}, headers=admin)
    assert refused.status_code == 400
    assert "zones.csv: row 2, column countries: 'XYZ' is not an ISO 3166 alpha-3 country code" in refused.text
    good = "code,name,countries,starts,lead_days\nEAST,Eastern flank,POL LTU,2025-01-01,2\n"
    done = client.post("/api/v1/imports/network", files={"file": ("zones.csv", good)}, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json() == {"recorded": {"places": 0, "legs": 0, "rules": 0, "zones": 1}, "unchanged": 0,
                           "ignored": []}
