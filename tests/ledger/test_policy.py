"""Witness policies: k of n (only valid cosignatures of this checkpoint, from distinct configured witnesses,
count), and the C2SP tlog-policy text format with the spec's own example."""

from __future__ import annotations

import pytest

from contactgroup.domain.errors import ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint, sign_checkpoint
from contactgroup.ledger.cosignature import CosignerKey, generate_cosigner
from contactgroup.ledger.merkle import leaf_hash
from contactgroup.ledger.note import generate_key, sign_note
from contactgroup.ledger.policy import NONE, parse_policy, published_policy
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


# --- C2SP tlog-policy text ------------------------------------------------------------------------------------


LOG_SIGNER, LOG_KEY = generate_key("ledger.example/contactgroup")


def _spec_example(keys: dict[str, CosignerKey]) -> str:
    """The example of c2sp.org/tlog-policy ("Example policy"), with real keys in place of `<vkey>`."""
    return (f"log {LOG_KEY.text}\n\n"
            f"witness X1 {keys['X1'].text}\nwitness X2 {keys['X2'].text}\nwitness X3 {keys['X3'].text}\n"
            "group X-witnesses 2 X1 X2 X3\n\n"
            f"witness Y1 {keys['Y1'].text}\nwitness Y2 {keys['Y2'].text}\nwitness Y3 {keys['Y3'].text}\n"
            "group Y-witnesses any Y1 Y2 Y3\n\n"
            "group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n")


@pytest.fixture
def six() -> dict[str, tuple]:
    return {name: generate_cosigner(f"witness.example/{name}") for name in ("X1", "X2", "X3", "Y1", "Y2", "Y3")}


class TestTlogPolicy:
    def test_the_specs_example_two_x_and_one_y(self, six: dict[str, tuple]) -> None:
        p = parse_policy(_spec_example({n: k for n, (_, k) in six.items()}))
        assert [log.key for log in p.logs] == [LOG_KEY] and p.quorum == "X-and-Y"
        assert [(g.name, g.threshold) for g in p.groups] == [("X-witnesses", 2), ("Y-witnesses", 1),
                                                             ("X-and-Y", 2)]
        assert p.satisfied_by({"X1", "X3", "Y2"})
        assert not p.satisfied_by({"X1", "Y1", "Y2", "Y3"})  # one X is not two
        assert not p.satisfied_by({"X1", "X2", "X3"})  # no Y
        lines = [six[n][0].cosign(CHECKPOINT, T).line for n in ("X1", "X2", "Y3")]
        assert p.witnessed_by(CHECKPOINT, lines) == {"X1", "X2", "Y3"} and p.is_witnessed(CHECKPOINT, lines)
        assert not p.is_witnessed(OTHER, lines)

    def test_comments_blank_lines_tabs_and_urls_and_a_round_trip(self, six: dict[str, tuple]) -> None:
        (_, x1), (_, x2) = six["X1"], six["X2"]
        text = (f"# ours\n  \t\nlog\t{LOG_KEY.text} https://log.example/\n  witness a {x1.text}  https://w/ \n"
                f"witness b {x2.text}\n  # indented comment\ngroup g any a b\nquorum\tg\t\n")
        p = parse_policy(text.encode())
        assert p.logs[0].url == "https://log.example/" and p.witnesses[0].url == "https://w/"
        assert parse_policy(p.format()) == p

    def test_quorum_none_needs_no_cosignature_and_a_single_witness_may_be_the_quorum(
        self, six: dict[str, tuple]
    ) -> None:
        assert parse_policy("quorum none\n").satisfied_by(set())
        (c, k) = six["X1"]
        p = parse_policy(f"witness X1 {k.text}\nquorum X1\n")
        assert p.is_witnessed(CHECKPOINT, [c.cosign(CHECKPOINT, T).line]) and not p.satisfied_by(set())

    def test_a_witness_given_in_note_key_form_is_the_same_witness(self) -> None:
        signer, note_key = generate_key("witness.example/n")
        p = parse_policy(f"witness n {note_key.text}\nquorum n\n")
        from contactgroup.ledger.cosignature import Cosigner

        assert p.is_witnessed(CHECKPOINT, [Cosigner(signer).cosign(CHECKPOINT, T).line])

    @pytest.mark.parametrize("body, why", [
        ("", "no quorum line"),
        ("quorum a\n", "not a witness or group defined on an earlier line"),
        ("witness a {a}\nquorum a\nquorum a\n", "a second quorum line"),
        ("witness a {a}\nwitness a {b}\nquorum a\n", "already defined"),
        ("witness a {a}\nwitness b {a}\nquorum a\n", "duplicate key"),
        ("witness none {a}\nquorum none\n", "reserved"),
        ("witness a {a}\ngroup g 2 a\nquorum g\n", "threshold '2' must be all, any or a decimal 1..1"),
        ("witness a {a}\ngroup g 0 a\nquorum g\n", "threshold '0'"),
        ("witness a {a}\ngroup g 01 a\nquorum g\n", "threshold '01'"),
        ("witness a {a}\ngroup g any a a\nquorum g\n", "listed twice"),
        ("witness a {a}\ngroup g any\nquorum g\n", "at least one member"),
        ("group g any a\nwitness a {a}\nquorum g\n", "not defined on an earlier line"),
        ("witness a {a}\ngroup g any none\nquorum g\n", "not defined on an earlier line"),
        ("witness a {a}\nquorum a\r\n", "control character"),
        ("witness a {a}\nquorum a\nwitnesses b {b}\n", "unknown keyword"),
        ("log {a}\nquorum none\n", "unsupported signature type 0x04"),
        ("log {log}\nlog {log}\nquorum none\n", "duplicate key"),
        ("witness a {a} url extra\nquorum a\n", "expected `witness <name> <vkey> [<url>]`"),
    ])
    def test_malformed_policies_name_the_line(self, six: dict[str, tuple], body: str, why: str) -> None:
        text = body.format(a=six["X1"][1].text, b=six["X2"][1].text, log=LOG_KEY.text)
        with pytest.raises(ValidationFailed) as caught:
            parse_policy(text)
        assert why in str(caught.value)

    def test_names_are_opaque_octets_kelvin_is_not_k(self, six: dict[str, tuple]) -> None:
        with pytest.raises(ValidationFailed, match="not a witness or group"):
            parse_policy(f"witness K {six['X1'][1].text}\nquorum \u212a\n".encode())

    def test_open_needs_a_log_of_the_policy_or_the_given_key(self, six: dict[str, tuple]) -> None:
        note = sign_checkpoint(CHECKPOINT, [LOG_SIGNER])
        assert parse_policy(f"log {LOG_KEY.text}\nquorum none\n").open(note).checkpoint == CHECKPOINT
        assert parse_policy("quorum none\n").open(note, [LOG_KEY]).checkpoint == CHECKPOINT
        _, stranger = generate_key("ledger.example/contactgroup")
        from contactgroup.ledger.note import UnverifiedNote

        with pytest.raises(UnverifiedNote):
            parse_policy(f"log {stranger.text}\nquorum none\n").open(note)

    def test_the_published_k_of_n_reads_back_as_the_same_rule(self, witnesses: list) -> None:
        named = [(k.name, k) for _, k in witnesses]
        p = parse_policy(published_policy(LOG_KEY, named, 3).format())
        lines = [c.cosign(CHECKPOINT, T).line for c, _ in witnesses[:3]]
        assert p.is_witnessed(CHECKPOINT, lines) and not p.is_witnessed(CHECKPOINT, lines[:2])
        assert published_policy(LOG_KEY, [], 1).quorum == NONE
