"""Witnesses follow the coordinating authority's handover to a new log key — on the members' signatures alone —
and refuse a new key that no quorum approved."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from contactgroup.domain.errors import Forbidden
from contactgroup.domain.model import ProposalKind, Role, User
from contactgroup.ledger import note
from contactgroup.services import coordination as svc
from contactgroup.services import governance as gov
from contactgroup.services.key_files import write_private_key
from tests.ledger_integration.conftest import Log, cli, serving


def _register_member_keys(log: Log) -> dict[str, note.SignerKey]:
    world = log.world
    members = sorted(world.db.state().members)
    signers = {code: note.generate_key(f"{code}-1")[0] for code in members}
    with world.db.transaction() as uow:  # users first: once a member key exists, members add their own users
        for code in members:
            svc.register_user(uow, world.caller("admin"), User(f"{code.lower()}-keys", code, Role.DESK_OFFICER))
        for code in members:
            gov.register_key(uow, world.caller(f"{code.lower()}-keys"), code, signers[code].verifier.text)
    return signers


def _hand_over(log: Log, signers: dict[str, note.SignerKey], new_key: note.VerifierKey) -> None:
    """DEU proposes the move to NSATU with `new_key`; 35 of the 52 members approve (the quorum)."""
    world = log.world
    with world.db.transaction() as uow:
        proposal = gov.propose(uow, world.caller("deu-keys"), ProposalKind.HANDOVER,
                               {"to": "NSATU", "users": ["nsatu-admin"], "log_key": new_key.text})
    with world.db.transaction() as uow:  # handed in together: the same events as 35 transactions, at far less cost
        for code in sorted(signers)[:35]:
            gov.approve(uow, world.caller("admin"), proposal.id, note.sign_note(proposal.text, [signers[code]]))


def _witness(url: str, tmp_path: Path, state: Path, *extra: str) -> tuple[int, str]:
    return cli("witness", "--log", url, "--key", str(tmp_path / "w.key"), "--state", str(state), "--once", *extra)


def test_witness_follows_a_quorum_approved_handover_and_refuses_an_unapproved_key(log: Log, tmp_path: Path) -> None:
    assert cli("witness", "keygen", "w.pol", "--out", str(tmp_path / "w.key"))[0] == 0
    signers = _register_member_keys(log)
    (tmp_path / "members.keys").write_text(log.stdout("keys", "export"), encoding="utf-8")
    origin = log.db.state().setting("origin")
    new_signer, new_key = note.generate_key(origin)
    write_private_key(tmp_path / "nsatu.logkey", new_signer.text)
    state = tmp_path / "witness"
    with serving(log.url, log.key) as url:
        code, output = _witness(url, tmp_path, state, "--log-key", log.stdout("ledger", "public-key").strip())
        assert code == 0, output
    before_handover = tmp_path / "witness-before"
    shutil.copytree(state, before_handover)

    _hand_over(log, signers, new_key)
    assert log.db.state().authority.name == "NSATU"  # type: ignore[union-attr]
    # The outgoing authority's key can no longer sign the log.
    code, output = log.cli("ledger", "checkpoint")
    assert code == 4 and "is not the log's verifier key" in output

    with serving(log.url, tmp_path / "nsatu.logkey") as url:
        code, output = _witness(url, tmp_path, state, "--member-keys", str(tmp_path / "members.keys"))
        assert code == 0, output
        assert "the log was handed over" in output and "cosigned" in output
        # A witness told nothing about the members cannot tell a handover from a hijack: it refuses.
        code, output = _witness(url, tmp_path, before_handover)
        assert code == 7 and "unknown-key" in output
    assert log.cli("verify")[0] == 0


def test_a_key_swapped_in_without_a_quorum_is_refused(log: Log, tmp_path: Path) -> None:
    assert cli("witness", "keygen", "w.pol", "--out", str(tmp_path / "w.key"))[0] == 0
    _register_member_keys(log)
    (tmp_path / "members.keys").write_text(log.stdout("keys", "export"), encoding="utf-8")
    state = tmp_path / "witness"
    with serving(log.url, log.key) as url:
        assert _witness(url, tmp_path, state, "--log-key", log.stdout("ledger", "public-key").strip())[0] == 0
    # The platform refuses to swap the log key outside a handover...
    rogue_signer, rogue_key = note.generate_key(log.db.state().setting("origin"))
    write_private_key(tmp_path / "rogue.logkey", rogue_signer.text)
    with pytest.raises(Forbidden, match="changes only by a governance proposal"), log.db.transaction() as uow:
        svc.record_setting(uow, log.world.caller("admin"), "log_verifier_key", rogue_key.text)
    # ... so whoever holds the database writes the event around it, and serves checkpoints with its own key.
    with log.db.transaction() as uow:
        ctx = svc.authorized(uow, log.world.caller("admin"), "coordination:found")
        uow.record([ctx.event("SettingChanged", {"name": "log_verifier_key", "value": rogue_key.text})])
    with serving(log.url, tmp_path / "rogue.logkey") as url:
        code, output = _witness(url, tmp_path, state, "--member-keys", str(tmp_path / "members.keys"))
    assert code == 7 and "unknown-key" in output


def test_a_member_that_left_can_still_check_its_receipts(log: Log, tmp_path: Path) -> None:
    signers = _register_member_keys(log)
    assert log.cli("ledger", "checkpoint")[0] == 0
    log_key = log.stdout("ledger", "public-key").strip()
    receipt = tmp_path / "offer.receipt"
    assert log.cli("ledger", "receipt", "--index", str(offer_event(log)), "--out", str(receipt), user="deu")[0] == 0
    world = log.world
    with world.db.transaction() as uow:
        proposal = gov.propose(uow, world.caller("admin"), ProposalKind.REMOVE_MEMBER, {"code": "DEU"})
    with world.db.transaction() as uow:  # handed in together: the same events as 35 transactions, at far less cost
        for code in sorted(signers)[:35]:
            gov.approve(uow, world.caller("admin"), proposal.id, note.sign_note(proposal.text, [signers[code]]))
    assert not world.db.state().members["DEU"].active
    code, output = log.cli("offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "1",
                           "--available-from", "2024-09-01", "--depot", "DEU", user="deu")
    assert code == 4 and "DEU has left the coordination" in output
    code, output = cli("ledger", "check-receipt", str(receipt), "--key", log_key)
    assert code == 0, output
    assert log.cli("verify")[0] == 0


def offer_event(log: Log) -> int:
    """The index of the event that drafted DEU's offer."""
    with log.db.reader() as conn:
        rows = conn.execute(sa.text("SELECT seq, body FROM events WHERE type = 'OfferDrafted' ORDER BY seq"))
        return next(int(s) for s, b in rows if json.loads(bytes(b))["data"]["member"] == "DEU")


