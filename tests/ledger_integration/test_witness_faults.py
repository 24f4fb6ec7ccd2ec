"""The witness against a log that misbehaves — a small fake log server in this file: malformed proof answers,
unknown keys, an older checkpoint shown again (honest or not), and two runs racing on one state directory."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from contactgroup.cli.main import app
from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import Checkpoint, sign_checkpoint
from contactgroup.ledger.note import SignerKey, generate_key
from contactgroup.services.key_files import write_private_key
from tests.ledger_integration.conftest import runner

ORIGIN = "fake.example/log"
LEAVES = [merkle.leaf_hash(f"event {i}".encode()) for i in range(8)]


@dataclass
class FakeLog:
    """What the fake serves: a checkpoint of `size` leaves signed by `signer`, and a proof answer."""

    signer: SignerKey
    size: int = 1
    proof: str = "valid"  # valid | empty-object | not-json | bad-hash | flipped | 400 | 404
    proof_requested: threading.Event = field(default_factory=threading.Event)
    proof_held: threading.Event = field(default_factory=threading.Event)  # while set, the proof is not answered
    posted: list[str] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=lambda: list(LEAVES))

    def note(self) -> str:
        root = merkle.root_hash(self.leaves[: self.size])
        return sign_checkpoint(Checkpoint(ORIGIN, self.size, root), [self.signer])

    def proof_body(self, old: int, new: int) -> tuple[int, bytes]:
        if self.proof in ("400", "404"):
            return int(self.proof), b'{"title": "no such tree"}'
        if self.proof == "empty-object":
            return 200, b"{}"
        if self.proof == "not-json":
            return 200, b"<html>oops</html>"
        if self.proof == "bad-hash":
            return 200, json.dumps({"proof": ["AAAA"]}).encode()
        hashes = merkle.consistency_proof(self.leaves[:new], old)
        if self.proof == "flipped":
            hashes = [bytes([hashes[0][0] ^ 1]) + hashes[0][1:], *hashes[1:]]
        return 200, json.dumps({"proof": [base64.b64encode(h).decode() for h in hashes]}).encode()


@pytest.fixture
def fake() -> Iterator[tuple[FakeLog, str]]:
    signer, _ = generate_key(ORIGIN)
    log = FakeLog(signer)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
            if url.path == "/checkpoint":
                self._send(200, log.note().encode())
            elif url.path == "/proof/consistency":
                log.proof_requested.set()
                while log.proof_held.is_set():
                    time.sleep(0.05)
                self._send(*log.proof_body(query["old"], query["new"]))
            else:
                self._send(404, b"")

        def do_POST(self) -> None:
            log.posted.append(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            self._send(201, b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield log, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def witness_key(tmp_path: Path) -> Path:
    signer, _ = generate_key("w.test")
    write_private_key(tmp_path / "w.key", signer.text)
    return tmp_path / "w.key"


def _args(url: str, key: Path, state: Path, log: FakeLog, *extra: str) -> list[str]:
    return ["witness", "--log", url, "--key", str(key), "--state", str(state), "--log-key",
            log.signer.verifier.text, *extra]


def _witness(url: str, key: Path, state: Path, log: FakeLog, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, _args(url, key, state, log, "--once", *extra), env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _cosigned_at(size: int, fake: tuple[FakeLog, str], key: Path, state: Path) -> None:
    log, url = fake
    log.size, proof, log.proof = size, log.proof, "valid"
    code, output = _witness(url, key, state, log)
    assert code == 0 and f"cosigned {ORIGIN} at size {size}" in output, output
    log.proof = proof


def _evidence(state: Path) -> list[str]:
    return sorted(p.name for p in state.iterdir() if not p.name.startswith(".") and p.name != "state.json")


class TestMalformedProofAnswers:
    @pytest.mark.parametrize("answer", ["empty-object", "not-json", "bad-hash"])
    def test_once_exits_1_naming_the_malformed_response(self, fake: tuple[FakeLog, str], witness_key: Path,
                                                        tmp_path: Path, answer: str) -> None:
        log, url = fake
        state = tmp_path / "state"
        _cosigned_at(1, fake, witness_key, state)
        log.size, log.proof = 5, answer
        code, output = _witness(url, witness_key, state, log)
        assert code == 1, output
        assert "cannot follow" in output and "the log sent a malformed response (GET /proof/consistency" in output
        assert "Traceback" not in output and _evidence(state) == []

    def test_loop_mode_retries_until_the_log_answers_properly(self, fake: tuple[FakeLog, str], witness_key: Path,
                                                              tmp_path: Path) -> None:
        log, url = fake
        state = tmp_path / "state"
        _cosigned_at(1, fake, witness_key, state)
        log.size, log.proof = 5, "empty-object"
        process = subprocess.Popen([sys.executable, "-m", "contactgroup",
                                    *_args(url, witness_key, state, log, "--interval", "0.05")],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env={**os.environ, "COLUMNS": "200"})
        try:
            assert log.proof_requested.wait(20)
            time.sleep(0.3)  # a few malformed rounds
            log.proof = "valid"
            deadline = time.monotonic() + 20
            while len(log.posted) < 2 and time.monotonic() < deadline:  # one from _cosigned_at, one now
                time.sleep(0.05)
        finally:
            process.terminate()
            stdout, stderr = process.communicate(timeout=20)
        assert len(log.posted) >= 2, stdout + stderr
        assert "malformed response" in stderr and "retrying" in stderr and "Traceback" not in stderr
        assert f"cosigned {ORIGIN} at size 5" in stdout


class TestSignatureBeforeProof:
    def test_an_unknown_key_is_refused_as_unknown_key_before_any_proof_is_asked(
        self, fake: tuple[FakeLog, str], witness_key: Path, tmp_path: Path
    ) -> None:
        log, url = fake
        state = tmp_path / "state"
        _cosigned_at(1, fake, witness_key, state)
        trusted = log.signer
        log.signer, _ = generate_key(ORIGIN)  # same name, another key
        log.size, log.proof = 5, "404"
        log.proof_requested.clear()
        code, output = _witness(url, witness_key, state, log, "--log-key", trusted.verifier.text)
        assert code == 7 and "unknown-key" in output, output
        assert not log.proof_requested.is_set()


class TestAnOlderCheckpoint:
    def test_an_honest_older_checkpoint_is_not_evidence(self, fake: tuple[FakeLog, str], witness_key: Path,
                                                        tmp_path: Path) -> None:
        log, url = fake
        state = tmp_path / "state"
        _cosigned_at(6, fake, witness_key, state)
        log.size = 3  # a lagging mirror or cache: an older checkpoint the log signed, consistent with 6
        code, output = _witness(url, witness_key, state, log)
        assert code == 0, output
        assert "older checkpoint (size 3)" in output and "cannot both be honest" not in output
        assert _evidence(state) == [] and len(log.posted) == 1
        assert '"checkpoint_note": "fake.example/log\\n6\\n' in (state / "state.json").read_text()

    def test_an_older_checkpoint_that_is_not_a_prefix_is_evidence(self, fake: tuple[FakeLog, str],
                                                                  witness_key: Path, tmp_path: Path) -> None:
        log, url = fake
        state = tmp_path / "state"
        _cosigned_at(6, fake, witness_key, state)
        log.size, log.leaves[1] = 3, merkle.leaf_hash(b"rewritten")
        code, output = _witness(url, witness_key, state, log)
        assert code == 7 and "inconsistent" in output and "cannot both be honest" in output, output
        assert len(_evidence(state)) == 3

    def test_a_log_that_cannot_prove_its_older_checkpoint_is_refused_as_rollback(
        self, fake: tuple[FakeLog, str], witness_key: Path, tmp_path: Path
    ) -> None:
        log, url = fake
        state = tmp_path / "state"
        _cosigned_at(6, fake, witness_key, state)
        log.size, log.proof = 3, "400"  # a restored older database: no tree of 6 leaves any more
        code, output = _witness(url, witness_key, state, log)
        assert code == 7 and "rollback" in output, output
        assert "no longer serves what it signed before" in output and "cannot both be honest" not in output
        assert len(_evidence(state)) == 3 and all(".rollback." in name for name in _evidence(state))


class TestOneRunPerStateDirectory:
    def test_a_second_run_exits_naming_the_directory_while_the_first_waits_on_a_slow_proof(
        self, fake: tuple[FakeLog, str], witness_key: Path, tmp_path: Path
    ) -> None:
        log, url = fake
        state = tmp_path / "state"
        _cosigned_at(1, fake, witness_key, state)
        log.size = 5
        log.proof_requested.clear()
        log.proof_held.set()  # the first run waits on its proof until the second has been turned away
        env = {**os.environ, "COLUMNS": "300"}
        first = subprocess.Popen([sys.executable, "-m", "contactgroup",
                                  *_args(url, witness_key, state, log, "--once")],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert log.proof_requested.wait(20), "the first run never asked for the proof"
            second = subprocess.run([sys.executable, "-m", "contactgroup",
                                     *_args(url, witness_key, state, log, "--once", "--lock-wait", "0.2")],
                                    capture_output=True, text=True, env=env, timeout=60)
        finally:
            log.proof_held.clear()
            out, errors = first.communicate(timeout=60)
        assert second.returncode == 5, second.stdout + second.stderr
        assert "another witness run is using the state directory" in second.stderr
        assert str(state) in second.stderr and "Traceback" not in second.stderr
        assert first.returncode == 0 and f"cosigned {ORIGIN} at size 5" in out, out + errors
        assert len(log.posted) == 2  # the first run's two rounds; the second run cosigned nothing
