"""Canonical bytes of a record: one deterministic JSON encoding (see docs/formats/events.md).

Rules: UTF-8, object keys sorted, no insignificant white space, no floats (Decimals are strings),
aware datetimes as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`, dates as `YYYY-MM-DD`, tuples as arrays, enums by value.
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """The JSON-ready form of a value, with every non-JSON type turned into its canonical string."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise TypeError("floats have no canonical form here; use Decimal")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"non-finite decimal {value}")
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times must be aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [plain(v) for v in value]
        return sorted(items, key=canonical_bytes) if isinstance(value, frozenset | set) else items
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical_bytes(value: Any) -> bytes:
    """Encode `value` deterministically: equal values give equal bytes on every machine."""
    return serialised(plain(value))


# Made once: json.dumps with options builds a new encoder per call, which cost more than encoding a small event.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def serialised(value: Any) -> bytes:
    """The canonical bytes of a value that is already `plain` (JSON's own types, no float)."""
    return _ENCODER.encode(value).encode("utf-8")
