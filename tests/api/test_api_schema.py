"""schemathesis over every operation of `/api/v1`, signed in as the coordinator and as a desk officer, in-process
(ASGI), positive and negative data, on a coordination with an object of every kind: never a 5xx, every answer
matches the schema (status, content type, headers, body), bad input is refused with a 4xx, and every 4xx is an
RFC 9457 problem document. A bounded number of examples per operation keeps each a few seconds."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import ensure_resource_availability, use_after_free

from contactgroup.api.app import create_app
from tests.api.conftest import bearer
from tests.api.scenario import Scenario
from tests.conftest import postgres_schema
from tests.ledger_integration.test_api_schema import CHECKS, SEED

# what was created is found where its links lead (and a deleted token no longer is)
STATEFUL_CHECKS = [*CHECKS, ensure_resource_availability, use_after_free]

# per operation and user, all phases together; bench/api_schema.py asks for a longer run
EXAMPLES = int(os.environ.get("CONTACTGROUP_SCHEMA_EXAMPLES", "5"))

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


# Stateful: sequences that follow the OpenAPI links (api/links.py) from what a step created to what it leads to.
# Few scenarios of few steps in the test command (a few seconds); bench/api_schema.py --stateful runs more.
SCENARIOS = int(os.environ.get("CONTACTGROUP_STATEFUL_SCENARIOS", "8"))
STEPS = int(os.environ.get("CONTACTGROUP_STATEFUL_STEPS", "8"))

linked = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app("sqlite://"),
    # valid requests only: the links are followed from what was created (bad input is the test above's)
    config=schemathesis.Config.from_dict({"seed": SEED, "generation": {"deterministic": True, "mode": "positive"},
                                          "phases": {"stateful": {"inference": {"algorithms": []}}}}),
).include(path_regex=os.environ.get("CONTACTGROUP_STATEFUL_PATHS",
                                    "^/api/v1/(requirements|offers|allocations|consents|deliveries)"))

# Names in the scenario (tests/factories.py's world, tests/api/scenario.py's objects, its clock's day) and plain
# text, which a client writes: a body field of these names takes one of them three times in four, so that creates
# get through to the record and the links lead somewhere; the fourth keeps its generated value.
NAMES = {"item_class": ("155mm", "fpv"), "item": ("155-a", "155-b", "fpv"), "area": ("artillery", "drones"),
         "member": ("DEU", "USA"), "depot": ("DEU", "USA"), "consent_from": ("USA", "DEU"),
         "requirement": ("R-00001",), "offer": ("O-00001", "O-00002", "O-00003", "O-00004"),
         "allocation": ("A-00001", "A-00002", "A-00003", "A-00004")}
TODAY = "2024-07-01"
VALUES = {**NAMES, "currency": ("EUR",), "value": ("123456.78",), "committed_on": (None,), "destination": ("UKR-West",),
          **{day: (TODAY,) for day in ("on", "dispatched_on", "received_on", "available_from", "needed_by")},
          **{text: ("", "as agreed") for text in ("note", "reason", "end_use", "ref")}}


def _plain(field: str, generated: object) -> st.SearchStrategy[object]:
    return st.sampled_from((True, True, True, False)).flatmap(
        lambda plain: st.sampled_from(VALUES[field]) if plain else st.just(generated))


@linked.hook
def flatmap_body(context: schemathesis.HookContext, body: object) -> st.SearchStrategy[object]:
    if not isinstance(body, dict):
        return st.just(body)
    chosen = {field: _plain(field, body[field]) for field in body if field in VALUES}
    return st.fixed_dictionaries(chosen).map(lambda values: {**body, **values})


def test_the_names_bodies_take_are_the_scenarios(scenario: Scenario) -> None:
    state = scenario.world.db.state()
    held = {"item_class": state.item_classes, "item": state.items, "area": state.coalitions,
            "member": state.members, "depot": state.members, "consent_from": state.members,
            "requirement": state.requirements, "offer": state.offers, "allocation": state.allocations}
    assert {field: [n for n in names if n not in held[field]] for field, names in NAMES.items()} == {
        field: [] for field in NAMES}
    assert scenario.world.clock.now().date().isoformat() == TODAY


def test_linked_operations_conform_for_a_signed_in_user(served: Served) -> None:
    """Create a requirement, then read, amend (with the ETag it answered as If-Match) and move it; likewise offers,
    the allocations and consents that name them, and shipments of allocations: never a 5xx, every answer as its
    schema says, and what was created can be found at once."""

    sent = itertools.count()

    class Linked(linked.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            case.headers = {**(case.headers or {}), **served.headers}
            if "Idempotency-Key" in case.headers:  # a client's key names one request: a generated one, made unique
                case.headers["Idempotency-Key"] += f"-{next(sent)}"

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"app": served.app, "session": client}

        def validate_response(self, response: schemathesis.Response, case: schemathesis.Case,
                              additional_checks: object = None, **kwargs: object) -> None:
            case.validate_response(response, checks=STATEFUL_CHECKS, recorder=self.recorder)

    with asgi.get_client(served.app) as client:  # one client for the run: starting one per request costs more
        Linked.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                                     derandomize=True, database=None, suppress_health_check=list(HealthCheck)))
