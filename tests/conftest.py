"""Shared fixtures: every database test runs on SQLite and on PostgreSQL (a fresh schema per test).

A founded coordination is built once per session (per xdist worker) and copied for each test that needs one
(`DatabaseCopies`): founding takes most of a second, a copy a millisecond (SQLite) or a tenth (PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
import typer.testing
from hypothesis import settings
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import event

from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database

# Shared, busy machines: no per-example time limit (speed is measured in bench/, never asserted in tests).
settings.register_profile("contactgroup", deadline=None)
settings.load_profile("contactgroup")

# Typer's CliRunner builds the Click command tree from the app's functions (resolving every parameter's annotations)
# on each invoke: most of the CPU time of a short command under test. A `contactgroup` process builds it once; so
# does each test process, for each app (apps are compared by identity, so a test's own small app is built anew).
typer.testing._get_command = cache(typer.testing._get_command)  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)  # after xdist's own hook
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each test of an `xdist_group` the group's name as the suffix of its id, as `--dist loadgroup` expects.

    pytest-xdist 3.8 does it by setting `item._nodeid`, which pytest 9.2 no longer reads (the id is `item._id`):
    without this, every group is split across the workers, and each worker builds the group's expensive
    fixtures again (the demo, the published release, the browser)."""
    if not getattr(config.option, "loadgroup", False):  # set on the workers by xdist when --dist loadgroup
        return
    try:
        from _pytest.nodeid import NodeId  # pytest 9.2 on keeps the id here (private: if it moves, groups split)
    except ImportError:  # an older pytest reads the `_nodeid` that xdist sets
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and "@" not in item.nodeid.rpartition("]")[2]:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


