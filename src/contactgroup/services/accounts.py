"""Accounts: enrolment with a one-time code, sign-in with a password and a second factor, browser sessions, the
sign-in back-off, and who may read the security log.

Nobody but the user ever knows its password or second factor: `user add` and `user reset` hand out only a one-time
enrolment code (kept as a SHA-256 hash, 144 random bits), with which the user sets both. Passwords are hashed with
argon2id at OWASP's first recommended setting (m = 19 MiB, t = 2, p = 1). Every role that can change the record
must also give a TOTP code (RFC 6238), each code usable once."""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from contactgroup.domain.errors import (
    CsrfRefused,
    EnrolmentRefused,
    NotFound,
    NotSignedIn,
    SignInFailed,
    TooManyAttempts,
    ValidationFailed,
)
from contactgroup.domain.model import Role, User
from contactgroup.domain.state import State
from contactgroup.services import access, passkeys, tokens
from contactgroup.services import coordination as svc
from contactgroup.services.passkeys import RelyingParty
from contactgroup.services.tokens import Scope, SignedIn, secret_hash
from contactgroup.storage import accounts
from contactgroup.storage.accounts import CredentialRow, SecurityEntry, SessionRow
from contactgroup.storage.database import Connection, Database, UnitOfWork

ENROLMENT_VALID = timedelta(hours=72)
SESSION_COOKIE = "cg_session"  # HttpOnly: the session's secret, never readable by a script
CSRF_COOKIE = "cg_csrf"  # readable by the page's own script, which echoes it with every change
SESSION_IDLE = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=12)
_SEEN_EVERY = timedelta(minutes=1)  # a session's last use is written at most this often: reads stay reads
PASSWORD_MIN, PASSWORD_MAX = 12, 1024  # characters; the upper bound keeps one hash from costing a flood
FREE_FAILURES = 5  # failed sign-ins before the back-off starts
MAX_DELAY = 300  # seconds: the back-off's cap — an attacker can slow an account down, never lock it out
FORGET_FAILURES = timedelta(hours=1)  # a quiet hour and the count starts again
ISSUER = "contactgroup"

# OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1. `check_needs_rehash` upgrades stored
# hashes at the next sign-in if these are raised.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

# Reads, and a governance approval (signed with the member's own key, which is its second factor): the only actions
# of roles that need no TOTP.
_READ_ACTIONS = frozenset({"report:read", "record:verify", "governance:approve"})


def needs_second_factor(role: Role) -> bool:
    """Whether a role can change the record (then its users give a TOTP code at every sign-in)."""
    return any(role in roles for action, roles in access.POLICY.items() if action not in _READ_ACTIONS)


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches, verified for a name that has none, so that both answers take as long."""
    return HASHER.hash(secrets.token_urlsafe(32))


def _log(conn: Connection, user: User | None, actor: str, kind: str, source: str, detail: str,
         at: datetime) -> None:
    accounts.log_security(conn, SecurityEntry(at, user.name if user else "", user.party if user else "", actor,
                                              kind, source[:64], detail))


# --- enrolment ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enrolment:
    user: str
    code: str  # shown once, to whoever hands it to the user; kept only as a hash
    expires_at: datetime


def _new_enrolment(conn: Connection, user: User, actor: str, at: datetime, kind: str, source: str) -> Enrolment:
    code = f"enrol-{secrets.token_urlsafe(18)}"
    expires = at + ENROLMENT_VALID
    accounts.reset_credential(conn, user.name, secret_hash(code), expires, at)
    _log(conn, user, actor, kind, source, f"enrolment code issued, valid until {expires:%Y-%m-%d %H:%M} UTC", at)
    return Enrolment(user.name, code, expires)


def register_user(uow: UnitOfWork, caller: svc.Caller, user: User, *, source: str = "cli") -> Enrolment:
    """Register `user` (the `UserRegistered` event) and, in the same transaction, its first enrolment code."""
    svc.register_user(uow, caller, user)
    return _new_enrolment(uow.conn, user, caller.user, caller.clock.now(), "enrolment-issued", source)


def _managed(state: State, who: str, name: str) -> User:
    """`name`, if `who` may manage it: the coordinator, or (under governance, only) its member's desk officers."""
    acting = access.user(state, who)
    target = state.users.get(name)
    if target is None:
        raise NotFound(f"no user {name!r}", code="not-found", kind="user", id=name)
    access.authorize(state, acting, "user:manage", owner=target.party)
    access.check_user_change(state, acting, target)
    return target


def _end_access(conn: Connection, user: User, at: datetime) -> tuple[int, int]:
    """End every token and session of `user` at once: (tokens, sessions) that were live."""
    return (accounts.revoke_tokens(conn, at, user_name=user.name),
            accounts.end_sessions(conn, at, user_name=user.name))


