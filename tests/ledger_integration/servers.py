"""Real `contactgroup serve` processes for tests: a free port, a self-signed certificate, a server started as a
user starts it (its output kept in a file), waited for, and always stopped."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

STARTUP = 60.0  # seconds a server may take to start on a busy machine before the test fails (never hangs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def certificate(folder: Path, name: str = "cell") -> tuple[Path, Path]:
    """A self-signed certificate for `localhost` and its key, as PEM files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    return folder / f"{name}.crt", folder / f"{name}.key"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = STARTUP) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.05)


@dataclass
class Served:
    """A running `contactgroup serve`: its base URL, its process, and everything it has printed so far."""

    url: str
    process: subprocess.Popen[bytes]
    output_file: Path

    @property
    def output(self) -> str:
        return self.output_file.read_text(errors="replace")

    def kill(self) -> None:
        """End it at once, as a crash would: no shutdown, its database sessions simply go away."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def served(folder: Path, *args: str, env: dict[str, str] | None = None, https: bool = False) -> Iterator[Served]:
    """`contactgroup serve --port P ARGS` in a process of its own; yields once it listens, stops it afterwards."""
    port = free_port()
    output_file = folder / f"serve-{port}.log"
    with output_file.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "contactgroup", "serve", "--port", str(port), *args],
                                   stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, "COLUMNS": "200", **(env or {})})
    server = Served(f"{'https://localhost' if https else 'http://127.0.0.1'}:{port}", process, output_file)
    try:
        wait_for(lambda: "Uvicorn running" in server.output or process.poll() is not None, "the server to start")
        assert process.poll() is None, server.output
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
