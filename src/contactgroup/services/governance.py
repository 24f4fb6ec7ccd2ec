"""Governance use cases: member keys, proposals, offline-signed approvals, and the authority's history.

Approvals are C2SP signed notes over a proposal's text, checked against the members' registered Ed25519 keys.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from contactgroup.domain import governance as gov
from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.domain.event import Event
from contactgroup.domain.model import Authority, KeyStatus, MemberKey, Proposal, ProposalKind, ProposalStatus
from contactgroup.domain.state import State
from contactgroup.ledger import handover, note
from contactgroup.services import key_files, log_keys, queries
from contactgroup.services.coordination import Caller, authorized, record_events
from contactgroup.storage.database import UnitOfWork


def key_problems(text: str) -> list[Problem]:
    try:
        note.parse_verifier_key(text)
    except ContactGroupError as exc:
        return [Problem("key", str(exc))]
    return []


@functools.lru_cache(maxsize=4096)
def _verifier(text: str) -> note.VerifierKey:
    return note.parse_verifier_key(text)


def verify(key_text: str, signed: str) -> bool:
    try:
        return note.verify_note(signed, _verifier(key_text))
    except ContactGroupError:
        return False


def generate_key_file(name: str, path: Path) -> str:
    """Write a new private key to `path` (mode 0600, never overwritten) and return its verifier key text."""
    signer, verifier = note.generate_key(name)
    key_files.write_private_key(path, signer.text)
    return verifier.text


def sign_proposal(proposal_text: str, key_file: Path) -> str:
    """Offline: sign a proposal's text with a member's private key file; returns the approval (a signed note)."""
    try:
        signer = key_files.read_signer_key(key_file)
    except ValidationFailed:
        text = key_file.read_text(encoding="utf-8", errors="replace").strip()
        if not key_problems(text):
            raise ValidationFailed([Problem("key", f"{key_file} is a verifier (public) key: sign with the private "
                                                   "key file (from `contactgroup keys generate --out`)")]) from None
        raise
    if not proposal_text.startswith(gov.HEADER + "\n"):
        raise ValidationFailed([Problem("proposal", "is not a contactgroup governance proposal text")])
    return note.sign_note(proposal_text, [signer])


def register_key(uow: UnitOfWork, caller: Caller, member: str, key: str) -> MemberKey:
    ctx = authorized(uow, caller, "keys:manage", owner=member)
    record_events(uow, gov.register_key(uow.state, ctx, member, key.strip(), key_problems))
    return uow.state.member_keys[key.strip()]


def revoke_key(uow: UnitOfWork, caller: Caller, key: str) -> MemberKey:
    found = next((k for k in uow.state.member_keys.values() if key.strip() in (k.key, gov.key_label(k.key))),
                 None)
    ctx = authorized(uow, caller, "keys:manage", owner=found.member if found else None)
    (event,) = record_events(uow, gov.revoke_key(uow.state, ctx, key.strip()))
    return uow.state.member_keys[event.data["key"]]


def propose(uow: UnitOfWork, caller: Caller, kind: ProposalKind, payload: dict[str, Any],
            days: int = gov.DEFAULT_LIFETIME.days) -> Proposal:
    ctx = authorized(uow, caller, "governance:propose")
    if not 1 <= days <= gov.MAX_LIFETIME_DAYS:
        raise ValidationFailed([Problem("days", f"{days}: a proposal stays open 1 to {gov.MAX_LIFETIME_DAYS} days")])
    (event,) = record_events(uow, gov.propose(uow.state, ctx, kind, payload, key_problems, timedelta(days=days)))
    return uow.state.proposals[event.data["id"]]


def approve(uow: UnitOfWork, caller: Caller, pid: str, signed: str) -> gov.Quorum:
    """Hand in a signed approval. Returns the quorum as it stood when this approval was counted (before the
    proposal, if now effective, changed who decides), with the co-signers whose signature counted for nothing.
    An enactment that changes who decides re-evaluates every other open proposal in the same transaction."""
    ctx = authorized(uow, caller, "governance:approve")
    decision = gov.decide_approval(uow.state, ctx, pid, signed, verify)
    record_events(uow, decision.events)
    if uow.state.proposals[pid].status is ProposalStatus.EFFECTIVE:
        while more := gov.settle(uow.state, ctx):
            record_events(uow, more)
    return decision.quorum


def withdraw(uow: UnitOfWork, caller: Caller, pid: str) -> Proposal:
    ctx = authorized(uow, caller, "governance:withdraw")
    record_events(uow, gov.withdraw(uow.state, ctx, pid))
    return uow.state.proposals[pid]


def payload_summary(proposal: Proposal) -> str:
    p = json.loads(proposal.payload)
    match proposal.kind:
        case ProposalKind.HANDOVER:
            return f"hand the coordinating authority to {p['to']} (coordinators: {', '.join(p['users'])})"
        case ProposalKind.ADMIT_MEMBER:
            return f"admit {p['code']} ({p['name']})"
        case ProposalKind.REMOVE_MEMBER:
            return f"remove {p['code']}"
        case ProposalKind.CHANGE_LEAD:
            if p.get("name"):
                return f"form capability coalition {p['area']} ({p['name']}) led by {', '.join(p['leads'])}"
            return f"leads of {p['area']} become {', '.join(p['leads'])}"
        case _:
            return f"quorum for {p['kind']} becomes {p['rule']}"


@dataclass(frozen=True, slots=True)
class Term:
    """A coordinating authority's term and what started it (the founding, or a handover proposal)."""

    authority: str
    since: datetime
    until: datetime | None
    by: str


