"""A state advanced event by event equals the state loaded from the tables, to the last digit and in the same
order: so reports are the same whichever way a process came by its state (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.model import Fund, Rate, TrackedAid
from contactgroup.domain.state import TABLES, State
from contactgroup.reports.burden import burden
from contactgroup.reports.coverage import coverage
from contactgroup.reports.gaps import gaps
from contactgroup.reports.lag import lag
from contactgroup.services import coordination as svc
from contactgroup.services.demo import build_demo
from contactgroup.storage.database import Database, UnitOfWork, read_events, replay_log
from contactgroup.storage.store import StateStore
from tests.factories import OFFER, World, open_requirement


@dataclass(frozen=True)
class Trading:
    """A world with a fund and an open requirement that offers are allocated to."""

    world: World
    requirement: str


Command = Callable[[UnitOfWork, Trading], Any]


def assert_same(by_events: State, by_tables: State) -> None:
    for name in TABLES:
        assert list(by_events.tables[name].items()) == list(by_tables.tables[name].items()), name
    assert burden(by_events) == burden(by_tables)
    assert burden(by_events, 2021) == burden(by_tables, 2021)


def test_the_demo_replayed_event_by_event_equals_the_demo_loaded_from_its_tables(db_url: str) -> None:
    db = Database(db_url)
    build_demo(db, seed=5)
    with db.reader() as conn:
        by_events = replay_log([body for _, body, _ in read_events(conn)])
    by_tables = db.state()
    db.engine.dispose()
    assert_same(by_events, by_tables)
    assert coverage(by_events, "tier") == coverage(by_tables, "tier")
    assert lag(by_events) == lag(by_tables) and gaps(by_events, 100) == gaps(by_tables, 100)


# --- random command sequences ----------------------------------------------------------------------------------

MEMBERS = {"DEU": "deu", "FRA": "fra", "USA": "usa"}
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)


def _offer_allocated(member: str, quantity: int, value: Decimal | None, currency: str, share: int) -> Command:
    def run(uow: UnitOfWork, t: Trading) -> None:
        w = t.world
        desk = w.caller(MEMBERS[member])
        offer = svc.enter_offer(uow, desk, dataclasses.replace(
            OFFER, member=member, depot=member, quantity=quantity, value=value,
            currency=currency if value is not None else None), status="committed")
        take = max(1, quantity * share // 7)
        a = svc.propose_allocation(uow, w.caller("admin"), offer=offer.id, requirement=t.requirement, quantity=take)
        svc.move_allocation(uow, desk, a.id, "accept")
        svc.move_allocation(uow, w.caller("ukr"), a.id, "accept")
        svc.move_allocation(uow, w.caller("admin"), a.id, "confirm")
    return run


def _aid(member: str, month: str, category: str, allocated: Decimal, committed: Decimal) -> Command:
    def run(uow: UnitOfWork, t: Trading) -> None:
        key = f"kiel/{member}/{month}/{category}"
        svc.track_aid(uow, t.world.caller("admin"), [TrackedAid(key, "kiel", member, month, category, allocated,
                                                             committed)])
    return run


def _rate(currency: str, on: date, per_eur: Decimal) -> Command:
    def run(uow: UnitOfWork, t: Trading) -> None:
        svc.record_rates(uow, t.world.caller("admin"), [Rate(currency, on, per_eur)])
    return run


def _pledge(member: str, amount: Decimal, currency: str, on: date) -> Command:
    def run(uow: UnitOfWork, t: Trading) -> None:
        svc.contribute(uow, t.world.caller(MEMBERS[member]), fund="PURL", member=member, amount=amount,
                       currency=currency, pledged_on=on)
    return run


members = st.sampled_from(sorted(MEMBERS))
currencies = st.sampled_from(["EUR", "USD", "GBP"])
days = st.dates(min_value=date(2022, 3, 1), max_value=date(2024, 6, 28))
commands = st.one_of(
    st.builds(_offer_allocated, members, st.integers(1, 5000), st.none() | money, currencies, st.integers(1, 7)),
    st.builds(_aid, members, st.sampled_from([f"2023-{n:02d}" for n in range(1, 13)]),
              st.sampled_from(["military", "financial", "humanitarian"]), money, money),
    st.builds(_rate, currencies.filter(lambda c: c != "EUR"), days,
              st.decimals(min_value=Decimal("0.5"), max_value=Decimal("2"), places=6)),
    st.builds(_pledge, members, money, currencies, days),
)


@pytest.fixture
def trading(world: World) -> Trading:
    with world.db.transaction() as uow:
        svc.create_fund(uow, world.caller("admin"), Fund("PURL", "Priority list", "USA", "artillery"))
    return Trading(world, open_requirement(world, quantity=10**6))


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(commands, st.booleans()), min_size=1, max_size=6))
def test_random_commands_give_the_same_state_by_events_as_from_the_tables(
    trading: Trading, steps: list[tuple[Command, bool]]
) -> None:
    """Each command runs through the state store (its fork advanced by `evolve` as events are recorded) or, as
    another process would, straight on the database (the store then catches up by reading the log)."""
    db = trading.world.db
    store = StateStore(db)
    store.snapshot()
    for command, elsewhere in steps:
        run = db.run if elsewhere else store.run
        with contextlib.suppress(ContactGroupError):  # refused, nothing recorded: the states must agree all the same
            run(functools.partial(command, t=trading))
    assert_same(store.snapshot(), db.state())


