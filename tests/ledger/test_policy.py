"""k-of-n witness policy: only valid cosignatures of this checkpoint, from distinct configured witnesses, count."""

from __future__ import annotations

import pytest

from contactgroup.domain.errors import ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint
from contactgroup.ledger.cosignature import CosignerKey, generate_cosigner
from contactgroup.ledger.merkle import leaf_hash
from contactgroup.ledger.note import generate_key, sign_note
from contactgroup.ledger.witness import WitnessPolicy

CHECKPOINT = Checkpoint("ledger.example/contactgroup", 42, leaf_hash(b"root"))
OTHER = Checkpoint("ledger.example/contactgroup", 43, leaf_hash(b"other root"))
T = 1_750_000_000


@pytest.fixture
def witnesses() -> list:
    return [generate_cosigner(f"witness.example/w{i}") for i in range(4)]


def policy(witnesses: list, quorum: int) -> WitnessPolicy:
    return WitnessPolicy(tuple(key for _, key in witnesses), quorum)


class TestQuorum:
    def test_k_valid_distinct_cosignatures_suffice(self, witnesses: list) -> None:
        lines = [c.cosign(CHECKPOINT, T).line for c, _ in witnesses[:2]]
        assert policy(witnesses, 2).is_witnessed(CHECKPOINT, lines)
        assert not policy(witnesses, 3).is_witnessed(CHECKPOINT, lines)

    def test_reports_which_witnesses_signed(self, witnesses: list) -> None:
        lines = [witnesses[1][0].cosign(CHECKPOINT, T).line, witnesses[3][0].cosign(CHECKPOINT, T).line]
        assert policy(witnesses, 2).witnessed_by(CHECKPOINT, lines) == {witnesses[1][1], witnesses[3][1]}

    def test_repeated_lines_of_one_witness_count_once(self, witnesses: list) -> None:
        c, _ = witnesses[0]
        lines = [c.cosign(CHECKPOINT, T).line, c.cosign(CHECKPOINT, T + 1).line, c.cosign(CHECKPOINT, T).line]
        assert not policy(witnesses, 2).is_witnessed(CHECKPOINT, lines)

    def test_cosignatures_of_another_checkpoint_do_not_count(self, witnesses: list) -> None:
        lines = [c.cosign(OTHER, T).line for c, _ in witnesses]
        assert policy(witnesses, 1).witnessed_by(CHECKPOINT, lines) == frozenset()

    def test_unconfigured_witnesses_do_not_count(self, witnesses: list) -> None:
        strangers = [generate_cosigner(f"witness.example/w{i}")[0] for i in range(4)]  # same names, other keys
        lines = [s.cosign(CHECKPOINT, T).line for s in strangers]
        assert not policy(witnesses, 1).is_witnessed(CHECKPOINT, lines)

    def test_forged_and_garbage_lines_are_ignored(self, witnesses: list) -> None:
        good = witnesses[0][0].cosign(CHECKPOINT, T)
        forged = type(good)(good.name, good.key_id, good.timestamp, bytes(64))
        lines = [forged.line, "— junk !!!", "", "not a line", good.line]
        assert policy(witnesses, 1).witnessed_by(CHECKPOINT, lines) == {witnesses[0][1]}

    def test_accepts_a_response_body_and_parsed_cosignatures(self, witnesses: list) -> None:
        body = "".join(c.cosign(CHECKPOINT, T).line for c, _ in witnesses[:3])
        assert policy(witnesses, 3).is_witnessed(CHECKPOINT, body)
        parsed = [c.cosign(CHECKPOINT, T) for c, _ in witnesses[:3]]
        assert policy(witnesses, 3).is_witnessed(CHECKPOINT, parsed)

    def test_the_logs_own_signature_is_not_a_cosignature(self, witnesses: list) -> None:
        # A witness's Ed25519 key used as a plain note signer (type 0x01) must not count as a cosignature.
        c, _ = witnesses[0]
        note = sign_note(CHECKPOINT.body, [c.key])
        assert not policy(witnesses, 1).is_witnessed(CHECKPOINT, note.rsplit("\n\n", 1)[1])


class TestConfiguration:
    @pytest.mark.parametrize("quorum", [0, 5, -1, True])
    def test_quorum_must_be_between_one_and_n(self, witnesses: list, quorum: int) -> None:
        with pytest.raises(ValidationFailed):
            policy(witnesses, quorum)

    def test_one_key_cannot_fill_two_seats(self, witnesses: list) -> None:
        key = witnesses[0][1]
        alias = CosignerKey("witness.example/alias", key.public_key)
        with pytest.raises(ValidationFailed, match="share one public key"):
            WitnessPolicy((key, alias), 2)

    def test_witnesses_must_be_cosigner_keys(self) -> None:
        _, note_key = generate_key("w")
        with pytest.raises(ValidationFailed):
            WitnessPolicy((note_key,), 1)  # type: ignore[arg-type]