def terms(state: State) -> list[Term]:
    """Every coordinating authority's term, the first first; the last, without `until`, chairs now."""
    return [Term(a.name, a.since, a.until, term_origin(state, a)) for a in queries.authorities(state)]


def term_origin(state: State, term: Authority) -> str:
    """What started an authority's term: the handover proposal enacted at its start, or the founding."""
    handovers = [p for p in state.proposals.values()
                 if p.kind is ProposalKind.HANDOVER and p.status is ProposalStatus.EFFECTIVE
                 and json.loads(p.payload).get("to") == term.name]
    # Enacted with (or right after) its last approval: the latest such handover approved by the term's start.
    last = {p.id: max((a.approved_at for a in state.approvals.values() if a.proposal == p.id), default=None)
            for p in handovers}
    started = [(at, pid) for pid, at in last.items() if at is not None and at <= term.since]
    if started:
        return f"handover {max(started)[1]}"
    return "founding" if not handovers else ""


# --- the record's governance, checked by `verify` -----------------------------------------------------------------


def _member_keys_at(state: State, proposal: Proposal, tainted: set[str]) -> handover.MemberKeys:
    """The keys the log held for the members who decide `proposal` at this point (less those registered against
    the rules), and its quorum as a share."""
    voters, rule, _ = gov.electorate(state, proposal)
    keys: dict[str, list[note.VerifierKey]] = {}
    for k in state.member_keys.values():
        if k.status is KeyStatus.ACTIVE and k.member in voters and k.key not in tainted:
            keys.setdefault(k.member, []).append(_verifier(k.key))
    num, _, den = rule.partition("/")
    share = (int(num), int(den)) if num.isdigit() and den.isdigit() else (1, 1)  # all, leads: every one of them
    return handover.MemberKeys({c: tuple(v) for c, v in keys.items()}, *share, electorate=len(voters))


