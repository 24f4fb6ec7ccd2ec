"""Tables: the append-only event log, the Merkle tree's nodes, and one projection table per kind of entity.

Projection tables are derived from the entity classes, so a field added to an entity is a column here
(and, for an existing database, an Alembic migration).
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from contactgroup.domain.state import TABLES, field_types


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on both engines (SQLite keeps no zone, so it is put back on read)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times must be aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("type", sa.String(64), nullable=False, index=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("party", sa.String(128), nullable=False),
    sa.Column("authority", sa.String(128), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
)

# Complete subtrees of the RFC 9162 tree: node (level, index) covers leaves [index*2^level, (index+1)*2^level).
tree_nodes = sa.Table(
    "tree_nodes",
    metadata,
    sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("signed_at", UTCDateTime, nullable=False),
)

# Witnesses' cosignature lines (C2SP tlog-cosignature) of a stored checkpoint, as received and verified.
cosignatures = sa.Table(
    "cosignatures",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("witness", sa.String(256), primary_key=True),
    sa.Column("line", sa.Text, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
)


# Accounts: the means to sign in (API tokens) and what happened to them (the security log). Kept beside the record,
# never in it: secrets and sign-ins are no part of the verifiable history, and a member's copy of the log holds none.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # public: shown in lists, named to revoke
    sa.Column("user_name", sa.String(200), nullable=False, index=True),
    sa.Column("secret_hash", sa.LargeBinary(32), nullable=False, unique=True),  # SHA-256 of the whole token
    sa.Column("scope", sa.String(8), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

security_log = sa.Table(
    "security_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("user_name", sa.String(200), nullable=False, index=True),  # the account concerned
    sa.Column("party", sa.String(128), nullable=False, index=True),  # that account's member (or the authority)
    sa.Column("actor", sa.String(200), nullable=False),  # who acted: the user, one of its desk officers, the server
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),  # the client's address, or "cli" for a local command
    sa.Column("detail", sa.Text, nullable=False),
)

# How a user signs in: set by the user at enrolment (the enrolment code is all anyone else ever sees), never known to
# anyone else. The TOTP secret is a shared secret by design (RFC 6238): the server must read it to check a code.
credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("user_name", sa.String(200), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=True),  # argon2id (PHC string); None until enrolled
    sa.Column("totp_secret", sa.String(64), nullable=True),  # confirmed second factor
    sa.Column("totp_pending", sa.String(64), nullable=True),  # offered at enrolment, until a first code confirms it
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),  # the last time step used: a code works once
    sa.Column("enrolment_hash", sa.LargeBinary(32), nullable=True, unique=True),  # SHA-256 of the one-time code
    sa.Column("enrolment_expires", UTCDateTime, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Browser sessions: the cookie's SHA-256 only, with its CSRF secret's SHA-256.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # public: named in the security log
    sa.Column("secret_hash", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("csrf_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("user_name", sa.String(200), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),
)

# Failed sign-ins per account ("user:NAME") and per source address ("addr:IP"): the back-off's memory, shared by
# every server process.
sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", UTCDateTime, nullable=False),
)


# Passkeys (WebAuthn credentials): a public key per authenticator, an alternative to the TOTP second factor.
passkeys = sa.Table(
    "passkeys",
    metadata,
    sa.Column("id", sa.String(512), primary_key=True),  # the credential id, base64url
    sa.Column("user_name", sa.String(200), nullable=False, index=True),
    sa.Column("public_key", sa.LargeBinary, nullable=False),  # COSE
    sa.Column("sign_count", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
)

# WebAuthn challenges handed out and not yet answered (each answers once, within minutes), shared by every process.
webauthn_challenges = sa.Table(
    "webauthn_challenges",
    metadata,
    sa.Column("challenge_hash", sa.LargeBinary(32), primary_key=True),
    sa.Column("purpose", sa.String(16), nullable=False),  # "register", "sign-in" or "cli-login"
    sa.Column("user_name", sa.String(200), nullable=False),  # who registers; "" for a sign-in
    sa.Column("expires_at", UTCDateTime, nullable=False),
)


def _column_type(tp: Any) -> tuple[sa.types.TypeEngine[Any], bool]:
    """The column type for a field's annotation, and whether it is nullable."""
    nullable = False
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        nullable = True
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if typing.get_origin(tp) is tuple:
        return sa.JSON(), nullable
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return sa.String(32), nullable
    mapping: dict[Any, sa.types.TypeEngine[Any]] = {
        str: sa.Text(), int: sa.BigInteger(), bool: sa.Boolean(), Decimal: sa.String(64),
        date: sa.Date(), datetime: UTCDateTime(),
    }
    return mapping[tp], nullable


def _projection(name: str) -> sa.Table:
    spec = TABLES[name]
    columns = []
    for field, tp in field_types(spec.entity).items():
        col_type, nullable = _column_type(tp)
        columns.append(sa.Column(field, col_type, primary_key=field in spec.key, nullable=nullable,
                                 autoincrement=False))
    return sa.Table(name, metadata, *columns)


projections: dict[str, sa.Table] = {name: _projection(name) for name in TABLES}


def to_row(entity: Any) -> dict[str, Any]:
    """An entity as column values: Decimals as exact strings, enums by value, tuples as JSON lists."""
    row: dict[str, Any] = {}
    for field in field_types(type(entity)):
        value = getattr(entity, field)
        if isinstance(value, Decimal):
            value = format(value, "f")
        elif isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        row[field] = value
    return row


def normalised(row: dict[str, Any]) -> str:
    """A row as text that compares equal across engines (used by `verify`)."""
    return json.dumps(row, sort_keys=True, default=str)


def _value_reader(tp: Any) -> Any:
    """What turns a column's value (as SQLAlchemy returns it) into the field's value; None: it already is."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if typing.get_origin(tp) is tuple:
        inner = typing.get_args(tp)[0]
        if isinstance(inner, type) and issubclass(inner, enum.Enum):
            return lambda values: tuple(inner(v) for v in values)
        return tuple
    if tp is Decimal:
        return Decimal
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {member.value: member for member in tp}.__getitem__  # a dict lookup: calling the enum is slower
    return None  # str, int, bool, date and datetime come back as they are stored (UTCDateTime puts the zone back)


def row_reader(table: str) -> Callable[[Sequence[Any]], Any]:
    """A function from a row of `select(projections[table])` (columns in field order) to the entity.

    Built once per entity class: only the columns that need a conversion (Decimal, enum, tuple) are touched, and
    the entity is built positionally."""
    spec = TABLES[table]
    cls = spec.entity
    conversions = [(i, convert) for i, tp in enumerate(field_types(cls).values())
                   if (convert := _value_reader(tp)) is not None]

    def read(row: Sequence[Any]) -> Any:
        values = list(row)
        for i, convert in conversions:
            if values[i] is not None:
                values[i] = convert(values[i])
        return cls(*values)

    return read


ROW_READERS: dict[str, Callable[[Sequence[Any]], Any]] = {name: row_reader(name) for name in TABLES}

# Idempotency keys of API POSTs (`api/idempotency.py`): the first answer to a user's key, replayed to a retry. An
# operational table beside the record, like the tokens: never a leaf of the log, dropped after a day.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("user_name", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.LargeBinary(32), nullable=False),  # SHA-256 of method, path, query and body
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    sa.Column("status", sa.Integer, nullable=True),  # None: the first request is still being answered
    sa.Column("headers", sa.Text, nullable=False),  # JSON: the response headers worth replaying
    sa.Column("body", sa.LargeBinary, nullable=False),
)
