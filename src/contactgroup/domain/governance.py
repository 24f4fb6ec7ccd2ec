"""Governance: member keys, proposals that members approve by signature, and what a proposal does once its
quorum is met (hand over the coordinating authority, admit or remove a member, change a coalition's leads,
change a quorum rule). Signature checking is passed in, so this module stays pure.

A proposal's `text` is what members sign offline (a C2SP signed note over it); an approval counts only while
it is signed by an active key of an eligible, active member, before the proposal expires, once per member.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contactgroup.domain import command
from contactgroup.domain import model as m
from contactgroup.domain.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from contactgroup.domain.event import Context, Event
from contactgroup.domain.state import State, as_data
from contactgroup.ledger.canonical import canonical_bytes, plain

# (verifier key text, signed note) -> True if the note carries a valid signature by that key over its text
Verify = Callable[[str, str], bool]
# verifier key text -> its problems (empty if it is a well-formed Ed25519 verifier key)
KeyProblems = Callable[[str], list[Problem]]

DEFAULT_RULES: Mapping[m.ProposalKind, str] = {
    m.ProposalKind.HANDOVER: "2/3",
    m.ProposalKind.ADMIT_MEMBER: "2/3",
    m.ProposalKind.REMOVE_MEMBER: "2/3",
    m.ProposalKind.CHANGE_LEAD: "leads",
    m.ProposalKind.CHANGE_QUORUM: "2/3",
}
RULE = re.compile(r"^(all|leads|([1-9]\d*)/([1-9]\d*))$")
DEFAULT_LIFETIME = timedelta(days=30)
HEADER = "contactgroup governance proposal"


def rule_problems(rule: str) -> list[Problem]:
    match = RULE.match(rule)
    if not match or (match.group(2) and int(match.group(2)) > int(match.group(3))):
        return [Problem("rule", f"{rule!r} is not a quorum rule: use a fraction like 2/3 (at most 1), all, or leads")]
    return []


def rule_for(state: State, kind: m.ProposalKind) -> str:
    return state.setting(f"quorum:{kind.value}", DEFAULT_RULES[kind])


# --- keys --------------------------------------------------------------------------------------------------------


def register_key(state: State, ctx: Context, member: str, key: str, key_problems: KeyProblems) -> list[Event]:
    if member not in state.members:
        raise NotFound(f"no member {member!r}")
    problems = key_problems(key)
    if problems:
        raise ValidationFailed([Problem("key", p.message) for p in problems])
    if key in state.member_keys:
        raise Conflict(f"key {key.split('+')[0]}+{key.split('+')[1]} is already registered "
                       f"(for {state.member_keys[key].member})")
    return [ctx.event("MemberKeyRegistered", as_data(m.MemberKey(key, member, m.KeyStatus.ACTIVE, ctx.at)))]


def revoke_key(state: State, ctx: Context, key: str) -> list[Event]:
    found = state.member_keys.get(key) or next((k for k in state.member_keys.values()
                                                if k.key.rsplit("+", 1)[0] == key), None)
    if found is None:
        raise NotFound(f"no registered key {key!r} (give the verifier key, or its name+id)")
    if found.status is m.KeyStatus.REVOKED:
        raise Conflict(f"key {key} of {found.member} is already revoked")
    return [ctx.event("MemberKeyRevoked", {"key": found.key})]


# --- proposals ---------------------------------------------------------------------------------------------------


def _payload_problems(state: State, ctx: Context, kind: m.ProposalKind, payload: Mapping[str, Any],
                      key_problems: KeyProblems) -> list[Problem]:
    """What is wrong with a proposal's payload, checked when proposed and again when enacted."""
    p: list[Problem] = []
    try:
        if kind is m.ProposalKind.HANDOVER:
            authority = state.authority
            to, users, key = payload.get("to", ""), payload.get("users", []), payload.get("log_key", "")
            if not isinstance(to, str) or not to.strip():
                p.append(Problem("to", "name the new coordinating authority"))
            elif authority is not None and to == authority.name:
                p.append(Problem("to", f"{to} already chairs"))
            elif to in state.members or to == state.recipient:
                p.append(Problem("to", f"{to} is a member or the recipient; an authority has its own name"))
            if not isinstance(users, list) or not users:
                p.append(Problem("users", "name at least one coordinator user of the new authority"))
            else:
                for u in users:
                    if not isinstance(u, str) or not command.CODE.match(u):
                        p.append(Problem("users", f"{u!r} is not a valid user name"))
                    elif u in state.users:
                        p.append(Problem("users", f"user {u} already exists"))
            p.extend(Problem("log_key", x.message) for x in key_problems(key if isinstance(key, str) else ""))
        elif kind is m.ProposalKind.ADMIT_MEMBER:
            command.admit_member(state, ctx, m.Member(**{**payload, "kind": m.MemberKind(payload["kind"])}))
        elif kind is m.ProposalKind.REMOVE_MEMBER:
            member = state.members.get(payload["code"])
            if member is None or not member.active:
                p.append(Problem("code", f"{payload['code']!r} is not an active member"))
        elif kind is m.ProposalKind.CHANGE_LEAD:
            if payload["area"] not in state.coalitions:
                p.append(Problem("area", f"no capability coalition {payload['area']!r}"))
            leads = payload["leads"]
            if not leads or any(x not in state.members for x in leads):
                p.append(Problem("leads", f"{leads!r}: name one or more members"))
        elif kind is m.ProposalKind.CHANGE_QUORUM:
            m.ProposalKind(payload["kind"])
            p.extend(rule_problems(payload["rule"]))
    except (KeyError, TypeError) as exc:
        p.append(Problem("payload", f"missing or malformed field {exc}"))
    except ValueError as exc:
        p.append(Problem("payload", str(exc)))
    except (ValidationFailed, Conflict) as exc:
        p.extend([Problem("payload", str(exc))])
    return p


