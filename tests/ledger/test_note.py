"""C2SP signed notes: Go sumdb/note vectors reproduced exactly, key parsing, open/verify rules."""

from __future__ import annotations

import pytest

from contactgroup.domain.errors import ValidationFailed
from contactgroup.ledger.note import (
    InvalidNoteSignature,
    Signature,
    SignerKey,
    UnverifiedNote,
    VerifierKey,
    generate_key,
    key_id,
    name_problems,
    open_note,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    verify_note,
)

# Source: golang.org/x/mod/sumdb/note, note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen)
# and the package documentation in note.go. Copied as facts: keys, text and signature lines.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

PETER = parse_verifier_key(PETER_VKEY)
ENOCH = parse_verifier_key(ENOCH_VKEY)


class TestGoVectors:
    def test_signer_key_parses_and_derives_the_published_verifier(self) -> None:
        signer = parse_signer_key(PETER_SKEY)
        assert signer.name == "PeterNeumann"
        assert signer.key_id.hex() == "c74f20a3"
        assert signer.verifier.text == PETER_VKEY
        assert signer.text == PETER_SKEY

    def test_sign_reproduces_the_published_note_byte_for_byte(self) -> None:
        assert sign_note(TEXT, [parse_signer_key(PETER_SKEY)]) == TEXT + "\n" + PETER_SIG

    def test_sign_replaces_an_existing_signature_by_the_same_key(self) -> None:
        stale = Signature("PeterNeumann", bytes.fromhex("c74f20a3"), b"BADSIGN")
        assert sign_note(TEXT, [parse_signer_key(PETER_SKEY)], existing=[stale]) == TEXT + "\n" + PETER_SIG

    def test_open_with_one_known_key(self) -> None:
        opened = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER])
        assert opened.text == TEXT
        assert [s.name for s in opened.verified] == ["PeterNeumann"]
        assert [(s.name, s.key_id.hex()) for s in opened.unverified] == [("EnochRoot", "af0cfe78")]

    def test_open_with_both_keys(self) -> None:
        opened = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER, ENOCH])
        assert [s.name for s in opened.verified] == ["PeterNeumann", "EnochRoot"]
        assert opened.unverified == ()

    def test_open_without_known_keys_is_unverified(self) -> None:
        with pytest.raises(UnverifiedNote) as caught:
            open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
        assert len(caught.value.note.signatures) == 2

    def test_open_rejects_a_known_key_with_a_bad_signature(self) -> None:
        forged = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
        with pytest.raises(InvalidNoteSignature, match="PeterNeumann\\+c74f20a3"):
            open_note(TEXT + "\n" + forged, [PETER])

    def test_duplicated_lines_count_once(self) -> None:
        enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
        msg = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
        opened = open_note(msg, [PETER])
        assert len(opened.verified) == 1
        assert len(opened.unverified) == 2

    def test_more_than_100_signatures_is_malformed(self) -> None:
        with pytest.raises(ValidationFailed):
            open_note(TEXT + "\n" + PETER_SIG * 101, [PETER])

    @pytest.mark.parametrize(
        "msg",
        [
            TEXT,
            TEXT + "\n",
            TEXT + "\n" + PETER_SIG[:-1],
            "\x01" + TEXT + "\n" + PETER_SIG,
            TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name")[:-1],
            TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        ],
    )
    def test_malformed_messages(self, msg: str) -> None:
        with pytest.raises(ValidationFailed):
            open_note(msg, [PETER])

    def test_invalid_utf8_bytes_are_malformed(self) -> None:
        with pytest.raises(ValidationFailed):
            open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [PETER])

    def test_ambiguous_verifiers_are_refused(self) -> None:
        impostor = VerifierKey("EnochRoot", bytes(32))
        object.__setattr__(impostor, "key_id", ENOCH.key_id)  # simulate a colliding key id
        with pytest.raises(ValidationFailed, match="ambiguous"):
            open_note(TEXT + "\n" + ENOCH_SIG, [ENOCH, PETER, impostor])
        # the same key twice is not ambiguous
        assert open_note(TEXT + "\n" + ENOCH_SIG, [ENOCH, PETER, ENOCH]).verified

    def test_every_substring_of_the_verifier_key_is_refused(self) -> None:
        # Go's TestNewVerifier mangles the key this way; every variant must fail.
        for i in range(len(PETER_VKEY) + 1):
            for j in range(i + 1, len(PETER_VKEY) + 1):
                if (i, j) != (0, len(PETER_VKEY)):
                    with pytest.raises(ValidationFailed):
                        parse_verifier_key(PETER_VKEY[i:j])

    def test_every_incremented_character_of_either_key_is_refused(self) -> None:
        for key, parse in ((PETER_VKEY, parse_verifier_key), (PETER_SKEY, parse_signer_key)):
            for i in range(len(key)):
                mangled = key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :]
                with pytest.raises(ValidationFailed):
                    parse(mangled)  # type: ignore[operator]

    def test_every_substring_of_the_signer_key_is_refused(self) -> None:
        for i in range(0, len(PETER_SKEY) + 1, 3):
            for j in range(i + 1, len(PETER_SKEY) + 1):
                if (i, j) != (0, len(PETER_SKEY)):
                    with pytest.raises(ValidationFailed):
                        parse_signer_key(PETER_SKEY[i:j])

    @pytest.mark.parametrize(
        "vkey",
        [
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # wrong length
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm
        ],
    )
    def test_published_bad_keys_are_refused(self, vkey: str) -> None:
        with pytest.raises(ValidationFailed):
            parse_verifier_key(vkey)


