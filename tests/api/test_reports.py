"""`/api/v1/reports/...` give the report `contactgroup report ... --format json` gives: the same stamped envelope
computed by services/reporting.py, with the same filters, and the same refusals of a bad filter."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from contactgroup.reports.scope import Scope
from contactgroup.services import reporting
from contactgroup.services.clock import SystemClock
from contactgroup.services.reporting import ReportRequest
from tests.api.test_coordination import Api, ok
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


@pytest.fixture
def api(world: World, client: TestClient) -> Api:
    return Api(world, client)


def test_a_report_is_the_stamped_envelope_the_cli_writes(api: Api, world: World) -> None:
    req = open_requirement(world)
    confirmed_allocation(world, enter_offer(world), req, 400)
    answer = ok(api.get("analyst", "/api/v1/reports/coverage", params={"area": "artillery", "keep_all": "true"}))
    here = reporting.computed(world.db, ReportRequest("coverage", Scope(area="artillery"), keep_all=True),
                              SystemClock())
    assert answer["report"] == "coverage" and answer["rows"] == here.as_json()["rows"]
    assert answer["stamp"]["log_size"] == here.stamp.log_size == world.event_count()
    assert answer["stamp"]["parameters"] == here.stamp.parameters
    assert [(r["key"], r["confirmed"]) for r in answer["rows"]] == [(req, 400)]
    gaps = ok(api.get("deu", "/api/v1/reports/gaps", params={"limit": 5}))
    assert gaps["rows"][0]["requirement"] == req and isinstance(gaps["rows"][0]["breakdown"], dict)


@pytest.mark.parametrize(("params", "named"), [
    ({"as_of": "0"}, "as_of"),  # a timestamp is not a day
    ({"from": "2024-02-30"}, "from"),
    ({"area": "nope"}, "area"),
    ({"public": "true", "area": "artillery"}, "public"),
])
def test_a_bad_filter_is_refused_naming_it(api: Api, params: dict[str, str], named: str) -> None:
    refused = api.get("analyst", "/api/v1/reports/burden", params=params)
    assert refused.status_code in (400, 422), refused.text
    assert named in refused.text