PG_SERVER = os.environ.get("CONTACTGROUP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# The project's shared reference data: ../shared beside the repository, or CONTACTGROUP_SHARED; the Kiel release
# directory alone can be pointed elsewhere with CONTACTGROUP_KIEL_DIR.
SHARED = Path(os.environ.get("CONTACTGROUP_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
KIEL_R29 = Path(os.environ.get("CONTACTGROUP_KIEL_DIR") or SHARED / "data" / "kiel-ust-r29")
CHROMIUM = Path(os.environ.get("CONTACTGROUP_CHROMIUM", "/usr/bin/chromium"))


def _pg_available() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(PG_SERVER)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: not available
        return str(exc).splitlines()[0]


_PG_PROBLEM: list[str | None] = []


def require_postgres() -> None:
    """Skip without PostgreSQL on a developer machine; fail in CI, where no test may be skipped."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_pg_available())
    problem = _PG_PROBLEM[0]
    if problem is not None:
        message = f"PostgreSQL at {PG_SERVER} is not reachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: an SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'contactgroup.db'}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL to a fresh PostgreSQL schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


Build = Callable[[Database, Path], Any]


@dataclass(frozen=True, slots=True)
class Template:
    directory: Path  # the files the build wrote (on SQLite the database file among them)
    script: bytes | None  # PostgreSQL: the statements that built the template, parameters bound, in order
    value: Any  # what the build returned (ids it made, say)


class DatabaseCopies:
    """Databases built once per session and copied into each test's own database.

    SQLite: the template file is copied with the files written beside it (the log signing key). PostgreSQL: the
    statements that built the template (schema DDL, triggers, rows with their random salts) are recorded with
    their parameters and replayed into the test's fresh schema in one round trip, which gives the same rows.
    Not `CREATE DATABASE ... TEMPLATE`: every test's database would have to be dropped again, and DROP DATABASE
    waits for the server's other backends (measured 0.1 s to 28 s on this shared machine), while a schema
    is gone in milliseconds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[tuple[Hashable, ...], Template] = {}

    def copy(self, db_url: str, directory: Path, key: Hashable, build: Build) -> Database:
        """A Database at `db_url` (empty) holding what `build(db, dir)` made in an empty database, with the files
        it wrote into `dir` copied into `directory`. `build` runs once per session for each `key` and engine;
        the key must name everything the result depends on (options, the clock's time)."""
        db = Database(db_url)
        self._fill(db, directory, self._template(db_url, directory, key, build))
        return db

    def rebuild(self, db: Database, directory: Path, key: Hashable, build: Build) -> Any:
        """Replace what `db` holds, and the files beside it, by a copy of what `build` makes (as `copy`);
        returns what `build` returned when it ran."""
        template = self._template(db.url, directory, key, build)
        db.engine.dispose()
        sqlite_file = _sqlite_file(db.url)
        if sqlite_file is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
        else:
            schema = _pg_schema(db.url)
            with db.engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            db.engine.dispose()
        self._fill(db, directory, template)
        return template.value

    def _template(self, db_url: str, directory: Path, key: Hashable, build: Build) -> Template:
        sqlite_file = _sqlite_file(db_url)
        if sqlite_file is not None and sqlite_file.parent != directory:
            raise ValueError(f"{db_url} is not in {directory}: the files built beside it would not be found")
        engine_key = ("sqlite", sqlite_file.name) if sqlite_file is not None else ("postgresql",)
        template = self.templates.get((key, *engine_key))
        if template is None:
            template = self.templates[(key, *engine_key)] = self._build(sqlite_file, build)
        return template

    @staticmethod
    def _fill(db: Database, directory: Path, template: Template) -> None:
        for path in template.directory.iterdir():
            shutil.copy2(path, directory / path.name)
        if template.script is not None:
            raw = db.engine.raw_connection()
            try:
                raw.driver_connection.execute(template.script)
                raw.commit()
            finally:
                raw.close()

    def _build(self, sqlite_file: Path | None, build: Build) -> Template:
        directory = self.root / f"t{len(self.templates)}"
        directory.mkdir()
        if sqlite_file is not None:
            db = Database(f"sqlite:///{directory / sqlite_file.name}")
            value = build(db, directory)
            db.engine.dispose()  # the last connection closes: the WAL is checkpointed into the file and removed
            return Template(directory, None, value)
        with postgres_schema() as url:
            db = Database(url)
            statements: list[tuple[str, Any, bool]] = []

            def record(_c: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
                statements.append((statement, parameters, many))

            # Every engine, not only db's: a build may run the command line, which opens its own.
            event.listen(sa.engine.Engine, "before_cursor_execute", record)
            try:
                value = build(db, directory)
            finally:
                event.remove(sa.engine.Engine, "before_cursor_execute", record)
            raw = db.engine.raw_connection()
            try:
                bind = psycopg.ClientCursor(raw.driver_connection)
                script = ";\n".join(
                    bind.mogrify(statement, params)
                    for statement, parameters, many in statements
                    # A plain SELECT changes nothing (no sequence is in the schema); the writers' advisory lock
                    # is taken and released by the copy's own transaction, not by a script.
                    if not statement.lstrip().upper().startswith("SELECT")
                    for params in (parameters if many else [parameters])
                )
            finally:
                raw.close()
            db.engine.dispose()
            schema = _pg_schema(url)
            if schema in script:
                raise AssertionError(f"the template's schema {schema} is named in its script: it cannot be copied")
        # Not waiting for the server's WAL flush at commit: a copy is thrown away with its test anyway.
        return Template(directory, ("SET LOCAL synchronous_commit TO OFF;\n" + script).encode(), value)


def _sqlite_file(db_url: str) -> Path | None:
    return Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite:///") else None


def _pg_schema(db_url: str) -> str:
    """The schema a `postgres_schema` URL names."""
    return db_url.rsplit("search_path%3D", 1)[1]


@pytest.fixture(scope="session")
def database_copies(tmp_path_factory: pytest.TempPathFactory) -> DatabaseCopies:
    return DatabaseCopies(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium per test process (launching one takes seconds); each test opens its own context in it. Tests
    that use it are in the xdist group "browser", so that one worker launches it."""
    if not CHROMIUM.exists():
        message = f"Chromium is expected at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 7, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def founded_db(db_url: str, clock: FixedClock, tmp_path: Path, database_copies: DatabaseCopies) -> Iterator[Database]:
    """A coordination for UKR chaired by IDCC (coordinator `admin`) with the 52 reference members (on SQLite with
    its log signing key beside the file: `contactgroup.db.logkey`)."""
    if os.environ.get("CONTACTGROUP_LOG_KEY"):  # the key would be written outside the template: found anew
        db = Database(db_url)
        init_coordination(db, clock)
    else:
        db = database_copies.copy(db_url, tmp_path, ("founded", clock.at),
                                  lambda new, _: init_coordination(new, clock))
    yield db
    db.engine.dispose()


@pytest.fixture
def kiel_dir() -> Path:
    if not (KIEL_R29 / "data_explorer.csv").exists():
        pytest.fail(f"the Kiel Release 29 files are expected in {KIEL_R29} (../shared beside the repository)")
    return KIEL_R29
