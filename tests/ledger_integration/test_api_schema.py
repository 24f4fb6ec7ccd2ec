"""Property-based API tests: schemathesis drives every operation of the app's own OpenAPI schema in-process
(ASGI, no network), positive and negative data, against a founded coordination with events and a signed
checkpoint. Checks: never a 5xx, responses (status, content type, headers, body) conform to the schema, bad
input is refused with a 4xx, and every 4xx is an RFC 9457 problem document."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from contactgroup.api.app import create_app
from contactgroup.api.problem import PROBLEM
from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import ProposalKind
from contactgroup.ledger.checkpoint import Checkpoint
from contactgroup.ledger.cosignature import Cosigner, generate_cosigner
from contactgroup.services import checkpoints, proofs
from contactgroup.services import governance as gov
from tests.ledger_integration.conftest import Log

SEED = 20240701
EXAMPLES = 30  # per operation, all phases together, on either engine (the suite must stay under ten minutes)


@schemathesis.check
def problem_json_for_client_errors(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                   case: schemathesis.Case) -> bool | None:
    """Every 4xx is `application/problem+json` with the RFC 9457 members we promise."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type == PROBLEM, f"{response.status_code} with content type {content_type!r}, not {PROBLEM}"
    body: Any = response.json()
    assert isinstance(body, dict), "a problem document is a JSON object"
    assert body.get("status") == response.status_code, f"status member {body.get('status')!r}"
    assert isinstance(body.get("title"), str) and body["title"], "title must be a non-empty string"
    assert isinstance(body.get("detail"), str) and body["detail"], "detail must be a non-empty string"
    assert body.get("type") == "about:blank"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
    problem_json_for_client_errors,
]


# The schema is the app's own: it does not depend on the database, so it is read once from an app that never
# connects (SQLite in memory, opened lazily); every call goes to the app over the founded log of each engine.
# The record's own routes; /api/v1 answers a caller without credentials 401 alike, and is run signed in by
# tests/api/test_api_schema.py.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app("sqlite://"),
    config=schemathesis.Config.from_dict({"seed": SEED, "generation": {"deterministic": True}}),
).exclude(path_regex="^/api/v1/")


@dataclass
class Served:
    app: FastAPI
    witness: Cosigner  # a witness of the log, whose cosignature of the latest checkpoint is stored


@pytest.fixture
def served(log: Log) -> Iterator[Served]:
    """The API over the founded log (its key, a witness in the policy, a signed checkpoint that witness cosigned,
    an open proposal P-00001, approvals taken as `admin`)."""
    witness, key = generate_cosigner("w.nor")
    assert log.cli("ledger", "witness-add", "w.nor", key.text, user="admin")[0] == 0
    with log.db.transaction() as uow:
        gov.propose(uow, log.world.caller("deu"), ProposalKind.REMOVE_MEMBER, {"code": "FRA"})
    app = create_app(log.url, log_key=log.key, approvals_as="admin")
    checkpoint, _, _ = checkpoints.sign_checkpoint(app.state.db, app.state.signer.key, app.state.clock)
    assert checkpoint.size > 10
    received = checkpoints.add_cosignature(app.state.db, witness.cosign(checkpoint, 1_720_000_000).line, None,
                                          app.state.clock)
    assert received.witnessed
    yield Served(app, witness)
    app.state.db.engine.dispose()  # PostgreSQL takes few connections: none left open by a finished test


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@schema.parametrize()
@SETTINGS
def test_every_operation_conforms(case: schemathesis.Case, served: Served) -> None:
    case.call_and_validate(app=served.app, checks=CHECKS)


COSIGNATURES = schema["/cosignatures"]["POST"]


@SETTINGS
@given(case=st.one_of(COSIGNATURES.as_strategy(GenerationMode.POSITIVE),
                      COSIGNATURES.as_strategy(GenerationMode.NEGATIVE)))
def test_a_known_witness_posting_for_any_size_gets_a_conforming_answer(case: schemathesis.Case,
                                                                       served: Served) -> None:
    """Generated bodies come from no witness of the log; this one does (a well-formed line from a known witness
    that signs a made-up checkpoint), so the lookup of the checkpoint of `size` is reached for every size."""
    made_up = Checkpoint("contactgroup.example/udcg", 1, bytes(32))
    case.body = served.witness.cosign(made_up, 1_720_000_000).line
    case.call_and_validate(app=served.app, checks=CHECKS)


APPROVALS = schema["/proposals/{pid}/approvals"]["POST"]


@SETTINGS
@given(case=st.one_of(APPROVALS.as_strategy(GenerationMode.POSITIVE),
                      APPROVALS.as_strategy(GenerationMode.NEGATIVE)))
def test_any_body_posted_as_an_approval_of_an_open_proposal_gets_a_conforming_answer(
        case: schemathesis.Case, served: Served) -> None:
    """Generated ids rarely name the open proposal: this one does, so every generated body reaches the check."""
    case.path_parameters = {"pid": "P-00001"}
    case.call_and_validate(app=served.app, checks=CHECKS)


@pytest.mark.parametrize("size", [-1, proofs.MAX_SIZE + 1, 2**70])
def test_a_size_beyond_64_bits_is_refused_before_the_database(served: Served, size: int) -> None:
    """Found by the test above: SQLite and PostgreSQL cannot even compare a larger integer (a 500 before)."""
    line = served.witness.cosign(Checkpoint("contactgroup.example/udcg", 1, bytes(32)), 1).line
    with pytest.raises(ValidationFailed, match="outside"):
        checkpoints.add_cosignature(served.app.state.db, line, size, served.app.state.clock)
