from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from contactgroup.api.app import create_app
from contactgroup.services import accounts, tokens
from contactgroup.services.clock import FixedClock
from contactgroup.storage.database import Database
from tests.api.scenario import scenario  # noqa: F401  (a fixture of the matrix and of schemathesis)
from tests.factories import World, build_world


@pytest.fixture
def world(founded_db: Database, clock: FixedClock) -> World:
    return build_world(founded_db, clock)


Apps = Callable[..., TestClient]


@pytest.fixture
def apps(world: World) -> Iterator[Apps]:
    """Clients of apps over the world's database (`base_url` and `create_app`'s options as keywords); each app's
    connections are closed afterwards, so that a run does not hold PostgreSQL's connections until collected."""
    made: list[FastAPI] = []

    def make(base_url: str = "http://testserver", **options: Any) -> TestClient:
        made.append(create_app(world.db.url, clock=world.clock, **options))
        return TestClient(made[-1], base_url=base_url)

    yield make
    for app in made:
        app.state.db.engine.dispose()


@pytest.fixture
def client(apps: Apps) -> TestClient:
    return apps()


def bearer(world: World, user: str, scope: tokens.Scope = tokens.Scope.WRITE) -> dict[str, str]:
    """Headers that sign a request in as `user` with a real token issued for it."""
    issued = tokens.issue(world.db, world.db.state(), user, now=world.clock.now(), scope=scope)
    return {"Authorization": f"Bearer {issued.token}"}


PASSWORD = "correct horse battery staple"


def enrolled(world: World, user: str, password: str = PASSWORD, by: str = "admin") -> str | None:
    """Enrol `user` for real (a reset by `by` issues the code; the user sets `password` and confirms a TOTP code):
    its TOTP secret, or None for a role that needs none. The clock moves on one TOTP step, so that the next code
    differs from the one the confirmation spent."""
    code = world.do(accounts.reset_user, by, user).code
    factor = accounts.enrol(world.db, world.db.state(), code, password, now=world.clock.now())
    if factor.secret is not None:
        accounts.confirm_enrolment(world.db, world.db.state(), code, totp_code(world, factor.secret),
                                   now=world.clock.now())
        world.clock.at += timedelta(seconds=30)
    return factor.secret


def totp_code(world: World, secret: str) -> str:
    return pyotp.TOTP(secret).at(world.clock.now())