def reset_user(uow: UnitOfWork, caller: svc.Caller, name: str, *, source: str = "cli") -> Enrolment:
    """Forget `name`'s password and second factor, end its tokens and sessions, and issue a new enrolment code."""
    target = _managed(uow.state, caller.user, name)
    now = caller.clock.now()
    ended_tokens, ended_sessions = _end_access(uow.conn, target, now)
    dropped = accounts.delete_passkeys(uow.conn, target.name)
    _log(uow.conn, target, caller.user, "factor-reset", source, f"password, TOTP and {dropped} passkeys forgotten; "
         f"{ended_tokens} tokens and {ended_sessions} sessions ended", now)
    return _new_enrolment(uow.conn, target, caller.user, now, "enrolment-issued", source)


def disable_user(uow: UnitOfWork, caller: svc.Caller, name: str, *, source: str = "cli") -> User:
    """Disable `name` (the `UserActiveSet` event) and end every token and session of it in the same transaction."""
    user = svc.disable_user(uow, caller, name)
    now = caller.clock.now()
    ended_tokens, ended_sessions = _end_access(uow.conn, user, now)
    _log(uow.conn, user, caller.user, "user-disabled", source,
         f"{ended_tokens} tokens and {ended_sessions} sessions ended", now)
    return user


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """What the user adds to its authenticator app; `None` for a role that needs none (enrolment is then done)."""

    user: str
    secret: str | None
    uri: str | None


def _check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationFailed(f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters, not {len(password)}",
                               "password")


def _enrolling(conn: Connection, state: State, code: str, now: datetime) -> tuple[CredentialRow, User]:
    """The account a live enrolment code opens, or `EnrolmentRefused`."""
    row = accounts.credential_by_enrolment(conn, secret_hash(code)) if len(code) <= 100 else None
    user = state.users.get(row.user_name) if row else None
    if row is None or user is None or not user.active or row.enrolment_expires is None or \
            row.enrolment_expires <= now:
        raise EnrolmentRefused()
    return row, user


def enrol(db: Database, state: State, code: str, password: str, *, now: datetime,
          source: str = "cli") -> SecondFactor:
    """Set the password of the account `code` opens. A role that can change the record gets a TOTP secret to
    confirm (`confirm_enrolment`) before it can sign in; any other is enrolled at once and the code is spent."""
    _check_password(password)
    with db.reader(checked=False) as conn:
        _enrolling(conn, state, code, now)  # before hashing: a bad code costs the server nothing
    hashed = HASHER.hash(password)
    with db.writer() as conn:
        _, user = _enrolling(conn, state, code, now)
        if not needs_second_factor(user.role):
            accounts.update_credential(conn, user.name, now, password_hash=hashed, enrolment_hash=None,
                                       enrolment_expires=None)
            _log(conn, user, user.name, "enrolled", source, "password set (this role needs no second factor)", now)
            return SecondFactor(user.name, None, None)
        secret = pyotp.random_base32()
        accounts.update_credential(conn, user.name, now, password_hash=hashed, totp_pending=secret)
    return SecondFactor(user.name, secret, pyotp.TOTP(secret).provisioning_uri(name=user.name, issuer_name=ISSUER))


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step a code is valid for (now, or one step either side for clock drift), or None."""
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        at = now + timedelta(seconds=drift * totp.interval)
        if hmac.compare_digest(totp.at(at).encode(), code.strip().encode()):
            return int(totp.timecode(at))
    return None


def confirm_enrolment(db: Database, state: State, code: str, totp: str, *, now: datetime,
                      source: str = "cli") -> str:
    """Confirm the TOTP secret offered at enrolment with a first code from the app: the account is enrolled and the
    enrolment code spent. The user's name."""
    with db.writer() as conn:
        row, user = _enrolling(conn, state, code, now)
        step = _totp_step(row.totp_pending, totp, now) if row.totp_pending and row.password_hash else None
        if step is None:
            raise ValidationFailed("the code from the authenticator app is wrong (or no password was set yet)",
                                   "totp")
        accounts.update_credential(conn, user.name, now, totp_secret=row.totp_pending, totp_pending=None,
                                   totp_last_step=step, enrolment_hash=None, enrolment_expires=None)
        _log(conn, user, user.name, "enrolled", source, "password and TOTP second factor set", now)
    return user.name


# --- sign-in -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    name: str
    password: str
    totp: str
    source: str  # the client's address
    passkey: Mapping[str, Any] | None = None  # a passkey's answer, instead of the TOTP code


