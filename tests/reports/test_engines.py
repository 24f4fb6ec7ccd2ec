"""The same record gives the same reports, to the last digit, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from contactgroup.reports.burden import burden
from contactgroup.reports.coverage import coverage
from contactgroup.reports.gaps import gaps
from contactgroup.reports.lag import lag
from contactgroup.services.demo import build_demo
from contactgroup.storage.database import Database
from tests.conftest import postgres_schema


def _reports(url: str) -> list[object]:
    db = Database(url)
    try:
        build_demo(db, seed=7)
        state = db.state()
        return [coverage(state, "tier"), burden(state), burden(state, 2021), lag(state), gaps(state, 100)]
    finally:
        db.engine.dispose()


def test_demo_reports_are_identical_on_both_engines(tmp_path: Path) -> None:
    with postgres_schema() as url:
        on_postgres = _reports(url)
    assert _reports(f"sqlite:///{tmp_path / 'demo.db'}") == on_postgres
