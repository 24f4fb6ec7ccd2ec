"""Governance: member keys, proposals that members approve by signature, and what a proposal does once its
quorum is met (hand over the coordinating authority, admit or remove a member, change a coalition's leads,
change a quorum rule). Signature checking is passed in, so this module stays pure.

A proposal's `text` is what members sign offline (a C2SP signed note over it); an approval counts only while
it is signed by an active key of an eligible, active member, before the proposal expires, once per member.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contactgroup.domain import command, text
from contactgroup.domain.errors import Conflict, ContactGroupError, Forbidden, NotFound, Problem, ValidationFailed
from contactgroup.domain.event import Context, Event
from contactgroup.domain.model import (
    Approval,
    Coalition,
    KeyStatus,
    Member,
    MemberKey,
    MemberKind,
    Proposal,
    ProposalKind,
    ProposalStatus,
    Role,
    User,
)
from contactgroup.domain.state import State, as_data
from contactgroup.encoding.canonical import canonical_bytes, plain

# (verifier key text, signed note) -> True if the note carries a valid signature by that key over its text
Verify = Callable[[str, str], bool]
# verifier key text -> its problems (empty if it is a well-formed Ed25519 verifier key)
KeyProblems = Callable[[str], list[Problem]]

DEFAULT_RULES: Mapping[ProposalKind, str] = {
    ProposalKind.HANDOVER: "2/3",
    ProposalKind.ADMIT_MEMBER: "2/3",
    ProposalKind.REMOVE_MEMBER: "2/3",
    ProposalKind.CHANGE_LEAD: "leads",
    ProposalKind.CHANGE_QUORUM: "2/3",
}
RULE = re.compile(r"(all|leads|([1-9][0-9]*)/([1-9][0-9]*))")  # fullmatch: no trailing newline, ASCII digits
# A `leads` vote with no active lead to decide it (a coalition whose leads all left, or one not yet formed)
# falls back to this share of the active members, so that it can never be stuck at "0 of 0".
LEADLESS_RULE = "2/3"
DEFAULT_LIFETIME = timedelta(days=30)
MAX_LIFETIME_DAYS = 3650
HEADER = "contactgroup governance proposal"


def key_label(key: str) -> str:
    """`name+hexid` of a verifier key `name+hexid+base64`: split on the first two '+', as the base64 may hold
    '+' itself."""
    return "+".join(key.split("+", 2)[:2])


def in_force(state: State) -> bool:
    """Governance is in force once a member key has ever been registered (revoked keys included, so revoking
    keys never switches it off). From then on members are admitted, and coalitions formed, only by proposal,
    and a member's users are added by its own desk officers (see `services.access`)."""
    return bool(state.member_keys)


def is_open(proposal: Proposal, at: datetime) -> bool:
    return proposal.status is ProposalStatus.OPEN and at <= proposal.expires_at


def reserved(state: State, at: datetime, *, excluding: str = "") -> tuple[dict[str, str], dict[str, str]]:
    """(user names as `command.name_key` reads them, party names) that open handover proposals will create, each
    mapped to the proposal: nobody may register them (or names too like them) meanwhile, so the enactment can
    never fail on them."""
    users: dict[str, str] = {}
    parties: dict[str, str] = {}
    for p in sorted(state.proposals.values(), key=lambda p: p.id):
        if p.kind is ProposalKind.HANDOVER and p.id != excluding and is_open(p, at):
            payload = json.loads(p.payload)
            for u in payload.get("users", []):
                users.setdefault(command.name_key(str(u)), p.id)
            parties.setdefault(str(payload.get("to", "")), p.id)
    return users, parties


def rule_problems(rule: str) -> list[Problem]:
    match = RULE.fullmatch(rule)
    if not match or (match.group(2) and int(match.group(2)) > int(match.group(3))):
        return [Problem("rule", f"{rule!r} is not a quorum rule: use a fraction like 2/3 (at most 1), all, or leads")]
    return []


def rule_for(state: State, kind: ProposalKind) -> str:
    rule = state.quorum_rules.get(kind.value)
    return rule.rule if rule else DEFAULT_RULES[kind]


# --- keys --------------------------------------------------------------------------------------------------------


def register_key(state: State, ctx: Context, member: str, key: str, key_problems: KeyProblems) -> list[Event]:
    if member not in state.members:
        raise NotFound(f"no member {member!r}")
    problems = key_problems(key)
    if problems:
        raise ValidationFailed([Problem("key", p.message) for p in problems])
    if key in state.member_keys:
        raise Conflict(f"key {key_label(key)} is already registered (for {state.member_keys[key].member})")
    return [ctx.event("MemberKeyRegistered", as_data(MemberKey(key, member, KeyStatus.ACTIVE, ctx.at)))]


