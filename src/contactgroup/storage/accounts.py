"""The account tables' rows: credentials, sessions, API tokens, sign-in failures and the security log (beside the
record, see `schema.api_tokens`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa

from contactgroup.storage.database import Connection
from contactgroup.storage.schema import (
    api_tokens,
    credentials,
    passkeys,
    security_log,
    sessions,
    sign_in_failures,
    webauthn_challenges,
)


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: str
    user_name: str
    scope: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SecurityEntry:
    at: datetime
    user_name: str
    party: str
    actor: str
    kind: str
    source: str
    detail: str


_TOKEN_COLUMNS = [api_tokens.c[f] for f in TokenRow.__slots__]


def add_token(conn: Connection, row: TokenRow, secret_hash: bytes) -> None:
    conn.execute(api_tokens.insert().values(secret_hash=secret_hash, **asdict(row)))


_TOKEN_BY_HASH = sa.select(*_TOKEN_COLUMNS).where(api_tokens.c.secret_hash == sa.bindparam("hash"))  # every request


def token_by_hash(conn: Connection, secret_hash: bytes) -> TokenRow | None:
    found = conn.execute(_TOKEN_BY_HASH, {"hash": secret_hash}).first()
    return None if found is None else TokenRow(*found)


def tokens_of(conn: Connection, user_name: str) -> list[TokenRow]:
    rows = conn.execute(sa.select(*_TOKEN_COLUMNS).where(api_tokens.c.user_name == user_name)
                        .order_by(api_tokens.c.created_at, api_tokens.c.id))
    return [TokenRow(*r) for r in rows]


def revoke_tokens(conn: Connection, at: datetime, *, user_name: str, token_id: str | None = None) -> int:
    """Revoke one token of `user_name` (or all of them): how many were still live."""
    where = [api_tokens.c.user_name == user_name, api_tokens.c.revoked_at.is_(None)]
    if token_id is not None:
        where.append(api_tokens.c.id == token_id)
    return conn.execute(api_tokens.update().where(*where).values(revoked_at=at)).rowcount


def log_security(conn: Connection, entry: SecurityEntry) -> None:
    conn.execute(security_log.insert().values(**asdict(entry)))


def security_entries(conn: Connection, *, user_names: Sequence[str] | None = None, party: str | None = None,
                     limit: int = 200) -> list[SecurityEntry]:
    """The newest entries first, of some users or of one party's accounts (None: every entry)."""
    query = sa.select(*[security_log.c[f] for f in SecurityEntry.__slots__])
    if user_names is not None:
        query = query.where(security_log.c.user_name.in_(user_names))
    if party is not None:
        query = query.where(security_log.c.party == party)
    rows = conn.execute(query.order_by(security_log.c.id.desc()).limit(limit))
    return [SecurityEntry(*r) for r in rows]


@dataclass(frozen=True, slots=True)
class CredentialRow:
    user_name: str
    password_hash: str | None
    totp_secret: str | None
    totp_pending: str | None
    totp_last_step: int | None
    enrolment_expires: datetime | None
    updated_at: datetime


_CREDENTIAL_COLUMNS = [credentials.c[f] for f in CredentialRow.__slots__]


def credential(conn: Connection, user_name: str) -> CredentialRow | None:
    found = conn.execute(sa.select(*_CREDENTIAL_COLUMNS).where(credentials.c.user_name == user_name)).first()
    return None if found is None else CredentialRow(*found)


def credential_by_enrolment(conn: Connection, code_hash: bytes) -> CredentialRow | None:
    found = conn.execute(sa.select(*_CREDENTIAL_COLUMNS)
                         .where(credentials.c.enrolment_hash == code_hash)).first()
    return None if found is None else CredentialRow(*found)


def reset_credential(conn: Connection, user_name: str, code_hash: bytes, expires: datetime, at: datetime) -> None:
    """Forget the user's password and second factor; only the new enrolment code (its hash) opens the account."""
    values = {"password_hash": None, "totp_secret": None, "totp_pending": None, "totp_last_step": None,
              "enrolment_hash": code_hash, "enrolment_expires": expires, "updated_at": at}
    if conn.execute(credentials.update().where(credentials.c.user_name == user_name).values(**values)).rowcount == 0:
        conn.execute(credentials.insert().values(user_name=user_name, **values))


def update_credential(conn: Connection, user_name: str, at: datetime, **values: object) -> None:
    conn.execute(credentials.update().where(credentials.c.user_name == user_name).values(updated_at=at, **values))


def use_totp_step(conn: Connection, user_name: str, step: int) -> bool:
    """Mark TOTP time step `step` used, if it is later than the last one used: False for a replayed code (checked
    and set in one statement, so two requests cannot both use one code)."""
    last = credentials.c.totp_last_step
    return conn.execute(credentials.update().where(credentials.c.user_name == user_name,
                                                   sa.or_(last.is_(None), last < step))
                        .values(totp_last_step=step)).rowcount == 1


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: str
    user_name: str
    csrf_hash: bytes
    created_at: datetime
    seen_at: datetime
    ended_at: datetime | None


_SESSION_COLUMNS = [sessions.c[f] for f in SessionRow.__slots__]


def add_session(conn: Connection, row: SessionRow, secret_hash: bytes) -> None:
    conn.execute(sessions.insert().values(secret_hash=secret_hash, **asdict(row)))


