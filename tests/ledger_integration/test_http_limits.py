"""The server under hostile load: bodies refused before they are read, a cap on connections, idle keep-alive
connections closed, docs that need no CDN, and a signer that keeps GET /checkpoint a pure read."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from contactgroup.api.app import create_app
from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database
from tests.ledger_integration.conftest import serving


@pytest.fixture
def founded(tmp_path: Path, clock: FixedClock) -> tuple[str, Path]:
    """An SQLite coordination and its log key (the database is not the point here)."""
    url = f"sqlite:///{tmp_path / 'cg.db'}"
    init_coordination(Database(url), clock, log_key=tmp_path / "log.key", with_members=True)
    return url, tmp_path / "log.key"


def _response(sock: socket.socket) -> bytes:
    """One whole HTTP response (its head and the body its Content-Length announces) read from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    while length and len(body) < int(length.group(1)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _raw(port: int, request: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return _response(sock)


class TestBodies:
    def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(self, founded: tuple[str, Path]) -> None:
        url, key = founded
        with serving(url, key) as base:
            port = int(base.rsplit(":", 1)[1])
            # 50 MB announced, not one byte sent: the answer comes at once, so the body was never awaited.
            answer = _raw(port, b"POST /cosignatures HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                                b"Content-Length: 52428800\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413") and b"application/problem+json" in head
        assert b"larger than 10,485,760 bytes" in body

    def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(self, founded: tuple[str, Path]) -> None:
        url, key = founded
        client = TestClient(create_app(url, log_key=key, max_body=1000))

        def chunks() -> Iterator[bytes]:
            for _ in range(20):
                yield b"x" * 100

        response = client.post("/cosignatures", content=chunks())
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "the request body is larger than 1,000 bytes"
        small = client.post("/cosignatures", content=b"x" * 999)
        assert small.status_code == 400  # read, and refused for what it says, not for its size

    def test_an_unreadable_content_length_is_refused(self, founded: tuple[str, Path]) -> None:
        url, key = founded
        with serving(url, key) as base:
            answer = _raw(int(base.rsplit(":", 1)[1]),
                          b"POST /cosignatures HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 4")  # uvicorn's parser or our limit: never read, never 5xx


class TestDocs:
    def test_the_docs_page_loads_nothing_from_elsewhere(self, founded: tuple[str, Path]) -> None:
        client = TestClient(create_app(founded[0]))
        page = client.get("/docs")
        assert page.status_code == 200
        refs = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text) + re.findall(r"url: ?'([^']+)'", page.text)
        assert refs and all(ref.startswith("/") for ref in refs), refs
        assert "cdn" not in page.text.lower()
        for ref in refs:
            assert client.get(ref).status_code == 200, ref
        assert "SwaggerUIBundle" in client.get("/docs-assets/swagger-ui-bundle.js").text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(url: str, key: Path, *options: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "contactgroup", "serve", "--db", url, "--log-key", str(key),
                             "--port", str(port), *options], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/policy").status_code == 200:
                return proc, port
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.1)


class TestConnections:
    def test_beyond_the_connection_cap_requests_are_answered_503_at_once(self, founded: tuple[str, Path]) -> None:
        proc, port = _serve(*founded, "--max-connections", "2")
        try:
            held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
            time.sleep(0.3)  # the server has accepted both
            answer = _raw(port, b"GET /policy HTTP/1.1\r\nHost: x\r\n\r\n")
            assert answer.startswith(b"HTTP/1.1 503")
            for sock in held:
                sock.close()
            time.sleep(0.3)
            assert httpx.get(f"http://127.0.0.1:{port}/policy").status_code == 200
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    def test_an_idle_keep_alive_connection_is_closed(self, founded: tuple[str, Path]) -> None:
        proc, port = _serve(*founded, "--keep-alive", "1")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
                sock.sendall(b"GET /policy HTTP/1.1\r\nHost: x\r\n\r\n")
                assert _response(sock).startswith(b"HTTP/1.1 200")
                started = time.monotonic()
                assert sock.recv(1) == b""  # the server hung up on the idle connection
                assert time.monotonic() - started < 14
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    def test_a_key_that_is_not_the_logs_is_refused_at_start(self, founded: tuple[str, Path], tmp_path: Path,
                                                            clock: FixedClock) -> None:
        url, _ = founded
        other = tmp_path / "other"
        other.mkdir()
        init_coordination(Database(f"sqlite:///{other / 'x.db'}"), clock, log_key=other / "k")
        result = subprocess.run([sys.executable, "-m", "contactgroup", "serve", "--db", url, "--log-key",
                                 str(other / "k"), "--port", str(_free_port())], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 4 and "is not the log's verifier key" in result.stderr
