"""The record over HTTP (FastAPI TestClient): checkpoint, proofs, leaves, policy, cosignatures, problem+json."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from contactgroup.api.app import create_app
from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import open_checkpoint, parse_checkpoint
from contactgroup.ledger.cosignature import generate_cosigner
from contactgroup.ledger.note import parse_note, parse_verifier_key
from contactgroup.ledger.policy import WitnessPolicy
from tests.ledger_integration.conftest import Log


@pytest.fixture
def client(log: Log) -> TestClient:
    """A client of an app whose background signer is not running (no lifespan): each test signs by `tick()`."""
    client = TestClient(create_app(log.url, log_key=log.key, checkpoint_interval=0))
    client.app.state.signer.tick()  # type: ignore[attr-defined]
    return client


def signed(client: TestClient) -> str:
    """The checkpoint after the server's signer has had its turn."""
    client.app.state.signer.tick()  # type: ignore[attr-defined]
    return client.get("/checkpoint").text


class TestEndpoints:
    def test_the_signer_signs_when_the_log_grew_and_get_only_reads(self, log: Log) -> None:
        client = TestClient(create_app(log.url, log_key=log.key, checkpoint_interval=0))
        assert client.get("/checkpoint").status_code == 404  # nothing signed yet: a GET never signs
        signer = client.app.state.signer  # type: ignore[attr-defined]
        assert signer.tick() and not signer.tick()  # one signature per tree size
        response = client.get("/checkpoint")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        vkey = parse_verifier_key(client.get("/policy").json()["log_key"])
        first = open_checkpoint(response.text, [vkey]).checkpoint
        assert first.size == log.world.event_count()
        log.world.do(lambda uow, c: __import__("contactgroup.services.coordination").services.coordination
                     .record_setting(uow, c, "x", "y"), "admin")
        assert open_checkpoint(client.get("/checkpoint").text, [vkey]).checkpoint.size == first.size
        assert open_checkpoint(signed(client), [vkey]).checkpoint.size == first.size + 1

    def test_proofs_verify_against_the_checkpoint(self, client: TestClient) -> None:
        vkey = parse_verifier_key(client.get("/policy").json()["log_key"])
        cp = open_checkpoint(client.get("/checkpoint").text, [vkey]).checkpoint
        leaves = [bytes.fromhex(h) for h in client.get("/leaves", params={"start": 0}).text.split()]
        assert len(leaves) == cp.size and merkle.root_hash(leaves) == cp.root
        doc = client.get("/proof/inclusion", params={"index": 4, "size": cp.size}).json()
        assert merkle.verify_inclusion(leaves[4], 4, cp.size, [base64.b64decode(p) for p in doc["proof"]], cp.root)
        doc = client.get("/proof/consistency", params={"old": 10, "new": cp.size}).json()
        assert merkle.verify_consistency(10, cp.size, merkle.root_hash(leaves[:10]), cp.root,
                                         [base64.b64decode(p) for p in doc["proof"]])
        assert client.get("/leaves", params={"start": 2, "end": 5}).text.split() == [h.hex() for h in leaves[2:5]]

    @pytest.mark.parametrize("path", ["/proof/inclusion?index=-1", "/proof/inclusion?index=99999",
                                      "/proof/inclusion", "/proof/consistency?old=5&new=2",
                                      "/leaves?start=5&end=2", "/proof/inclusion?index=x"])
    def test_bad_parameters_are_400_problems(self, client: TestClient, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 400 and body["title"] == "Bad Request" and body["detail"]

    def test_no_checkpoint_without_a_key_is_a_404_problem(self, log: Log) -> None:
        response = TestClient(create_app(log.url)).get("/checkpoint")
        assert response.status_code == 404 and response.json()["detail"].startswith("no signed checkpoint yet")


class TestCosignatures:
    def test_a_known_witness_posts_and_the_checkpoint_counts_as_witnessed(self, log: Log,
                                                                          client: TestClient) -> None:
        cosigner, key = generate_cosigner("w.nor")
        assert log.cli("ledger", "witness-add", "w.nor", key.text, user="admin")[0] == 0
        note = client.get("/checkpoint").text
        cp = parse_checkpoint(parse_note(note).text)
        line = cosigner.cosign(cp, 1_720_000_000).line
        response = client.post("/cosignatures", params={"size": cp.size}, content=line)
        assert response.status_code == 201, response.text
        assert response.json() == {"size": cp.size, "accepted": ["w.nor"], "witnessed": True,
                                   "cosigned_by": ["w.nor"], "quorum": 1}
        served = client.get("/checkpoint").text
        assert served == note + line
        assert WitnessPolicy((key,), 1).is_witnessed(cp, served)
        assert client.get("/policy").json()["witnesses"] == [{"name": "w.nor", "key": key.text}]

    def test_unknown_witnesses_and_bad_signatures_are_refused(self, log: Log, client: TestClient) -> None:
        cosigner, key = generate_cosigner("w.nor")
        stranger, _ = generate_cosigner("w.xyz")
        assert log.cli("ledger", "witness-add", "w.nor", key.text, user="admin")[0] == 0
        cp = parse_checkpoint(parse_note(client.get("/checkpoint").text).text)
        assert client.post("/cosignatures", content=stranger.cosign(cp, 1).line).status_code == 403
        other = parse_checkpoint(cp.body.replace(str(cp.size), str(cp.size - 1), 1)) if cp.size > 1 else cp
        response = client.post("/cosignatures", content=cosigner.cosign(other, 1).line)
        assert response.status_code == 403 and "does not verify" in response.json()["detail"]
        assert client.post("/cosignatures", content="not a line").status_code == 400
        assert client.post("/cosignatures", params={"size": 1}, content=cosigner.cosign(cp, 1).line
                           ).status_code == 404
