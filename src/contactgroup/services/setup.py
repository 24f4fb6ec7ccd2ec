"""Founding a coordination: schema, recipient, first authority and its coordinator, the log signing key, the
reference members."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contactgroup.domain.errors import Conflict
from contactgroup.io.members import reference_members
from contactgroup.services import coordination as svc
from contactgroup.services import ledger
from contactgroup.services.clock import Clock
from contactgroup.storage.database import Database

DEFAULT_ORIGIN = "contactgroup.example/udcg"


@dataclass(frozen=True, slots=True)
class Founded:
    members: int
    log_key: Path | None  # where the private log key is (None: no file could be chosen, none was made)
    log_key_created: bool
    verifier_key: str


def found_coordination(
    db: Database,
    clock: Clock,
    *,
    recipient: str = "UKR",
    authority: str = "IDCC",
    origin: str = DEFAULT_ORIGIN,
    admin: str = "admin",
    with_members: bool = True,
    log_key: str | os.PathLike[str] | None = None,
) -> Founded:
    """Create the schema and found the coordination, with the authority's log signing key.

    The key is written to `log_key` (default: `<db file>.logkey` beside an SQLite file, or CONTACTGROUP_LOG_KEY)
    with mode 0600, and its verifier key is recorded in the log. For a database that is not a file and no
    path given, no key is made: `contactgroup ledger init-key` adds one later."""
    db.migrate()
    key_path = ledger.resolve_log_key_path(db, log_key)
    with db.transaction() as uow:
        if uow.state.recipient:
            raise Conflict(f"{db.url} already holds a coordination (recipient {uow.state.recipient})")
        svc.found(uow, clock, recipient=recipient, authority=authority, origin=origin, admin=admin)
        caller = svc.Caller(admin, clock)
        verifier, created = "", False
        if key_path is not None:
            # Written before the commit: if the commit fails, a re-run finds and reuses the file.
            signer, created = ledger.ensure_log_key(key_path, origin)
            ledger.record_log_key(uow, caller, signer.verifier)
            verifier = signer.verifier.text
        admitted = 0
        if with_members:
            for ref in reference_members():
                svc.admit_member(uow, caller, ref.member)
                if ref.gdp is not None:
                    svc.record_gdp(uow, caller, ref.gdp)
                admitted += 1
    return Founded(admitted, key_path, created, verifier)


def init_coordination(db: Database, clock: Clock, **options: Any) -> int:
    """`found_coordination` for callers that only need how many members were admitted."""
    return found_coordination(db, clock, **options).members
