"""schemathesis over every operation of `/api/v1`, signed in as the coordinator and as a desk officer, in-process
(ASGI), positive and negative data, on a coordination with an object of every kind: never a 5xx, every answer
matches the schema (status, content type, headers, body), bad input is refused with a 4xx, and every 4xx is an
RFC 9457 problem document. A bounded number of examples per operation keeps each a few seconds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from contactgroup.api.app import create_app
from tests.api.conftest import bearer
from tests.api.scenario import Scenario
from tests.conftest import postgres_schema
from tests.ledger_integration.test_api_schema import CHECKS, SEED

# per operation and user, all phases together; bench/api_schema.py asks for a longer run
EXAMPLES = int(os.environ.get("CONTACTGROUP_SCHEMA_EXAMPLES", "15"))

schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app("sqlite://"),
    config=schemathesis.Config.from_dict({"seed": SEED, "generation": {"deterministic": True}}),
).include(path_regex="^/api/v1/")


# SQLite unless told (bench/api_schema.py runs longer, on either engine): what the API answers is decided above the
# database, alike on both engines, whose parity the coordination and entry-limit tests check.
ENGINE = os.environ.get("CONTACTGROUP_SCHEMA_ENGINE", "sqlite")


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    if ENGINE == "postgresql":
        with postgres_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'contactgroup.db'}"


@dataclass
class Served:
    app: FastAPI
    headers: dict[str, str]


@pytest.fixture(params=["admin", "deu"])
def served(request: pytest.FixtureRequest, scenario: Scenario) -> Iterator[Served]:
    """The API over the matrix's scenario (offers of every visibility, allocations, consents, shipments),
    signed in as the coordinator or as DEU's desk officer."""
    world = scenario.world
    app = create_app(world.db.url, clock=world.clock)
    yield Served(app, bearer(world, request.param))
    app.state.db.engine.dispose()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_operation_conforms_for_a_signed_in_user(case: schemathesis.Case, served: Served) -> None:
    case.headers = {**(case.headers or {}), **served.headers}
    case.call_and_validate(app=served.app, checks=CHECKS)
