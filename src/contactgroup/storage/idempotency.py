"""The idempotency keys' rows (`schema.idempotency_keys`): the first answer to a user's key, kept a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from contactgroup.storage.database import Connection
from contactgroup.storage.schema import idempotency_keys as keys


@dataclass(frozen=True, slots=True)
class Answered:
    """What a key holds: the request it was first sent with, and the answer (status None: still being answered)."""

    request_hash: bytes
    status: int | None
    headers: str
    body: bytes


def claim(conn: Connection, user: str, key: str, request_hash: bytes, now: datetime,
          since: datetime) -> Answered | None:
    """The key's earlier request and answer; or None, the key now held for this request (keys older than `since`,
    anyone's, are forgotten first: an index on the time keeps that cheap)."""
    conn.execute(keys.delete().where(keys.c.created_at < since))
    found = conn.execute(sa.select(keys.c.request_hash, keys.c.status, keys.c.headers, keys.c.body)
                         .where(keys.c.user_name == user, keys.c.key == key)).first()
    if found is not None:
        return Answered(*found)
    conn.execute(keys.insert().values(user_name=user, key=key, request_hash=request_hash, created_at=now,
                                      status=None, headers="{}", body=b""))
    return None


def settle(conn: Connection, user: str, key: str, status: int, headers: str, body: bytes) -> None:
    conn.execute(keys.update().where(keys.c.user_name == user, keys.c.key == key)
                 .values(status=status, headers=headers, body=body))


def release(conn: Connection, user: str, key: str) -> None:
    """Forget a key whose request got no answer worth keeping (a server error): a retry runs it again."""
    conn.execute(keys.delete().where(keys.c.user_name == user, keys.c.key == key))
