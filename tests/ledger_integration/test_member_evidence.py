"""What a member brings from outside the database — its own tlog-policy, a checkpoint it kept — and what the
coordinator may change in the published policy (a witness's key, only when asked to; a witness's removal)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import parse_checkpoint
from contactgroup.ledger.cosignature import Cosigner, generate_cosigner
from contactgroup.ledger.leaf import event_leaf_hash
from contactgroup.ledger.note import generate_key, parse_note
from contactgroup.ledger.policy import parse_policy
from contactgroup.services import checkpoints
from contactgroup.services import coordination as svc
from contactgroup.services.clock import SystemClock
from tests.ledger_integration.conftest import Log
from tests.ledger_integration.test_tamper import _row, _unprotect


def _grow(log: Log, name: str) -> None:
    log.world.do(lambda uow, c: svc.record_setting(uow, c, name, "x"), "admin")


def _cosign(log: Log, cosigner: Cosigner) -> int:
    """Sign a checkpoint of the log as it is and have `cosigner` cosign it (received now, on the system clock,
    as the server would); returns its size."""
    note = log.stdout("ledger", "checkpoint")
    checkpoint = parse_checkpoint(parse_note(note).text)
    checkpoints.add_cosignature(log.db, cosigner.cosign(checkpoint, 1_720_000_000).line, None, SystemClock())
    return checkpoint.size


@pytest.fixture
def witnessed(log: Log) -> tuple[Log, Cosigner]:
    cosigner, key = generate_cosigner("w.a")
    assert log.cli("ledger", "witness-add", "w.a", key.text, user="admin")[0] == 0
    _cosign(log, cosigner)
    return log, cosigner


class TestAWitnessKeyChange:
    def test_needs_replace_and_old_cosignatures_still_verify_with_the_old_key(
        self, witnessed: tuple[Log, Cosigner]
    ) -> None:
        log, old = witnessed
        new, new_key = generate_cosigner("w.a")
        code, output = log.cli("ledger", "witness-add", "w.a", new_key.text, user="admin")
        assert code == 5 and "already a witness with the key" in output and "--replace" in output
        before = log.world.event_count()
        code, output = log.cli("ledger", "witness-add", "w.a", old.verifier.text, user="admin")
        assert code == 0 and "already has this key; nothing recorded" in output
        assert log.world.event_count() == before
        code, output = log.cli("ledger", "witness-add", "w.a", new_key.text, "--replace", user="admin")
        assert code == 0 and "key replaced" in output and old.verifier.text in output
        _grow(log, "after the key change")
        _cosign(log, new)
        code, output = log.cli("verify")
        assert code == 0, output
        assert "2 witness cosignature(s) checked" in output

    def test_a_removed_witness_is_gone_from_the_policy_its_past_cosignatures_stay_valid(
        self, witnessed: tuple[Log, Cosigner]
    ) -> None:
        log, _ = witnessed
        code, output = log.cli("ledger", "witness-remove", "w.a", user="admin")
        assert code == 0 and "removed" in output
        assert "no witnesses left: checkpoints are now only signed by the log" in output
        assert "no witnesses" in log.stdout("ledger", "policy")
        assert log.cli("verify")[0] == 0
        code, output = log.cli("ledger", "witness-remove", "w.a", user="admin")
        assert code == 3 and "not a witness" in output

    def test_a_damaged_cosigner_key_is_refused_for_its_key_id(self, log: Log) -> None:
        _, key = generate_cosigner("w.b")
        damaged = key.text.replace(key.key_id.hex(), "00000000")
        code, output = log.cli("ledger", "witness-add", "w.b", damaged, user="admin")
        assert code == 2 and "key id" in output and "unsupported signature type" not in output


class TestAMembersOwnPolicy:
    def test_the_published_policy_prints_in_tlog_policy_form(self, witnessed: tuple[Log, Cosigner]) -> None:
        log, old = witnessed
        text = log.stdout("ledger", "policy", "--format", "tlog-policy")
        assert "your own policy is what counts" in text
        policy = parse_policy(text)
        assert [w.key for w in policy.witnesses] == [old.verifier]
        assert policy.logs[0].key.name == "contactgroup.example/udcg"

    def test_check_receipt_and_verify_with_the_members_policy(self, witnessed: tuple[Log, Cosigner],
                                                              tmp_path: Path) -> None:
        log, old = witnessed
        vkey = log.stdout("ledger", "public-key").strip()
        _, stranger = generate_cosigner("w.other")
        mine, strict = tmp_path / "mine.policy", tmp_path / "strict.policy"
        mine.write_text(f"# my rules\nlog {vkey}\nwitness a {old.verifier.text}\nquorum a\n")
        strict.write_text(f"log {vkey}\nwitness a {old.verifier.text}\nwitness b {stranger.text}\n"
                          "group both all a b\nquorum both\n")
        (tmp_path / "r.json").write_text(log.stdout("ledger", "receipt", "--index", "9", user="deu"))
        code, output = log.cli("ledger", "check-receipt", str(tmp_path / "r.json"), "--policy", str(mine))
        assert code == 0 and "cosigned by a" in output and "under the policy" in output, output
        code, output = log.cli("ledger", "check-receipt", str(tmp_path / "r.json"), "--policy", str(strict))
        assert code == 6 and "not witnessed as the policy requires (quorum both): cosigned by a" in output
        code, output = log.cli("ledger", "check-receipt", str(tmp_path / "r.json"), "--policy", str(mine),
                               "--witness", old.verifier.text)
        assert code == 2 and "not both" in output
        code, output = log.cli("verify", "--policy", str(mine))
        assert code == 0 and "witnessed under your policy" in output, output
        code, output = log.cli("verify", "--policy", str(strict))
        assert code == 6 and "witnessed as it requires (quorum both)" in output

    def test_a_receipt_whose_origin_field_lies_is_refused(self, witnessed: tuple[Log, Cosigner],
                                                          tmp_path: Path) -> None:
        log, old = witnessed
        doc = json.loads(log.stdout("ledger", "receipt", "--index", "9", user="deu"))
        doc["origin"] = "another.example/log"
        (tmp_path / "r.json").write_text(json.dumps(doc))
        code, output = log.cli("ledger", "check-receipt", str(tmp_path / "r.json"), "--key",
                               log.stdout("ledger", "public-key").strip(), "--witness", old.verifier.text)
        assert code == 6 and "the receipt says origin 'another.example/log'" in output


def _rebuild_tree(conn: sa.Connection) -> None:
    leaves = [event_leaf_hash(bytes(b)) for (b,) in conn.execute(sa.text("SELECT body FROM events ORDER BY seq"))]
    store = merkle.MemoryNodeStore()
    for leaf in leaves:
        store.append(leaf)
    conn.execute(sa.text("DELETE FROM tree_nodes"))
    conn.execute(sa.text("INSERT INTO tree_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
                 [{"l": lv, "i": i, "h": h} for lv, row in enumerate(store.levels) for i, h in enumerate(row)])


class TestAKeptCheckpoint:
    def test_catches_an_edit_with_the_tree_rebuilt_and_every_checkpoint_deleted(self, witnessed: tuple[Log, Cosigner],
                                                                                 tmp_path: Path) -> None:
        log, _ = witnessed
        vkey = log.stdout("ledger", "public-key").strip()
        kept = tmp_path / "kept.note"
        kept.write_text(log.stdout("ledger", "checkpoint"))
        size = parse_checkpoint(parse_note(kept.read_text()).text).size
        code, output = log.cli("verify", "--checkpoint", str(kept), "--log-key", vkey)
        assert code == 0 and f"your kept checkpoint of size {size}" in output, output
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events", "tree_nodes", "checkpoints", "cosignatures")
            body = bytes(_row(conn, 5)["body"])  # type: ignore[arg-type]
            forged = body.replace(b'"actor":"admin"', b'"actor":"nobody"')
            conn.execute(sa.text("UPDATE events SET body = :b, leaf_hash = :h, actor = 'nobody' WHERE seq = 5"),
                         {"b": forged, "h": event_leaf_hash(forged)})
            _rebuild_tree(conn)
            conn.execute(sa.text("DELETE FROM cosignatures"))
            conn.execute(sa.text("DELETE FROM checkpoints"))
        assert log.cli("verify")[0] == 0  # the database alone agrees with itself: that is the point
        code, output = log.cli("verify", "--checkpoint", str(kept), "--log-key", vkey)
        assert code == 6, output
        assert f"kept checkpoint {kept}: the first {size} events give the root" in output
        assert f"history before {size} was rewritten" in output
        code, output = log.cli("verify", "--checkpoint", str(kept))
        assert code == 2 and "needs --log-key" in output

    def test_catches_a_truncated_log_and_a_note_the_members_key_did_not_sign(self, witnessed: tuple[Log, Cosigner],
                                                                             tmp_path: Path) -> None:
        log, _ = witnessed
        vkey = log.stdout("ledger", "public-key").strip()
        kept = tmp_path / "kept.note"
        kept.write_text(log.stdout("ledger", "checkpoint"))
        size = parse_checkpoint(parse_note(kept.read_text()).text).size
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events", "tree_nodes", "checkpoints", "cosignatures")
            conn.execute(sa.text("DELETE FROM events WHERE seq >= :n"), {"n": size - 3})
            _rebuild_tree(conn)
            conn.execute(sa.text("DELETE FROM cosignatures"))
            conn.execute(sa.text("DELETE FROM checkpoints"))
        code, output = log.cli("verify", "--checkpoint", str(kept), "--log-key", vkey)
        assert code == 6 and f"the log signed a tree of {size} events, the database holds {size - 3}" in output
        _, stranger = generate_key("contactgroup.example/udcg")
        code, output = log.cli("verify", "--checkpoint", str(kept), "--log-key", stranger.text)
        assert code == 6 and f"kept checkpoint {kept}: not a checkpoint signed by {stranger.text}" in output

    def test_kept_checkpoints_from_both_sides_of_a_key_change_check_with_both_keys(self, log: Log,
                                                                                  tmp_path: Path) -> None:
        vkey = log.stdout("ledger", "public-key").strip()
        kept = tmp_path / "kept.note"
        kept.write_text(log.stdout("ledger", "checkpoint"))
        _, other = generate_key("contactgroup.example/udcg")  # the key a handover moved to, say
        code, output = log.cli("verify", "--checkpoint", str(kept), "--log-key", other.text, "--log-key", vkey)
        assert code == 0 and "your kept checkpoint" in output, output


class TestMalformedStoredValuesAreFindings:
    def test_an_event_body_that_is_not_json(self, log: Log) -> None:
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events")
            conn.execute(sa.text("UPDATE events SET body = :b WHERE seq = 7"), {"b": b"not json"})
        code, output = log.cli("verify")
        assert code == 6 and "events[7]" in output and "Traceback" not in output, output

    def test_a_garbage_checkpoint_note_with_cosignatures(self, witnessed: tuple[Log, Cosigner]) -> None:
        log, _ = witnessed
        with log.db.engine.begin() as conn:
            _unprotect(conn, "checkpoints")
            size = conn.execute(sa.text("SELECT max(size) FROM checkpoints")).scalar_one()
            conn.execute(sa.text("UPDATE checkpoints SET note = 'garbage' WHERE size = :s"), {"s": size})
        code, output = log.cli("verify")
        assert code == 6, output
        assert f"checkpoints[{size}]: not validly signed by the log key" in output
        assert f"cosignatures[{size}/w.a]: no readable signed checkpoint of size {size}" in output

    @pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL's typed columns hold no bad time
    def test_unreadable_columns_are_named_by_row(self, log: Log) -> None:
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events")
            conn.execute(sa.text("UPDATE events SET at = 'garbage' WHERE seq = 4"))
            offer = conn.execute(sa.text("SELECT id FROM offers LIMIT 1")).scalar_one()
            conn.execute(sa.text("UPDATE offers SET available_from = 'no date' WHERE id = :i"), {"i": offer})
        code, output = log.cli("verify")
        assert code == 6 and "Traceback" not in output, output
        assert "events[4]: a column cannot be read" in output
        assert f"offers[{offer}]: a stored value cannot be read" in output
        assert "missing from the database" not in output