def _keys(attempt: Attempt) -> tuple[str, str]:
    """The back-off's keys: the account's (a hash of the name typed, which may be a password typed in the wrong
    field) and the address's."""
    return f"user:{hashlib.sha256(attempt.name.casefold().encode()).hexdigest()}", f"addr:{attempt.source}"[:256]


def retry_after(failures: list[tuple[int, datetime]], now: datetime) -> int:
    """Seconds until the next attempt is let through: 0 for the first FREE_FAILURES failures, then 1, 2, 4, …
    capped at MAX_DELAY after the last failure, for the account and the address alike (the longer wait counts)."""
    wait = 0.0
    for count, last in failures:
        if count < FREE_FAILURES or now - last > FORGET_FAILURES:
            continue
        delay = min(MAX_DELAY, 2 ** (count - FREE_FAILURES))
        wait = max(wait, delay - (now - last).total_seconds())
    return math.ceil(wait)


def _password_ok(credential: CredentialRow | None, password: str) -> bool:
    stored = credential.password_hash if credential else None
    try:
        return HASHER.verify(stored or _dummy_hash(), password[:PASSWORD_MAX]) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _second_factor_ok(conn: Connection, user: User, credential: CredentialRow, attempt: Attempt, now: datetime,
                      rp: RelyingParty | None) -> bool:
    if not needs_second_factor(user.role):
        return True
    if attempt.passkey is not None:
        return passkeys.verify_sign_in(conn, user, attempt.passkey, rp, now)
    step = _totp_step(credential.totp_secret, attempt.totp, now) if credential.totp_secret else None
    return step is not None and accounts.use_totp_step(conn, user.name, step)


def _signed_in(conn: Connection, user: User, credential: CredentialRow, attempt: Attempt, key: str,
               now: datetime) -> None:
    accounts.clear_failures(conn, key)
    if HASHER.check_needs_rehash(credential.password_hash or ""):
        accounts.update_credential(conn, user.name, now, password_hash=HASHER.hash(attempt.password))
    _log(conn, user, user.name, "sign-in", attempt.source, "signed in" + (" with a passkey" if attempt.passkey else ""),
         now)


def _failed(conn: Connection, user: User | None, attempt: Attempt, keys: tuple[str, str], now: datetime) -> None:
    for key in keys:
        accounts.add_failure(conn, key, now, forget_before=now - FORGET_FAILURES)
    # Never the name typed for an unknown account: it may be a password typed in the wrong field.
    _log(conn, user, user.name if user else "", "sign-in-failed", attempt.source,
         "sign-in failed" if user else "sign-in failed for a name that is no account", now)


def sign_in(db: Database, state: State, attempt: Attempt, *, now: datetime, rp: RelyingParty | None = None) -> User:
    """The user whose name, password and (for a role that can change the record) TOTP code or passkey these are; else
    `SignInFailed`, the same answer, in about the same time, for an unknown name and a wrong password. After
    repeated failures for the account or from the address, `TooManyAttempts` until the back-off has passed."""
    keys = _keys(attempt)
    user = state.users.get(attempt.name)
    with db.reader(checked=False) as conn:
        wait = retry_after(accounts.failures(conn, keys), now)
        credential = accounts.credential(conn, user.name if user else "")  # the same query for a name that is none
    if wait > 0:
        raise TooManyAttempts(wait)
    password_ok = _password_ok(credential, attempt.password)
    with db.writer() as conn:
        # Again under the writers' lock: attempts sent at once all passed the check above before any had failed.
        wait = retry_after(accounts.failures(conn, keys), now)
        if wait == 0:
            if password_ok and user is not None and user.active and credential is not None and \
                    _second_factor_ok(conn, user, credential, attempt, now, rp):
                _signed_in(conn, user, credential, attempt, keys[0], now)
                return user
            _failed(conn, user, attempt, keys, now)
    if wait > 0:
        raise TooManyAttempts(wait)
    raise SignInFailed()


# --- browser sessions --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    cookie: str  # the session's secret, for the cookie only; kept as a hash
    csrf: str  # the per-session secret every change must echo in a header; kept as a hash
    row: SessionRow


def session_cookies(session: Session, *, secure: bool) -> list[dict[str, Any]]:
    """The arguments of `set_cookie` for a new session's two cookies, for its whole lifetime: its id (HttpOnly: no
    script of a page reads it) and its CSRF token (which the page reads and sends back in `X-CSRF-Token`);
    SameSite=Strict, and Secure under TLS."""
    lifetime = int(SESSION_LIFETIME.total_seconds())
    return [{"key": name, "value": value, "max_age": lifetime, "path": "/", "secure": secure, "httponly": httponly,
             "samesite": "strict"}
            for name, value, httponly in ((SESSION_COOKIE, session.cookie, True), (CSRF_COOKIE, session.csrf, False))]


