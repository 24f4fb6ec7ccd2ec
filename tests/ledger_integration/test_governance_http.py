"""Members read a proposal and hand in their signed approvals over HTTP: no account, no database access."""

from __future__ import annotations

from fastapi.testclient import TestClient

from contactgroup.api.app import create_app
from contactgroup.domain.model import ProposalKind
from contactgroup.ledger import note
from contactgroup.services import governance as gov
from tests.ledger_integration.conftest import Log
from tests.ledger_integration.test_handover_witness import _register_member_keys


def test_a_quorum_of_members_carries_a_proposal_over_http(log: Log) -> None:
    signers = _register_member_keys(log)
    world = log.world
    leaving = sorted(signers)[-1]
    with world.db.transaction() as uow:
        proposal = gov.propose(uow, world.caller("deu-keys"), ProposalKind.REMOVE_MEMBER, {"code": leaving})
    url = f"/proposals/{proposal.id}"
    client = TestClient(create_app(log.url, clock=world.clock, approvals_as="admin"))

    listed = client.get("/proposals").json()
    assert [(p["id"], p["status"], p["needed"], len(p["missing"])) for p in listed] == [
        (proposal.id, "open", 35, len(signers))]
    assert client.get(url).json()["text"] == client.get(f"{url}/text").text == proposal.text

    forged = note.sign_note(proposal.text, [note.generate_key(f"{leaving}-1")[0]])
    refused = client.post(f"{url}/approvals", content=forged)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    for n, code in enumerate(sorted(signers)[:35], start=1):
        answer = client.post(f"{url}/approvals", content=note.sign_note(proposal.text, [signers[code]]))
        assert answer.status_code == 201, answer.text
        assert len(answer.json()["approved"]) == n
    assert answer.json()["status"] == "effective"
    assert not world.db.state().members[leaving].active
    late = client.post(f"{url}/approvals", content=note.sign_note(proposal.text, [signers[sorted(signers)[40]]]))
    assert late.status_code == 409
    assert client.post("/proposals/P-99999/approvals", content=forged).status_code == 404
    assert client.get("/proposals/nonsense").status_code == 400


def test_a_server_started_without_approvals_as_takes_none(log: Log) -> None:
    signers = _register_member_keys(log)
    world = log.world
    with world.db.transaction() as uow:
        proposal = gov.propose(uow, world.caller("deu-keys"), ProposalKind.REMOVE_MEMBER,
                               {"code": sorted(signers)[-1]})
    before = world.event_count()
    client = TestClient(create_app(log.url, clock=world.clock))
    answer = client.post(f"/proposals/{proposal.id}/approvals",
                         content=note.sign_note(proposal.text, [signers["DEU"]]))
    assert answer.status_code == 403 and "--approvals-as" in answer.json()["detail"]
    assert world.event_count() == before