def revoke_key(state: State, ctx: Context, key: str) -> list[Event]:
    found = state.member_keys.get(key) or next((k for k in state.member_keys.values()
                                                if key_label(k.key) == key), None)
    if found is None:
        raise NotFound(f"no registered key {key!r} (give the verifier key, or its name+id)")
    if found.status is KeyStatus.REVOKED:
        raise Conflict(f"key {key_label(found.key)} of {found.member} is already revoked")
    return [ctx.event("MemberKeyRevoked", {"key": found.key})]


# --- proposals ---------------------------------------------------------------------------------------------------


def _payload_problems(state: State, ctx: Context, kind: ProposalKind, payload: Mapping[str, Any],
                      key_problems: KeyProblems, own: str = "") -> list[Problem]:
    """What is wrong with a proposal's payload, checked when proposed and again when enacted (`own`: the
    proposal being enacted, whose own reservations do not count against it)."""
    p: list[Problem] = []
    users_reserved, parties_reserved = reserved(state, ctx.at, excluding=own)
    try:
        if kind is ProposalKind.HANDOVER:
            authority = state.authority
            to, users, key = payload.get("to", ""), payload.get("users", []), payload.get("log_key", "")
            if not isinstance(to, str) or not to.strip():
                p.append(Problem("to", "name the new coordinating authority"))
            elif authority is not None and to == authority.name:
                p.append(Problem("to", f"{to} already chairs"))
            elif to in state.members or to == state.recipient:
                p.append(Problem("to", f"{to} is a member or the recipient; an authority has its own name"))
            else:
                p.extend(text.name_problems("to", to))
            if not isinstance(users, list) or not users:
                p.append(Problem("users", "name at least one coordinator user of the new authority"))
            else:
                for u in users:
                    if not isinstance(u, str) or not command.CODE.fullmatch(u):
                        p.append(Problem("users", f"{u!r} is not a valid user name"))
                    elif (existing := command.look_alike(state, u)) is not None:
                        p.append(Problem("users", f"user {u} already exists" if existing == u else
                                                  f"user {u} is too like the existing user {existing}"))
                    elif command.name_key(u) in users_reserved:
                        p.append(Problem("users", f"user name {u} is reserved by open proposal "
                                                  f"{users_reserved[command.name_key(u)]}"))
            key_text = key if isinstance(key, str) else ""
            key_found = key_problems(key_text)
            p.extend(Problem("log_key", x.message) for x in key_found)
            origin = state.setting("origin")
            if not key_found and key_text.split("+", 1)[0] != origin:
                p.append(Problem("log_key", f"the log key is named {key_text.split('+', 1)[0]!r}, not for the "
                                            f"log's origin {origin!r}: make a key named {origin!r}"))
        elif kind is ProposalKind.ADMIT_MEMBER:
            command.admit_member(state, ctx, Member(**{**payload, "kind": MemberKind(payload["kind"])}))
            if payload["code"] in parties_reserved:
                p.append(Problem("code", f"{payload['code']} is the new authority named by open proposal "
                                         f"{parties_reserved[payload['code']]}"))
        elif kind is ProposalKind.REMOVE_MEMBER:
            member = state.members.get(payload["code"])
            if member is None or not member.active:
                p.append(Problem("code", f"{payload['code']!r} is not an active member"))
        elif kind is ProposalKind.CHANGE_LEAD:
            area = payload["area"]
            if area not in state.coalitions:  # forms the coalition: once governance is in force, the only way
                if not isinstance(area, str) or not command.CODE.fullmatch(area):
                    p.append(Problem("area", f"{area!r} is not a valid code"))
                if not str(payload.get("name") or "").strip():
                    p.append(Problem("area", f"no capability coalition {area!r}: give it a name to form it"))
                p.extend(text.name_problems("name", str(payload.get("name") or "")))
            leads = payload["leads"]
            if (not isinstance(leads, list) or not leads
                    or any(x not in state.members or not state.members[x].active for x in leads)):
                p.append(Problem("leads", f"{leads!r}: name one or more active members"))
        elif kind is ProposalKind.CHANGE_QUORUM:
            ProposalKind(payload["kind"])
            p.extend(rule_problems(payload["rule"]))
    except (KeyError, TypeError) as exc:
        p.append(Problem("payload", f"missing or malformed field {exc}"))
    except ValueError as exc:
        p.append(Problem("payload", str(exc)))
    except (ValidationFailed, Conflict) as exc:
        p.extend([Problem("payload", str(exc))])
    return p


def proposal_text(origin: str, pid: str, kind: ProposalKind, expires_at: datetime, payload: str) -> str:
    """The exact text members sign: readable, one fact per line, ending in a newline."""
    return (f"{HEADER}\norigin {origin}\nid {pid}\nkind {kind.value}\nexpires {plain(expires_at)}\n"
            f"payload {payload}\n")


