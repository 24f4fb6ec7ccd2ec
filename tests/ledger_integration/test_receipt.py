"""Receipts: a member proves offline that an event it may see is in a witnessed checkpoint."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from contactgroup.ledger.checkpoint import parse_checkpoint
from contactgroup.ledger.cosignature import generate_cosigner
from contactgroup.ledger.note import parse_note
from contactgroup.services import checkpoints
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.storage.database import decode, read_events
from tests.ledger_integration.conftest import Log


def _index_of(log: Log, event_type: str) -> int:
    with log.db.reader() as conn:
        return next(seq for seq, body, _ in read_events(conn) if decode(body).type == event_type)


@pytest.fixture
def witnessed(log: Log, clock: FixedClock) -> tuple[Log, str]:
    """The log with one witness (quorum 1) that cosigned the latest checkpoint; returns its verifier key."""
    cosigner, key = generate_cosigner("w.est")
    assert log.cli("ledger", "witness-add", "w.est", key.text, user="admin")[0] == 0
    note = log.stdout("ledger", "checkpoint")
    checkpoint = parse_checkpoint(parse_note(note).text)
    received = checkpoints.add_cosignature(log.db, cosigner.cosign(checkpoint, 1_720_000_000).line, None, clock)
    assert received.witnessed and received.cosigned_by == ("w.est",)
    return log, key.text


class TestReceipt:
    def test_desk_officer_checks_a_receipt_for_its_offer_offline(self, witnessed: tuple[Log, str],
                                                                  tmp_path: Path) -> None:
        log, witness = witnessed
        index = _index_of(log, "OfferDrafted")
        code, output = log.cli("ledger", "receipt", "--index", str(index), "--out", str(tmp_path / "r.json"),
                               user="deu")
        assert code == 0, output
        doc = json.loads((tmp_path / "r.json").read_text())
        assert doc["index"] == index and decode(base64.b64decode(doc["event"])).type == "OfferDrafted"
        assert "— w.est " in doc["checkpoint"]  # the cosignature travels with the receipt
        vkey = log.stdout("ledger", "public-key").strip()
        code, output = log.cli("ledger", "check-receipt", str(tmp_path / "r.json"), "--key", vkey,
                               "--witness", witness, "--db", str(tmp_path / "no-such.db"))
        assert code == 0, output
        assert f"event {index} (OfferDrafted) is in the log contactgroup.example/udcg" in output
        assert "cosigned by w.est" in output

    @pytest.mark.parametrize("tamper", ["event", "proof", "checkpoint", "index"])
    def test_a_tampered_receipt_is_refused(self, witnessed: tuple[Log, str], tmp_path: Path, tamper: str) -> None:
        log, witness = witnessed
        doc = json.loads(log.stdout("ledger", "receipt", "--index", "9", user="deu"))
        if tamper == "event":
            body = base64.b64decode(doc["event"]).replace(b'"salt":"', b'"salt":"0')
            doc["event"] = base64.b64encode(body).decode()
        elif tamper == "proof":
            doc["proof"][0] = base64.b64encode(bytes(32)).decode()
        elif tamper == "checkpoint":
            lines = doc["checkpoint"].split("\n")
            lines[1] = str(int(lines[1]) + 1)
            doc["checkpoint"] = "\n".join(lines)
        else:
            doc["index"] = 8
        (tmp_path / "bad.json").write_text(json.dumps(doc))
        vkey = log.stdout("ledger", "public-key").strip()
        code, output = log.cli("ledger", "check-receipt", str(tmp_path / "bad.json"), "--key", vkey,
                               "--witness", witness)
        assert code == 6 and "receipt refused" in output

    def test_a_receipt_names_the_account_only_to_the_account_itself(self, witnessed: tuple[Log, str],
                                                                     tmp_path: Path) -> None:
        log, witness = witnessed
        vkey = log.stdout("ledger", "public-key").strip()
        own = json.loads(log.stdout("ledger", "receipt", "--index", "9", user="admin"))
        other = json.loads(log.stdout("ledger", "receipt", "--index", "9", user="deu"))
        assert json.loads(base64.b64decode(own["event"]))["actor"] == "admin"
        shown = json.loads(base64.b64decode(other["event"]))
        assert "actor" not in shown and "actor_nonce" not in shown and len(shown["actor_commitment"]) == 64
        assert own["leaf_hash"] == other["leaf_hash"]
        for name, doc in (("own", own), ("other", other)):
            (tmp_path / f"{name}.json").write_text(json.dumps(doc))
            code, output = log.cli("ledger", "check-receipt", str(tmp_path / f"{name}.json"), "--key", vkey,
                                   "--witness", witness)
            assert code == 0, output
        own["event"] = base64.b64encode(base64.b64decode(own["event"]).replace(b'"actor":"admin"',
                                                                               b'"actor":"nobody"')).decode()
        (tmp_path / "forged.json").write_text(json.dumps(own))
        code, output = log.cli("ledger", "check-receipt", str(tmp_path / "forged.json"), "--key", vkey,
                               "--witness", witness)
        assert code == 6 and "do not hash to the receipt's leaf hash" in output

    def test_too_few_cosignatures_are_refused(self, witnessed: tuple[Log, str], tmp_path: Path) -> None:
        log, witness = witnessed
        (tmp_path / "r.json").write_text(log.stdout("ledger", "receipt", "--index", "9", user="deu"))
        _, other = generate_cosigner("w.lva")
        code, output = log.cli("ledger", "check-receipt", str(tmp_path / "r.json"), "--witness", witness,
                               "--witness", other.text)
        assert code == 6 and "cosigned by 1 of the given witnesses, 2 needed" in output

    def test_an_analyst_cannot_get_a_receipt_for_a_member_only_offer(self, witnessed: tuple[Log, str]) -> None:
        log, _ = witnessed
        for event_type in ("OfferDrafted", "AllocationConfirmed"):
            code, output = log.cli("ledger", "receipt", "--index", str(_index_of(log, event_type)), user="analyst")
            assert code == 4 and "may not see event" in output
        code, _ = log.cli("ledger", "receipt", "--index", str(_index_of(log, "ItemCatalogued")), user="analyst")
        assert code == 0

    def test_no_receipt_before_the_witnesses_cosigned(self, witnessed: tuple[Log, str]) -> None:
        log, _ = witnessed
        log.world.do(lambda uow, c: svc.record_setting(uow, c, "late", "x"), "admin")
        log.stdout("ledger", "checkpoint")  # signed, but nobody cosigned it yet
        last = log.world.event_count() - 1
        code, output = log.cli("ledger", "receipt", "--index", str(last), user="deu")
        assert code == 5 and "no witnessed checkpoint covers event" in output
        assert log.cli("ledger", "receipt", "--index", "3", user="deu")[0] == 0  # older events: the older one