def proposal_text(origin: str, pid: str, kind: m.ProposalKind, expires_at: datetime, payload: str) -> str:
    """The exact text members sign: readable, one fact per line, ending in a newline."""
    return (f"{HEADER}\norigin {origin}\nid {pid}\nkind {kind.value}\nexpires {plain(expires_at)}\n"
            f"payload {payload}\n")


def propose(state: State, ctx: Context, kind: m.ProposalKind, payload: Mapping[str, Any],
            key_problems: KeyProblems, lifetime: timedelta = DEFAULT_LIFETIME) -> list[Event]:
    problems = _payload_problems(state, ctx, kind, payload, key_problems)
    if problems:
        raise ValidationFailed(problems)
    if lifetime <= timedelta(0):
        raise ValidationFailed([Problem("expires", "a proposal must stay open for some time")])
    pid = f"P-{len(state.proposals) + 1:05d}"
    body = canonical_bytes(payload).decode()
    expires = ctx.at + lifetime
    proposal = m.Proposal(pid, kind, body, proposal_text(state.setting("origin"), pid, kind, expires, body),
                          ctx.actor, ctx.at, expires, m.ProposalStatus.OPEN, rule_for(state, kind))
    return [ctx.event("ProposalMade", as_data(proposal))]


def withdraw(state: State, ctx: Context, pid: str) -> list[Event]:
    proposal = _proposal(state, pid)
    proposer = state.users.get(proposal.proposer)
    if ctx.actor != proposal.proposer and (proposer is None or proposer.party != ctx.party):
        raise Forbidden(f"only {proposal.proposer}'s party may withdraw {pid}")
    return [ctx.event("ProposalWithdrawn", {"id": pid})]


def _proposal(state: State, pid: str) -> m.Proposal:
    try:
        return state.proposals[pid]
    except KeyError:
        raise NotFound(f"no proposal {pid!r}") from None


# --- quorum ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quorum:
    rule: str
    eligible: frozenset[str]
    needed: int
    approved: tuple[str, ...]  # members whose approval counts now
    void: tuple[tuple[str, str], ...]  # (member, why its approval counts for nothing)

    @property
    def met(self) -> bool:
        return len(self.approved) >= self.needed

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(sorted(self.eligible - set(self.approved)))


def eligible(state: State, proposal: m.Proposal) -> frozenset[str]:
    active = {code for code, member in state.members.items() if member.active}
    if proposal.rule == "leads":
        if proposal.kind is m.ProposalKind.CHANGE_LEAD:
            area = json.loads(proposal.payload)["area"]
            leads = set(state.coalitions[area].leads) if area in state.coalitions else set()
        else:
            leads = {lead for c in state.coalitions.values() for lead in c.leads}
        return frozenset(leads & active)
    return frozenset(active)


def needed(rule: str, eligible_count: int) -> int:
    match = RULE.match(rule)
    if match is None or match.group(2) is None:
        return eligible_count  # all, leads
    return max(1, math.ceil(int(match.group(2)) * eligible_count / int(match.group(3))))


