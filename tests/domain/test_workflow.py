"""Lifecycle tables: every move outside the table is refused with a message naming the object and both states."""

from __future__ import annotations

import enum
from collections.abc import Mapping

import pytest

from contactgroup.domain import workflow
from contactgroup.domain.errors import InvalidTransition

TABLES: dict[str, Mapping[enum.Enum, frozenset[enum.Enum]]] = {
    "requirement": workflow.REQUIREMENT,  # type: ignore[dict-item]
    "offer": workflow.OFFER,  # type: ignore[dict-item]
    "allocation": workflow.ALLOCATION,  # type: ignore[dict-item]
    "consent": workflow.CONSENT,  # type: ignore[dict-item]
    "delivery": workflow.DELIVERY,  # type: ignore[dict-item]
}
PAIRS = [(kind, a, b) for kind, table in TABLES.items() for a in table for b in table]


@pytest.mark.parametrize(("kind", "current", "to"), PAIRS, ids=[f"{k}:{a.value}->{b.value}" for k, a, b in PAIRS])
def test_table_decides_every_move(kind: str, current: enum.Enum, to: enum.Enum) -> None:
    table = TABLES[kind]
    if to in table[current]:
        assert workflow.check(table, kind, "X-1", current, to) is to
    else:
        with pytest.raises(InvalidTransition) as caught:
            workflow.check(table, kind, "X-1", current, to)
        assert str(caught.value) == f"{kind} X-1 cannot go from {current.value!r} to {to.value!r}"


@pytest.mark.parametrize("kind", TABLES)
def test_every_state_is_reachable_from_the_first(kind: str) -> None:
    table = TABLES[kind]
    first = next(iter(table))
    seen, frontier = {first}, [first]
    while frontier:
        for nxt in table[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(table)


def test_terminal_states_have_no_way_out() -> None:
    assert not workflow.ALLOCATION[workflow.A.CONFIRMED]  # confirmed allocations are pinned
    assert not workflow.REQUIREMENT[workflow.R.CLOSED]
    assert not workflow.OFFER[workflow.O.WITHDRAWN]
