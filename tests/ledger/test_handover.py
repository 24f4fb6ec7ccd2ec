"""A witness accepts a new log key only on a quorum of member signatures carried in a handover event that is
proven to be in the tree."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.governance import proposal_text
from contactgroup.domain.model import ProposalKind
from contactgroup.ledger.checkpoint import Checkpoint
from contactgroup.ledger.handover import HandoverEvidence, QuorumApproval, handover_problems, parse_member_keys
from contactgroup.ledger.merkle import inclusion_proof, leaf_hash, root_hash
from contactgroup.ledger.note import generate_key, sign_note

ORIGIN = "contactgroup.example/udcg"
MEMBERS = ("DEU", "FRA", "POL")
SIGNERS = {m: generate_key(f"{m}-1")[0] for m in MEMBERS}
NEW_KEY = generate_key(ORIGIN)[1]
OTHER_KEY = generate_key(ORIGIN)[1]
KEYS_FILE = "\n".join(f"{m} {s.verifier.text}" for m, s in SIGNERS.items())


def text_for(key: str, origin: str = ORIGIN) -> str:
    payload = json.dumps({"log_key": key, "to": "NSATU", "users": ["n"]}, sort_keys=True, separators=(",", ":"))
    return proposal_text(origin, "P-00001", ProposalKind.HANDOVER, datetime(2024, 8, 1, tzinfo=UTC), payload)


def scenario(approvals: list[str], key: str | None = None) -> tuple[Checkpoint, HandoverEvidence]:
    body = json.dumps({"type": "AuthorityHandedOver", "data": {"log_key": key or NEW_KEY.text,
                                                               "approvals": approvals}}).encode()
    leaves = [leaf_hash(f"event {i}".encode()) for i in range(6)] + [leaf_hash(body), leaf_hash(b"later")]
    return (Checkpoint(ORIGIN, len(leaves), root_hash(leaves)),
            HandoverEvidence(6, body, tuple(inclusion_proof(leaves, 6))))


def signed(*members: str, key: str | None = None, origin: str = ORIGIN) -> list[str]:
    return [sign_note(text_for(key or NEW_KEY.text, origin), [SIGNERS[m]]) for m in members]


def test_two_of_three_members_move_the_witness_to_the_new_key() -> None:
    checkpoint, evidence = scenario(signed("DEU", "POL"))
    members = parse_member_keys(KEYS_FILE)
    assert handover_problems(checkpoint, NEW_KEY, evidence, members) == []
    assert QuorumApproval(checkpoint, [evidence], members).permits(ORIGIN, (OTHER_KEY,), (NEW_KEY,))


@pytest.mark.parametrize(("approvals", "why"), [
    (signed("DEU"), "only 1 of the 3 members this witness knows approved the new key; 2 are needed"),
    (signed("DEU", "DEU"), "only 1 of the 3"),  # the same member twice counts once
    (signed("DEU") + signed("POL", key="other"), "only 1 of the 3"),  # approval of another key
    (signed("DEU") + signed("POL", origin="another/log"), "only 1 of the 3"),  # approval for another log
    ([sign_note(text_for(NEW_KEY.text), [generate_key("POL-1")[0]]), *signed("DEU")], "only 1 of the 3"),  # forged
])
def test_without_a_quorum_the_key_does_not_move(approvals: list[str], why: str) -> None:
    checkpoint, evidence = scenario(approvals)
    assert why in handover_problems(checkpoint, NEW_KEY, evidence, parse_member_keys(KEYS_FILE))[0]


def test_evidence_must_be_in_the_tree_and_name_the_key() -> None:
    checkpoint, evidence = scenario(signed("DEU", "FRA"))
    members = parse_member_keys(KEYS_FILE)
    moved = HandoverEvidence(5, evidence.body, evidence.proof)
    assert handover_problems(checkpoint, NEW_KEY, moved, members) == ["event 5 is not in the tree of size 8"]
    assert handover_problems(checkpoint, OTHER_KEY, evidence, members) == [
        f"event 6 does not hand the log over to {OTHER_KEY.text}"]
    assert not QuorumApproval(checkpoint, [evidence], members).permits(ORIGIN, (), (OTHER_KEY,))


def test_a_three_quarters_quorum_needs_three() -> None:
    checkpoint, evidence = scenario(signed("DEU", "FRA"))
    assert "3 are needed" in handover_problems(checkpoint, NEW_KEY, evidence, parse_member_keys(KEYS_FILE, "3/4"))[0]


@pytest.mark.parametrize(("text", "quorum", "where"), [
    ("DEU\n", "2/3", "line 1"), ("DEU not-a-key\n", "2/3", "line 1"), ("# nothing\n", "2/3", "member keys"),
    (KEYS_FILE, "3/2", "quorum"),
])
def test_member_key_files_are_checked_line_by_line(text: str, quorum: str, where: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_member_keys(text, quorum)
    assert caught.value.problems[0].where == where