def propose(state: State, ctx: Context, kind: ProposalKind, payload: Mapping[str, Any],
            key_problems: KeyProblems, lifetime: timedelta = DEFAULT_LIFETIME) -> list[Event]:
    problems = _payload_problems(state, ctx, kind, payload, key_problems)
    if problems:
        raise ValidationFailed(problems)
    if lifetime <= timedelta(0):
        raise ValidationFailed([Problem("expires", "a proposal must stay open for some time")])
    if lifetime > timedelta(days=MAX_LIFETIME_DAYS):
        raise ValidationFailed([Problem("expires", f"a proposal stays open at most {MAX_LIFETIME_DAYS} days")])
    pid = f"P-{len(state.proposals) + 1:05d}"
    body = canonical_bytes(payload).decode()
    expires = ctx.at + lifetime
    proposal = Proposal(pid, kind, body, proposal_text(state.setting("origin"), pid, kind, expires, body),
                          ctx.actor, ctx.at, expires, ProposalStatus.OPEN, rule_for(state, kind))
    return [ctx.event("ProposalMade", as_data(proposal))]


def withdraw(state: State, ctx: Context, pid: str) -> list[Event]:
    proposal = _proposal(state, pid)
    proposer = state.users.get(proposal.proposer)
    if ctx.actor != proposal.proposer and (proposer is None or proposer.party != ctx.party):
        raise Forbidden(f"only {proposal.proposer}'s party may withdraw {pid}")
    return [ctx.event("ProposalWithdrawn", {"id": pid})]


def _proposal(state: State, pid: str) -> Proposal:
    try:
        return state.proposals[pid]
    except KeyError:
        raise NotFound(f"no proposal {pid!r}") from None


# --- quorum ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quorum:
    rule: str  # the rule applied now: the proposal's, or LEADLESS_RULE when a `leads` vote has no active lead
    eligible: frozenset[str]
    needed: int
    approved: tuple[str, ...]  # members whose approval counts now
    void: tuple[tuple[str, str], ...]  # (member, why its approval counts for nothing)
    refused: tuple[str, ...] = ()  # co-signers of a note just handed in whose signature counted for nothing
    fallback: str = ""  # why the rule applied differs from the proposal's

    @property
    def met(self) -> bool:
        return len(self.approved) >= self.needed

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(sorted(self.eligible - set(self.approved)))


def electorate(state: State, proposal: Proposal) -> tuple[frozenset[str], str, str]:
    """(the members who decide `proposal` now, the rule applied, why it differs from the proposal's rule).

    Counted afresh each time, so a member that leaves stops counting at once, and a `leads` vote without any
    active lead is decided by LEADLESS_RULE of the active members instead of being stuck."""
    active = frozenset(code for code, member in state.members.items() if member.active)
    if proposal.rule == "leads":
        if proposal.kind is ProposalKind.CHANGE_LEAD:
            area = json.loads(proposal.payload)["area"]
            leads = set(state.coalitions[area].leads) if area in state.coalitions else set()
        else:
            leads = {lead for c in state.coalitions.values() for lead in c.leads}
        if leads & active:
            return frozenset(leads & active), "leads", ""
        return active, LEADLESS_RULE, f"no active lead decides it: {LEADLESS_RULE} of the members do"
    return active, proposal.rule, ""


def eligible(state: State, proposal: Proposal) -> frozenset[str]:
    return electorate(state, proposal)[0]


def needed(rule: str, eligible_count: int) -> int:
    match = RULE.fullmatch(rule)
    if match is None or match.group(2) is None:
        return eligible_count  # all, leads
    return max(1, math.ceil(int(match.group(2)) * eligible_count / int(match.group(3))))


def quorum(state: State, proposal: Proposal, extra: tuple[Approval, ...] = ()) -> Quorum:
    voters, rule, fallback = electorate(state, proposal)
    approved, void = [], []
    latest = {a.member: a for a in state.approvals.values() if a.proposal == proposal.id}
    latest.update({a.member: a for a in extra})  # a new approval replaces a member's void one
    for a in sorted(latest.values(), key=lambda a: a.member):
        key = state.member_keys.get(a.signer)
        if a.member not in voters:
            void.append((a.member, "not among the members who decide this proposal"))
        elif key is None or key.status is not KeyStatus.ACTIVE:
            void.append((a.member, "signed with a key that has since been revoked"))
        else:
            approved.append(a.member)
    return Quorum(rule, voters, needed(rule, len(voters)), tuple(approved), tuple(void), fallback=fallback)


