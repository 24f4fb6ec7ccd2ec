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


class TestActionTables:
    """One table per lifecycle: each verb's event moves to the status the verb promises, and the permission it
    needs exists in the policy."""

    def test_every_verb_records_the_move_its_table_says(self) -> None:
        from contactgroup.domain.event import MOVES
        from contactgroup.domain.workflow import (
            ALLOCATION_ACTIONS,
            CONSENT_ACTIONS,
            OFFER_ACTIONS,
            RECIPIENT_ACCEPTANCE,
            REQUIREMENT_ACTIONS,
            SHIPMENT_ACTIONS,
        )
        from contactgroup.services.access import POLICY

        tables = [REQUIREMENT_ACTIONS, OFFER_ACTIONS, ALLOCATION_ACTIONS, CONSENT_ACTIONS, SHIPMENT_ACTIONS]
        actions = [a for t in tables for a in t.values()] + [RECIPIENT_ACCEPTANCE]
        for action in actions:
            if action.event in MOVES and action.event != "OfferWithdrawn":  # a withdrawal: its own rule
                assert MOVES[action.event][1] == action.to, action
            assert action.permission in POLICY, action

    def test_an_unknown_verb_is_refused_as_bad_input_naming_the_choices(self) -> None:
        from contactgroup.domain.errors import ValidationFailed
        from contactgroup.domain.workflow import RequirementAction, ShipmentAction, parse_action

        assert parse_action(RequirementAction, "close") is RequirementAction.CLOSE
        with pytest.raises(ValidationFailed, match="unknown step 'lost': use hub or handover") as bad:
            parse_action(ShipmentAction, "lost", what="step")
        assert bad.value.exit_code == 2 and bad.value.status == 422