def test_receipts_signed_before_a_handover_check_against_the_key_then_in_force(log: Log, tmp_path: Path) -> None:
    """`check-receipt --db` picks the log key that signed the receipt's tree, not today's."""
    signers = _register_member_keys(log)
    assert log.cli("ledger", "checkpoint")[0] == 0
    old_key = log.stdout("ledger", "public-key").strip()
    receipt = tmp_path / "offer.receipt"
    assert log.cli("ledger", "receipt", "--index", str(offer_event(log)), "--out", str(receipt), user="deu")[0] == 0
    _, new_key = note.generate_key(log.db.state().setting("origin"))
    _hand_over(log, signers, new_key)
    assert log.stdout("ledger", "public-key").strip() == new_key.text != old_key
    code, output = log.cli("ledger", "check-receipt", str(receipt))
    assert code == 0, output
    assert old_key in output
    # The published policy names the log under both keys, so a member starting from it checks old receipts too.
    policy = tmp_path / "policy.txt"
    policy.write_text(log.stdout("ledger", "policy", "--format", "tlog-policy"), encoding="utf-8")
    logs = [line for line in policy.read_text().splitlines() if line.startswith("log ")]
    assert len(logs) == 2 and old_key.split("+")[-1] in logs[0] and new_key.text.split("+")[-1] in logs[1]
    code, output = cli("ledger", "check-receipt", str(receipt), "--policy", str(policy))
    assert code == 0, output
