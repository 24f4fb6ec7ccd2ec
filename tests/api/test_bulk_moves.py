"""Several objects moved in one request (`POST /api/v1/{requirements,allocations}/actions/{action}`,
`POST /api/v1/deliveries/receive` with `ids`): all of them, or none with every refusal named, as the CLI moves them."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from contactgroup.services import coordination as svc
from tests.api.test_coordination import Api, ok
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


@pytest.fixture
def api(world: World, client: TestClient) -> Api:
    return Api(world, client)


def _drafts(world: World, n: int) -> list[str]:
    ids = []
    for i in range(n):
        with world.db.transaction() as uow:
            ids.append(svc.draft_requirement(uow, world.caller("ukr"), item_class="155mm", quantity=10 + i,
                                             priority=1, needed_by=date(2024, 9, 1), destination="UKR").id)
    return ids


def test_several_requirements_move_together(api: Api, world: World) -> None:
    first, second = _drafts(world, 2)
    moved = ok(api.post("ukr", "/api/v1/requirements/actions/submit", {"ids": [first, second]}))
    assert [(r["id"], r["status"]) for r in moved] == [(first, "submitted"), (second, "submitted")]


def test_one_refusal_moves_none_and_every_refusal_is_named(api: Api, world: World) -> None:
    (draft,) = _drafts(world, 1)
    before = world.event_count()
    refused = api.post("admin", "/api/v1/requirements/actions/validate", {"ids": [draft, "R-99999"]})
    assert refused.status_code in (404, 409), refused.text
    detail = refused.json()["detail"]
    assert "2 of 2 requirement moves refused, so none was made" in detail and draft in detail and "R-99999" in detail
    assert world.event_count() == before


def test_receipts_of_several_shipments(api: Api, world: World) -> None:
    req = open_requirement(world)
    alloc = confirmed_allocation(world, enter_offer(world), req, 400)
    shipped = [ok(api.post("deu", "/api/v1/deliveries", {"allocation": alloc, "quantity": q,
                                                         "dispatched_on": "2024-07-01"}), 201)["id"]
               for q in (100, 300)]
    short = api.post("ukr", "/api/v1/deliveries/receive", {"ids": shipped, "received_on": "2024-07-01", "short": 1})
    assert short.status_code == 400 and "per shipment" in short.text
    received = ok(api.post("ukr", "/api/v1/deliveries/receive", {"ids": shipped, "received_on": "2024-07-01"}))
    assert [(d["id"], d["received"]) for d in received] == [(shipped[0], 100), (shipped[1], 300)]


def test_too_many_ids_are_refused_before_anything_is_read(api: Api) -> None:
    refused = api.post("admin", "/api/v1/allocations/actions/confirm", {"ids": [f"A-{i}" for i in range(1001)]})
    assert refused.status_code in (400, 422)