def quorum(state: State, proposal: m.Proposal, extra: tuple[m.Approval, ...] = ()) -> Quorum:
    voters = eligible(state, proposal)
    approved, void = [], []
    approvals = [a for a in state.approvals.values() if a.proposal == proposal.id] + list(extra)
    for a in sorted(approvals, key=lambda a: a.member):
        key = state.member_keys.get(a.signer)
        if a.member not in voters:
            void.append((a.member, "not among the members who decide this proposal"))
        elif key is None or key.status is not m.KeyStatus.ACTIVE:
            void.append((a.member, "signed with a key that has since been revoked"))
        else:
            approved.append(a.member)
    return Quorum(proposal.rule, voters, needed(proposal.rule, len(voters)), tuple(approved), tuple(void))


def approve(state: State, ctx: Context, pid: str, note: str, verify: Verify) -> list[Event]:
    """Record the approvals a signed note carries; if that meets the quorum, enact the proposal at once."""
    proposal = _proposal(state, pid)
    if proposal.status is not m.ProposalStatus.OPEN:
        raise Conflict(f"proposal {pid} is {proposal.status.value}; approvals count for nothing")
    if ctx.at > proposal.expires_at:
        raise Conflict(f"proposal {pid} expired at {plain(proposal.expires_at)}; approvals count for nothing")
    if not note.startswith(proposal.text + "\n"):
        raise ValidationFailed([Problem("approval", f"does not sign the text of proposal {pid} "
                                                    "(another proposal's, or altered)")])
    signers = [k for k in state.member_keys.values() if verify(k.key, note)]
    if not signers:
        raise Forbidden("no registered member key verifies this approval (forged, or signed with an "
                        "unregistered key): it counts for nothing")
    voters = eligible(state, proposal)
    new: list[m.Approval] = []
    refused: list[str] = []
    for key in sorted(signers, key=lambda k: k.member):
        name = key.key.split("+")[0]
        if key.status is not m.KeyStatus.ACTIVE:
            refused.append(f"{key.member}'s key {name} is revoked")
        elif not state.members[key.member].active:
            refused.append(f"{key.member} is no longer a member")
        elif key.member not in voters:
            refused.append(f"{key.member} is not among those who decide a {proposal.kind.value} "
                           f"under rule {proposal.rule}")
        elif f"{pid}/{key.member}" in state.approvals or any(a.member == key.member for a in new):
            refused.append(f"{key.member} already approved {pid}")
        else:
            new.append(m.Approval(f"{pid}/{key.member}", pid, key.member, key.key, note, ctx.at))
    if not new:
        raise Conflict("; ".join(refused) + ": the approval counts for nothing")
    events = [ctx.event("ProposalApproved", as_data(a)) for a in new]
    if quorum(state, proposal, tuple(new)).met:
        events += enact(state, ctx, proposal, tuple(new))
    return events


def enact(state: State, ctx: Context, proposal: m.Proposal, new: tuple[m.Approval, ...]) -> list[Event]:
    """The events a proposal produces once effective; the handover event carries every counted signature."""
    payload = json.loads(proposal.payload)
    problems = _payload_problems(state, ctx, proposal.kind, payload, lambda _key: [])
    if problems:  # the world changed since it was proposed (e.g. the user name was taken)
        raise ValidationFailed(problems)
    events = [ctx.event("ProposalEnacted", {"id": proposal.id})]
    if proposal.kind is m.ProposalKind.HANDOVER:
        counted = set(quorum(state, proposal, new).approved)
        notes = sorted({a.note for a in (*state.approvals.values(), *new)
                        if a.proposal == proposal.id and a.member in counted})
        outgoing = state.authority
        events.append(ctx.event("AuthorityHandedOver", {
            "proposal": proposal.id, "from": outgoing.name if outgoing else "", "to": payload["to"],
            "log_key": payload["log_key"], "approvals": notes}))
        events += [ctx.event("UserRegistered", as_data(m.User(u, payload["to"], m.Role.COORDINATOR)))
                   for u in payload["users"]]
        events.append(ctx.event("SettingChanged", {"name": "log_verifier_key", "value": payload["log_key"]}))
    elif proposal.kind is m.ProposalKind.ADMIT_MEMBER:
        events.append(ctx.event("MemberAdmitted", payload))
    elif proposal.kind is m.ProposalKind.REMOVE_MEMBER:
        events.append(ctx.event("MemberLeft", {"code": payload["code"]}))
    elif proposal.kind is m.ProposalKind.CHANGE_LEAD:
        events.append(ctx.event("CoalitionLeadsChanged", {"area": payload["area"], "leads": payload["leads"]}))
    else:
        events.append(ctx.event("SettingChanged", {"name": f"quorum:{payload['kind']}", "value": payload["rule"]}))
    return events
