"""Witness rules: cosign consistent growth; refuse rollback, split view, rewritten history, unknown keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from contactgroup.domain.errors import Forbidden, ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint, sign_checkpoint
from contactgroup.ledger.cosignature import generate_cosigner, verify_cosignature
from contactgroup.ledger.merkle import consistency_proof, leaf_hash, root_hash
from contactgroup.ledger.note import SignerKey, VerifierKey, generate_key
from contactgroup.ledger.witness import (
    Accepted,
    AddCheckpoint,
    FixedApproval,
    LogState,
    Refusal,
    Refused,
    WitnessState,
    add_checkpoint,
    format_add_checkpoint,
    load_witness_state,
    parse_add_checkpoint,
    rotate_log_keys,
    save_witness_state,
    write_evidence,
)

ORIGIN = "ledger.example/contactgroup"
NOW = 1_750_000_000


@dataclass
class Log:
    """A test log: leaves, a signing key, and helpers to produce signed checkpoints and requests."""

    signer: SignerKey
    leaves: list[bytes]

    @classmethod
    def new(cls, n: int = 0) -> Log:
        signer, _ = generate_key(ORIGIN)
        return cls(signer, [leaf_hash(f"event {i}".encode()) for i in range(n)])

    def grow(self, k: int) -> None:
        start = len(self.leaves)
        self.leaves += [leaf_hash(f"event {i}".encode()) for i in range(start, start + k)]

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        size = len(self.leaves) if size is None else size
        return Checkpoint(ORIGIN, size, root_hash(self.leaves[:size]))

    def note(self, size: int | None = None, signer: SignerKey | None = None) -> str:
        return sign_checkpoint(self.checkpoint(size), [signer or self.signer])

    def request(self, old: int, size: int | None = None, signer: SignerKey | None = None) -> AddCheckpoint:
        size = len(self.leaves) if size is None else size
        proof = consistency_proof(self.leaves[:size], old)
        return AddCheckpoint(old, tuple(proof), self.note(size, signer))


@pytest.fixture
def log() -> Log:
    return Log.new(10)


@pytest.fixture
def witness() -> tuple:
    return generate_cosigner("witness.example/w1")


def fresh_state(log: Log) -> WitnessState:
    return WitnessState((LogState(ORIGIN, (log.signer.verifier,)),))


def accept(state: WitnessState, request: AddCheckpoint, cosigner: object) -> WitnessState:
    result = add_checkpoint(state, request, cosigner, NOW)  # type: ignore[arg-type]
    assert isinstance(result, Accepted), result
    return result.state


class TestAccepts:
    def test_first_checkpoint_from_size_zero(self, log: Log, witness: tuple) -> None:
        cosigner, key = witness
        result = add_checkpoint(fresh_state(log), log.request(0), cosigner, NOW)
        assert isinstance(result, Accepted)
        assert result.state.log(ORIGIN).size == 10  # type: ignore[union-attr]
        assert verify_cosignature(log.checkpoint(), result.cosignature, key)
        assert result.cosignature.timestamp == NOW

    def test_a_consistent_sequence(self, log: Log, witness: tuple) -> None:
        cosigner, _ = witness
        state = accept(fresh_state(log), log.request(0), cosigner)
        for k in (1, 5, 17, 64):
            old = len(log.leaves)
            log.grow(k)
            state = accept(state, log.request(old), cosigner)
        assert state.log(ORIGIN).size == 97  # type: ignore[union-attr]

    def test_same_checkpoint_again_is_cosigned_again(self, log: Log, witness: tuple) -> None:
        cosigner, _ = witness
        state = accept(fresh_state(log), log.request(0), cosigner)
        assert accept(state, log.request(10), cosigner) == state

    def test_empty_log(self, witness: tuple) -> None:
        empty = Log.new(0)
        state = accept(fresh_state(empty), empty.request(0), witness[0])
        assert state.log(ORIGIN).size == 0  # type: ignore[union-attr]

    def test_input_state_is_not_changed(self, log: Log, witness: tuple) -> None:
        state = fresh_state(log)
        add_checkpoint(state, log.request(0), witness[0], NOW)
        assert state.log(ORIGIN).checkpoint is None  # type: ignore[union-attr]


class TestRefuses:
    def refused(self, state: WitnessState, request: AddCheckpoint, cosigner: object) -> Refused:
        result = add_checkpoint(state, request, cosigner, NOW)  # type: ignore[arg-type]
        assert isinstance(result, Refused), result
        return result

    def test_rollback(self, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        result = self.refused(state, log.request(0, size=6), witness[0])
        assert result.reason is Refusal.ROLLBACK
        assert result.cosigned_size == 10
        assert result.evidence is not None

    def test_split_view(self, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        fork = Log(log.signer, [*log.leaves[:9], leaf_hash(b"a different tenth event")])
        result = self.refused(state, fork.request(10), witness[0])
        assert result.reason is Refusal.SPLIT_VIEW
        assert result.status == 409
        assert result.evidence is not None
        assert result.evidence.cosigned_note == state.log(ORIGIN).note  # type: ignore[union-attr]
        assert result.evidence.refused_request.note == fork.note()

    def test_rewritten_history(self, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        rewritten = Log(log.signer, list(log.leaves))
        rewritten.leaves[3] = leaf_hash(b"quietly changed event 3")
        rewritten.grow(5)
        result = self.refused(state, rewritten.request(10), witness[0])
        assert result.reason is Refusal.INCONSISTENT
        assert result.status == 422
        assert result.evidence is not None

    def test_dropped_event(self, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        dropped = Log(log.signer, log.leaves[:4] + log.leaves[5:])
        dropped.grow(3)
        assert self.refused(state, dropped.request(10), witness[0]).reason is Refusal.INCONSISTENT

    def test_reordered_events(self, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        swapped = Log(log.signer, list(log.leaves))
        swapped.leaves[1], swapped.leaves[2] = swapped.leaves[2], swapped.leaves[1]
        swapped.grow(2)
        assert self.refused(state, swapped.request(10), witness[0]).reason is Refusal.INCONSISTENT

    def test_valid_proof_against_the_wrong_old_tree(self, log: Log, witness: tuple) -> None:
        # The log sends a proof from a forked size-10 tree: consistent with the fork, not with what we cosigned.
        state = accept(fresh_state(log), log.request(0), witness[0])
        fork = Log(log.signer, [leaf_hash(b"fork"), *log.leaves[1:]])
        fork.grow(6)
        assert self.refused(state, fork.request(10), witness[0]).reason is Refusal.INCONSISTENT

    def test_signed_by_an_unknown_key(self, log: Log, witness: tuple) -> None:
        stranger, _ = generate_key(ORIGIN)
        result = self.refused(fresh_state(log), log.request(0, signer=stranger), witness[0])
        assert result.reason is Refusal.UNKNOWN_KEY
        assert result.status == 403
        assert result.evidence is None

    def test_bad_signature_by_the_trusted_key(self, log: Log, witness: tuple) -> None:
        request = log.request(0)
        text, sigs = request.note.rsplit("\n\n", 1)
        forged = text.replace("\n10\n", "\n11\n") + "\n\n" + sigs  # changed size, original signature
        result = self.refused(fresh_state(log), AddCheckpoint(0, (), forged), witness[0])
        assert result.reason is Refusal.BAD_SIGNATURE

    def test_unknown_origin(self, log: Log, witness: tuple) -> None:
        other = WitnessState((LogState("other.example/log", (generate_key("other.example/log")[1],)),))
        result = self.refused(other, log.request(0), witness[0])
        assert result.reason is Refusal.UNKNOWN_ORIGIN
        assert result.status == 404

    def test_old_size_not_the_cosigned_size(self, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        log.grow(4)
        result = self.refused(state, log.request(7), witness[0])
        assert result.reason is Refusal.OLD_SIZE_MISMATCH
        assert result.cosigned_size == 10

    def test_non_empty_proof_from_zero(self, log: Log, witness: tuple) -> None:
        request = AddCheckpoint(0, (root_hash(log.leaves[:1]),), log.note())
        assert self.refused(fresh_state(log), request, witness[0]).reason is Refusal.INCONSISTENT

    def test_not_a_checkpoint(self, log: Log, witness: tuple) -> None:
        for note in ("", "garbage\n\n— x AAAA\n", sign_checkpoint(log.checkpoint(), [log.signer])[:-2]):
            result = self.refused(fresh_state(log), AddCheckpoint(0, (), note), witness[0])
            assert result.reason is Refusal.MALFORMED

    def test_refusal_keeps_the_state(self, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        self.refused(state, log.request(0, size=3), witness[0])
        assert state.log(ORIGIN).size == 10  # type: ignore[union-attr]


class TestRequestFormat:
    def test_round_trip(self, log: Log) -> None:
        for request in (log.request(3), log.request(0, size=3), log.request(10)):
            assert parse_add_checkpoint(format_add_checkpoint(request)) == request

    def test_spec_example_head(self) -> None:
        # The request layout of https://c2sp.org/tlog-witness (its example's first lines).
        body = (
            "old 20852014\n"
            "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
            "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
            "\n"
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— x AAAA\n"
        )
        request = parse_add_checkpoint(body)
        assert request.old_size == 20852014
        assert len(request.proof) == 2
        assert request.note.startswith("example.com/behind-the-sofa\n")

    @pytest.mark.parametrize(
        "body",
        ["old 01\n\nx", "old -1\n\nx", "new 1\n\nx", "old 1\nnot-base64\n\nx", "old 1\nAAAA\n\nx", "old 1\n"],
    )
    def test_rejects_malformed_requests(self, body: str) -> None:
        with pytest.raises(ValidationFailed):
            parse_add_checkpoint(body)

    def test_rejects_more_than_63_proof_lines(self) -> None:
        line = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
        with pytest.raises(ValidationFailed, match="63"):
            parse_add_checkpoint("old 1\n" + line * 64 + "\nx")


class TestKeyRotation:
    def test_approved_rotation_then_new_key_continues_the_tree(self, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        new_signer, new_key = generate_key(ORIGIN)
        rotated = rotate_log_keys(state.log(ORIGIN), [new_key], FixedApproval(True))  # type: ignore[arg-type]
        state = state.with_log(rotated)
        assert rotated.checkpoint == log.checkpoint()
        log.grow(3)
        # the old key is no longer trusted
        refused = add_checkpoint(state, log.request(10), witness[0], NOW)
        assert isinstance(refused, Refused) and refused.reason is Refusal.UNKNOWN_KEY
        state = accept(state, log.request(10, signer=new_signer), witness[0])
        assert state.log(ORIGIN).size == 13  # type: ignore[union-attr]

    def test_new_key_cannot_rewrite_history(self, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        new_signer, new_key = generate_key(ORIGIN)
        state = state.with_log(rotate_log_keys(state.log(ORIGIN), [new_key], FixedApproval(True)))  # type: ignore[arg-type]
        fork = Log(new_signer, [leaf_hash(b"new history")] * 12)
        result = add_checkpoint(state, fork.request(10), witness[0], NOW)
        assert isinstance(result, Refused) and result.reason is Refusal.INCONSISTENT

    def test_unapproved_rotation_is_forbidden(self, log: Log) -> None:
        _, new_key = generate_key(ORIGIN)
        with pytest.raises(Forbidden):
            rotate_log_keys(fresh_state(log).log(ORIGIN), [new_key], FixedApproval(False))  # type: ignore[arg-type]

    def test_approval_sees_current_and_proposed_keys(self, log: Log) -> None:
        seen: list[tuple] = []

        class Recorder:
            def permits(self, origin: str, current: tuple, proposed: tuple) -> bool:
                seen.append((origin, current, proposed))
                return True

        _, new_key = generate_key(ORIGIN)
        rotate_log_keys(fresh_state(log).log(ORIGIN), [log.signer.verifier, new_key], Recorder())  # type: ignore[arg-type]
        assert seen == [(ORIGIN, (log.signer.verifier,), (log.signer.verifier, new_key))]

    @pytest.mark.parametrize("proposed", ["none", "other-name", "duplicate"])
    def test_invalid_key_sets_are_refused(self, log: Log, proposed: str) -> None:
        keys: list[VerifierKey] = {
            "none": [],
            "other-name": [generate_key("other.example")[1]],
            "duplicate": [log.signer.verifier, log.signer.verifier],
        }[proposed]
        with pytest.raises(ValidationFailed):
            rotate_log_keys(fresh_state(log).log(ORIGIN), keys, FixedApproval(True))  # type: ignore[arg-type]


class TestStateFile:
    def test_save_and_load_round_trip(self, tmp_path: Path, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        path = tmp_path / "witness.json"
        save_witness_state(path, state)
        assert load_witness_state(path) == state
        assert [p.name for p in tmp_path.iterdir()] == ["witness.json"]  # no temporary file left behind

    def test_missing_file_is_an_empty_witness(self, tmp_path: Path) -> None:
        assert load_witness_state(tmp_path / "absent.json") == WitnessState()

    def test_save_replaces_the_previous_state(self, tmp_path: Path, log: Log, witness: tuple) -> None:
        path = tmp_path / "witness.json"
        save_witness_state(path, fresh_state(log))
        state = accept(fresh_state(log), log.request(0), witness[0])
        save_witness_state(path, state)
        assert load_witness_state(path).log(ORIGIN).size == 10  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        "content",
        [b"not json", b"{}", b'{"format": "contactgroup-witness-state/1", "logs": [{"origin": "o", "keys": ["x"]}]}'],
    )
    def test_corrupt_files_are_refused(self, tmp_path: Path, content: bytes) -> None:
        path = tmp_path / "witness.json"
        path.write_bytes(content)
        with pytest.raises(ValidationFailed):
            load_witness_state(path)

    def test_evidence_files_are_written(self, tmp_path: Path, log: Log, witness: tuple) -> None:
        state = accept(fresh_state(log), log.request(0), witness[0])
        fork = Log(log.signer, [*log.leaves[:9], leaf_hash(b"other")])
        result = add_checkpoint(state, fork.request(10), witness[0], NOW)
        assert isinstance(result, Refused) and result.evidence is not None
        written = write_evidence(tmp_path / "evidence", result.evidence)
        names = sorted(p.name for p in written)
        assert [n.rsplit(".", 2)[-2:] for n in names] == [
            ["cosigned", "note"],
            ["refused-request", "txt"],
            ["refused", "note"],
        ]
        assert all(n.startswith("ledger.example_contactgroup.split-view.") for n in names)
        by_kind = {p.name.split(".")[-2]: p.read_text() for p in written}
        assert by_kind["cosigned"] == state.log(ORIGIN).note  # type: ignore[union-attr]
        assert by_kind["refused"] == fork.note()
        assert parse_add_checkpoint(by_kind["refused-request"]).note == fork.note()


class TestStateRules:
    def test_log_key_must_be_named_for_the_origin(self) -> None:
        with pytest.raises(ValidationFailed):
            LogState(ORIGIN, (generate_key("elsewhere")[1],))

    def test_origin_listed_twice_is_refused(self, log: Log) -> None:
        one = LogState(ORIGIN, (log.signer.verifier,))
        with pytest.raises(ValidationFailed):
            WitnessState((one, one))
