from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from contactgroup.api.app import create_app
from contactgroup.services import tokens
from contactgroup.services.clock import FixedClock
from contactgroup.storage.database import Database
from tests.api.scenario import scenario  # noqa: F401  (a fixture of the matrix and of schemathesis)
from tests.factories import World, build_world


@pytest.fixture
def world(founded_db: Database, clock: FixedClock) -> World:
    return build_world(founded_db, clock)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(world.db.url, clock=world.clock)
    yield TestClient(app)
    app.state.db.engine.dispose()  # PostgreSQL takes few connections: none left open by a finished test


def bearer(world: World, user: str, scope: tokens.Scope = tokens.Scope.WRITE) -> dict[str, str]:
    """Headers that sign a request in as `user` with a real token issued for it."""
    issued = tokens.issue(world.db, world.db.state(), user, now=world.clock.now(), scope=scope)
    return {"Authorization": f"Bearer {issued.token}"}
