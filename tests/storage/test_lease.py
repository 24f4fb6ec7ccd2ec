"""The signer's lease: at most one holder per coordination, released with its holder's session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from contactgroup.storage.database import Database
from contactgroup.storage.lease import Lease
from tests.conftest import postgres_schema


@pytest.fixture
def schema_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def _databases(url: str, n: int) -> list[Database]:
    return [Database(url) for _ in range(n)]


def test_one_holder_at_a_time_and_the_next_takes_it_once_released(schema_url: str) -> None:
    first, second = (Lease(db) for db in _databases(schema_url, 2))
    assert first.held() and not second.held()
    assert first.held()  # kept across ticks
    first.release()
    assert second.held() and not first.held()


def test_a_holder_whose_session_ends_loses_the_lease_to_the_next(schema_url: str) -> None:
    first_db, second_db = _databases(schema_url, 2)
    first, second = Lease(first_db), Lease(second_db)
    assert first.held()
    with sa.create_engine(first_db.url, isolation_level="AUTOCOMMIT").connect() as admin:
        ended = admin.execute(sa.text(  # the holder's session ends, as when its process dies
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = :key AND pid <> pg_backend_pid() "
            "AND objid::text::bigint = (hashtext(current_schema())::bigint + 4294967296) % 4294967296"),
            {"key": first.key}).scalars().all()
    assert ended == [True]
    assert second.held()
    assert not first.held()  # it notices its session is gone, and that the lease is another's now


def test_each_coordination_elects_its_own_signer() -> None:
    with postgres_schema() as one, postgres_schema() as two:
        assert Lease(Database(one)).held() and Lease(Database(two)).held()


def test_on_sqlite_the_one_process_holds_it(tmp_path: Path) -> None:
    assert Lease(Database(f"sqlite:///{tmp_path}/cg.db")).held()
