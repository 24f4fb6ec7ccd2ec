"""Founding a coordination: schema, recipient, first authority and its coordinator, the reference members."""

from __future__ import annotations

from contactgroup.domain.errors import Conflict
from contactgroup.io.members import reference_members
from contactgroup.services import coordination as svc
from contactgroup.services.clock import Clock
from contactgroup.storage.database import Database

DEFAULT_ORIGIN = "contactgroup.example/udcg"


def init_coordination(
    db: Database,
    clock: Clock,
    *,
    recipient: str = "UKR",
    authority: str = "IDCC",
    origin: str = DEFAULT_ORIGIN,
    admin: str = "admin",
    with_members: bool = True,
) -> int:
    """Create the schema and found the coordination; returns how many members were admitted."""
    db.migrate()
    with db.transaction() as uow:
        if uow.state.recipient:
            raise Conflict(f"{db.url} already holds a coordination (recipient {uow.state.recipient})")
        svc.found(uow, clock, recipient=recipient, authority=authority, origin=origin, admin=admin)
        caller = svc.Caller(admin, clock)
        admitted = 0
        if with_members:
            for ref in reference_members():
                svc.admit_member(uow, caller, ref.member)
                if ref.gdp is not None:
                    svc.record_gdp(uow, caller, ref.gdp)
                admitted += 1
    return admitted
