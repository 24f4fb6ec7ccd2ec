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


EXPIRES = datetime(2024, 8, 1, tzinfo=UTC)


def text_for(key: str, origin: str = ORIGIN, pid: str = "P-00001", to: str = "NSATU") -> str:
    payload = json.dumps({"log_key": key, "to": to, "users": ["n"]}, sort_keys=True, separators=(",", ":"))
    return proposal_text(origin, pid, ProposalKind.HANDOVER, EXPIRES, payload)


def scenario(approvals: list[str], key: str | None = None, *, text: str | None = None, pid: str = "P-00001",
             at: str = "2024-07-20T09:00:00.000000Z") -> tuple[Checkpoint, HandoverEvidence]:
    """A log whose event 6 hands over to `key`, carrying `text` (the proposal's) and `approvals`."""
    data = {"proposal": pid, "log_key": key or NEW_KEY.text, "approvals": approvals,
            "proposal_text": text_for(key or NEW_KEY.text, pid=pid) if text is None else text}
    body = json.dumps({"type": "AuthorityHandedOver", "at": at, "data": data}).encode()
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
    ("DEU a b\n", "2/3", "line 1"), ("DEU not-a-key\n", "2/3", "line 1"), ("# nothing\n", "2/3", "member keys"),
    ("DEU\nFRA\n", "2/3", "member keys"),
    (KEYS_FILE, "3/2", "quorum"),
])
def test_member_key_files_are_checked_line_by_line(text: str, quorum: str, where: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_member_keys(text, quorum)
    assert caught.value.problems[0].where == where


def test_members_without_a_key_count_in_the_share() -> None:
    """Two of the three keyed members are not two thirds of six members: whoever holds the database cannot win
    the witness over by leaving the members without keys out of the count."""
    checkpoint, evidence = scenario(signed("DEU", "POL"))
    members = parse_member_keys(KEYS_FILE + "\nITA\nESP\nNLD\n")
    assert members.needed == 4
    assert "only 2 of the 6 members this witness knows approved the new key; 4 are needed" in handover_problems(
        checkpoint, NEW_KEY, evidence, members)[0]


def test_signatures_over_different_proposals_do_not_add_up() -> None:
    """Three members each approved a different handover to the same key (none reached quorum): a handover event
    carrying all three notes does not move the witness, whichever proposal text it carries."""
    texts = [text_for(NEW_KEY.text, pid=f"P-0000{i}", to=f"AUTH{i}") for i in (1, 2, 3)]
    notes = [sign_note(t, [SIGNERS[m]]) for t, m in zip(texts, MEMBERS, strict=True)]
    for i, text in enumerate(texts, start=1):
        checkpoint, evidence = scenario(notes, text=text, pid=f"P-0000{i}")
        assert "only 1 of the 3 members" in handover_problems(checkpoint, NEW_KEY, evidence,
                                                              parse_member_keys(KEYS_FILE))[0]


def test_the_event_must_carry_its_own_proposal_text() -> None:
    members = parse_member_keys(KEYS_FILE)
    checkpoint, evidence = scenario(signed("DEU", "POL"), text="")
    assert "carries no proposal text" in handover_problems(checkpoint, NEW_KEY, evidence, members)[0]
    checkpoint, evidence = scenario(signed("DEU", "POL"), pid="P-00002", text=text_for(NEW_KEY.text))
    assert "its proposal text is of 'P-00001', but it names 'P-00002'" in handover_problems(
        checkpoint, NEW_KEY, evidence, members)[0]
    checkpoint, evidence = scenario(signed("DEU", "POL"), text=text_for(OTHER_KEY.text))
    assert "does not name the key" in handover_problems(checkpoint, NEW_KEY, evidence, members)[0]
    body = json.loads(evidence.body)
    body["data"] = {**body["data"], "proposal_text": text_for(NEW_KEY.text), "to": "EVIL"}
    leaves = [leaf_hash(f"event {i}".encode()) for i in range(6)] + [leaf_hash(json.dumps(body).encode())]
    evil = HandoverEvidence(6, json.dumps(body).encode(), tuple(inclusion_proof(leaves, 6)))
    assert "its proposal hands over to 'NSATU', not 'EVIL'" in handover_problems(
        Checkpoint(ORIGIN, 7, root_hash(leaves)), NEW_KEY, evil, members)[0]


def test_a_handover_enacted_after_its_proposal_expired_is_refused() -> None:
    checkpoint, evidence = scenario(signed("DEU", "FRA", "POL"), at="2024-08-01T00:00:01.000000Z")
    assert "after its proposal expired at 2024-08-01" in handover_problems(
        checkpoint, NEW_KEY, evidence, parse_member_keys(KEYS_FILE))[0]


def test_every_member_signature_in_a_shared_note_counts() -> None:
    """One note signed by several members (as `governance approve` accepts) counts once per member."""
    shared = sign_note(text_for(NEW_KEY.text), [SIGNERS["DEU"], SIGNERS["POL"]])
    checkpoint, evidence = scenario([shared])
    assert handover_problems(checkpoint, NEW_KEY, evidence, parse_member_keys(KEYS_FILE)) == []


def test_the_refusal_names_the_witness_quorum_and_how_to_change_it() -> None:
    checkpoint, evidence = scenario(signed("DEU", "FRA"))
    (why,) = handover_problems(checkpoint, NEW_KEY, evidence, parse_member_keys(KEYS_FILE, "3/4"))
    assert "3 are needed under this witness's quorum 3/4" in why and "--quorum" in why