class TestKeys:
    def test_key_id_construction(self) -> None:
        import hashlib

        expected = hashlib.sha256(b"PeterNeumann\n\x01" + PETER.public_key).digest()[:4]
        assert key_id("PeterNeumann", b"\x01" + PETER.public_key) == expected == PETER.key_id

    def test_generated_pair_round_trips_through_text(self) -> None:
        signer, verifier = generate_key("log.example/contactgroup")
        assert parse_signer_key(signer.text) == signer
        assert parse_verifier_key(verifier.text) == verifier
        assert signer.verifier == verifier

    def test_seed_is_not_in_repr(self) -> None:
        signer, _ = generate_key("x")
        assert signer.seed.hex() not in repr(signer)

    @pytest.mark.parametrize("name", ["", "a+b", "a b", "a\tb", "a\u00a0b", "a\u2003b", "a\nb"])
    def test_invalid_names_are_refused(self, name: str) -> None:
        assert name_problems(name)
        with pytest.raises(ValidationFailed):
            generate_key(name)
        with pytest.raises(ValidationFailed):
            VerifierKey(name, bytes(32))

    def test_upper_case_key_ids_are_read_as_go_reads_them_short_ones_are_refused(self) -> None:
        # Go parses the id with strconv.ParseUint(id, 16, 32): either case is the same id.
        assert parse_verifier_key(PETER_VKEY.replace("c74f20a3", "C74F20A3")) == PETER
        assert parse_signer_key(PETER_SKEY.replace("c74f20a3", "C74F20A3")).verifier == PETER
        with pytest.raises(ValidationFailed):
            parse_verifier_key(PETER_VKEY.replace("c74f20a3", "c74f20a"))

    def test_wrong_prefix_on_signer_key(self) -> None:
        with pytest.raises(ValidationFailed):
            parse_signer_key(PETER_SKEY.replace("PRIVATE+KEY", "PUBLIC+KEY"))

    def test_signer_needs_a_32_byte_seed(self) -> None:
        with pytest.raises(ValidationFailed):
            SignerKey("x", b"short")


class TestSignAndVerify:
    def test_round_trip_with_two_signers(self) -> None:
        a, va = generate_key("a.example")
        b, vb = generate_key("b.example")
        signed = sign_note("hello\n", [a, b])
        assert verify_note(signed, va) and verify_note(signed, vb)
        assert [s.name for s in open_note(signed, [va, vb]).verified] == ["a.example", "b.example"]

    def test_text_may_contain_blank_lines(self) -> None:
        a, va = generate_key("a")
        signed = sign_note("one\n\ntwo\n", [a])
        assert open_note(signed, [va]).text == "one\n\ntwo\n"

    def test_altered_text_fails(self) -> None:
        a, va = generate_key("a")
        signed = sign_note("pay 10\n", [a])
        assert not verify_note(signed.replace("pay 10", "pay 99"), va)

    def test_verify_note_with_another_key_is_false(self) -> None:
        a, _ = generate_key("a")
        _, other = generate_key("a")
        assert not verify_note(sign_note("x\n", [a]), other)

    @pytest.mark.parametrize("text", ["", "no newline", "bell\x07\n", 42])
    def test_sign_refuses_bad_text(self, text: object) -> None:
        a, _ = generate_key("a")
        with pytest.raises(ValidationFailed):
            sign_note(text, [a])  # type: ignore[arg-type]

    def test_sign_needs_a_signer(self) -> None:
        with pytest.raises(ValidationFailed):
            sign_note("x\n", [])

    def test_verify_note_never_raises_on_garbage(self) -> None:
        for junk in (None, 1, "", "\n\n", "x\n\n— a !!!\n", b"\xff\xfe"):
            assert verify_note(junk, PETER) is False  # type: ignore[arg-type]

    def test_parse_note_keeps_signature_bytes(self) -> None:
        note = parse_note(TEXT + "\n" + PETER_SIG)
        assert note.signatures[0].key_id.hex() == "c74f20a3"
        assert len(note.signatures[0].signature) == 64
        assert note.format() == TEXT + "\n" + PETER_SIG


