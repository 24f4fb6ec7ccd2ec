"""Governance in the pure core: a proposal is effective exactly when its quorum of valid, distinct, unrevoked
signatures exists — checked by a Hypothesis state machine with real Ed25519 signatures."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from contactgroup.domain import command
from contactgroup.domain import governance as gov
from contactgroup.domain.errors import ContactGroupError, Forbidden, ValidationFailed
from contactgroup.domain.event import Context, Event, evolve
from contactgroup.domain.model import Coalition, Member, MemberKind, Proposal, ProposalKind, ProposalStatus
from contactgroup.domain.state import State
from contactgroup.ledger import note
from contactgroup.services.governance import key_problems, verify

START = datetime(2024, 7, 1, tzinfo=UTC)
MEMBERS = ("DEU", "FRA", "GBR", "NLD", "POL", "USA")
SIGNERS = {code: [note.generate_key(f"{code}-{i}")[0] for i in range(2)] for code in MEMBERS}
OUTSIDER = note.generate_key("MALLORY")[0]
NEW_LOG = note.generate_key("log")[1].text


def founded() -> tuple[State, Context]:
    state, ctx = State(), Context("admin", "IDCC", "IDCC", START)
    for e in command.found(state, ctx, recipient="UKR", authority="IDCC", origin="log"):
        evolve(state, e)
    for code in MEMBERS:
        for e in command.admit_member(state, ctx, Member(code, code, MemberKind.NATION, "EUR")):
            evolve(state, e)
    return state, ctx


def apply(state: State, events: list[Event]) -> None:
    for e in events:
        evolve(state, e)


class Decisions(RuleBasedStateMachine):
    """Keys are registered and revoked, proposals made and withdrawn, approvals handed in — forged, duplicate,
    late or valid — in any order. The model counts what should count; the core must agree."""

    def __init__(self) -> None:
        super().__init__()
        self.state, self.ctx = founded()
        self.now = START
        self.registered: dict[str, bool] = {}  # key text -> active
        self.proposal: str | None = None
        self.counted: dict[str, str] = {}  # member -> key text that signed its counted approval

    def at(self) -> Context:
        return Context("admin", "IDCC", "IDCC", self.now)

    @rule(member=st.sampled_from(MEMBERS), which=st.integers(0, 1))
    def register(self, member: str, which: int) -> None:
        key = SIGNERS[member][which].verifier.text
        try:
            apply(self.state, gov.register_key(self.state, self.at(), member, key, key_problems))
            self.registered[key] = True
        except ContactGroupError:
            assert key in self.registered

    @rule(member=st.sampled_from(MEMBERS), which=st.integers(0, 1))
    def revoke(self, member: str, which: int) -> None:
        key = SIGNERS[member][which].verifier.text
        try:
            apply(self.state, gov.revoke_key(self.state, self.at(), key))
            self.registered[key] = False
        except ContactGroupError:
            assert not self.registered.get(key, False)

    @precondition(lambda self: self.proposal is None)
    @rule(days=st.integers(1, 5))
    def propose(self, days: int) -> None:
        events = gov.propose(self.state, self.at(), ProposalKind.HANDOVER,
                             {"to": "NSATU", "users": ["nsatu-admin"], "log_key": NEW_LOG}, key_problems,
                             timedelta(days=days))
        apply(self.state, events)
        self.proposal = events[0].data["id"]

    @precondition(lambda self: self.proposal is not None)
    @rule(member=st.sampled_from(MEMBERS), which=st.integers(0, 1), forged=st.booleans())
    def approve(self, member: str, which: int, forged: bool) -> None:
        assert self.proposal is not None
        signer = OUTSIDER if forged else SIGNERS[member][which]
        proposal = self.state.proposals[self.proposal]
        signed = note.sign_note(proposal.text, [signer])
        key = signer.verifier.text
        # A member's earlier approval stops blocking a new one once the key that signed it is revoked.
        still_counts = member in self.counted and self.registered.get(self.counted[member], False)
        should_count = (not forged and self.registered.get(key, False) and not still_counts
                        and proposal.status is ProposalStatus.OPEN and self.now <= proposal.expires_at)
        try:
            apply(self.state, gov.approve(self.state, self.at(), self.proposal, signed, verify))
        except ContactGroupError:
            assert not should_count
            return
        assert should_count
        self.counted[member] = key

    @precondition(lambda self: self.proposal is not None)
    @rule()
    def withdraw(self) -> None:
        assert self.proposal is not None
        try:
            apply(self.state, gov.withdraw(self.state, Context("admin", "IDCC", "IDCC", self.now), self.proposal))
        except ContactGroupError:
            assert self.state.proposals[self.proposal].status is not ProposalStatus.OPEN

    @rule(days=st.integers(1, 3))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @invariant()
    def effective_exactly_at_quorum(self) -> None:
        if self.proposal is None:
            return
        proposal = self.state.proposals[self.proposal]
        needed = math.ceil(2 * len(MEMBERS) / 3)
        # Counted approvals whose key is still active (revocation voids an approval of an open proposal).
        valid = {mem for mem, key in self.counted.items() if self.registered.get(key)}
        if proposal.status is ProposalStatus.EFFECTIVE:
            assert self.state.authority is not None and self.state.authority.name == "NSATU"
            assert self.state.setting("log_verifier_key") == NEW_LOG
        else:
            assert self.state.authority is not None and self.state.authority.name == "IDCC"
            if proposal.status is ProposalStatus.OPEN:
                assert len(valid) < needed
                assert set(gov.quorum(self.state, proposal).approved) == valid


TestDecisions = Decisions.TestCase
TestDecisions.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)


class TestApprovalRefusals:
    def setup_method(self) -> None:
        self.state, self.ctx = founded()
        for code in MEMBERS:
            apply(self.state, gov.register_key(self.state, self.ctx, code, SIGNERS[code][0].verifier.text,
                                               key_problems))
        events = gov.propose(self.state, self.ctx, ProposalKind.HANDOVER,
                             {"to": "NSATU", "users": ["nsatu-admin"], "log_key": NEW_LOG}, key_problems)
        apply(self.state, events)
        self.p = self.state.proposals[events[0].data["id"]]

    def approve(self, signed: str, at: datetime = START) -> None:
        apply(self.state, gov.approve(self.state, Context("admin", "IDCC", "IDCC", at), self.p.id, signed, verify))

    def test_forged_signature_counts_for_nothing_and_says_why(self) -> None:
        with pytest.raises(Forbidden, match="no registered member key verifies this approval"):
            self.approve(note.sign_note(self.p.text, [OUTSIDER]))

    def test_signature_over_other_text_is_refused(self) -> None:
        with pytest.raises(ContactGroupError, match="does not sign the text of proposal P-00001"):
            self.approve(note.sign_note(self.p.text.replace("NSATU", "MALLORY"), [SIGNERS["DEU"][0]]))

    def test_duplicate_counts_once(self) -> None:
        signed = note.sign_note(self.p.text, [SIGNERS["DEU"][0]])
        self.approve(signed)
        with pytest.raises(ContactGroupError, match="DEU already approved P-00001"):
            self.approve(signed)

    def test_revoked_key_is_refused(self) -> None:
        apply(self.state, gov.revoke_key(self.state, self.ctx, SIGNERS["FRA"][0].verifier.text))
        with pytest.raises(ContactGroupError, match="FRA's key FRA-0 is revoked"):
            self.approve(note.sign_note(self.p.text, [SIGNERS["FRA"][0]]))

    def test_expired_proposal_takes_no_approvals(self) -> None:
        with pytest.raises(ContactGroupError, match="expired at 2024-07-31"):
            self.approve(note.sign_note(self.p.text, [SIGNERS["DEU"][0]]), at=START + timedelta(days=31))

    def test_one_note_may_carry_several_members_signatures(self) -> None:
        signed = note.sign_note(self.p.text, [SIGNERS[c][0] for c in ("DEU", "FRA", "GBR", "NLD")])
        self.approve(signed)
        assert self.state.proposals[self.p.id].status is ProposalStatus.EFFECTIVE
        handover = self.state.authority
        assert handover is not None and handover.name == "NSATU"

    def test_a_member_that_rotated_its_key_during_the_vote_approves_again(self) -> None:
        self.approve(note.sign_note(self.p.text, [SIGNERS["DEU"][0]]))
        apply(self.state, gov.register_key(self.state, self.ctx, "DEU", SIGNERS["DEU"][1].verifier.text,
                                           key_problems))
        apply(self.state, gov.revoke_key(self.state, self.ctx, SIGNERS["DEU"][0].verifier.text))
        assert gov.quorum(self.state, self.p).approved == ()  # its first approval is void...
        self.approve(note.sign_note(self.p.text, [SIGNERS["DEU"][1]]))  # ... so its new key may approve
        assert gov.quorum(self.state, self.p).approved == ("DEU",)
        with pytest.raises(ContactGroupError, match="DEU already approved P-00001"):
            self.approve(note.sign_note(self.p.text, [SIGNERS["DEU"][1]]))

    def test_the_quorum_is_counted_before_the_proposal_takes_effect(self) -> None:
        decision = gov.decide_approval(self.state, self.ctx, self.p.id, note.sign_note(
            self.p.text, [SIGNERS[c][0] for c in ("DEU", "FRA", "GBR", "NLD")] + [SIGNERS["POL"][1]]), verify)
        assert (len(decision.quorum.approved), decision.quorum.needed) == (4, 4)
        assert decision.quorum.refused == ()  # POL's second key is not registered: not a signer at all


def propose(state: State, kind: ProposalKind, payload: dict[str, object], at: datetime = START) -> Proposal:
    events = gov.propose(state, Context("admin", "IDCC", "IDCC", at), kind, payload, key_problems)
    apply(state, events)
    return state.proposals[events[0].data["id"]]


def approve_by(state: State, proposal: Proposal, *members: str) -> None:
    signed = note.sign_note(proposal.text, [SIGNERS[c][0] for c in members])
    apply(state, gov.approve(state, Context("admin", "IDCC", "IDCC", START), proposal.id, signed, verify))


def with_keys() -> State:
    state, ctx = founded()
    for code in MEMBERS:
        apply(state, gov.register_key(state, ctx, code, SIGNERS[code][0].verifier.text, key_problems))
    return state


HANDOVER = {"to": "NSATU", "users": ["nsatu-admin"], "log_key": NEW_LOG}


class TestProposalChecks:
    def test_the_new_log_key_must_be_named_for_the_log_origin(self) -> None:
        state = with_keys()
        wrong = note.generate_key("another.example/log")[1].text
        with pytest.raises(ValidationFailed, match="not for the log's origin 'log'"):
            propose(state, ProposalKind.HANDOVER, {**HANDOVER, "log_key": wrong})

    @pytest.mark.parametrize("days", [0, 3651, 100_000_000])
    def test_a_proposal_stays_open_one_to_3650_days(self, days: int) -> None:
        state = with_keys()
        with pytest.raises(ValidationFailed, match="expires"):
            gov.propose(state, Context("admin", "IDCC", "IDCC", START), ProposalKind.HANDOVER, HANDOVER,
                        key_problems, timedelta(days=days))

    def test_names_of_an_open_handover_are_reserved(self) -> None:
        state = with_keys()
        first = propose(state, ProposalKind.HANDOVER, HANDOVER)
        with pytest.raises(ValidationFailed, match=f"user name nsatu-admin is reserved by open proposal {first.id}"):
            propose(state, ProposalKind.HANDOVER, {**HANDOVER, "to": "OTHER"})
        with pytest.raises(ValidationFailed, match=f"NSATU is the new authority named by open proposal {first.id}"):
            propose(state, ProposalKind.ADMIT_MEMBER, {"code": "NSATU", "name": "x", "kind": "organisation",
                                                          "currency": "EUR", "nato": False, "eu": False})
        # Once it expired, the names are free again (and it can no longer take effect).
        assert gov.reserved(state, first.expires_at + timedelta(seconds=1)) == ({}, {})


class TestKeyNames:
    def test_name_and_id_are_split_on_the_first_two_plus_signs(self) -> None:
        signer = next(s for s in (note.generate_key("DEU-9")[0] for _ in range(500))
                      if "+" in s.verifier.text.split("+", 2)[2])
        key = signer.verifier.text
        assert gov.key_label(key) == f"DEU-9+{signer.key_id.hex()}"
        state, ctx = founded()
        apply(state, gov.register_key(state, ctx, "DEU", key, key_problems))
        (event,) = gov.revoke_key(state, ctx, gov.key_label(key))
        assert event.data["key"] == key
        apply(state, [event])
        with pytest.raises(ContactGroupError, match=re.escape(f"key {gov.key_label(key)} of DEU is already revoked")):
            gov.revoke_key(state, ctx, key)


class TestElectorate:
    def leadless(self) -> State:
        state = with_keys()
        apply(state, command.form_coalition(state, Context("admin", "IDCC", "IDCC", START),
                                            Coalition("air", "Air defence", ("USA",))))
        removal = propose(state, ProposalKind.REMOVE_MEMBER, {"code": "USA"})
        approve_by(state, removal, "DEU", "FRA", "GBR", "NLD")
        assert not state.members["USA"].active
        return state

    def test_a_coalition_without_active_leads_falls_back_to_the_member_quorum(self) -> None:
        state = self.leadless()
        change = propose(state, ProposalKind.CHANGE_LEAD, {"area": "air", "leads": ["POL"]})
        q = gov.quorum(state, change)
        assert (q.rule, q.needed, len(q.eligible)) == ("2/3", 4, 5) and "no active lead" in q.fallback
        approve_by(state, change, "DEU", "FRA", "GBR", "NLD")
        assert state.coalitions["air"].leads == ("POL",)

    def test_a_change_lead_for_a_new_area_forms_the_coalition(self) -> None:
        state = with_keys()
        with pytest.raises(ValidationFailed, match="give it a name to form it"):
            propose(state, ProposalKind.CHANGE_LEAD, {"area": "drones", "leads": ["POL"]})
        form = propose(state, ProposalKind.CHANGE_LEAD, {"area": "drones", "name": "Drones", "leads": ["POL"]})
        assert gov.quorum(state, form).needed == 4  # no lead yet: two thirds of the six members
        approve_by(state, form, "DEU", "FRA", "GBR", "NLD")
        assert state.coalitions["drones"] == Coalition("drones", "Drones", ("POL",))

    def test_open_proposals_are_settled_when_the_electorate_shrinks(self) -> None:
        state = with_keys()
        ctx = Context("admin", "IDCC", "IDCC", START)
        apply(state, command.form_coalition(state, ctx, Coalition("air", "Air defence", ("DEU", "FRA"))))
        change = propose(state, ProposalKind.CHANGE_LEAD, {"area": "air", "leads": ["POL"]})
        approve_by(state, change, "DEU")  # 1 of the 2 leads
        removal = propose(state, ProposalKind.REMOVE_MEMBER, {"code": "FRA"})
        approve_by(state, removal, "DEU", "GBR", "NLD", "USA")
        assert state.proposals[change.id].status is ProposalStatus.OPEN
        assert gov.quorum(state, change).met  # DEU is now the only lead, and approved
        apply(state, gov.settle(state, ctx))
        assert state.proposals[change.id].status is ProposalStatus.EFFECTIVE
        assert gov.settle(state, ctx) == []
