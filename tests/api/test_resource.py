"""The list machinery of the API on plain rows: pages that follow their cursor give the whole list in its order,
whatever the page size, sort field, direction, ties and nulls; a cursor stays right when rows come or go."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactgroup.api.resource import Ordered, SharedLists, etag, in_order, matches, page
from contactgroup.domain.errors import PreconditionFailed, PreconditionRequired, ValidationFailed
from contactgroup.domain.state import State


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    quantity: int | None
    value: Decimal | None
    name: str


rows = st.lists(st.builds(Row, id=st.text("abcXYZ0-9", min_size=1, max_size=6),
                          quantity=st.none() | st.integers(-5, 5),
                          value=st.none() | st.decimals(-100, 100, places=2),
                          name=st.text(max_size=3)),
                unique_by=lambda r: r.id, max_size=30)


def _all_pages(items: list[Row], sort: str, limit: int) -> list[Row]:
    seen: list[Row] = []
    cursor = None
    while True:
        got = page(items, sort=sort, limit=limit, cursor=cursor)
        seen += got.items
        if got.next_cursor is None:
            return seen
        cursor = got.next_cursor


@given(rows, st.sampled_from(["id", "quantity", "value", "name", "-id", "-quantity", "-value", "-name"]),
       st.integers(1, 7))
def test_pages_give_the_whole_list_in_order(items: list[Row], sort: str, limit: int) -> None:
    whole = page(items, sort=sort, limit=500, cursor=None).items
    assert _all_pages(items, sort, limit) == whole
    assert sorted(r.id for r in whole) == sorted(r.id for r in items)
    field = sort.removeprefix("-")
    present = [getattr(r, field) for r in whole if getattr(r, field) is not None]
    assert present == sorted(present, reverse=sort.startswith("-"))


def test_a_cursor_stays_right_when_its_row_is_gone() -> None:
    items = [Row(f"R-{i}", i, None, "") for i in range(6)]
    first = page(items, sort="quantity", limit=2, cursor=None)
    rest = [r for r in items if r.id != "R-1"]  # the page's last row left the list meanwhile
    assert [r.id for r in page(rest, sort="quantity", limit=2, cursor=first.next_cursor).items] == ["R-2", "R-3"]


@pytest.mark.parametrize("cursor", ["", "e30", "W10", "WyJpZCIsMCwieCIsIlIiXQ"])
def test_a_made_up_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(ValidationFailed, match="cursor"):
        page([Row("R-1", 1, None, "")], sort="id", limit=1, cursor=cursor)


def test_an_etag_changes_with_the_object_and_if_match_checks_it() -> None:
    row = Row("R-1", 1, None, "")
    changed = Row("R-1", 2, None, "")
    assert etag(row) != etag(changed) and etag(row) == etag(Row("R-1", 1, None, ""))
    matches(etag(row), row, required=True)
    matches(f'W/{etag(row)}, "other"', row, required=True)
    matches("*", changed, required=True)
    matches(None, row, required=False)
    with pytest.raises(PreconditionFailed):
        matches(etag(row), changed, required=True)
    with pytest.raises(PreconditionRequired):
        matches(None, row, required=True)


class TestSharedLists:
    """A list kept for a published state is made once per state and key; a new state makes it again, and the
    lists of older states are dropped (a list must never outlive the state it shows)."""

    def test_the_same_list_on_the_same_state_is_made_once(self) -> None:
        lists, state, made = SharedLists(), State(), []

        def make() -> Ordered:
            made.append(1)
            return in_order([Row("a", 1, None, "x")], "id")

        first = lists.get(state, ("offers", "DEU"), make)
        assert lists.get(state, ("offers", "DEU"), make) is first and len(made) == 1
        lists.get(state, ("offers", "FRA"), make)  # another key: another list
        assert len(made) == 2

    def test_a_new_state_makes_the_list_again_and_drops_the_old_states_lists(self) -> None:
        lists, old, new = SharedLists(), State(), State()
        lists.get(old, "drafts", lambda: in_order([Row("a", 1, None, "x")], "id"))
        lists.get(old, "all", lambda: in_order([Row("a", 1, None, "x")], "id"))
        fresh = lists.get(new, "all", lambda: in_order([Row("b", 2, None, "y")], "id"))
        assert fresh[1] == [Row("b", 2, None, "y")]
        remade = lists.get(new, "drafts", lambda: in_order([], "id"))  # the old state's list was not kept
        assert remade == ([], [])
