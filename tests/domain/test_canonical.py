"""Canonical bytes: equal values give equal bytes; every entity survives the round trip through event data."""

from __future__ import annotations

import json
import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactgroup.domain.model import OfferStatus, enum
from contactgroup.domain.state import TABLES, as_data, field_types, from_data
from contactgroup.encoding.canonical import canonical_bytes


def test_encoding_is_sorted_compact_and_exact() -> None:
    value = {"b": Decimal("1.10"), "a": [date(2024, 1, 2), OfferStatus.COMMITTED], "é": "ü"}
    assert canonical_bytes(value) == '{"a":["2024-01-02","committed"],"b":"1.10","é":"ü"}'.encode()


def test_times_are_utc_with_microseconds_whatever_the_zone() -> None:
    kyiv = timezone(timedelta(hours=3))
    assert canonical_bytes(datetime(2024, 7, 1, 12, 0, tzinfo=kyiv)) == b'"2024-07-01T09:00:00.000000Z"'


@pytest.mark.parametrize("bad", [1.5, datetime(2024, 1, 1), Decimal("NaN"), object()])
def test_refuses_values_without_one_canonical_form(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical_bytes(bad)


json_leaf = st.none() | st.booleans() | st.integers() | st.text() | st.decimals(allow_nan=False, allow_infinity=False)
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                                  max_size=4))


@given(json_value)
def test_same_value_same_bytes_and_valid_json(value: object) -> None:
    encoded = canonical_bytes(value)
    assert encoded == canonical_bytes(value)
    assert canonical_bytes(json.loads(encoded)) == encoded  # a fixed point: decimals already became strings


@pytest.mark.parametrize("table", list(TABLES))
def test_every_entity_round_trips_through_event_data(table: str) -> None:
    samples: dict[type, object] = {
        str: "x", int: 7, bool: True, Decimal: Decimal("12.50"), date: date(2024, 5, 6),
        datetime: datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=UTC),
    }
    cls = TABLES[table].entity
    values = {}
    for name, tp in field_types(cls).items():
        optional = typing.get_origin(tp) in (typing.Union, types.UnionType)
        base = next(a for a in typing.get_args(tp) if a is not type(None)) if optional else tp
        if typing.get_origin(base) is tuple:
            inner = typing.get_args(base)[0]
            enumerated = isinstance(inner, type) and issubclass(inner, enum.Enum)
            values[name] = tuple(inner)[:2] if enumerated else ("a", "b")  # a zone's modes
        elif isinstance(base, type) and issubclass(base, enum.Enum):
            values[name] = next(iter(base))
        else:
            values[name] = samples[base]
    entity = cls(**values)
    assert from_data(cls, json.loads(canonical_bytes(as_data(entity)))) == entity
