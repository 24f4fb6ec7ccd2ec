"""C2SP tlog-checkpoint bodies: strict parsing with every problem named, formatting, signed checkpoints."""

from __future__ import annotations

import base64

import pytest

from contactgroup.domain.errors import ValidationFailed
from contactgroup.ledger.checkpoint import (
    Checkpoint,
    checkpoint_problems,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from contactgroup.ledger.note import UnverifiedNote, generate_key

# The example body of the C2SP tlog-checkpoint specification (https://c2sp.org/tlog-checkpoint).
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
ROOT = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")


class TestParse:
    def test_spec_example(self) -> None:
        cp = parse_checkpoint(SPEC_BODY)
        assert cp == Checkpoint("example.com/behind-the-sofa", 20852163, ROOT)
        assert format_checkpoint(cp) == SPEC_BODY

    def test_extension_lines_round_trip(self) -> None:
        body = SPEC_BODY + "ext one\next-two\n"
        cp = parse_checkpoint(body)
        assert cp.extensions == ("ext one", "ext-two")
        assert cp.body == body

    def test_empty_tree_is_size_zero(self) -> None:
        assert parse_checkpoint(f"o\n0\n{base64.b64encode(bytes(32)).decode()}\n").size == 0

    @pytest.mark.parametrize(
        ("body", "where"),
        [
            (SPEC_BODY[:-1], "checkpoint"),  # missing trailing newline
            ("example.com\n5\n", "checkpoint"),  # too few lines
            (SPEC_BODY.replace("20852163", "020852163"), "size"),  # leading zero
            (SPEC_BODY.replace("20852163", "+20852163"), "size"),
            (SPEC_BODY.replace("20852163", "-1"), "size"),
            (SPEC_BODY.replace("20852163", "٣"), "size"),  # an Arabic-Indic digit: decimal, but not ASCII
            (SPEC_BODY.replace("20852163", " 20852163"), "size"),
            (SPEC_BODY.replace("20852163", str(2**64)), "size"),
            (SPEC_BODY.replace("=\n", "\n"), "root"),  # missing padding
            (SPEC_BODY.replace("CsUY", "Cs!Y"), "root"),  # not base64
            (SPEC_BODY.replace("q2I=", "q2J="), "root"),  # non-zero padding bits: a second spelling
            (f"o\n1\n{base64.b64encode(bytes(31)).decode()}\n", "root"),  # wrong hash length
            ("\n1\n" + SPEC_BODY.split("\n")[2] + "\n", "origin"),  # empty origin
            (SPEC_BODY + "\n", "extension 1"),  # empty extension line
            (SPEC_BODY + "tab\there\n", "extension 1"),
        ],
    )
    def test_rejects_with_a_clear_problem(self, body: str, where: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            parse_checkpoint(body)
        assert [p.where for p in caught.value.problems] == [where]

    def test_reports_every_problem_at_once(self) -> None:
        problems = checkpoint_problems("\n007\nnot base64\n")
        assert [p.where for p in problems] == ["origin", "size", "root"]

    def test_non_text_is_refused(self) -> None:
        assert checkpoint_problems(b"bytes")


class TestConstruct:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"origin": "", "size": 1, "root": ROOT},
            {"origin": "a\nb", "size": 1, "root": ROOT},
            {"origin": "o", "size": -1, "root": ROOT},
            {"origin": "o", "size": True, "root": ROOT},
            {"origin": "o", "size": 2**64, "root": ROOT},
            {"origin": "o", "size": 1, "root": ROOT[:31]},
            {"origin": "o", "size": 1, "root": ROOT, "extensions": ("",)},
            {"origin": "o", "size": 1, "root": ROOT, "extensions": ["x"]},
        ],
    )
    def test_invalid_fields_are_refused(self, kwargs: dict) -> None:
        with pytest.raises(ValidationFailed):
            Checkpoint(**kwargs)


class TestSigned:
    def test_sign_and_open(self) -> None:
        signer, verifier = generate_key("example.com/behind-the-sofa")
        note = sign_checkpoint(parse_checkpoint(SPEC_BODY), [signer])
        opened = open_checkpoint(note, [verifier])
        assert opened.checkpoint.size == 20852163
        assert opened.note.verified[0].name == "example.com/behind-the-sofa"

    def test_open_with_an_untrusted_key_fails(self) -> None:
        signer, _ = generate_key("log")
        _, stranger = generate_key("log")
        with pytest.raises(UnverifiedNote):
            open_checkpoint(sign_checkpoint(parse_checkpoint(SPEC_BODY), [signer]), [stranger])

    def test_signed_text_that_is_not_a_checkpoint_fails(self) -> None:
        from contactgroup.ledger.note import sign_note

        signer, verifier = generate_key("log")
        with pytest.raises(ValidationFailed):
            open_checkpoint(sign_note("just words\n", [signer]), [verifier])