def start_session(db: Database, user: User, *, now: datetime, source: str, replacing: str | None = None) -> Session:
    """A new browser session (a new id at every sign-in); the session the browser held before, if any, ends."""
    ident = secrets.token_hex(8)
    cookie = f"{ident}_{secrets.token_urlsafe(32)}"
    csrf = secrets.token_urlsafe(32)
    row = SessionRow(ident, user.name, secret_hash(csrf), now, now, None)
    with db.writer() as conn:
        if replacing and (old := accounts.session_by_hash(conn, secret_hash(replacing))) is not None:
            accounts.end_sessions(conn, now, session_id=old.id)
        accounts.add_session(conn, row, secret_hash(cookie))
        _log(conn, user, user.name, "session-started", source, f"session {ident}", now)
    return Session(cookie, csrf, row)


def session_caller(db: Database, state: State, cookie: str, *, now: datetime, csrf: str | None,
                   changes: bool) -> SignedIn:
    """Who a session cookie stands for, or `NotSignedIn` (unknown, ended, idle too long, too old, disabled user).
    A request that `changes` something must carry the session's CSRF token, else `CsrfRefused`."""
    with db.reader(checked=False) as conn:
        row = accounts.session_by_hash(conn, secret_hash(cookie)) if len(cookie) <= 200 else None
    if row is None or row.ended_at is not None or now - row.seen_at > SESSION_IDLE or \
            now - row.created_at > SESSION_LIFETIME:
        raise NotSignedIn()
    user = state.users.get(row.user_name)
    if user is None or not user.active:
        raise NotSignedIn()
    if changes and (csrf is None or not hmac.compare_digest(secret_hash(csrf[:200]), row.csrf_hash)):
        raise CsrfRefused()
    if now - row.seen_at >= _SEEN_EVERY:
        with db.writer() as conn:
            accounts.touch_session(conn, row.id, now)
    return SignedIn(user, Scope.WRITE, row.id, session=True)


def sessions(db: Database, name: str, *, now: datetime) -> list[SessionRow]:
    """`name`'s live browser sessions (within their idle and absolute limits), oldest first."""
    with db.reader(checked=False) as conn:
        rows = accounts.live_sessions_of(conn, name)
    return [r for r in rows if now - r.seen_at <= SESSION_IDLE and now - r.created_at <= SESSION_LIFETIME]


def end_session(db: Database, caller: SignedIn, session_id: str, *, now: datetime, source: str) -> None:
    """End one of the caller's own sessions (signing out a browser left elsewhere); another user's session, or
    one that is over, is not found."""
    with db.writer() as conn:
        own = {r.id for r in accounts.live_sessions_of(conn, caller.user.name)}
        if session_id not in own:
            raise NotFound(f"no live session {session_id[:32]!r} of yours")
        accounts.end_sessions(conn, now, session_id=session_id)
        _log(conn, caller.user, caller.user.name, "signed-out", source, f"session {session_id} ended from "
                                                                        f"session {caller.token_id}", now)


def sign_out(db: Database, state: State, caller: SignedIn, *, now: datetime, source: str) -> None:
    """End the session, or revoke the token, the request came with."""
    if not caller.session:
        tokens.revoke(db, state, caller.user.name, caller.token_id, now=now, source=source)
        return
    with db.writer() as conn:
        accounts.end_sessions(conn, now, session_id=caller.token_id)
        _log(conn, caller.user, caller.user.name, "signed-out", source, f"session {caller.token_id} ended", now)


# --- the security log --------------------------------------------------------------------------------------------


def security_log(db: Database, state: State, who: str, *, user: str | None = None,
                 limit: int = 200) -> list[SecurityEntry]:
    """The entries `who` may read, newest first: the coordinator every one, a desk officer its member's accounts',
    anyone else its own; `user` narrows to one account (an account one may not see lists nothing)."""
    acting = access.user(state, who)
    authority = state.authority
    if user is not None and not user.isprintable():
        return []  # no account has such a name
    names = [user] if user is not None else None
    with db.reader() as conn:
        if acting.role is Role.COORDINATOR and authority is not None and acting.party == authority.name:
            return accounts.security_entries(conn, user_names=names, limit=limit)
        if acting.role is Role.DESK_OFFICER:
            return accounts.security_entries(conn, user_names=names, party=acting.party, limit=limit)
        if user not in (None, acting.name):
            return []
        return accounts.security_entries(conn, user_names=[acting.name], limit=limit)
