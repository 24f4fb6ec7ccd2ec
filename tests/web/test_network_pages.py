"""The transport network's map on the pages: drawn from the record's places, a shipment's route over it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

from contactgroup.services import mobility
from tests.factories import World
from tests.web.conftest import sign_in

SVG = "{http://www.w3.org/2000/svg}"


def test_the_network_page_draws_the_record_s_places_and_refuses_a_shipment_it_may_not_see(
        web_app: TestClient, web_world: World) -> None:
    sign_in(web_app, web_world, "analyst")
    empty = web_app.get("/network")
    assert empty.status_code == 200 and "0 places and 0 legs" in empty.text
    web_world.do(mobility.load_reference, "admin")
    page = web_app.get("/network")
    assert page.status_code == 200 and 'src="/network/map.svg"' in page.text
    drawn = web_app.get("/network/map.svg")
    assert drawn.status_code == 200 and drawn.headers["content-type"].startswith("image/svg+xml")
    tips = " ".join(t.text or "" for t in ET.fromstring(drawn.text).iter(f"{SVG}title"))  # too many to label all
    assert "RTM-PORT — Port of Rotterdam" in tips and not list(ET.fromstring(drawn.text).iter(f"{SVG}script"))
    missing = web_app.get("/network?shipment=A-99999")
    assert missing.status_code == 404 and "no open shipment" in missing.text
