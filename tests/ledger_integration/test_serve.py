"""`contactgroup serve` as a user starts it: the loopback by default, HTTPS with its own certificate, forwarded
headers believed only from the proxies named, and a configuration that cannot work refused before it starts."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactgroup.api.server import trusted_proxies
from contactgroup.cli.main import app
from contactgroup.domain.errors import ValidationFailed
from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database
from tests.ledger_integration.conftest import cli, runner
from tests.ledger_integration.servers import Served, certificate, served, wait_for

SPOOFED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


@pytest.fixture
def founded(tmp_path: Path, clock: FixedClock) -> str:
    """An SQLite coordination with its log key beside it (what `contactgroup init` makes)."""
    url = f"sqlite:///{tmp_path / 'cg.db'}"
    init_coordination(Database(url), clock, log_key=tmp_path / "cg.db.logkey", with_members=True)
    return url


def _redirect_and_client(server: Served) -> tuple[str, str]:
    """Where the server sends `GET /policy/` (its own absolute URL, scheme included) when the request claims to
    come through a proxy from 203.0.113.9, and the client address its access log names for that request."""
    answer = httpx.get(f"{server.url}/policy/", headers=SPOOFED, follow_redirects=False)
    assert answer.status_code == 307
    wait_for(lambda: '"GET /policy/ HTTP/1.1" 307' in server.output, "the access log line")
    line = next(line for line in server.output.splitlines() if '"GET /policy/ HTTP/1.1" 307' in line)
    return answer.headers["location"], line.split()[1].rsplit(":", 1)[0]


class TestTLS:
    def test_serves_https_with_its_certificate_and_nothing_else(self, founded: str, tmp_path: Path) -> None:
        cert, key = certificate(tmp_path)
        with served(tmp_path, "--db", founded, "--tls-cert", str(cert), "--tls-key", str(key), https=True) as server:
            assert "Uvicorn running on https://127.0.0.1:" in server.output
            trusting = ssl.create_default_context(cafile=cert)
            answer = httpx.get(f"{server.url}/policy", verify=trusting)
            assert answer.status_code == 200 and answer.json()["origin"]
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                httpx.get(f"{server.url}/policy")  # a client that does not trust the cell's certificate
            with pytest.raises(httpx.HTTPError):
                httpx.get(server.url.replace("https://localhost", "http://127.0.0.1") + "/policy")  # plain HTTP

    def test_a_members_witness_follows_and_cosigns_over_https_with_the_cells_own_ca(self, founded: str,
                                                                                   tmp_path: Path) -> None:
        # As docs/deployment.md tells a member: SSL_CERT_FILE names the CA the system itself does not trust.
        cert, key = certificate(tmp_path)
        keygen = runner.invoke(app, ["witness", "keygen", "w.deu", "--out", str(tmp_path / "w.key")])
        assert cli("ledger", "witness-add", "w.deu", keygen.stdout.strip(), "--as", "admin", "--db", founded)[0] == 0
        log_vkey = runner.invoke(app, ["ledger", "public-key", "--db", founded]).stdout.strip()
        with served(tmp_path, "--db", founded, "--tls-cert", str(cert), "--tls-key", str(key),
                    "--checkpoint-interval", "0.2", https=True) as server:
            wait_for(lambda: "signed the checkpoint" in server.output, "the first checkpoint")
            follow = ("witness", "--log", server.url, "--key", str(tmp_path / "w.key"), "--state",
                      str(tmp_path / "state"), "--log-key", log_vkey, "--once")
            code, output = cli(*follow)
            assert code == 1 and "CERTIFICATE_VERIFY_FAILED" in output  # the system's CAs do not vouch for it
            code, output = cli(*follow, env={"SSL_CERT_FILE": str(cert)})
            assert code == 0 and "cosigned" in output, output
            note = httpx.get(f"{server.url}/checkpoint", verify=ssl.create_default_context(cafile=cert)).text
        assert "— w.deu " in note  # the server keeps the cosignature and serves it with the checkpoint

    def test_half_a_tls_configuration_is_refused_before_starting(self, founded: str, tmp_path: Path) -> None:
        cert, _ = certificate(tmp_path)
        code, output = cli("serve", "--db", founded, "--tls-cert", str(cert))
        assert code == 2 and "TLS needs both a certificate and its private key" in output

    def test_a_key_that_is_not_the_certificates_is_refused(self, founded: str, tmp_path: Path) -> None:
        cert, _ = certificate(tmp_path, "one")
        _, other = certificate(tmp_path, "two")
        code, output = cli("serve", "--db", founded, "--tls-cert", str(cert), "--tls-key", str(other))
        assert code == 2 and f"cannot use the certificate {cert}" in output and "Traceback" not in output

    def test_a_missing_certificate_file_is_named(self, founded: str, tmp_path: Path) -> None:
        _, key = certificate(tmp_path)
        code, output = cli("serve", "--db", founded, "--tls-cert", str(tmp_path / "absent.crt"), "--tls-key",
                           str(key))
        assert code == 2 and "absent.crt" in output and "No such file" in output


class TestForwardedHeaders:
    def test_binds_the_loopback_and_ignores_forwarded_headers_by_default(self, founded: str,
                                                                        tmp_path: Path) -> None:
        # FORWARDED_ALLOW_IPS (uvicorn's own variable) must not open the door either.
        with served(tmp_path, "--db", founded, env={"FORWARDED_ALLOW_IPS": "*"}) as server:
            assert "Uvicorn running on http://127.0.0.1:" in server.output
            location, client = _redirect_and_client(server)
            assert location.startswith("http://127.0.0.1:") and client == "127.0.0.1"

    def test_headers_from_a_peer_outside_the_trusted_proxies_are_ignored(self, founded: str,
                                                                        tmp_path: Path) -> None:
        with served(tmp_path, "--db", founded, "--forwarded-allow-ips", "10.0.0.0/8,192.0.2.1") as server:
            location, client = _redirect_and_client(server)
            assert location.startswith("http://") and client == "127.0.0.1"

    def test_headers_from_a_trusted_proxy_are_believed(self, founded: str, tmp_path: Path) -> None:
        with served(tmp_path, "--db", founded, "--forwarded-allow-ips", "127.0.0.1") as server:
            location, client = _redirect_and_client(server)
            assert location.startswith("https://") and client == "203.0.113.9"

    def test_a_proxy_that_is_not_an_address_is_refused(self, founded: str) -> None:
        code, output = cli("serve", "--db", founded, "--forwarded-allow-ips", "127.0.0.1,proxy.example")
        assert code == 2 and "'proxy.example' is not an IP address or network" in output


def test_a_port_already_taken_is_a_clear_failure(founded: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # In a process of its own, as a user starts it: uvicorn runs an event loop, which a test process that has
        # the session's browser open (Playwright keeps one running) could not start.
        done = subprocess.run([sys.executable, "-m", "contactgroup", "serve", "--db", founded, "--port", str(port)],
                              capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 1 and f"cannot listen on 127.0.0.1 port {port}" in output and "Traceback" not in output


@given(st.lists(st.ip_addresses(), min_size=1, max_size=4), st.integers(min_value=8, max_value=32))
def test_every_address_and_network_is_taken_as_written(addresses: list[object], prefix: int) -> None:
    written = [str(a) for a in addresses] + [f"10.0.0.0/{prefix}"]
    assert trusted_proxies(" , ".join(written)) == tuple(written)


@given(st.from_regex(r"\A[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6})?\Z"))
def test_a_name_is_never_taken_for_an_address(name: str) -> None:
    with pytest.raises(ValidationFailed, match=f"'{name}' is not an IP address or network"):
        trusted_proxies(f"127.0.0.1,{name}")
