"""A founded coordination with its log key file, a small world of users and offers, and helpers to run the CLI
and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from click.testing import Result
from typer.testing import CliRunner

from contactgroup.api.app import create_app
from contactgroup.api.server import Listening, uvicorn_config
from contactgroup.api.signer import CheckpointSigner
from contactgroup.cli.main import app
from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database
from tests.conftest import DatabaseCopies
from tests.factories import World, build_world, confirmed_allocation, enter_offer, open_requirement

runner = CliRunner()


@dataclass
class Log:
    """A world plus where its private log key is."""

    world: World
    url: str
    key: Path

    @property
    def db(self) -> Database:
        return self.world.db

    def invoke(self, *args: str, user: str | None = None) -> Result:
        env = {"CONTACTGROUP_DB": self.url, "CONTACTGROUP_LOG_KEY": str(self.key), "COLUMNS": "200"}
        if user:
            env["CONTACTGROUP_USER"] = user
        return runner.invoke(app, list(args), env=env)

    def cli(self, *args: str, user: str | None = None) -> tuple[int, str]:
        """Exit code and everything printed (stdout and stderr)."""
        result = self.invoke(*args, user=user)
        return result.exit_code, result.output

    def stdout(self, *args: str, user: str | None = None) -> str:
        """What a command printed on stdout; it must succeed."""
        result = self.invoke(*args, user=user)
        assert result.exit_code == 0, result.output
        return result.stdout


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    return result.exit_code, result.output


def _build_log(db: Database, clock: FixedClock, directory: Path) -> None:
    init_coordination(db, clock, log_key=directory / "log.key", with_members=True)
    w = build_world(db, clock)
    req = open_requirement(w, quantity=100)
    confirmed_allocation(w, enter_offer(w, quantity=100), req, 60)


@pytest.fixture
def log(db_url: str, clock: FixedClock, tmp_path: Path, database_copies: DatabaseCopies) -> Iterator[Log]:
    """UKR coordination with the artillery world: an open requirement, a member-only DEU offer, an allocation;
    its log key in `log.key` (built once per session, copied per test)."""
    db = database_copies.copy(db_url, tmp_path, ("log", clock.at), lambda new, d: _build_log(new, clock, d))
    yield Log(World(db, clock), db_url, tmp_path / "log.key")
    db.engine.dispose()


_SIGNERS: dict[str, CheckpointSigner] = {}


def settle(url: str) -> None:
    """Let the server at `url` sign the log as it is now (as its background signer will within its interval)."""
    signer = _SIGNERS[url]
    signer.tick()
    assert signer.signing, "the test server's signer could not take the signer's lease (see the log above)"


@contextmanager
def serving(db_url: str, log_key: Path | None, checkpoint_interval: float = 0.0,
            forwarded_allow_ips: tuple[str, ...] = ()) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 (an ephemeral port) in a thread, configured as `contactgroup serve`
    configures it; yields its base URL once the log as it is has been signed. Its background signer signs again
    every `checkpoint_interval` seconds if the log grew; `settle(url)` has it sign at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(db_url, log_key=log_key, checkpoint_interval=checkpoint_interval)
    server = uvicorn.Server(uvicorn_config(app, Listening(forwarded_allow_ips=forwarded_allow_ips), "warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    if app.state.signer is not None:
        _SIGNERS[url] = app.state.signer
        settle(url)
    try:
        yield url
    finally:
        _SIGNERS.pop(url, None)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.db.engine.dispose()  # its pooled connections close now, not when the app is collected
