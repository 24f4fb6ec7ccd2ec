"""Reads for every front door, on the demo's plain State: a list never holds what its reader may not see, a show
of a hidden object is the NotFound of one that does not exist, a fund names only the offers its reader may see."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contactgroup.domain.errors import NotFound
from contactgroup.domain.model import AllocationStatus, RequirementStatus, Role, Visibility
from contactgroup.domain.state import State
from contactgroup.reports.valuation import Valuer
from contactgroup.services import access, queries

pytestmark = pytest.mark.xdist_group("demo-state")  # one worker builds the demo state, not each

READERS = ("admin", "deu-desk", "fra-lead", "ukr-liaison", "est-analyst", "pol-auditor")


@pytest.mark.parametrize("user", READERS)
def test_lists_hold_exactly_what_the_reader_may_see(demo_state: State, user: str) -> None:
    state = demo_state
    who = state.users[user]
    assert [o.id for o in queries.offers(state, who)] == [
        o.id for o in state.offers.values() if access.can_see_offer(state, who, o)]
    assert {a.id for a in queries.allocations(state, who)} == {
        a.id for a in state.allocations.values() if access.can_see_allocation(state, who, a)}
    assert {d.id for d in queries.deliveries(state, who)} == {
        d.id for d in state.deliveries.values() if access.can_see_delivery(state, who, d)}
    seen = queries.consents(state, who)
    assert all(c.origin == who.party or access.can_see_offer(state, who, state.offers[c.offer]) for c in seen)
    assert [c.id for c in seen] == sorted(c.id for c in seen)


@pytest.mark.parametrize("user", READERS[1:])
def test_showing_a_hidden_object_is_showing_one_that_does_not_exist(demo_state: State, user: str) -> None:
    state = demo_state
    who = state.users[user]
    shows = {"offer": (queries.offer, state.offers, "O-99999"),
             "allocation": (queries.allocation, state.allocations, "A-99999"),
             "delivery": (queries.delivery, state.deliveries, "D-99999")}
    visible = {"offer": {o.id for o in queries.offers(state, who)},
               "allocation": {a.id for a in queries.allocations(state, who)},
               "delivery": {d.id for d in queries.deliveries(state, who)}}
    for kind, (show, table, nowhere) in shows.items():
        with pytest.raises(NotFound) as absent:
            show(state, who, nowhere)
        hidden = sorted(set(table) - visible[kind])
        assert hidden or user == "ukr-liaison", kind  # the liaison sees every allocation and shipment to it
        for ident in hidden:
            with pytest.raises(NotFound) as refused:
                show(state, who, ident)
            assert str(refused.value).replace(ident, nowhere) == str(absent.value)


def test_a_fund_names_only_the_offers_its_reader_may_see_and_counts_the_rest_in_its_total(demo_state: State) -> None:
    state = demo_state
    valuer = Valuer.of(state)
    for code in state.funds:
        fund_offers = [o for o in state.offers.values() if o.member == code]
        total = sum((valuer.offer_value_eur(o, state.items) or Decimal(0)).quantize(Decimal("0.01"))
                    for o in fund_offers)
        for user in (None, *READERS):
            who = state.users[user] if user else None
            view = queries.fund(state, code, who)
            named = {b.offer for b in view.bought}
            assert named == {o.id for o in fund_offers
                             if (access.can_see_offer(state, who, o) if who else o.visibility is Visibility.PUBLIC)}
            assert len(named) + view.not_shown == len(fund_offers)
            assert sum((b.value_eur or Decimal(0) for b in view.bought), view.not_shown_eur) == total
    # The chair sees every offer; a reader who names nobody, here, not all of them.
    assert queries.fund(state, "AMMO-INIT", state.users["admin"]).not_shown == 0
    assert queries.fund(state, "AMMO-INIT", None).not_shown > 0


def test_requirements_by_priority_then_id_and_an_unknown_one_is_not_found(demo_state: State) -> None:
    reqs = queries.requirements(demo_state, status=RequirementStatus.OPEN)
    assert reqs and all(r.status is RequirementStatus.OPEN for r in reqs)
    assert [(r.priority, r.id) for r in reqs] == sorted((r.priority, r.id) for r in reqs)
    with pytest.raises(NotFound, match="no requirement 'R-99999'"):
        queries.requirement(demo_state, "R-99999")


def test_an_open_list_needs_no_reader_but_refuses_an_unknown_one(demo_state: State) -> None:
    assert queries.reader(demo_state, None) is None
    with pytest.raises(NotFound) as refused:
        queries.reader(demo_state, "ghost")
    assert refused.value.code == "unknown-user"


@pytest.mark.parametrize("user", READERS)
def test_what_awaits_dispatch_is_what_the_reader_may_ship_and_is_still_owed(demo_state: State, user: str) -> None:
    state = demo_state
    who = state.users[user]
    owing = {a.id for a in state.allocations.values()
             if a.status is AllocationStatus.CONFIRMED and state.shipped(a.id).owed > 0}
    rows = queries.to_dispatch(state, who)
    assert all(row.owed == state.shipped(row.allocation.id).owed for row in rows)
    if user == "admin":  # the coordinator may ship any
        assert {row.allocation.id for row in rows} == owing
    elif user == "deu-desk":
        assert {row.allocation.id for row in rows} == {
            i for i in owing if access.owner_party(state, state.offers[state.allocations[i].offer].member) == "DEU"}
    else:
        assert rows == []  # nobody else ships


def test_a_shipment_names_its_offer_and_member_only_to_a_reader_who_may_see_the_offer(demo_state: State) -> None:
    state = demo_state
    liaison = state.users["ukr-liaison"]
    hidden = [d for d in state.deliveries.values()
              if not access.can_see_offer(state, liaison, state.offers[state.allocations[d.allocation].offer])]
    assert hidden  # the demo ships member-only offers
    view = queries.delivery(state, liaison, hidden[0].id)
    assert view.offer is None and view.member is None and view.item
    offer = state.offers[state.allocations[hidden[0].allocation].offer]
    desk = next(u for u in state.users.values() if u.party == offer.member and u.role is Role.DESK_OFFICER)
    shown = queries.delivery(state, desk, hidden[0].id)
    assert shown.offer == offer.id and shown.member == offer.member
