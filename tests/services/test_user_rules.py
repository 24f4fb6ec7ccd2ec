"""Rules of user management and histories on a plain State (the demo's): no database needed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contactgroup.domain.errors import Conflict, Forbidden, NotFound
from contactgroup.domain.model import KeyStatus, MemberKey, Role, User
from contactgroup.domain.state import State
from contactgroup.services import access, queries
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.storage.database import UnitOfWork

pytestmark = pytest.mark.xdist_group("demo-state")  # one worker builds the demo state, not each

CLOCK = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))


def governed(demo_state: State) -> State:
    """The demo once a member key exists (governance in force), with a second DEU desk officer."""
    state = demo_state.fork()
    state.put(MemberKey("deu+00000000+key", "DEU", KeyStatus.ACTIVE, CLOCK.now()))
    state.put(User("deu-2", "DEU", Role.DESK_OFFICER))
    return state


def uow(state: State) -> UnitOfWork:
    return UnitOfWork(None, state, 0, set())  # type: ignore[arg-type]  # nothing here reaches the database


class TestUnderGovernance:
    def test_the_authority_may_not_manage_a_members_users(self, demo_state: State) -> None:
        work = uow(governed(demo_state))
        with pytest.raises(Forbidden, match="governance is in force, so DEU's users are managed by its own desk"):
            svc.disable_user(work, svc.Caller("admin", CLOCK), "deu-2")
        with pytest.raises(Forbidden, match="governance is in force"):
            svc.change_role(work, svc.Caller("admin", CLOCK), "deu-2", Role.ANALYST)
        assert not work.pending

    def test_the_members_own_desk_may(self, demo_state: State) -> None:
        work = uow(governed(demo_state))
        svc.disable_user(work, svc.Caller("deu-desk", CLOCK), "deu-2")
        assert [e.type for e in work.pending] == ["UserDisabled"]
        assert not work.state.users["deu-2"].active

    def test_the_authority_still_manages_the_recipients_users(self, demo_state: State) -> None:
        work = uow(governed(demo_state))
        svc.disable_user(work, svc.Caller("admin", CLOCK), "ukr-liaison")
        with pytest.raises(Forbidden, match="user ukr-liaison is disabled") as refused:
            access.user(work.state, "ukr-liaison")
        assert refused.value.code == "disabled-user" and refused.value.exit_code == 4


class TestDisabled:
    def test_nobody_disables_itself_and_twice_is_a_conflict(self, demo_state: State) -> None:
        work = uow(demo_state.fork())
        with pytest.raises(Conflict, match="user admin may not disable itself"):
            svc.disable_user(work, svc.Caller("admin", CLOCK), "admin")
        with pytest.raises(Conflict, match="user deu-desk is already enabled"):
            svc.enable_user(work, svc.Caller("admin", CLOCK), "deu-desk")


def test_the_history_of_a_hidden_offer_is_the_not_found_of_a_missing_one(demo_state: State) -> None:
    state = demo_state
    who = state.users["deu-desk"]
    hidden = next(o.id for o in state.offers.values() if not access.can_see_offer(state, who, o))
    answers = []
    for ident in (hidden, "O-99999"):
        with pytest.raises(NotFound) as refused:
            queries.history(state, who, queries.HistoryKind.OFFER, ident, [])
        answers.append(str(refused.value).replace(repr(ident), "ID"))
    assert answers == ["no offer ID that deu-desk may see"] * 2
