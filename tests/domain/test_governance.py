"""Governance in the pure core: a proposal is effective exactly when its quorum of valid, distinct, unrevoked
signatures exists — checked by a Hypothesis state machine with real Ed25519 signatures."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from contactgroup.domain import command
from contactgroup.domain import governance as gov
from contactgroup.domain import model as m
from contactgroup.domain.errors import ContactGroupError, Forbidden
from contactgroup.domain.event import Context, Event, evolve
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
        for e in command.admit_member(state, ctx, m.Member(code, code, m.MemberKind.NATION, "EUR")):
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
        events = gov.propose(self.state, self.at(), m.ProposalKind.HANDOVER,
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
        should_count = (not forged and self.registered.get(key, False) and member not in self.counted
                        and proposal.status is m.ProposalStatus.OPEN and self.now <= proposal.expires_at)
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
            assert self.state.proposals[self.proposal].status is not m.ProposalStatus.OPEN

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
        if proposal.status is m.ProposalStatus.EFFECTIVE:
            assert self.state.authority is not None and self.state.authority.name == "NSATU"
            assert self.state.setting("log_verifier_key") == NEW_LOG
        else:
            assert self.state.authority is not None and self.state.authority.name == "IDCC"
            if proposal.status is m.ProposalStatus.OPEN:
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
        events = gov.propose(self.state, self.ctx, m.ProposalKind.HANDOVER,
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
        assert self.state.proposals[self.p.id].status is m.ProposalStatus.EFFECTIVE
        handover = self.state.authority
        assert handover is not None and handover.name == "NSATU"
