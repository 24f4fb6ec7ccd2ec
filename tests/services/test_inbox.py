"""The inbox: what awaits each role, on the demo's plain State, never naming an object or member its reader may not
see; and, on a small coordination, each kind of entry appearing when its step comes and leaving once taken."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactgroup.domain.errors import NotFound
from contactgroup.domain.model import AllocationStatus, ConsentStatus, DeliveryStatus, Offer, ProposalKind
from contactgroup.domain.state import State
from contactgroup.ledger import note
from contactgroup.services import access, queries
from contactgroup.services import coordination as svc
from contactgroup.services import governance as gov
from contactgroup.services.queries import InboxKind
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement

pytestmark = pytest.mark.xdist_group("demo-state")  # one worker builds the demo state, not each

NOW = datetime(2026, 1, 1, tzinfo=UTC)
READERS = ("admin", "deu-desk", "usa-desk", "fra-lead", "ukr-liaison", "est-analyst", "pol-auditor")
SEES = {InboxKind.ALLOCATION: lambda s, w, i: access.can_see_allocation(s, w, s.allocations[i]),
        InboxKind.CONSENT: lambda s, w, i: access.can_see_consent(s, w, s.consents[i]),
        InboxKind.DELIVERY: lambda s, w, i: access.can_see_delivery(s, w, s.deliveries[i]),
        InboxKind.REQUIREMENT: lambda s, w, i: True,
        InboxKind.PROPOSAL: lambda s, w, i: True}


def _offer_of(state: State, e: queries.InboxEntry) -> Offer | None:
    if e.kind is InboxKind.ALLOCATION:
        return state.offers[state.allocations[e.id].offer]
    if e.kind is InboxKind.CONSENT:
        return state.offers[state.consents[e.id].offer]
    if e.kind is InboxKind.DELIVERY:
        return state.offers[state.allocations[state.deliveries[e.id].allocation].offer]
    return None


@pytest.mark.parametrize("user", READERS)
def test_every_entry_is_seen_by_its_reader_and_names_a_member_only_if_the_offer_is_seen(
        demo_state: State, user: str) -> None:
    state, who = demo_state, demo_state.users[user]
    box = queries.inbox(state, who, NOW)
    assert box.total == len(box.entries)
    for e in box.entries:
        assert SEES[e.kind](state, who, e.id), e
        offer = _offer_of(state, e)
        if offer is not None:
            assert (e.member is not None) == access.can_see_offer(state, who, offer), e
            if e.member is None:
                assert offer.id not in e.detail and offer.member not in e.detail, e
    since = [e.since or date.min for e in box.entries]
    assert since == sorted(since)  # oldest first


def test_each_role_finds_exactly_its_next_steps(demo_state: State) -> None:
    state = demo_state

    def ids(user: str, kind: InboxKind) -> set[str]:
        return {e.id for e in queries.inbox(state, state.users[user], NOW, kind=kind).entries}

    # The desk: allocations of its member's offers to accept, consents asked of its member.
    assert ids("deu-desk", InboxKind.ALLOCATION) == {
        a.id for a in state.allocations.values() if a.status is AllocationStatus.PROPOSED
        and access.owner_party(state, state.offers[a.offer].member) == "DEU"}
    assert ids("deu-desk", InboxKind.CONSENT) == {
        c.id for c in state.consents.values() if c.origin == "DEU" and c.status is ConsentStatus.REQUESTED}
    # The coordinator confirms what both sides accepted; the liaison receives what is on its way.
    assert ids("admin", InboxKind.ALLOCATION) == {
        a.id for a in state.allocations.values() if a.status is AllocationStatus.ACCEPTED_BY_RECIPIENT}
    assert ids("ukr-liaison", InboxKind.DELIVERY) == {
        d.id for d in state.deliveries.values() if d.status is not DeliveryStatus.RECEIVED}
    assert ids("deu-desk", InboxKind.ALLOCATION) and ids("deu-desk", InboxKind.CONSENT)
    # Readers decide nothing: nothing awaits them.
    for user in ("est-analyst", "pol-auditor", "fra-lead"):
        assert queries.inbox(state, state.users[user], NOW).total == 0, user


def test_the_verbs_are_what_the_reader_may_do_now(demo_state: State) -> None:
    state = demo_state
    by_user = {u: queries.inbox(state, state.users[u], NOW).entries for u in ("deu-desk", "admin")}
    assert {e.verbs for e in by_user["deu-desk"] if e.kind is InboxKind.ALLOCATION} == {("accept", "decline")}
    assert {e.verbs for e in by_user["deu-desk"] if e.kind is InboxKind.CONSENT} == {("grant", "refuse")}
    assert {e.verbs for e in by_user["admin"]} == {("confirm", "decline")}
    # The bulk filter selects the same objects the inbox lists for that verb.
    assert queries.movable(state, state.users["deu-desk"], "allocation", "accept") == sorted(
        e.id for e in by_user["deu-desk"] if "accept" in e.verbs)


def test_a_consent_asked_of_a_member_names_the_item_but_not_a_hidden_offer(demo_state: State) -> None:
    state, who = demo_state, demo_state.users["deu-desk"]
    hidden = [e for e in queries.inbox(state, who, NOW, kind=InboxKind.CONSENT).entries if e.member is None]
    assert hidden
    for e in hidden:
        offer = state.offers[state.consents[e.id].offer]
        assert not access.can_see_offer(state, who, offer)
        assert (e.item, e.quantity) == (offer.item, offer.quantity)
        # Filtering by the hidden offer's member does not find it: the answer would say whose offer it is.
        assert e.id not in {x.id for x in queries.inbox(state, who, NOW, member=offer.member).entries}


def test_filters_and_limit_keep_the_counts(demo_state: State) -> None:
    state, who = demo_state, demo_state.users["deu-desk"]
    whole = queries.inbox(state, who, NOW)
    first = queries.inbox(state, who, NOW, limit=3)
    assert first.entries == whole.entries[:3] and first.counts == whole.counts
    consents = queries.inbox(state, who, NOW, kind=InboxKind.CONSENT)
    assert consents.counts == ((InboxKind.CONSENT, dict(whole.counts)[InboxKind.CONSENT]),)
    own = queries.inbox(state, who, NOW, member="DEU")
    assert own.entries and all(e.member == "DEU" for e in own.entries)


@pytest.mark.parametrize("user", ("ukr-liaison", "deu-desk", "fra-lead"))
def test_list_filters_never_match_a_hidden_member(demo_state: State, user: str) -> None:
    state, who = demo_state, demo_state.users[user]
    for a in queries.allocations(state, who)[:20]:
        seen = queries.listed_allocation(state, who, a)
        offer = state.offers[a.offer]
        assert seen.member == (offer.member if access.can_see_offer(state, who, offer) else None)
        assert (a in queries.allocations(state, who, member=offer.member)) == (seen.member is not None)
    members = {o.member for o in state.offers.values()}
    for code in sorted(members)[:8]:
        for a in queries.allocations(state, who, member=code):
            assert access.can_see_offer(state, who, state.offers[a.offer]) and state.offers[a.offer].member == code
        for d in queries.deliveries(state, who, member=code):
            assert access.can_see_offer(state, who, state.offers[state.allocations[d.allocation].offer])


def test_list_filters_by_item_status_and_area(demo_state: State) -> None:
    state, who = demo_state, demo_state.users["admin"]
    a = next(iter(state.allocations.values()))
    item, area = state.offers[a.offer].item, state.requirements[a.requirement].area
    chosen = queries.allocations(state, who, item=item, area=area, status=a.status)
    assert a in chosen
    assert all(state.offers[x.offer].item == item and state.requirements[x.requirement].area == area
               and x.status is a.status for x in chosen)
    assert {o.id for o in queries.offers(state, who, item=item)} == {
        o.id for o in state.offers.values() if o.item == item}
    assert all(area in access.offer_areas(state, o) for o in queries.offers(state, who, area=area))
    cls = state.requirements[a.requirement].item_class
    assert state.requirements[a.requirement] in queries.requirements(state, item=item)
    assert all(r.item_class == cls for r in queries.requirements(state, item=cls))


class TestEachStepAppearsAndLeaves:
    def test_validate_dispatch_receive(self, world: World) -> None:
        def box(user: str) -> list[tuple[str, str, tuple[str, ...]]]:
            state = world.db.state()
            return [(e.kind.value, e.id, e.verbs) for e in queries.inbox(state, state.users[user], NOW).entries]

        req = world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=100, priority=1,
                       needed_by=date(2024, 9, 1), destination="UKR-West").id
        world.do(svc.move_requirement, "ukr", req, "submit")
        assert ("requirement", req, ("return", "validate", "cancel")) in box("admin")
        world.do(svc.move_requirement, "admin", req, "validate")
        assert not [e for e in box("admin") if e[0] == "requirement"]

        alloc = confirmed_allocation(world, enter_offer(world), open_requirement(world), 100)
        state = world.db.state()
        (ship,) = queries.inbox(state, state.users["deu"], NOW).entries
        assert (ship.id, ship.verbs, ship.quantity) == (alloc, ("dispatch",), 100)
        assert box("admin") == [] and box("fra") == []  # the coordinator may ship too, but it awaits the donor
        d = world.do(svc.dispatch, "deu", allocation=alloc, quantity=60, dispatched_on=date(2024, 7, 1)).id
        state = world.db.state()
        (ship,) = queries.inbox(state, state.users["deu"], NOW).entries
        assert ship.quantity == 40 and "40 units left to ship" in ship.detail
        assert box("ukr") == [("delivery", d, ("receive",))]
        world.do(svc.receive, "ukr", d, received_on=date(2024, 7, 1))
        assert box("ukr") == []

    def test_a_proposal_awaits_each_member_until_it_approves(self, world: World) -> None:
        signer, verifier = note.generate_key("DEU-2026")
        world.do(gov.register_key, "deu", "DEU", verifier.text)
        log_key = note.generate_key(world.db.state().setting("origin"))[1].text
        p = world.do(gov.propose, "deu", ProposalKind.HANDOVER,
                     {"to": "NSATU", "users": ["nsatu-admin"], "log_key": log_key})

        def waiting(user: str) -> list[str]:
            state = world.db.state()
            return [e.id for e in queries.inbox(state, state.users[user], world.clock.now()).entries]

        assert waiting("deu") == [p.id] and waiting("fra") == [p.id] and waiting("analyst") == [p.id]
        world.do(gov.approve, "deu", p.id, note.sign_note(p.text, [signer]))
        assert waiting("deu") == [] and waiting("fra") == [p.id]
        assert queries.inbox(world.db.state(), world.db.state().users["fra"], p.expires_at.replace(
            year=p.expires_at.year + 1)).total == 0  # an expired proposal awaits nobody


@given(st.lists(st.sampled_from(["A-1", "A-2", "A-3", "A-4", "X-1", "X-2"]), min_size=1, max_size=8))
def test_move_each_moves_all_or_names_every_refusal_in_order(ids: list[str]) -> None:
    def move(ident: str) -> str:
        if ident.startswith("X"):
            raise NotFound(f"no allocation {ident!r}", code="not-found")
        return ident.lower()

    unique = list(dict.fromkeys(ids))
    refused = [i for i in unique if i.startswith("X")]
    if not refused:
        assert svc.move_each("allocation", ids, move) == [i.lower() for i in unique]
    elif len(unique) == 1:
        with pytest.raises(NotFound):  # one id: its own error, as before
            svc.move_each("allocation", ids, move)
    else:
        with pytest.raises(svc.Refused) as caught:
            svc.move_each("allocation", ids, move)
        assert [i for i, _ in caught.value.refusals] == refused and caught.value.exit_code == 3
        assert str(caught.value).startswith(f"{len(refused)} of {len(unique)} allocation moves refused")
