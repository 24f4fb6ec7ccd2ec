"""API tokens: how scripts, the CLI and signed-in browsers prove who they are to the server.

A token is `cg_<id>_<secret>`; the server keeps only the SHA-256 of the whole token (the secret has 256 bits, so a
slow hash adds nothing) and its public id, which lists and revocations name. Tokens are scoped (read or write),
expire (30 days unless told), and end at once when revoked or when their user is disabled. Every issue and
revocation goes to the security log, never into the record."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from contactgroup.domain.errors import Forbidden, NotFound, NotSignedIn, ValidationFailed
from contactgroup.domain.model import User
from contactgroup.domain.state import State
from contactgroup.services import access
from contactgroup.storage import accounts
from contactgroup.storage.accounts import SecurityEntry, TokenRow
from contactgroup.storage.database import Connection, Database

DEFAULT_DAYS = 30
MAX_DAYS = 366
_PREFIX = "cg_"


class Scope(enum.StrEnum):
    READ = "read"  # every read the user may make
    WRITE = "write"  # and every change the user may make


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a request acts for, as its token (or browser session) says."""

    user: User
    scope: Scope
    token_id: str  # the token's public id, or the session's
    session: bool = False


@dataclass(frozen=True, slots=True)
class Issued:
    token: str  # shown once, to its holder; never stored
    row: TokenRow


def secret_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue(db: Database, state: State, name: str, *, now: datetime, scope: Scope = Scope.READ,
          days: int = DEFAULT_DAYS, label: str = "", source: str = "cli") -> Issued:
    """A new token for the enabled user `name`, valid for `days` days."""
    user = access.user(state, name)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"a token lasts 1 to {MAX_DAYS} days, not {days}", "days")
    if len(label) > 200:
        raise ValidationFailed("a token's label is at most 200 characters", "label")
    ident = secrets.token_hex(8)
    token = f"{_PREFIX}{ident}_{secrets.token_urlsafe(32)}"
    row = TokenRow(ident, user.name, scope.value, label, now, now + timedelta(days=days), None)
    with db.writer() as conn:
        accounts.add_token(conn, row, secret_hash(token))
        accounts.log_security(conn, SecurityEntry(now, user.name, user.party, user.name, "token-issued", source,
                                                  f"token {ident} ({scope.value}, {days} days){_label(label)}"))
    return Issued(token, row)


def _label(label: str) -> str:
    return f": {label}" if label else ""


def authenticate(db: Database, state: State, token: str, now: datetime) -> SignedIn:
    """The caller a token stands for, or `NotSignedIn` — the same refusal for every reason."""
    with db.reader(checked=False) as conn:
        return bearer(conn, state, token, now)


def bearer(conn: Connection, state: State, token: str, now: datetime) -> SignedIn:
    """`authenticate` in a read transaction the caller already holds (the server's, which found `state`)."""
    if not token.startswith(_PREFIX) or len(token) > 200:
        raise NotSignedIn()
    row = accounts.token_by_hash(conn, secret_hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise NotSignedIn()
    user = state.users.get(row.user_name)
    if user is None or not user.active:
        raise NotSignedIn()
    return SignedIn(user, Scope(row.scope), row.id)


def require_write(caller: SignedIn) -> None:
    if caller.scope is not Scope.WRITE:
        raise Forbidden(f"token {caller.token_id} may only read: changing the record needs a write token",
                        code="read-only-token", token=caller.token_id)


def tokens(db: Database, state: State, who: str, of: str | None = None) -> list[TokenRow]:
    """The tokens of `of` (default: `who` itself), live and ended, oldest first."""
    target = _manageable(state, who, of)
    with db.reader() as conn:
        return accounts.tokens_of(conn, target.name)


def revoke(db: Database, state: State, who: str, token_id: str | None, *, of: str | None = None,
           now: datetime, source: str = "cli") -> int:
    """Revoke one token of `of` (default: `who` itself) or, with no id, all of them; how many were live. An id that
    is not that user's token is not found, whoever owns it."""
    acting = access.user(state, who)
    target = _manageable(state, who, of)
    if token_id is not None and not token_id.isalnum():  # no token has such an id: not worth a query
        raise NotFound(f"{target.name} has no live token {token_id}", code="unknown-token")
    with db.writer() as conn:
        count = accounts.revoke_tokens(conn, now, user_name=target.name, token_id=token_id)
        if token_id is not None and count == 0:  # not that user's, or ended already: nothing is written
            raise NotFound(f"{target.name} has no live token {token_id}", code="unknown-token")
        what = f"token {token_id}" if token_id else f"{count} tokens"
        accounts.log_security(conn, SecurityEntry(now, target.name, target.party, acting.name, "token-revoked",
                                                  source, f"{what} revoked"))
    return count


def _manageable(state: State, who: str, of: str | None) -> User:
    """The user whose tokens `who` may see and revoke: itself, or a user it may manage."""
    acting = access.user(state, who)
    if of is None or of == acting.name:
        return acting
    target = state.users.get(of)
    if target is None:
        raise NotFound(f"no user {of!r}", code="unknown-user", user=of)
    access.authorize(state, acting, "user:manage", owner=target.party)
    access.check_user_change(state, acting, target)
    return target
