"""The idempotency keys' rows (`schema.idempotency_keys`): the first answer to a user's key, kept a day.

A key's row is written once, with its answer, in the transaction that made the answer: the write's own (which
`StateStore.run` holds open until the answer is known), or one of its own for a request that wrote nothing to the
record. Whoever writes it holds the writer lock, so no two transactions answer one key; a transaction that never
commits leaves the key free."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from contactgroup.storage.database import Connection
from contactgroup.storage.schema import idempotency_keys as keys


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer as it is replayed: status, the headers worth replaying (JSON), body."""

    status: int
    headers: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Answered:
    """What a key holds: the request it was first sent with, and the answer (status None only in a row that an
    older version claimed before answering, and never answered: its server stopped meanwhile)."""

    request_hash: bytes
    status: int | None
    headers: str
    body: bytes


class KeyAnswered(Exception):
    """Raised in a keyed request's write when another request with the key was answered first: the write is
    abandoned (nothing written) and the earlier answer given instead."""

    def __init__(self, earlier: Answered) -> None:
        super().__init__("answered before")
        self.earlier = earlier


class Held(Protocol):
    """A keyed request's write, done but not committed: it commits with the request's answer, or not at all."""

    def commit(self, answer: Answer) -> None: ...

    def roll_back(self) -> None: ...


@dataclass(slots=True)
class Keyed:
    """A request sent with an `Idempotency-Key`: whose key, what the request was (a hash), when it came, and the
    write held open for its answer once it has written (`held`, set by `StateStore.run`)."""

    user: str
    key: str
    request_hash: bytes
    now: datetime
    since: datetime  # keys kept from before this are forgotten
    held: Held | None = None


# Built once: a keyed request runs each of them, and building a statement cost more than running it.
_FIND = sa.select(keys.c.request_hash, keys.c.status, keys.c.headers, keys.c.body, keys.c.created_at).where(
    keys.c.user_name == sa.bindparam("user"), keys.c.key == sa.bindparam("key"))
_FORGET = keys.delete().where(keys.c.user_name == sa.bindparam("user"), keys.c.key == sa.bindparam("key"))
_FORGET_BEFORE = keys.delete().where(keys.c.created_at < sa.bindparam("since"))
_KEEP = keys.insert()


def find(conn: Connection, user: str, key: str, since: datetime) -> Answered | None:
    """The key's earlier request and answer, unless it was kept from before `since`."""
    found = conn.execute(_FIND, {"user": user, "key": key}).first()
    return None if found is None or found[4] < since else _answered(found)


def claim(conn: Connection, keyed: Keyed, *, forget_old: bool = False) -> None:
    """Make sure the key is free in this writer's transaction, or raise `KeyAnswered` with its earlier answer. A
    row of the key kept from before `since` is forgotten; with `forget_old`, every such row (anyone's) is: an index
    on the time keeps that cheap, and doing it now and then is enough, since an old row never counts."""
    if forget_old:
        conn.execute(_FORGET_BEFORE, {"since": keyed.since})
    found = conn.execute(_FIND, {"user": keyed.user, "key": keyed.key}).first()
    if found is None:
        return
    if found[4] >= keyed.since:
        raise KeyAnswered(_answered(found))
    conn.execute(_FORGET, {"user": keyed.user, "key": keyed.key})


def _answered(row: Any) -> Answered:
    return Answered(bytes(row[0]), row[1], row[2], bytes(row[3]))


def keep(conn: Connection, keyed: Keyed, answer: Answer) -> None:
    """Keep the answer to a key `claim`ed in this transaction."""
    conn.execute(_KEEP, {"user_name": keyed.user, "key": keyed.key, "request_hash": keyed.request_hash,
                         "created_at": keyed.now, "status": answer.status, "headers": answer.headers,
                         "body": answer.body})


def keep_first(conn: Connection, keyed: Keyed, answer: Answer) -> Answered | None:
    """Keep the answer to a request that wrote nothing to the record, unless the key was answered meanwhile: then
    that earlier answer, which is the key's."""
    try:
        claim(conn, keyed, forget_old=True)
    except KeyAnswered as answered:
        return answered.earlier
    keep(conn, keyed, answer)
    return None
