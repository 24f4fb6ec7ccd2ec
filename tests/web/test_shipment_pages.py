"""Shipments in the browser: a desk dispatches what its confirmed allocations owe, tracks it, and the recipient's
liaison records the receipt with what arrived short, damaged or wrong — as a browser without JavaScript does it.
(The pages in Chromium are checked in test_requirement_pages.py, with one server start for both.)"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from contactgroup.domain.model import Visibility
from contactgroup.services import coordination as svc
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement
from tests.web.conftest import sign_in
from tests.web.test_requirement_pages import refusal, version


@pytest.fixture
def allocation(web_world: World) -> str:
    """A confirmed allocation of 100 units of DEU's offer (seen by its member only) to UKR's requirement."""
    offer = enter_offer(web_world, visibility=Visibility.MEMBER)
    return confirmed_allocation(web_world, offer, open_requirement(web_world), 100)


def dispatched(world: World, allocation: str, quantity: int = 100) -> str:
    return str(world.do(svc.dispatch, "deu", allocation=allocation, quantity=quantity,
                        dispatched_on=world.clock.now().date()).id)


def test_a_desk_dispatches_what_its_allocation_owes(web_app: TestClient, web_world: World, allocation: str) -> None:
    csrf = sign_in(web_app, web_world, "deu")
    listed = web_app.get("/shipments")
    assert "To dispatch" in listed.text and f"/shipments/dispatch?allocation={allocation}" in listed.text
    form = web_app.get("/shipments/dispatch", params={"allocation": allocation})
    assert f'<option value="{allocation}" selected>' in form.text and 'value="100"' in form.text
    before = web_world.event_count()
    too_many = web_app.post("/shipments/dispatch", data={"csrf": csrf, "allocation": allocation, "quantity": "150",
                                                         "dispatched_on": "2024-07-01"})
    assert too_many.status_code == 409 and "100 units left to ship, not 150" in refusal(too_many.text)
    assert 'value="150"' in too_many.text
    future = web_app.post("/shipments/dispatch", data={"csrf": csrf, "allocation": allocation, "quantity": "60",
                                                       "dispatched_on": "2030-01-01"})
    assert future.status_code == 400 and "in the future" in refusal(future.text)
    assert web_world.event_count() == before
    done = web_app.post("/shipments/dispatch", data={"csrf": csrf, "allocation": allocation, "quantity": "60",
                                                     "dispatched_on": "2024-07-01"})
    assert done.status_code == 303 and done.headers["location"] == "/shipments/D-00001"
    page = web_app.get("/shipments/D-00001")
    assert "60 units on 2024-07-01" in page.text and "<dd>DEU</dd>" in page.text
    assert "Record the receipt" not in page.text  # the liaison's
    assert 'value="40"' in web_app.get("/shipments/dispatch", params={"allocation": allocation}).text  # still owed


def test_the_desk_tracks_and_the_liaison_receives_with_a_shortfall(web_app: TestClient, web_world: World,
                                                                  allocation: str) -> None:
    shipment = dispatched(web_world, allocation)
    csrf = sign_in(web_app, web_world, "deu")
    page = web_app.get(f"/shipments/{shipment}")
    assert web_app.post(f"/shipments/{shipment}/actions/hub", data={"csrf": csrf, "version": version(page.text)}
                        ).status_code == 303
    assert "<dd>at hub</dd>" in web_app.get(f"/shipments/{shipment}").text
    csrf = sign_in(web_app, web_world, "ukr")
    home = web_app.get("/")
    assert f'href="/shipments/{shipment}"' in home.text  # the inbox links the receipt here
    listed = web_app.get("/shipments")
    assert "To receive" in listed.text and "To dispatch" not in listed.text
    page = web_app.get(f"/shipments/{shipment}")
    assert "<dd>—</dd>" in page.text and "DEU" not in page.text.split("<main")[1]  # the offer is DEU's to show
    before = web_world.event_count()
    over = web_app.post(f"/shipments/{shipment}/receive", data={
        "csrf": csrf, "version": version(page.text), "received_on": "2024-07-01", "short": "80", "damaged": "30",
        "wrong_item": "0"})
    assert over.status_code == 400 and "exceed the 100 shipped" in refusal(over.text)
    assert 'value="80"' in over.text and 'value="30"' in over.text
    not_a_number = web_app.post(f"/shipments/{shipment}/receive", data={
        "csrf": csrf, "version": version(page.text), "received_on": "2024-07-01", "short": "-3"})
    assert not_a_number.status_code == 400
    assert "short: must be a whole number of units, 0 or more (not &#39;-3&#39;)" in refusal(not_a_number.text)
    assert web_world.event_count() == before
    done = web_app.post(f"/shipments/{shipment}/receive", data={
        "csrf": csrf, "version": version(page.text), "received_on": "2024-07-01", "short": "10", "damaged": "5",
        "wrong_item": "0"})
    assert done.status_code == 303
    page = web_app.get(f"/shipments/{shipment}")
    assert "85 of 100 in good order, on 2024-07-01" in page.text and "Record the receipt" not in page.text
    assert web_world.db.state().deliveries[shipment].short == 10
    csrf = sign_in(web_app, web_world, "deu")  # the 15 units short or damaged are owed again
    assert 'value="15"' in web_app.get("/shipments/dispatch", params={"allocation": allocation}).text


def test_a_stale_receipt_is_refused_and_shows_the_current_shipment(web_app: TestClient, web_world: World,
                                                                   allocation: str) -> None:
    shipment = dispatched(web_world, allocation)
    csrf = sign_in(web_app, web_world, "ukr")
    opened = web_app.get(f"/shipments/{shipment}")
    web_world.do(svc.track_shipment, "deu", shipment, "handover")
    before = web_world.event_count()
    stale = web_app.post(f"/shipments/{shipment}/receive", data={
        "csrf": csrf, "version": version(opened.text), "received_on": "2024-07-01", "short": "3"})
    assert stale.status_code == 412
    assert "shipment D-00001 changed since this form was read: its current state is shown" in refusal(stale.text)
    assert "<dd>handed over</dd>" in stale.text and web_world.event_count() == before
    assert web_app.post(f"/shipments/{shipment}/receive", data={
        "csrf": csrf, "version": version(stale.text), "received_on": "2024-07-01"}).status_code == 303


def test_another_members_shipment_is_not_found_and_not_listed(web_app: TestClient, web_world: World,
                                                              allocation: str) -> None:
    shipment = dispatched(web_world, allocation, 20)
    csrf = sign_in(web_app, web_world, "fra")
    assert web_app.get(f"/shipments/{shipment}").status_code == 404
    listed = web_app.get("/shipments")
    assert shipment not in listed.text and "To dispatch" not in listed.text
    assert allocation not in web_app.get("/shipments/dispatch", params={"allocation": allocation}).text
    before = web_world.event_count()
    for path, data in ((f"/shipments/{shipment}/actions/hub", {}), (f"/shipments/{shipment}/receive",
                                                                    {"received_on": "2024-07-01"})):
        refused = web_app.post(path, data={"csrf": csrf, "version": "x", **data})
        assert refused.status_code == 404 and f"no delivery &#39;{shipment}&#39; that fra may see" in refused.text
    taken = web_app.post("/shipments/dispatch", data={"csrf": csrf, "allocation": allocation, "quantity": "1",
                                                      "dispatched_on": "2024-07-01"})
    assert taken.status_code == 404 and re.search(r"no allocation &#39;A-\d+&#39; that fra may see", taken.text)
    assert web_world.event_count() == before