def session_by_hash(conn: Connection, secret_hash: bytes) -> SessionRow | None:
    found = conn.execute(sa.select(*_SESSION_COLUMNS).where(sessions.c.secret_hash == secret_hash)).first()
    return None if found is None else SessionRow(*found)


def live_sessions_of(conn: Connection, user_name: str) -> list[SessionRow]:
    """The user's sessions not ended, oldest first (some may have passed their idle or absolute limit)."""
    return [SessionRow(*r) for r in conn.execute(
        sa.select(*_SESSION_COLUMNS).where(sessions.c.user_name == user_name, sessions.c.ended_at.is_(None))
        .order_by(sessions.c.created_at, sessions.c.id))]


def touch_session(conn: Connection, session_id: str, at: datetime) -> None:
    conn.execute(sessions.update().where(sessions.c.id == session_id).values(seen_at=at))


def end_sessions(conn: Connection, at: datetime, *, user_name: str | None = None,
                 session_id: str | None = None) -> int:
    """End one session, or every live session of a user: how many were live."""
    where: list[sa.ColumnElement[bool]] = [sessions.c.ended_at.is_(None)]
    if user_name is not None:
        where.append(sessions.c.user_name == user_name)
    if session_id is not None:
        where.append(sessions.c.id == session_id)
    return conn.execute(sessions.update().where(*where).values(ended_at=at)).rowcount


def failures(conn: Connection, keys: Sequence[str]) -> list[tuple[int, datetime]]:
    """(failures, last failure) of each throttling key that has any."""
    rows = conn.execute(sa.select(sign_in_failures.c.failures, sign_in_failures.c.last_at)
                        .where(sign_in_failures.c.key.in_(keys)))
    return [(int(n), at) for n, at in rows]


def add_failure(conn: Connection, key: str, at: datetime, *, forget_before: datetime) -> None:
    """One more failure for `key`; failures older than `forget_before` are forgotten (this one counts as the first)."""
    t = sign_in_failures
    count = sa.case((t.c.last_at < forget_before, 1), else_=t.c.failures + 1)
    if conn.execute(t.update().where(t.c.key == key).values(failures=count, last_at=at)).rowcount == 0:
        conn.execute(t.insert().values(key=key, failures=1, last_at=at))


def clear_failures(conn: Connection, key: str) -> None:
    conn.execute(sign_in_failures.delete().where(sign_in_failures.c.key == key))


@dataclass(frozen=True, slots=True)
class PasskeyRow:
    id: str
    user_name: str
    public_key: bytes
    sign_count: int
    created_at: datetime
    used_at: datetime | None


_PASSKEY_COLUMNS = [passkeys.c[f] for f in PasskeyRow.__slots__]


def add_passkey(conn: Connection, row: PasskeyRow) -> None:
    conn.execute(passkeys.insert().values(**asdict(row)))


def passkeys_of(conn: Connection, user_name: str) -> list[PasskeyRow]:
    rows = conn.execute(sa.select(*_PASSKEY_COLUMNS).where(passkeys.c.user_name == user_name)
                        .order_by(passkeys.c.created_at, passkeys.c.id))
    return [PasskeyRow(*r) for r in rows]


def passkey(conn: Connection, passkey_id: str) -> PasskeyRow | None:
    found = conn.execute(sa.select(*_PASSKEY_COLUMNS).where(passkeys.c.id == passkey_id)).first()
    return None if found is None else PasskeyRow(*found)


def use_passkey(conn: Connection, passkey_id: str, sign_count: int, at: datetime) -> None:
    conn.execute(passkeys.update().where(passkeys.c.id == passkey_id).values(sign_count=sign_count, used_at=at))


def delete_passkeys(conn: Connection, user_name: str) -> int:
    return conn.execute(passkeys.delete().where(passkeys.c.user_name == user_name)).rowcount


def add_challenge(conn: Connection, challenge_hash: bytes, purpose: str, user_name: str, expires: datetime,
                  now: datetime) -> None:
    """Keep a challenge until it is answered or expires (expired ones are dropped here, so the table stays small)."""
    t = webauthn_challenges  # a challenge given again (a code confirmed twice) replaces the one before
    conn.execute(t.delete().where((t.c.expires_at <= now) | (t.c.challenge_hash == challenge_hash)))
    conn.execute(webauthn_challenges.insert().values(challenge_hash=challenge_hash, purpose=purpose,
                                                     user_name=user_name, expires_at=expires))


def take_confirmed(conn: Connection, challenge_hash: bytes, purpose: str, now: datetime) -> str | None:
    """Spend a live challenge that a user confirmed (a command line's sign-in): the user's name, or None."""
    t = webauthn_challenges
    found = conn.execute(sa.select(t.c.user_name).where(t.c.challenge_hash == challenge_hash, t.c.purpose == purpose,
                                                        t.c.expires_at > now)).scalar_one_or_none()
    if found is None or conn.execute(t.delete().where(t.c.challenge_hash == challenge_hash)).rowcount != 1:
        return None
    return str(found)


def take_challenge(conn: Connection, challenge_hash: bytes, purpose: str, user_name: str, now: datetime) -> bool:
    """Spend a live challenge handed out for `purpose` (and `user_name`): False if there was none."""
    t = webauthn_challenges
    return conn.execute(t.delete().where(t.c.challenge_hash == challenge_hash, t.c.purpose == purpose,
                                         t.c.user_name == user_name, t.c.expires_at > now)).rowcount == 1
