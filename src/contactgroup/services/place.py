"""Places the record knows by code (handover points), defined by the coordinator and read by everyone."""

from __future__ import annotations

from contactgroup.domain import place as rules
from contactgroup.domain.model import Place
from contactgroup.domain.state import State
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

ACTION = "place:define"


def define_place(uow: UnitOfWork, caller: svc.Caller, place: Place) -> Place:
    """Record a place (coordinator): checked before anything is written."""
    ctx = svc.authorized(uow, caller, ACTION)
    svc.record_events(uow, rules.define_place(uow.state, ctx, place))
    return uow.state.places[place.code]


def listed(state: State) -> list[Place]:
    """Every defined place, by code (places are public: every user sees them)."""
    return sorted(state.places.values(), key=lambda p: p.code)