def _flip_padding_bits(line: str) -> str:
    """The same signature line with non-zero base64 padding bits: other text, the same bytes."""
    head, b64 = line.rstrip("\n").rsplit(" ", 1)
    stripped = b64.rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(stripped[-1])
    assert last % 4 == 0  # two padding bytes... or one: the low bits of the last digit are the padding bits
    flipped = stripped[:-1] + alphabet[last + 1] + b64[len(stripped):]
    return f"{head} {flipped}\n"


class TestWhatGoAccepts:
    """Notes Go's sumdb/note opens (the audit's cases, made again here with a fresh key): we must too."""

    signer, vkey = generate_key("example.org/log")
    other, _ = generate_key("example.org/other")
    text = "example.org/log\n5\nERERERERERERERERERERERERERERERERERERERERERE=\n"

    def _line(self, name: str | None = None) -> str:
        note = sign_note(self.text, [self.signer])
        line = note[len(self.text) + 1:]
        return line if name is None else line.replace("example.org/log", name, 1)

    def test_non_zero_padding_bits_on_the_known_keys_line(self) -> None:
        line = _flip_padding_bits(self._line())
        assert line != self._line()
        assert open_note(self.text + "\n" + line, [self.vkey]).text == self.text

    def test_non_zero_padding_bits_on_an_unknown_keys_line(self) -> None:
        unknown = _flip_padding_bits(sign_note(self.text, [self.other])[len(self.text) + 1:])
        opened = open_note(self.text + "\n" + unknown + self._line(), [self.vkey])
        assert [s.name for s in opened.unverified] == ["example.org/other"]

    def test_an_unknown_signers_name_may_hold_a_control_character_above_0x1f(self) -> None:
        unknown = sign_note(self.text, [self.other])[len(self.text) + 1:].replace("example.org/other", "a\x7fb")
        opened = open_note(self.text + "\n" + unknown + self._line(), [self.vkey])
        assert [s.name for s in opened.unverified] == ["a\x7fb"]
        assert not name_problems("a\x7fb") and name_problems("a\u2028b") and not name_problems("a\x1cb")

    def test_a_verifier_key_with_an_upper_case_id(self) -> None:
        upper = self.vkey.text.replace(self.vkey.key_id.hex(), self.vkey.key_id.hex().upper())
        assert verify_note(self.text + "\n" + self._line(), parse_verifier_key(upper))

    def test_but_we_make_no_key_whose_name_holds_a_control_character(self) -> None:
        with pytest.raises(ValidationFailed):
            generate_key("a\x7fb")

    @pytest.mark.parametrize("case", ["no_final_nl", "crlf", "tab_sep", "hyphen", "trailing_space", "101_sigs"])
    def test_what_go_refuses_we_refuse(self, case: str) -> None:
        line = self._line()
        note = {
            "no_final_nl": self.text + "\n" + line.rstrip("\n"),
            "crlf": self.text.replace("\n", "\r\n", 1) + "\n" + line,
            "tab_sep": self.text + "\n" + line.replace(" ", "\t", 2).replace("\t", " ", 1),
            "hyphen": self.text + "\n" + line.replace("—", "-"),
            "trailing_space": self.text + "\n" + line.rstrip("\n") + " \n",
            "101_sigs": self.text + "\n" + line + self._line("u") * 100,
        }[case]
        assert not verify_note(note, self.vkey)
