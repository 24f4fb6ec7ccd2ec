"""C2SP tlog-cosignature v1 (Ed25519): key ids with type 0x04, signed message, line payload, verification."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contactgroup.domain.errors import ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint, parse_checkpoint, sign_checkpoint
from contactgroup.ledger.cosignature import (
    CosignerKey,
    cosignature_message,
    cosigner_key_for,
    generate_cosigner,
    parse_cosignature,
    parse_cosigner,
    parse_cosigner_key,
    verify_cosignature,
)
from contactgroup.ledger.note import generate_key, open_note, parse_signer_key, sign_note

SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
CHECKPOINT = parse_checkpoint(SPEC_BODY)
# Source: the example in https://c2sp.org/tlog-cosignature (C2SP/C2SP tlog-cosignature.md): a cosignature line
# by witness.example.com/w1 whose timestamp is the "time 1679315147" of the spec's signed-message example.
SPEC_COSIG = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqh"
    "f5nNo0xUe+mbIUBkBIfZ+qnA=="
)
# Source: transparency-dev/formats note/note_cosigv1_test.go (TestCoSigV1Timestamp): payload with time 1727964367.
FORMATS_COSIG_B64 = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
)
# Source: same file (TestCoSigV1NewVerifier): a native 0x04 cosigner vkey that must parse.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


class TestPublishedValues:
    def test_spec_line_parses_to_the_spec_timestamp(self) -> None:
        cos = parse_cosignature(SPEC_COSIG)
        assert cos.name == "witness.example.com/w1"
        assert cos.key_id.hex() == "8d66cf3f"
        assert cos.timestamp == 1679315147
        assert len(cos.signature) == 64
        assert cos.line == SPEC_COSIG + "\n"

    def test_transparency_dev_payload_timestamp(self) -> None:
        cos = parse_cosignature(f"— w {FORMATS_COSIG_B64}")
        assert cos.timestamp == 1727964367

    def test_spec_signed_message_layout(self) -> None:
        assert cosignature_message(SPEC_BODY, 1679315147) == (
            b"cosignature/v1\ntime 1679315147\n"
            b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        )

    def test_native_cosigner_vkey_parses_and_round_trips(self) -> None:
        key = parse_cosigner_key(REMORA_VKEY)
        assert key.text == REMORA_VKEY

    def test_key_id_uses_type_0x04(self) -> None:
        key = parse_cosigner_key(REMORA_VKEY)
        assert key.key_id == hashlib.sha256(b"remora.n621.de\n\x04" + key.public_key).digest()[:4]

    def test_note_vkey_is_not_a_cosigner_vkey(self) -> None:
        with pytest.raises(ValidationFailed, match="0x04"):
            parse_cosigner_key("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


class TestCosign:
    def test_cosign_and_verify(self) -> None:
        cosigner, key = generate_cosigner("witness.example/w1")
        cos = cosigner.cosign(CHECKPOINT, 1_700_000_000)
        assert verify_cosignature(CHECKPOINT, cos.line, key)
        assert verify_cosignature(CHECKPOINT, cos, key)

    def test_payload_is_key_id_time_signature(self) -> None:
        cosigner, key = generate_cosigner("w")
        line = cosigner.cosign(CHECKPOINT, 1_700_000_000).line
        raw = base64.b64decode(line.split(" ")[2])
        assert raw[:4] == key.key_id
        assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
        # the Ed25519 signature covers exactly the spec's message
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(
            raw[12:], cosignature_message(SPEC_BODY, 1_700_000_000)
        )

    def test_changed_timestamp_fails(self) -> None:
        cosigner, key = generate_cosigner("w")
        cos = cosigner.cosign(CHECKPOINT, 1_700_000_000)
        moved = type(cos)(cos.name, cos.key_id, cos.timestamp + 1, cos.signature)
        assert not verify_cosignature(CHECKPOINT, moved, key)

    def test_other_checkpoint_fails(self) -> None:
        cosigner, key = generate_cosigner("w")
        line = cosigner.cosign(CHECKPOINT, 1).line
        other = Checkpoint(CHECKPOINT.origin, CHECKPOINT.size + 1, CHECKPOINT.root)
        assert not verify_cosignature(other, line, key)

    def test_extension_lines_are_signed(self) -> None:
        cosigner, key = generate_cosigner("w")
        with_ext = Checkpoint(CHECKPOINT.origin, CHECKPOINT.size, CHECKPOINT.root, ("ext",))
        line = cosigner.cosign(with_ext, 1).line
        assert verify_cosignature(with_ext, line, key)
        assert not verify_cosignature(CHECKPOINT, line, key)

    def test_other_witness_key_fails(self) -> None:
        cosigner, _ = generate_cosigner("w")
        _, other = generate_cosigner("w")
        assert not verify_cosignature(CHECKPOINT, cosigner.cosign(CHECKPOINT, 1).line, other)

    def test_plain_note_signature_is_not_a_cosignature(self) -> None:
        # Same Ed25519 key, type 0x01 line: a different key id, and the message lacks the cosignature header.
        signer, _ = generate_key("w")
        note = sign_checkpoint(CHECKPOINT, [signer])
        line = note.rsplit("\n\n", 1)[1]
        assert not verify_cosignature(CHECKPOINT, line, cosigner_key_for(signer.verifier))

    @pytest.mark.parametrize("junk", ["", "— w", "— w AAAA", "not a line", SPEC_COSIG[:-8], None, 5])
    def test_garbage_lines_are_false_not_errors(self, junk: object) -> None:
        _, key = generate_cosigner("w")
        assert verify_cosignature(CHECKPOINT, junk, key) is False  # type: ignore[arg-type]

    @pytest.mark.parametrize("ts", [-1, 2**63, True, 1.5])
    def test_cosign_refuses_bad_timestamps(self, ts: object) -> None:
        cosigner, _ = generate_cosigner("w")
        with pytest.raises(ValidationFailed):
            cosigner.cosign(CHECKPOINT, ts)  # type: ignore[arg-type]

    def test_timestamp_above_2_63_is_refused_when_parsing(self) -> None:
        raw = b"\x00" * 4 + (2**63).to_bytes(8, "big") + bytes(64)
        with pytest.raises(ValidationFailed):
            parse_cosignature("— w " + base64.b64encode(raw).decode())

    def test_cosignatures_plug_into_open_note(self) -> None:
        log_signer, log_key = generate_key(CHECKPOINT.origin)
        cosigner, witness_key = generate_cosigner("w1")
        note = sign_note(CHECKPOINT.body, [log_signer, cosigner.at(1_700_000_000)])
        opened = open_note(note, [log_key, witness_key])
        assert [s.name for s in opened.verified] == [CHECKPOINT.origin, "w1"]

    def test_private_key_text_is_a_note_signer_key(self) -> None:
        cosigner, key = generate_cosigner("w1")
        assert parse_signer_key(cosigner.text).name == "w1"
        assert parse_cosigner(cosigner.text).verifier == key

    def test_cosigner_key_round_trips_and_checks_its_id(self) -> None:
        _, key = generate_cosigner("w1")
        assert parse_cosigner_key(key.text) == key
        with pytest.raises(ValidationFailed):
            parse_cosigner_key(key.text.replace(key.key_id.hex(), "00000000"))
        with pytest.raises(ValidationFailed):
            CosignerKey("w 1", key.public_key)
