"""Founding a coordination: schema, recipient, first authority and its coordinator, the log signing key, the
reference members."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contactgroup.domain import command
from contactgroup.domain.errors import Conflict, ValidationFailed
from contactgroup.io.members import reference_members
from contactgroup.services import coordination as svc
from contactgroup.services import log_keys
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
    path given, no key is made: `contactgroup ledger init-key` adds one later.

    Everything that can be checked is checked before anything is created; if founding still fails, a database
    file (and a log key) this call created is removed again, so a failed `init` leaves nothing behind. The
    recipient is never a donor member: it is left out of the reference member list."""
    problems = command.founding_problems(recipient=recipient, authority=authority, origin=origin, admin=admin)
    if problems:
        raise ValidationFailed(problems)
    created_file = _new_sqlite_file(db)
    key_path = log_keys.resolve_log_key_path(db, log_key)
    key_existed = key_path is not None and key_path.exists()
    try:
        return _found(db, clock, recipient=recipient, authority=authority, origin=origin, admin=admin,
                      with_members=with_members, key_path=key_path)
    except BaseException:
        if created_file is not None:
            db.engine.dispose()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{created_file}{suffix}").unlink(missing_ok=True)
            if key_path is not None and not key_existed:
                key_path.unlink(missing_ok=True)
        raise


def _new_sqlite_file(db: Database) -> Path | None:
    """The SQLite file `db` would create, if it does not exist yet (None for PostgreSQL or an existing file)."""
    name = db.engine.url.database if db.is_sqlite else None
    if not name or name == ":memory:" or Path(name).exists():
        return None
    return Path(name)


def _found(
    db: Database, clock: Clock, *, recipient: str, authority: str, origin: str, admin: str, with_members: bool,
    key_path: Path | None,
) -> Founded:
    db.migrate()
    with db.transaction() as uow:
        if uow.state.recipient:
            raise Conflict(f"{db.url} already holds a coordination (recipient {uow.state.recipient})")
        svc.found(uow, clock, recipient=recipient, authority=authority, origin=origin, admin=admin)
        caller = svc.Caller(admin, clock)
        verifier, created = "", False
        if key_path is not None:
            # Written before the commit: if the commit fails, a re-run finds and reuses the file.
            signer, created = log_keys.ensure_log_key(key_path, origin)
            log_keys.record_log_key(uow, caller, signer.verifier)
            verifier = signer.verifier.text
        admitted = 0
        if with_members:
            for ref in reference_members():
                if ref.member.code == recipient:
                    continue  # the recipient is not a donor member
                svc.admit_member(uow, caller, ref.member)
                if ref.gdp is not None:
                    svc.record_gdp(uow, caller, ref.gdp)
                admitted += 1
    return Founded(admitted, key_path, created, verifier)


def init_coordination(db: Database, clock: Clock, **options: Any) -> int:
    """`found_coordination` for callers that only need how many members were admitted."""
    return found_coordination(db, clock, **options).members