class GovernanceCheck:
    """Finds, while the log is replayed, every authority handover that does not carry a quorum of member signatures
    over its proposal's text — by the keys the log held for the deciding members at that point, under the
    proposal's rule — every change of the log key not named by such a handover just before, and every user, key,
    admission or coalition the governance rules would have refused. The same check a witness makes
    (`ledger.handover.approvers`), applied to the log itself. Feed it each event with the state just before it."""

    def __init__(self) -> None:
        self.findings: list[tuple[int, str]] = []  # (event index, what is wrong)
        self._used: set[str] = set()  # proposals a handover was made on: each makes one
        self._approved_key = ""  # the log key the handover just checked made legitimate, until it is set
        self._tainted: set[str] = set()  # users, then keys, registered against the rules: their signatures do not count
        self._previous = ""  # the type of the event before

    def see(self, state: State, seq: int, event: Event, body: bytes) -> None:
        breach = _rule_breach(state, event, self._previous, self._tainted)
        if breach:
            self.findings.append((seq, breach))
        self._previous = event.type
        if event.type == "AuthorityHandedOver":
            problem = _handover_finding(state, json.loads(body), self._used, self._tainted)
            self._approved_key = "" if problem else str(event.data.get("log_key", ""))
            if problem:
                self.findings.append((seq, f"authority handed over to {event.data.get('to')!r} without a valid "
                                           f"quorum: {problem}"))
        elif event.type == "SettingChanged" and event.data.get("name") == log_keys.LOG_KEY_SETTING:
            value, current = str(event.data.get("value", "")), state.setting(log_keys.LOG_KEY_SETTING)
            if current and value != current and value != self._approved_key:
                self.findings.append((seq, f"the log key changed to {value} without a quorum-approved handover "
                                           f"naming it"))
            self._approved_key = ""


def _rule_breach(state: State, event: Event, previous: str, tainted: set[str]) -> str:
    """What the governance rules (`services.access`) would have refused, found in the log after the fact."""
    if not gov.in_force(state):
        return ""
    data = event.data
    if event.type in ("MemberAdmitted", "CoalitionFormed") and previous != "ProposalEnacted":
        what = f"member {data.get('code')}" if event.type == "MemberAdmitted" else f"coalition {data.get('area')}"
        return f"{what} created by {event.actor} ({event.party}) without a proposal, while governance was in force"
    if event.type == "UserRegistered":
        party = str(data.get("party", ""))
        if (party in state.members and event.party != party
                and any(u.party == party for u in state.users.values())):
            tainted.add(str(data.get("name")))
            return (f"user {data.get('name')} registered for {party} by {event.actor} ({event.party}), although "
                    f"{party} had users of its own and governance was in force")
    if event.type == "MemberKeyRegistered" and event.actor in tainted:
        tainted.add(str(data.get("key")))
        return (f"key {gov.key_label(str(data.get('key')))} registered for {data.get('member')} through "
                f"{event.actor}, a user the rules did not allow: its signatures do not count")
    return ""


def _handover_finding(state: State, event: dict[str, Any], used: set[str], tainted: set[str]) -> str:
    data = event.get("data") or {}
    proposal = state.proposals.get(str(data.get("proposal", "")))
    if proposal is None or proposal.kind is not ProposalKind.HANDOVER:
        return f"it names {data.get('proposal')!r}, which is no handover proposal in the log"
    if proposal.id in used:
        return f"proposal {proposal.id} already made an earlier handover"
    used.add(proposal.id)
    if proposal.status is ProposalStatus.WITHDRAWN:
        return f"its proposal {proposal.id} was withdrawn"
    if "proposal_text" not in data:  # written before handover events carried it: the log holds the text
        event = {**event, "data": {**data, "proposal_text": proposal.text}}
    elif data.get("proposal_text") != proposal.text:
        return f"the proposal text it carries is not that of {proposal.id} in the log"
    try:
        new_key = _verifier(str(data.get("log_key", "")))
    except ContactGroupError as exc:
        return f"its log key cannot be read: {exc}"
    members = _member_keys_at(state, proposal, tainted)
    found, problems = handover.approvers(event, state.setting("origin"), new_key, members)
    if problems:
        return "; ".join(problems)
    if len(found) < members.needed:
        return (f"{len(found)} member signatures by the keys registered then, {members.needed} needed "
                f"(rule {proposal.rule}, {members.electorate} members decide)")
    return ""
