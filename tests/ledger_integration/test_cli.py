"""The record's commands as an auditor uses them: checkpoints, proofs that verify, notes from other tools."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from contactgroup.cli.main import app
from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import open_checkpoint
from contactgroup.ledger.note import parse_verifier_key
from tests.ledger_integration.conftest import Log, cli, runner

# Go's golang.org/x/mod/sumdb/note test vector (note_test.go), reproduced in tests/ledger/test_note.py.
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_NOTE = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n"
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _checkpoint(log: Log) -> str:
    return log.stdout("ledger", "checkpoint")


class TestCheckpoint:
    def test_is_signed_by_the_key_the_log_publishes(self, log: Log) -> None:
        note = _checkpoint(log)
        opened = open_checkpoint(note, [parse_verifier_key(log.stdout("ledger", "public-key").strip())])
        assert opened.checkpoint.origin == "contactgroup.example/udcg"
        assert opened.checkpoint.size == log.world.event_count()

    def test_signing_twice_at_one_size_gives_the_same_note(self, log: Log) -> None:
        assert _checkpoint(log) == _checkpoint(log)

    def test_refuses_a_key_that_is_not_the_logs(self, log: Log, tmp_path: Path) -> None:
        code, output = cli("witness", "keygen", "contactgroup.example/udcg", "--out", str(tmp_path / "other.key"))
        assert code == 0, output
        code, output = log.cli("ledger", "checkpoint", "--log-key", str(tmp_path / "other.key"))
        assert code == 4 and "is not the log's verifier key" in output


class TestProofs:
    def test_inclusion_proof_from_the_cli_verifies_against_the_signed_root(self, log: Log) -> None:
        checkpoint = open_checkpoint(_checkpoint(log), [parse_verifier_key(log.stdout("ledger", "public-key").strip())])
        code, output = log.cli("ledger", "leaves", "--format", "hex")
        leaves = [bytes.fromhex(line) for line in output.split()]
        assert code == 0 and len(leaves) == checkpoint.checkpoint.size
        for index in (0, 5, len(leaves) - 1):
            code, output = log.cli("ledger", "prove", "--index", str(index), "--format", "json")
            assert code == 0, output
            doc = json.loads(output)
            proof = [base64.b64decode(p) for p in doc["proof"]]
            assert bytes.fromhex(doc["leaf_hash"]) == leaves[index]
            assert merkle.verify_inclusion(leaves[index], index, doc["tree_size"], proof, checkpoint.checkpoint.root)

    def test_readable_block(self, log: Log) -> None:
        code, output = log.cli("ledger", "prove", "--index", "3", "--size", "10")
        assert code == 0, output
        assert output.startswith("inclusion proof: event 3 in the tree of size 10\nleaf hash")
        assert "audit path  4 hashes, leaf side first:" in output

    def test_consistency_proof_verifies(self, log: Log) -> None:
        code, output = log.cli("ledger", "consistency", "--old", "7", "--format", "json")
        assert code == 0, output
        doc = json.loads(output)
        assert merkle.verify_consistency(7, doc["new_size"], base64.b64decode(doc["old_root"]),
                                         base64.b64decode(doc["new_root"]),
                                         [base64.b64decode(p) for p in doc["proof"]])

    def test_bad_parameters_say_what_is_wrong(self, log: Log) -> None:
        code, output = log.cli("ledger", "prove", "--index", "100000")
        assert code == 2 and "outside a tree of size" in output


class TestVerifyNote:
    def test_accepts_a_note_signed_by_gos_note_package(self, tmp_path: Path) -> None:
        (tmp_path / "go.note").write_text(GO_NOTE, encoding="utf-8")
        code, output = cli("ledger", "verify-note", "--key", PETER_VKEY, str(tmp_path / "go.note"))
        assert code == 0 and "signed by PeterNeumann+c74f20a3" in output

    def test_refuses_another_key_and_an_altered_note(self, tmp_path: Path) -> None:
        (tmp_path / "go.note").write_text(GO_NOTE, encoding="utf-8")
        code, output = cli("ledger", "verify-note", "--key", ENOCH_VKEY, str(tmp_path / "go.note"))
        assert code == 6 and "not verified by EnochRoot" in output
        (tmp_path / "bad.note").write_text(GO_NOTE.replace("answer", "Answer"), encoding="utf-8")
        (tmp_path / "peter.vkey").write_text(PETER_VKEY + "\n", encoding="utf-8")
        code, output = cli("ledger", "verify-note", "--key", f"@{tmp_path / 'peter.vkey'}", str(tmp_path / "bad.note"))
        assert code == 6 and "invalid signature" in output

    def test_verifies_our_checkpoint_with_the_published_key(self, log: Log, tmp_path: Path) -> None:
        (tmp_path / "cp.note").write_text(_checkpoint(log), encoding="utf-8")
        vkey = log.stdout("ledger", "public-key").strip()
        code, output = cli("ledger", "verify-note", "--key", vkey, str(tmp_path / "cp.note"))
        assert code == 0, output


class TestWitnessPolicy:
    def test_coordinator_adds_witnesses_and_sets_the_quorum(self, log: Log, tmp_path: Path) -> None:
        keys = []
        for name in ("w.deu", "w.fra"):
            result = runner.invoke(app, ["witness", "keygen", name, "--out", str(tmp_path / name)])
            assert result.exit_code == 0
            keys.append(result.stdout.strip())
            code, output = log.cli("ledger", "witness-add", name, keys[-1], user="admin")
            assert code == 0, output
        code, output = log.cli("ledger", "policy", "--quorum", "2", user="admin")
        assert code == 0 and "witnessed when 2 of 2 witnesses cosign" in output
        code, output = log.cli("ledger", "witness-add", "w.pol", keys[0], user="deu")
        assert code != 0
        code, output = log.cli("ledger", "policy", "--quorum", "3", user="admin")
        assert code == 2 and "between 1 and the 2 witnesses" in output


class TestInit:
    def test_init_makes_the_key_or_says_how_to(self, db_url: str, tmp_path: Path) -> None:
        env = {"CONTACTGROUP_DB": db_url}
        code, output = cli("init", "--no-members", env=env)
        assert code == 0, output
        if db_url.startswith("sqlite"):
            assert "log signing key created in" in output and "mode 0600" in output
            return
        assert "no log signing key" in output and "ledger init-key" in output
        code, output = cli("ledger", "public-key", env=env)
        assert code == 3 and "no verifier key yet" in output
        key = tmp_path / "pg.logkey"
        code, output = cli("ledger", "init-key", "--log-key", str(key), "--as", "admin", env=env)
        assert code == 0, output
        assert cli("ledger", "init-key", "--log-key", str(key), "--as", "admin", env=env)[0] == 5
        code, output = cli("ledger", "checkpoint", "--log-key", str(key), env=env)
        assert code == 0 and "contactgroup.example/udcg" in output