@dataclass(frozen=True, slots=True)
class Decision:
    """What handing in an approval does: the events to record, and the quorum as it stands with them."""

    events: list[Event]
    quorum: Quorum


def decide_approval(state: State, ctx: Context, pid: str, note: str, verify: Verify) -> Decision:
    """Record the approvals a signed note carries; if that meets the quorum, enact the proposal at once."""
    proposal = _proposal(state, pid)
    if proposal.status is not ProposalStatus.OPEN:
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
    before = quorum(state, proposal)
    counting = set(before.approved)  # only approvals that still count make a second one a duplicate
    new: list[Approval] = []
    refused: list[str] = []
    for key in sorted(signers, key=lambda k: k.member):
        name = key_label(key.key).split("+")[0]
        if key.status is not KeyStatus.ACTIVE:
            refused.append(f"{key.member}'s key {name} is revoked")
        elif not state.members[key.member].active:
            refused.append(f"{key.member} is no longer a member")
        elif key.member not in before.eligible:
            refused.append(f"{key.member} is not among those who decide a {proposal.kind.value} "
                           f"under rule {before.rule}")
        elif key.member in counting or any(a.member == key.member for a in new):
            refused.append(f"{key.member} already approved {pid}")
        else:
            new.append(Approval(f"{pid}/{key.member}", pid, key.member, key.key, note, ctx.at))
    if not new:
        raise Conflict("; ".join(refused) + ": the approval counts for nothing")
    events = [ctx.event("ProposalApproved", as_data(a)) for a in new]
    after = quorum(state, proposal, tuple(new))
    if after.met:
        events += enact(state, ctx, proposal, tuple(new))
    return Decision(events, dataclasses.replace(after, refused=tuple(refused)))


def approve(state: State, ctx: Context, pid: str, note: str, verify: Verify) -> list[Event]:
    return decide_approval(state, ctx, pid, note, verify).events


def settle(state: State, ctx: Context) -> list[Event]:
    """After a decision changed who decides (a member left, a coalition's leads changed): the enactment of the
    first open proposal whose quorum its existing approvals now meet, or nothing. Call until it returns
    nothing; each call enacts at most one proposal, so this ends."""
    for proposal in sorted(state.proposals.values(), key=lambda p: p.id):
        if is_open(proposal, ctx.at) and quorum(state, proposal).met:
            try:
                return enact(state, ctx, proposal, ())
            except ContactGroupError:
                continue  # cannot take effect any more (e.g. the world changed); it stays open, then expires
    return []


def enact(state: State, ctx: Context, proposal: Proposal, new: tuple[Approval, ...]) -> list[Event]:
    """The events a proposal produces once effective. The handover event carries the proposal's exact text and
    every counted signature, so that a witness can check each note signs that text (see `ledger.handover`)."""
    payload = json.loads(proposal.payload)
    problems = _payload_problems(state, ctx, proposal.kind, payload, lambda _key: [], own=proposal.id)
    if problems:  # the world changed since it was proposed (e.g. the member it names left)
        raise ValidationFailed(problems)
    events = [ctx.event("ProposalEnacted", {"id": proposal.id})]
    if proposal.kind is ProposalKind.HANDOVER:
        counted = set(quorum(state, proposal, new).approved)
        latest = {a.member: a for a in state.approvals.values() if a.proposal == proposal.id}
        latest.update({a.member: a for a in new})
        notes = sorted({a.note for a in latest.values() if a.member in counted})
        outgoing = state.authority
        events.append(ctx.event("AuthorityHandedOver", {
            "proposal": proposal.id, "from": outgoing.name if outgoing else "", "to": payload["to"],
            "log_key": payload["log_key"], "proposal_text": proposal.text, "approvals": notes}))
        events += [ctx.event("UserRegistered", as_data(User(u, payload["to"], Role.COORDINATOR)))
                   for u in payload["users"]]
        events.append(ctx.event("SettingChanged", {"name": "log_verifier_key", "value": payload["log_key"]}))
    elif proposal.kind is ProposalKind.ADMIT_MEMBER:
        events.append(ctx.event("MemberAdmitted", payload))
    elif proposal.kind is ProposalKind.REMOVE_MEMBER:
        events.append(ctx.event("MemberLeft", {"code": payload["code"]}))
    elif proposal.kind is ProposalKind.CHANGE_LEAD:
        if payload["area"] in state.coalitions:
            events.append(ctx.event("CoalitionLeadsChanged", {"area": payload["area"], "leads": payload["leads"]}))
        else:
            events.append(ctx.event("CoalitionFormed", as_data(
                Coalition(payload["area"], payload["name"], tuple(payload["leads"])))))
    else:
        events.append(ctx.event("QuorumRuleSet", {"decision": payload["kind"], "rule": payload["rule"]}))
    return events
