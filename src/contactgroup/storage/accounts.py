"""The account tables' rows: API tokens and the security log (beside the record, see `schema.api_tokens`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa

from contactgroup.storage.database import Connection
from contactgroup.storage.schema import api_tokens, security_log


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


def token_by_hash(conn: Connection, secret_hash: bytes) -> TokenRow | None:
    found = conn.execute(sa.select(*_TOKEN_COLUMNS).where(api_tokens.c.secret_hash == secret_hash)).first()
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
