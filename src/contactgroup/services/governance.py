"""Governance use cases: member keys, proposals, offline-signed approvals, and the authority's history.

Approvals are C2SP signed notes over a proposal's text, checked against the members' registered Ed25519 keys.
"""

from __future__ import annotations

import functools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from contactgroup.domain import governance as gov
from contactgroup.domain import model as m
from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.ledger import note
from contactgroup.services import ledger
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
    ledger.write_private_key(path, signer.text)
    return verifier.text


def sign_proposal(proposal_text: str, key_file: Path) -> str:
    """Offline: sign a proposal's text with a member's private key file; returns the approval (a signed note)."""
    signer = ledger.read_signer_key(key_file)
    if not proposal_text.startswith(gov.HEADER + "\n"):
        raise ValidationFailed([Problem("proposal", "is not a contactgroup governance proposal text")])
    return note.sign_note(proposal_text, [signer])


def register_key(uow: UnitOfWork, caller: Caller, member: str, key: str) -> m.MemberKey:
    ctx = authorized(uow, caller, "keys:manage", owner=member)
    record_events(uow, gov.register_key(uow.state, ctx, member, key.strip(), key_problems))
    return uow.state.member_keys[key.strip()]


def revoke_key(uow: UnitOfWork, caller: Caller, key: str) -> m.MemberKey:
    found = next((k for k in uow.state.member_keys.values() if key.strip() in (k.key, k.key.rsplit("+", 1)[0])),
                 None)
    ctx = authorized(uow, caller, "keys:manage", owner=found.member if found else None)
    (event,) = record_events(uow, gov.revoke_key(uow.state, ctx, key.strip()))
    return uow.state.member_keys[event.data["key"]]


def propose(uow: UnitOfWork, caller: Caller, kind: m.ProposalKind, payload: dict[str, Any],
            days: int = gov.DEFAULT_LIFETIME.days) -> m.Proposal:
    ctx = authorized(uow, caller, "governance:propose")
    (event,) = record_events(uow, gov.propose(uow.state, ctx, kind, payload, key_problems, timedelta(days=days)))
    return uow.state.proposals[event.data["id"]]


def approve(uow: UnitOfWork, caller: Caller, pid: str, signed: str) -> gov.Quorum:
    ctx = authorized(uow, caller, "governance:approve")
    record_events(uow, gov.approve(uow.state, ctx, pid, signed, verify))
    return gov.quorum(uow.state, uow.state.proposals[pid])


def withdraw(uow: UnitOfWork, caller: Caller, pid: str) -> m.Proposal:
    ctx = authorized(uow, caller, "governance:propose")
    record_events(uow, gov.withdraw(uow.state, ctx, pid))
    return uow.state.proposals[pid]


def payload_summary(proposal: m.Proposal) -> str:
    p = json.loads(proposal.payload)
    match proposal.kind:
        case m.ProposalKind.HANDOVER:
            return f"hand the coordinating authority to {p['to']} (coordinators: {', '.join(p['users'])})"
        case m.ProposalKind.ADMIT_MEMBER:
            return f"admit {p['code']} ({p['name']})"
        case m.ProposalKind.REMOVE_MEMBER:
            return f"remove {p['code']}"
        case m.ProposalKind.CHANGE_LEAD:
            return f"leads of {p['area']} become {', '.join(p['leads'])}"
        case _:
            return f"quorum for {p['kind']} becomes {p['rule']}"
