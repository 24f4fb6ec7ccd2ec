"""The log key: the coordinating authority's signing key, kept in a private key file, never in the database; its
verifier key is in the log itself (`SettingChanged log_verifier_key`), so every member learns it from the record,
and a handover moves it."""

from __future__ import annotations

import os
from pathlib import Path

from contactgroup.domain.errors import Conflict, ValidationFailed
from contactgroup.ledger.note import SignerKey, VerifierKey, generate_key, parse_verifier_key
from contactgroup.services import coordination as svc
from contactgroup.services.key_files import read_signer_key, write_private_key
from contactgroup.storage import log_tables
from contactgroup.storage.database import Connection, Database, UnitOfWork, decode

LOG_KEY_SETTING = "log_verifier_key"
LOG_KEY_ENV = "CONTACTGROUP_LOG_KEY"


def default_log_key_path(db: Database) -> Path | None:
    """`<db file>.logkey` beside an SQLite file; None for PostgreSQL or an in-memory database."""
    path = db.engine.url.database if db.is_sqlite else None
    if not path or path == ":memory:":
        return None
    return Path(f"{path}.logkey")


def resolve_log_key_path(db: Database, explicit: str | os.PathLike[str] | None) -> Path | None:
    """`--log-key` wins, then CONTACTGROUP_LOG_KEY, then the default beside an SQLite file."""
    chosen = explicit or os.environ.get(LOG_KEY_ENV)
    return Path(chosen) if chosen else default_log_key_path(db)


def ensure_log_key(path: Path, origin: str) -> tuple[SignerKey, bool]:
    """The log signing key at `path` (created if absent) and whether it was created now.

    An existing file is reused only if it holds a key named for this origin (a re-run after a failed init,
    or a key the operator prepared offline)."""
    if path.exists():
        signer = read_signer_key(path)
        if signer.name != origin:
            raise Conflict(f"{path} holds a key named {signer.name!r}, not the log origin {origin!r}")
        return signer, False
    signer, _ = generate_key(origin)
    write_private_key(path, signer.text)
    return signer, True


def create_log_key(db: Database, caller: svc.Caller, path: Path) -> tuple[SignerKey, bool]:
    """Give a log that has no key yet (founded without a key file) its signing key, and publish the verifier."""
    with db.transaction() as uow:
        origin = uow.state.setting("origin")
        if uow.state.setting(LOG_KEY_SETTING):
            raise Conflict(f"the log already has a verifier key ({uow.state.setting(LOG_KEY_SETTING)})")
        signer, created = ensure_log_key(path, origin)
        record_log_key(uow, caller, signer.verifier)
    return signer, created


def record_log_key(uow: UnitOfWork, caller: svc.Caller, verifier: VerifierKey) -> None:
    """Publish the log's verifier key in the log. Once set it changes only with a handover, not here."""
    current = uow.state.setting(LOG_KEY_SETTING)
    if current and current != verifier.text:
        raise Conflict(f"the log already has a verifier key ({current}); a new one needs a key rotation")
    if verifier.name != uow.state.setting("origin"):
        raise ValidationFailed(f"the log key must be named {uow.state.setting('origin')!r}", where="log key")
    if not current:
        svc.record_setting(uow, caller, LOG_KEY_SETTING, verifier.text)


def log_keys(conn: Connection, size: int | None = None) -> list[VerifierKey]:
    """Every log key the first `size` events (default: all) set, oldest first: a handover changes the key, and
    older checkpoints (and the receipts built on them) stay signed by the old one."""
    keys = []
    for _, body in log_tables.events_of_type(conn, "SettingChanged", before=2**62 if size is None else size):
        data = decode(body).data
        if data.get("name") == LOG_KEY_SETTING:
            keys.append(parse_verifier_key(str(data.get("value"))))
    return keys


def log_key_at(conn: Connection, size: int) -> VerifierKey | None:
    """The log key in force once the first `size` events were recorded: the one that signed that tree."""
    keys = log_keys(conn, size)
    return keys[-1] if keys else None
