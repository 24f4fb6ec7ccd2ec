"""The stored tree grows with the log in the same transaction, and proves at any size."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from contactgroup.ledger import merkle
from contactgroup.ledger.leaf import event_leaf_hash
from contactgroup.services import coordination as svc
from contactgroup.services import key_files, proofs
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database, TreeNodes, read_events
from tests.factories import enter_offer
from tests.ledger_integration.conftest import Log


def _leaves(db: Database) -> list[bytes]:
    with db.reader() as conn:
        return [event_leaf_hash(body) for _, body, _ in read_events(conn)]


class TestTreeNodes:
    def test_match_the_root_of_all_leaves_after_many_commands(self, log: Log) -> None:
        for quantity in range(1, 12):  # one command per transaction: every size from here on is exercised
            enter_offer(log.world, quantity=quantity, status="offered")
        leaves = _leaves(log.db)
        with log.db.reader() as conn:
            store = TreeNodes(conn)
            assert proofs.tree_size(conn) == len(leaves)
            assert merkle.root_from_store(store, len(leaves)) == merkle.root_hash(leaves)
            for size in (1, 2, 3, 64, 65, len(leaves) - 1):
                assert merkle.root_from_store(store, size) == merkle.root_hash(leaves[:size])
            count = conn.execute(sa.text("SELECT count(*) FROM tree_nodes")).scalar_one()
        # 2n - popcount(n) complete subtrees exist for n leaves.
        assert count == 2 * len(leaves) - bin(len(leaves)).count("1")

    def test_a_proof_from_the_database_equals_the_reference(self, log: Log) -> None:
        leaves = _leaves(log.db)
        with log.db.reader() as conn:
            proof = proofs.prove_inclusion(conn, 7)
        assert proof.proof == tuple(merkle.inclusion_proof(leaves, 7))
        assert merkle.verify_inclusion(leaves[7], 7, len(leaves), list(proof.proof), merkle.root_hash(leaves))

    def test_tree_nodes_are_append_only(self, log: Log) -> None:
        for statement in ("UPDATE tree_nodes SET hash = hash WHERE level = 0 AND idx = 1",
                          "DELETE FROM tree_nodes WHERE level = 0 AND idx = 1"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), log.db.engine.begin() as conn:
                conn.execute(sa.text(statement))

    def test_a_failed_command_adds_no_node(self, log: Log) -> None:
        with log.db.reader() as conn:
            before = conn.execute(sa.text("SELECT count(*) FROM tree_nodes")).scalar_one()
        with pytest.raises(RuntimeError), log.db.transaction() as uow:
            svc.record_setting(uow, log.world.caller("admin"), "x", "y")
            uow.flush()
            raise RuntimeError("abort after the flush")
        with log.db.reader() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM tree_nodes")).scalar_one() == before


class TestFounding:
    def test_init_writes_a_private_key_and_records_the_verifier(self, log: Log) -> None:
        assert log.key.stat().st_mode & 0o777 == 0o600
        signer = key_files.read_signer_key(log.key)
        state = log.db.state()
        assert state.setting("log_verifier_key") == signer.verifier.text
        assert signer.name == state.setting("origin")
        assert "PRIVATE" not in log.db.engine.url.render_as_string()
        with log.db.reader() as conn:  # the private key never enters the database
            bodies = b"".join(body for _, body, _ in read_events(conn))
        assert signer.text.split("+", 4)[-1].encode() not in bodies and signer.seed not in bodies

    def test_default_key_path_is_beside_the_sqlite_file(self, tmp_path: object, clock: object) -> None:
        from pathlib import Path

        path = Path(str(tmp_path)) / "cg.db"
        db = Database(str(path))
        init_coordination(db, clock, with_members=False)  # type: ignore[arg-type]
        assert Path(f"{path}.logkey").stat().st_mode & 0o777 == 0o600
        db.engine.dispose()
