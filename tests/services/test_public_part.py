"""The public part as a property: nothing that is not public moves a published figure, on the demo's state."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactgroup.domain.model import Consent, ConsentStatus, Offer, OfferStatus, Role, Source, User, Visibility
from contactgroup.domain.state import State
from contactgroup.reports.public import public_burden, public_part

pytestmark = pytest.mark.xdist_group("demo-state")  # one worker builds the demo state, not each

HIDDEN = [Visibility.MEMBER, Visibility.COALITION, Visibility.RECIPIENT]
_VALUES = st.decimals(min_value=1, max_value=Decimal("1e12"), places=2, allow_nan=False, allow_infinity=False)
_DAYS = st.dates(min_value=date(2022, 1, 1), max_value=date(2026, 12, 31))


@st.composite
def _hidden_changes(draw: st.DrawFn, state: State) -> list[object]:
    """New non-public offers, changed non-public offers, consents and users: entities to put into a fork."""
    members, items = sorted(state.members), sorted(state.items)
    changes: list[object] = []
    for n in range(draw(st.integers(1, 5))):
        changes.append(Offer(
            id=f"O-9{n:04d}", member=draw(st.sampled_from(members)), item=draw(st.sampled_from(items)),
            quantity=draw(st.integers(1, 10**6)), available_from=draw(_DAYS), depot="DEU", source=Source.STOCKS,
            status=draw(st.sampled_from([OfferStatus.OFFERED, OfferStatus.COMMITTED])),
            visibility=draw(st.sampled_from(HIDDEN)), value=draw(_VALUES), currency="EUR",
            committed_on=draw(_DAYS), end_use=draw(st.text(max_size=20))))
    hidden = sorted(o.id for o in state.offers.values() if o.visibility is not Visibility.PUBLIC)
    for offer_id in draw(st.lists(st.sampled_from(hidden), max_size=3, unique=True)):
        changes.append(dataclasses.replace(state.offers[offer_id], value=draw(_VALUES), currency="EUR",
                                           quantity=draw(st.integers(1, 10**6))))
        changes.append(Consent(f"C-9{offer_id}", offer_id, "USA", ConsentStatus.REFUSED, draw(_DAYS),
                                 reason=draw(st.text(max_size=20))))
    changes.append(User(draw(st.text("abcdefghij.", min_size=3, max_size=12)), "DEU", Role.DESK_OFFICER))
    return changes


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_nothing_non_public_moves_a_published_figure(demo_state: State, data: st.DataObject) -> None:
    before = public_part(demo_state)
    changed = demo_state.fork()
    for entity in data.draw(_hidden_changes(demo_state)):
        changed.put(entity)
    changed.in_key_order()
    after = public_part(changed)
    assert after == before
    assert public_burden(after) == public_burden(before)


def test_a_public_offer_does_move_them(demo_state: State) -> None:
    """The property above could not fail if nothing ever moved the figures: a public offer does."""
    changed = demo_state.fork()
    changed.put(Offer(id="O-99999", member="DEU", item=sorted(demo_state.items)[0], quantity=3,
                        available_from=date(2026, 4, 1), depot="DEU", source=Source.STOCKS,
                        status=OfferStatus.COMMITTED, visibility=Visibility.PUBLIC, value=Decimal("1234.56"),
                        currency="EUR", committed_on=date(2026, 4, 1)))
    after = public_part(changed)
    assert any(o.id == "O-99999" for o in after.offers)
    assert after.months != public_part(demo_state).months
