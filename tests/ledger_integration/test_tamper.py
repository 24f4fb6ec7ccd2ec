"""An attacker with write access to the database drops the append-only triggers and edits, deletes, inserts or
reorders event rows (keeping each row's leaf-hash column consistent): `verify` names the event's index."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import parse_checkpoint
from contactgroup.ledger.cosignature import Cosigner
from contactgroup.ledger.leaf import event_leaf_hash
from contactgroup.ledger.note import generate_key, parse_note
from contactgroup.services.verify import verify
from contactgroup.storage import schema
from contactgroup.storage.database import body_version, decode, encode
from tests.ledger_integration.conftest import Log


def _unprotect(conn: sa.Connection, *tables: str) -> None:
    for table in tables:
        if conn.dialect.name == "sqlite":
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        else:
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))


def _row(conn: sa.Connection, seq: int) -> dict[str, object]:
    return dict(conn.execute(sa.text("SELECT * FROM events WHERE seq = :s"), {"s": seq}).mappings().one())


def _renumber(conn: sa.Connection, seqs: list[int], delta: int) -> None:
    for seq in seqs:  # one row at a time, in an order that never collides with the primary key
        conn.execute(sa.text("UPDATE events SET seq = :n WHERE seq = :s"), {"n": seq + delta, "s": seq})


def _findings(log: Log) -> list[str]:
    report = verify(log.db)
    assert not report.ok
    return [str(f) for f in report.findings]


class TestTamperingIsPinpointed:
    def test_edited_event(self, log: Log) -> None:
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events")
            body = bytes(_row(conn, 5)["body"])  # type: ignore[arg-type]
            forged = body.replace(b'"actor":"admin"', b'"actor":"nobody"')
            assert forged != body
            conn.execute(sa.text("UPDATE events SET body = :b, leaf_hash = :h, actor = 'nobody' WHERE seq = 5"),
                         {"b": forged, "h": event_leaf_hash(forged)})
        assert "events[5]: bytes differ from the tree's leaf at this index (edited?)" in _findings(log)

    def test_a_rewritten_actor_no_longer_matches_its_commitment(self, log: Log) -> None:
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events")
            body = bytes(_row(conn, 5)["body"])  # type: ignore[arg-type]
            forged = body.replace(b'"actor":"admin"', b'"actor":"nobody"')
            assert forged != body and body_version(forged) == 3
            conn.execute(sa.text("UPDATE events SET body = :b, actor = 'nobody' WHERE seq = 5"), {"b": forged})
        findings = _findings(log)
        assert ("events[5]: stored leaf hash does not match the event's bytes or the commitment to its actor "
                "(edited?)") in findings
        assert {f.split(":", 1)[0] for f in findings if f.startswith("events")} == {"events[5]"}

    def test_deleted_event_with_the_rest_renumbered(self, log: Log) -> None:
        n = log.world.event_count()
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events")
            conn.execute(sa.text("DELETE FROM events WHERE seq = 10"))
            _renumber(conn, list(range(11, n)), -1)
        findings = _findings(log)
        assert any(f.startswith("events[10]: tree leaf 10 missing from the log (deleted?)") for f in findings)
        assert f"events[{n - 1}]: in the tree but missing from the log (deleted?)" not in findings

    def test_inserted_event(self, log: Log) -> None:
        n = log.world.event_count()
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events")
            _renumber(conn, list(range(n - 1, 7, -1)), +1)
            template = _row(conn, 3)
            forged = encode(decode(bytes(template["body"])))  # type: ignore[arg-type]  # a new salt: new bytes
            conn.execute(sa.text("INSERT INTO events (seq, type, actor, party, authority, at, body, leaf_hash) "
                                 "SELECT 8, type, actor, party, authority, at, :b, :h FROM events WHERE seq = 3"),
                         {"b": forged, "h": event_leaf_hash(forged)})
        findings = _findings(log)
        assert any(f.startswith("events[8]: 1 event(s) at 8..8 are not in the tree (inserted?)") for f in findings)
        assert not any("(edited?)" in f for f in findings)

    def test_reordered_events_name_both_indexes(self, log: Log) -> None:
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events")
            a, b = _row(conn, 20), _row(conn, 23)
            for seq, row in ((20, b), (23, a)):
                conn.execute(sa.text("UPDATE events SET body = :b, leaf_hash = :h, type = :t, actor = :a, "
                                     "party = :p, authority = :au, at = :at WHERE seq = :s"),
                             {"b": row["body"], "h": row["leaf_hash"], "t": row["type"], "a": row["actor"],
                              "p": row["party"], "au": row["authority"], "at": row["at"], "s": seq})
        findings = _findings(log)
        assert "events[20]: swapped with events[23]: each holds the other's bytes (reordered)" in findings

    def test_a_rotation_of_three_events_is_one_reorder(self, log: Log) -> None:
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events")
            rows = [_row(conn, seq) for seq in (20, 21, 22)]
            for seq, row in zip((21, 22, 20), rows, strict=True):  # 20 -> 21 -> 22 -> 20
                conn.execute(sa.text("UPDATE events SET body = :b, leaf_hash = :h, type = :t, actor = :a, "
                                     "party = :p, authority = :au, at = :at WHERE seq = :s"),
                             {"b": row["body"], "h": row["leaf_hash"], "t": row["type"], "a": row["actor"],
                              "p": row["party"], "au": row["authority"], "at": row["at"], "s": seq})
        findings = [f for f in _findings(log) if f.startswith("events[")]
        assert findings == ["events[20]: events 20..22 hold the tree's leaves 20..22 in another order (reordered): "
                            "events[20] is leaf 22, events[21] is leaf 20, events[22] is leaf 21"]

    def test_an_event_appended_behind_the_applications_back(self, log: Log) -> None:
        n = log.world.event_count()
        with log.db.engine.begin() as conn:
            forged = encode(decode(bytes(_row(conn, 3)["body"])))  # type: ignore[arg-type]
            conn.execute(sa.text("INSERT INTO events (seq, type, actor, party, authority, at, body, leaf_hash) "
                                 "SELECT :n, type, actor, party, authority, at, :b, :h FROM events WHERE seq = 3"),
                         {"n": n, "b": forged, "h": event_leaf_hash(forged)})
        assert f"events[{n}]: not in the tree (appended outside the application?)" in _findings(log)


class TestRewrittenTreeIsCaughtByTheCheckpoint:
    def test_edit_with_the_whole_tree_rebuilt(self, log: Log) -> None:
        assert log.cli("ledger", "checkpoint")[0] == 0
        with log.db.engine.begin() as conn:
            _unprotect(conn, "events", "tree_nodes")
            body = bytes(_row(conn, 5)["body"])  # type: ignore[arg-type]
            forged = body.replace(b'"actor":"admin"', b'"actor":"nobody"')
            conn.execute(sa.text("UPDATE events SET body = :b, leaf_hash = :h, actor = 'nobody' WHERE seq = 5"),
                         {"b": forged, "h": event_leaf_hash(forged)})
            # The attacker rebuilds every tree node so the tree agrees with the forged log.
            bodies = conn.execute(sa.text("SELECT body FROM events ORDER BY seq"))
            leaves = [event_leaf_hash(bytes(b)) for (b,) in bodies]
            store = merkle.MemoryNodeStore()
            for leaf in leaves:
                store.append(leaf)
            conn.execute(sa.text("DELETE FROM tree_nodes"))
            conn.execute(sa.text("INSERT INTO tree_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
                         [{"l": lv, "i": i, "h": h} for lv, row in enumerate(store.levels) for i, h in enumerate(row)])
        findings = _findings(log)
        n = len(leaves)
        assert f"checkpoints[{n}]: the first {n} events no longer give the signed root: history before {n} was " \
               "rewritten" in findings
        assert (f"checkpoints[{n}]: the signed tree of size {n} is not a prefix of the log's tree of size {n}"
                in findings)

    def test_untouched_record_with_checkpoints_verifies(self, log: Log) -> None:
        assert log.cli("ledger", "checkpoint")[0] == 0
        log.world.do(lambda uow, c: __import__("contactgroup.services.coordination").services.coordination
                     .record_setting(uow, c, "note", "x"), "admin")
        code, output = log.cli("verify")
        assert code == 0, output
        assert "latest signed checkpoint: size" in output and "a prefix of the current tree" in output

    def test_a_forged_cosignature_is_named(self, log: Log) -> None:
        witness = Cosigner(generate_key("w.deu")[0])
        assert log.cli("ledger", "witness-add", "w.deu", witness.verifier.text, user="admin")[0] == 0
        note = log.stdout("ledger", "checkpoint")
        checkpoint = parse_checkpoint(parse_note(note).text)
        impostor = Cosigner(generate_key("w.deu")[0])  # same name, another key
        with log.db.engine.begin() as conn:
            conn.execute(schema.cosignatures.insert().values(
                size=checkpoint.size, witness="w.deu", line=impostor.cosign(checkpoint, 1_700_000_000).line.rstrip(
                    "\n"), received_at=datetime.now(UTC)))
        assert _findings(log) == [f"cosignatures[{checkpoint.size}/w.deu]: not a valid cosignature by w.deu of "
                                  f"the checkpoint of size {checkpoint.size} (key then: {witness.verifier.text})"]
