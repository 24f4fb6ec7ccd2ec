"""Record time: a report as of a past day equals the same report computed, the ordinary way (from the projection
tables), on a copy of the log cut at the end of that day; and its stamp names that cut's size and root."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from contactgroup.domain.model import Category
from contactgroup.ledger import merkle
from contactgroup.ledger.leaf import event_leaf_hash
from contactgroup.reports.scope import Scope
from contactgroup.services.clock import FixedClock
from contactgroup.services.reporting import ReportRequest, compute, end_of_day, records, snapshot
from contactgroup.storage.database import Database, decode, read_events
from tests.conftest import DatabaseCopies
from tests.services.conftest import build_demo_11

pytestmark = pytest.mark.xdist_group("demo-11")  # one worker builds the demo, for these and the governance tests

REQUESTS = [
    ReportRequest("coverage", by="tier"),
    ReportRequest("coverage", by="requirement", scope=Scope(kind=Category.MILITARY)),
    ReportRequest("burden"),
    ReportRequest("burden", gdp_year=2021, scope=Scope(start=date(2023, 1, 1))),
    ReportRequest("lag"),
    ReportRequest("gaps", limit=50),
]
FIRST, LAST = date(2022, 4, 20), date(2026, 4, 10)  # the demo's record runs from 2022-04-26 to 2026-04-01


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory,
         database_copies: DatabaseCopies) -> Iterator[tuple[Database, list[bytes]]]:
    directory = tmp_path_factory.mktemp("asof")
    db = database_copies.copy(f"sqlite:///{directory / 'contactgroup.db'}", directory, "demo-11", build_demo_11)
    with db.reader() as conn:
        bodies = [body for _, body, _ in read_events(conn)]
    yield db, bodies
    db.engine.dispose()


def cut_copy(bodies: list[bytes], directory: Path) -> Database:
    """A new database whose log is `bodies`, recorded through the ordinary unit of work (projections written as
    every command writes them)."""
    copy = Database(f"sqlite:///{directory / 'cut.db'}")
    copy.migrate()
    with copy.transaction() as uow:
        uow.record(decode(body) for body in bodies)
    return copy


@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.dates(FIRST, LAST))
@example(day=date(2024, 6, 30))  # mid-record: pledges, allocations and deliveries on both sides of the cut
def test_a_report_as_of_a_day_equals_the_report_on_the_log_cut_at_the_end_of_it(
        demo: tuple[Database, list[bytes]], tmp_path_factory: pytest.TempPathFactory, day: date) -> None:
    db, bodies = demo
    size = sum(1 for body in bodies if decode(body).at < end_of_day(day))
    assert all(decode(body).at >= end_of_day(day) for body in bodies[size:])  # the events before are a prefix
    copy = cut_copy(bodies[:size], tmp_path_factory.mktemp("cut"))
    try:
        state = copy.state()
        clock = FixedClock(datetime(2026, 12, 1, tzinfo=UTC))
        # One snapshot serves every request: the record as of a day depends on the day alone (each snapshot replays
        # the log, which was most of this test's time when taken once per request).
        snap = snapshot(db, ReportRequest(**{**_fields(REQUESTS[0]), "as_of": day}), clock)
        assert snap.stamp.log_size == size
        assert snap.stamp.root == merkle.root_hash([event_leaf_hash(b) for b in bodies[:size]])
        for request in REQUESTS:
            assert records(snap.state, compute(snap.state, request), request) == records(
                state, compute(state, request), request), (
                request)
    finally:
        copy.engine.dispose()


def _fields(request: ReportRequest) -> dict[str, object]:
    return {name: getattr(request, name) for name in ReportRequest.__dataclass_fields__}


def test_as_of_a_day_after_the_last_event_is_the_record_as_it_is(demo: tuple[Database, list[bytes]]) -> None:
    db, bodies = demo
    clock = FixedClock(datetime(2026, 12, 1, tzinfo=UTC))
    now = snapshot(db, ReportRequest("burden"), clock)
    later = snapshot(db, ReportRequest("burden", as_of=LAST + timedelta(days=400)), clock)
    assert now.stamp.log_size == later.stamp.log_size == len(bodies) and now.stamp.root == later.stamp.root
    assert compute(now.state, ReportRequest("burden")) == compute(later.state, ReportRequest("burden"))


def test_as_of_a_day_before_the_first_event_is_an_empty_record(demo: tuple[Database, list[bytes]]) -> None:
    db, _ = demo
    snap = snapshot(db, ReportRequest("coverage", as_of=date(2020, 1, 1)), FixedClock(datetime(2026, 1, 1,
                                                                                             tzinfo=UTC)))
    assert snap.stamp.log_size == 0 and snap.stamp.root == merkle.root_hash([]) and snap.stamp.last_event_at is None
    assert compute(snap.state, ReportRequest("coverage")) == []


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(split=st.dates(FIRST, LAST))
def test_two_adjoining_windows_add_up_to_the_whole(demo: tuple[Database, list[bytes]], split: date) -> None:
    """Effective dates partition the units: what was committed or received up to a day, plus after it, is all of
    it (every confirmed allocation's offer was committed on a day, every received shipment received on one)."""
    db, _ = demo
    state = db.state()

    def units(report: str, scope: Scope) -> dict[tuple[str, str], int]:
        rows = compute(state, ReportRequest(report, scope, by="class"))  # units add up within an item class
        if report == "lag":
            return {(r.member, r.category): r.units for r in rows}
        return {(r.key, k): getattr(r, k) for r in rows for k in ("confirmed", "delivered")}

    for report in ("coverage", "lag"):
        before, after = units(report, Scope(end=split)), units(report, Scope(start=split + timedelta(days=1)))
        whole = units(report, Scope())
        assert {k: before.get(k, 0) + after.get(k, 0) for k in whole} == whole, report
        assert set(before) | set(after) <= set(whole)
