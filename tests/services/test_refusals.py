"""Refusals reveal nothing: an action on an object the caller may not see answers exactly as for one that does
not exist — same error, same message, same exit code and status — for every role, over the whole demo."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from contactgroup.domain.errors import ContactGroupError, NotFound
from contactgroup.domain.model import RequirementStatus, User
from contactgroup.domain.state import State
from contactgroup.domain.workflow import AllocationAction, ConsentAction, OfferAction, ShipmentAction
from contactgroup.services import access
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.storage.database import UnitOfWork

pytestmark = pytest.mark.xdist_group("demo-state")  # one worker builds the demo state, not each

# One user of every role; the coordinator sees everything, so it has nothing hidden to probe.
USERS = ("admin", "deu-desk", "fra-desk", "fra-lead", "ukr-liaison", "est-analyst", "pol-auditor")
CLOCK = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
NOWHERE = {"offer": "O-99999", "allocation": "A-99999", "consent": "K-99999", "delivery": "D-99999"}


@dataclass(frozen=True)
class Probe:
    kind: str
    name: str
    act: Callable[[UnitOfWork, svc.Caller, str], Any]


def _probes(state: State) -> list[Probe]:
    today = date(2026, 1, 1)
    open_req = next(r.id for r in sorted(state.requirements.values(), key=lambda r: r.id)
                    if r.status is RequirementStatus.OPEN)
    probes = [Probe("offer", f"offer move {a}", lambda u, c, i, a=a: svc.move_offer(u, c, i, a)) for a in OfferAction]
    probes += [
        Probe("offer", "consent request", svc.request_consent),
        Probe("offer", "offer amend", lambda u, c, i: svc.amend_offer(u, c, i, quantity=1)),
        Probe("offer", "allocation propose",
              lambda u, c, i: svc.propose_allocation(u, c, offer=i, requirement=open_req, quantity=1)),
        Probe("allocation", "delivery dispatch",
              lambda u, c, i: svc.dispatch(u, c, allocation=i, quantity=1, dispatched_on=today)),
        Probe("delivery", "delivery receive", lambda u, c, i: svc.receive(u, c, i, received_on=today)),
    ]
    probes += [Probe("allocation", f"allocation move {a}", lambda u, c, i, a=a: svc.move_allocation(u, c, i, a))
               for a in AllocationAction]
    probes += [Probe("consent", f"consent decide {a}", lambda u, c, i, a=a: svc.decide_consent(u, c, i, a))
               for a in ConsentAction]
    probes += [Probe("delivery", f"delivery track {a}", lambda u, c, i, a=a: svc.track_shipment(u, c, i, a))
               for a in ShipmentAction]
    return probes


def _hidden(state: State, who: User, kind: str) -> Iterator[str]:
    """Every object of `kind` that `who` may not see."""
    if kind == "offer":
        yield from (o.id for o in state.offers.values() if not access.can_see_offer(state, who, o))
    elif kind == "allocation":
        yield from (a.id for a in state.allocations.values() if not access.can_see_allocation(state, who, a))
    elif kind == "consent":
        yield from (c.id for c in state.consents.values() if not access.can_see_consent(state, who, c))
    else:
        yield from (d.id for d in state.deliveries.values() if not access.can_see_delivery(state, who, d))


def _answer(state: State, probe: Probe, caller: svc.Caller, ident: str) -> tuple[type, str, int, int]:
    """What the service answers, with the object's id written as ID (it is the one thing that may differ)."""
    uow = UnitOfWork(None, state, 0, set())  # type: ignore[arg-type]  # a refusal never reaches the database
    with pytest.raises(ContactGroupError) as refused:
        probe.act(uow, caller, ident)
    assert not uow.pending, f"{probe.name} {ident} recorded something"
    exc = refused.value
    return type(exc), str(exc).replace(repr(ident), "ID"), exc.exit_code, exc.status


@pytest.mark.slow
@pytest.mark.parametrize("user", USERS)
def test_an_action_on_a_hidden_object_answers_as_for_one_that_does_not_exist(demo_state: State, user: str) -> None:
    state = demo_state
    who = state.users[user]
    caller = svc.Caller(user, CLOCK)
    probed = 0
    for probe in _probes(state):
        absent = _answer(state, probe, caller, NOWHERE[probe.kind])
        if probe.name != "allocation propose":  # refused first for the requirement's area, whatever the offer
            assert absent == (NotFound, f"no {probe.kind} ID that {user} may see", 3, 404), probe.name
        for ident in _hidden(state, who, probe.kind):
            assert _answer(state, probe, caller, ident) == absent, (probe.name, ident)
            probed += 1
    if user != "admin":
        assert probed > 1000  # the demo hides hundreds of offers, allocations and deliveries from every other role


def test_the_desk_that_was_told_the_owner_is_now_told_nothing(demo_state: State) -> None:
    """The audit's case: `offer move O-00772 commit --as deu-desk` named FRA, the hidden offer's owner."""
    state = demo_state
    hidden = next(o for o in state.offers.values()
                  if o.member != "DEU" and not access.can_see_offer(state, state.users["deu-desk"], o))
    uow = UnitOfWork(None, state, 0, set())  # type: ignore[arg-type]
    with pytest.raises(NotFound) as refused:
        svc.move_offer(uow, svc.Caller("deu-desk", CLOCK), hidden.id, OfferAction.COMMIT)
    assert str(refused.value) == f"no offer {hidden.id!r} that deu-desk may see"
    assert hidden.member not in str(refused.value)


def test_an_unknown_action_is_bad_input_not_a_key_error() -> None:
    from contactgroup.domain.errors import ValidationFailed
    from contactgroup.domain.workflow import parse_action

    with pytest.raises(ValidationFailed, match="unknown action 'sign': use make, commit or withdraw") as bad:
        parse_action(OfferAction, "sign")
    assert bad.value.exit_code == 2 and bad.value.code == "unknown-action"


class TestEachFrontDoorWordsItsHint:
    """The services say what went wrong; the CLI names its options and commands, the API never does."""

    def test_an_unknown_user(self) -> None:
        from contactgroup.api.problem import detail
        from contactgroup.cli.common import worded

        exc = NotFound("no user 'ghost'", code="unknown-user", user="ghost")
        assert worded(exc) == ("no user 'ghost': pass --as NAME or set CONTACTGROUP_USER to a registered user "
                               "(`contactgroup user list`)")
        assert "--as" not in detail(exc) and "contactgroup" not in detail(exc)

    def test_a_requirement_to_close_instead(self) -> None:
        from contactgroup.api.problem import detail
        from contactgroup.cli.common import worded
        from contactgroup.domain.errors import Conflict

        exc = Conflict("requirement R-00001 cannot be cancelled: 10 unit(s) were already received for it; close it "
                       "instead (a coordinator's step)", code="received-requirement", id="R-00001", received=10)
        assert worded(exc).endswith("close it instead (a coordinator's step: "
                                    "`contactgroup requirement move R-00001 close`)")
        assert "contactgroup" not in detail(exc)
