"""`offer_sight` is `can_see_offer` worked out once per reader for a list: the two must give the same answer for
every reader and every offer, or a list would show what a show refuses (or hide what it shows)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactgroup.domain.model import Role, User, Visibility
from contactgroup.domain.state import State
from contactgroup.services import access

pytestmark = pytest.mark.xdist_group("demo-state")  # one worker builds the demo state, not each


def test_every_demo_reader_sees_the_same_offers_in_a_list_as_one_by_one(demo_state: State) -> None:
    for who in demo_state.users.values():
        sees = access.offer_sight(demo_state, who)
        listed = {o.id for o in demo_state.offers.values() if sees(o)}
        assert listed == {o.id for o in demo_state.offers.values() if access.can_see_offer(demo_state, who, o)}, who


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_reader_and_offer_get_the_same_answer_both_ways(demo_state: State, data: st.DataObject) -> None:
    # Readers of any role for any party (a fund's code, the recipient, a former authority), offers of any owner,
    # visibility and item: the corners the demo's own users do not reach.
    authority = demo_state.authority.name if demo_state.authority else "NOBODY"
    parties = sorted({*demo_state.members, *demo_state.funds, demo_state.recipient, authority, "NOBODY"})
    who = User("reader", data.draw(st.sampled_from(parties)), data.draw(st.sampled_from(list(Role))))
    offer = data.draw(st.sampled_from(sorted(demo_state.offers.values(), key=lambda o: o.id)))
    offer = dataclasses.replace(offer, member=data.draw(st.sampled_from(parties)),
                                visibility=data.draw(st.sampled_from(list(Visibility))),
                                item=data.draw(st.sampled_from(sorted(demo_state.items))))
    assert access.offer_sight(demo_state, who)(offer) is access.can_see_offer(demo_state, who, offer)
