"""The reverse-proxy configuration of docs/reverse-proxy/nginx.conf, run by a real nginx in front of a real server:
TLS passes requests through, a slow client is dropped, an oversized body never reaches the server."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database
from tests.ledger_integration.conftest import serving
from tests.ledger_integration.servers import certificate, free_port

CONFIG = Path(__file__).resolve().parents[2] / "docs" / "reverse-proxy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _require_nginx() -> None:
    if not os.path.exists(NGINX):
        message = "nginx is not installed (Debian: apt-get install nginx)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _configured(upstream: int, port: int, cert: Path, key: Path) -> str:
    """The documented file with its marked lines set for this test; every other line as written."""
    marked = {"upstream": f"server 127.0.0.1:{upstream};", "listen": f"listen 127.0.0.1:{port} ssl;",
              "certificate": f"ssl_certificate {cert};", "certificate key": f"ssl_certificate_key {key};",
              "header timeout": "client_header_timeout 1s;"}
    lines = []
    for line in CONFIG.read_text().splitlines():
        if "# mark: " in line:
            mark = line.split("# mark: ", 1)[1].split(" (", 1)[0].strip()
            line = "    " + marked[mark]
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.fixture
def proxied(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[str, Path]]:
    """An HTTPS URL of nginx in front of `contactgroup serve`, and the certificate to trust."""
    _require_nginx()
    url = f"sqlite:///{tmp_path / 'cg.db'}"
    init_coordination(Database(url), clock, log_key=tmp_path / "log.key", with_members=True)
    cert, key = certificate(tmp_path)
    port = free_port()
    with serving(url, tmp_path / "log.key", forwarded_allow_ips=("127.0.0.1",)) as upstream:  # as documented
        (tmp_path / "contactgroup.conf").write_text(_configured(int(upstream.rsplit(":", 1)[1]), port, cert, key))
        temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for folder in temp.values():
            folder.mkdir()
        (tmp_path / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"daemon off;\nworker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
            + "events {}\nhttp {\n access_log off;\n"
            + "".join(f" {name}_temp_path {path};\n" for name, path in
                      (("client_body", temp["body"]), ("proxy", temp["proxy"]), ("fastcgi", temp["fastcgi"]),
                       ("uwsgi", temp["uwsgi"]), ("scgi", temp["scgi"])))
            + f" include {tmp_path}/contactgroup.conf;\n}}\n")
        proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError((tmp_path / "error.log").read_text()) from None
                    time.sleep(0.05)
            yield f"https://localhost:{port}", cert
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_requests_pass_through_tls(proxied: tuple[str, Path]) -> None:
    base, cert = proxied
    response = httpx.get(f"{base}/policy", verify=ssl.create_default_context(cafile=cert))
    assert response.status_code == 200 and response.json()["origin"]


def test_a_client_that_sends_its_header_slowly_is_dropped(proxied: tuple[str, Path]) -> None:
    base, cert = proxied
    port = int(base.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=cert)
    with socket.create_connection(("127.0.0.1", port), timeout=15) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as sock:
        sock.sendall(b"GET /policy HTTP/1.1\r\nHost: localhost\r\n")  # ... and never the blank line
        started = time.monotonic()
        try:
            answer = sock.recv(65536)
        except (ssl.SSLError, ConnectionResetError):
            answer = b""
        waited = time.monotonic() - started
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer  # dropped, perhaps after saying 408
    assert 0.5 < waited < 10  # after the header timeout (1 s here), not at once and not never


def test_an_oversized_body_is_refused_by_the_proxy(proxied: tuple[str, Path]) -> None:
    base, cert = proxied
    response = httpx.post(f"{base}/cosignatures", content=b"x" * (11 * 1024 * 1024),
                          verify=ssl.create_default_context(cafile=cert))
    assert response.status_code == 413


def test_the_server_believes_the_scheme_nginx_forwards(proxied: tuple[str, Path]) -> None:
    # The server's own absolute URLs (here a redirect) say https: it trusts nginx's X-Forwarded-Proto, as
    # `serve --forwarded-allow-ips 127.0.0.1` makes it.
    base, cert = proxied
    response = httpx.get(f"{base}/policy/", verify=ssl.create_default_context(cafile=cert), follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"].startswith("https://localhost")
