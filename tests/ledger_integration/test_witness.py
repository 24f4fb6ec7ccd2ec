"""Members' witnesses follow the log over real HTTP (uvicorn on 127.0.0.1), cosign what is consistent, and refuse
a split view: two databases forked from one that each sign their own history."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from contactgroup.cli.main import app
from contactgroup.ledger.checkpoint import open_checkpoint
from contactgroup.ledger.note import parse_verifier_key
from contactgroup.ledger.policy import WitnessPolicy
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.services.witness_policy import parse_witness_key
from contactgroup.storage.database import Database
from tests.factories import World
from tests.ledger_integration.conftest import Log, runner, serving, settle


def _witness(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["witness", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def _keygen(tmp_path: Path, name: str) -> tuple[Path, str]:
    result = runner.invoke(app, ["witness", "keygen", name, "--out", str(tmp_path / f"{name}.key")])
    assert result.exit_code == 0, result.output
    return tmp_path / f"{name}.key", result.stdout.strip()


def _grow(world: World, name: str) -> None:
    with world.db.transaction() as uow:
        svc.record_setting(uow, world.caller("admin"), name, "x")


class TestWitnessFlow:
    def test_cosigns_each_new_checkpoint_and_the_log_counts_it(self, log: Log, tmp_path: Path) -> None:
        key_file, vkey = _keygen(tmp_path, "w.deu")
        assert log.cli("ledger", "witness-add", "w.deu", vkey, user="admin")[0] == 0
        log_vkey = log.stdout("ledger", "public-key").strip()
        state = tmp_path / "state"
        with serving(log.url, log.key) as url:
            code, output = _witness("--log", url, "--key", str(key_file), "--state", str(state), "--once")
            assert code == 2 and "trust on first use" in output and "--log-key" in output
            assert not (state / "state.json").exists()
            code, output = _witness("--log", url, "--key", str(key_file), "--state", str(state), "--once",
                                    "--log-key", log_vkey)
            assert code == 0, output
            assert "cosigned contactgroup.example/udcg at size" in output
            _grow(log.world, "one more")
            settle(url)
            code, output = _witness("--log", url, "--key", str(key_file), "--state", str(state), "--once")
            assert code == 0, output
            import httpx

            note = httpx.get(f"{url}/checkpoint").text
        cp = open_checkpoint(note, [parse_verifier_key(log_vkey)]).checkpoint
        assert cp.size == log.world.event_count()
        assert WitnessPolicy((parse_witness_key(vkey),), 1).is_witnessed(cp, note)
        saved = json.loads((state / "state.json").read_text())
        assert saved["logs"][0]["checkpoint_note"].startswith(cp.body)


@pytest.fixture
def forked(tmp_path: Path, clock: FixedClock) -> tuple[Log, Log]:
    """Two SQLite databases with one history up to a point, then each its own: the authority shows A to some
    and B to others, both signed with its one key."""
    from contactgroup.services.setup import init_coordination
    from tests.factories import build_world

    a_path, b_path, key = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "log.key"
    db_a = Database(str(a_path))
    init_coordination(db_a, clock, log_key=key)
    world_a = build_world(db_a, clock)
    raw = sqlite3.connect(a_path, isolation_level=None)  # a plain copy of the file, as any operator could make
    raw.execute(f"VACUUM INTO '{b_path}'")
    raw.close()
    world_b = World(Database(str(b_path)), clock)
    yield Log(world_a, f"sqlite:///{a_path}", key), Log(world_b, f"sqlite:///{b_path}", key)
    db_a.engine.dispose()
    world_b.db.engine.dispose()


class TestSplitView:
    @pytest.mark.parametrize("b_extra", [0, 3], ids=["same-size", "larger"])
    def test_the_witness_refuses_the_second_history_and_keeps_evidence(
        self, forked: tuple[Log, Log], tmp_path: Path, b_extra: int
    ) -> None:
        a, b = forked
        _grow(a.world, "in A only")
        _grow(b.world, "in B only")
        for i in range(b_extra):
            _grow(b.world, f"more in B {i}")
        key_file, _ = _keygen(tmp_path, "w.pol")
        state = tmp_path / "witness"
        log_vkey = a.stdout("ledger", "public-key").strip()
        with serving(a.url, a.key) as url_a, serving(b.url, b.key) as url_b:
            code, output = _witness("--log", url_a, "--key", str(key_file), "--state", str(state), "--once",
                                    "--log-key", log_vkey)
            assert code == 0, output
            code, output = _witness("--log", url_b, "--key", str(key_file), "--state", str(state), "--once")
        assert code == 7, output
        reason = "split-view" if b_extra == 0 else "inconsistent"
        assert "REFUSED checkpoint of contactgroup.example/udcg" in output and reason in output
        assert "cannot both be honest" in output
        evidence = sorted(p.name for p in state.iterdir() if p.name not in ("state.json", ".lock"))
        assert len(evidence) == 3 and all(f".{reason}." in name for name in evidence)
        cosigned = next(state.glob("*.cosigned.note")).read_text()
        refused = next(state.glob("*.refused.note")).read_text()
        vkey = parse_verifier_key(log_vkey)
        assert open_checkpoint(cosigned, [vkey]).checkpoint != open_checkpoint(refused, [vkey]).checkpoint
        # The witness still follows A: its state was not touched by the refusal.
        saved = json.loads((state / "state.json").read_text())
        assert saved["logs"][0]["checkpoint_note"] == cosigned

    def test_a_rolled_back_log_is_refused(self, forked: tuple[Log, Log], tmp_path: Path) -> None:
        a, _ = forked
        key_file, _ = _keygen(tmp_path, "w.ita")
        state = tmp_path / "witness"
        with serving(a.url, a.key) as url:
            assert _witness("--log", url, "--key", str(key_file), "--state", str(state), "--once", "--log-key",
                            a.stdout("ledger", "public-key").strip())[0] == 0
        # Someone restores an older copy of the database: events and checkpoints after it are gone.
        with a.db.engine.begin() as conn:
            for table in ("events", "tree_nodes", "checkpoints"):
                conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
            size = conn.execute(sa.text("SELECT max(size) FROM checkpoints")).scalar_one()
            conn.execute(sa.text("DELETE FROM checkpoints"))
            conn.execute(sa.text("DELETE FROM events WHERE seq >= :n"), {"n": size - 2})
            conn.execute(sa.text("DELETE FROM tree_nodes WHERE idx >= 0 AND (idx + 1) * (1 << level) > :n"),
                         {"n": size - 2})
        with serving(a.url, a.key) as url:
            code, output = _witness("--log", url, "--key", str(key_file), "--state", str(state), "--once")
        assert code == 7 and "rollback" in output


class TestTwoWitnessesReachTheQuorum:
    def test_polling_at_different_moments_of_a_growing_log_they_cosign_the_same_checkpoint(
        self, log: Log, tmp_path: Path
    ) -> None:
        import httpx

        keys = [_keygen(tmp_path, name) for name in ("w.one", "w.two")]
        for (_, vkey), name in zip(keys, ("w.one", "w.two"), strict=True):
            assert log.cli("ledger", "witness-add", name, vkey, user="admin")[0] == 0
        assert log.cli("ledger", "policy", "--quorum", "2", user="admin")[0] == 0
        log_vkey = log.stdout("ledger", "public-key").strip()
        with serving(log.url, log.key, checkpoint_interval=300) as url:
            for i, (key_file, _) in enumerate(keys):
                code, output = _witness("--log", url, "--key", str(key_file), "--state", str(tmp_path / f"s{i}"),
                                        "--once", "--log-key", log_vkey)
                assert code == 0, output
                _grow(log.world, f"grew after witness {i}")  # the log keeps growing between polls
            note = httpx.get(f"{url}/checkpoint").text
            vkey = parse_verifier_key(log_vkey)
            cp = open_checkpoint(note, [vkey]).checkpoint
            assert cp.size == log.world.event_count() - 2  # not re-signed within the interval
            policy = WitnessPolicy(tuple(parse_witness_key(k) for _, k in keys), 2)
            assert policy.is_witnessed(cp, note)
            # The older checkpoint stays available by size, with its cosignatures, once a newer one exists.
            newer = log.stdout("ledger", "checkpoint")
            assert open_checkpoint(httpx.get(f"{url}/checkpoint").text, [vkey]).checkpoint.size > cp.size
            older = httpx.get(f"{url}/checkpoint", params={"size": cp.size})
            assert older.status_code == 200 and policy.is_witnessed(cp, older.text)
            assert httpx.get(f"{url}/checkpoint", params={"size": cp.size + 1}).status_code == 404
            assert newer.startswith("contactgroup.example/udcg\n")
        # A receipt for an event before it uses the witnessed checkpoint.
        doc = json.loads(log.stdout("ledger", "receipt", "--index", "3", user="deu"))
        assert doc["tree_size"] == cp.size


class TestWitnessClientService:
    def test_a_round_reports_what_it_did_as_notices_and_refuses_an_untrusted_first_run(
            self, log: Log, tmp_path: Path) -> None:
        from contactgroup.domain.errors import ValidationFailed
        from contactgroup.ledger.cosignature import generate_cosigner
        from contactgroup.services import witness_client

        cosigner, vkey = generate_cosigner("w.svc")
        assert log.cli("ledger", "witness-add", "w.svc", vkey.text, user="admin")[0] == 0
        log_vkey = log.stdout("ledger", "public-key").strip()
        notices: list[tuple[witness_client.Notice, str]] = []

        def run(log_key: str | None) -> int:
            return witness_client.follow(url, cosigner, tmp_path / "state", log_key, None,
                                         lambda n, text: notices.append((n, text)), once=True, interval=0,
                                         lock_wait=1)

        with serving(log.url, log.key) as url:
            with pytest.raises(ValidationFailed, match="trust on first use"):
                run(None)
            assert run(log_vkey) == 0
        kinds = [n for n, _ in notices]
        assert kinds == [witness_client.Notice.FOLLOWING, witness_client.Notice.COSIGNED], notices
        assert f"at size {log.world.event_count():,}" in notices[-1][1]
