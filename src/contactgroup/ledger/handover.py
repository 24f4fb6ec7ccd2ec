"""How a witness moves to a new log key without trusting either authority: the handover event, proven to be
in the tree, must carry approvals of that very key signed by a quorum of members whose keys the witness holds.

The witness then still requires the new key's checkpoints to be consistent with everything it cosigned under
the old key, so a new authority cannot rewrite the history it inherits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint
from contactgroup.ledger.merkle import leaf_hash, verify_inclusion
from contactgroup.ledger.note import VerifierKey, parse_note, parse_verifier_key, verify_note

PROPOSAL_HEADER = "contactgroup governance proposal"


@dataclass(frozen=True, slots=True)
class HandoverEvidence:
    """An `AuthorityHandedOver` event's canonical bytes, its index, and its inclusion proof in a checkpoint's tree."""

    index: int
    body: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class MemberKeys:
    """The members' verifier keys a witness holds (exchanged out of band), and the share of them it requires."""

    keys: Mapping[str, tuple[VerifierKey, ...]]
    numerator: int = 2
    denominator: int = 3

    @property
    def needed(self) -> int:
        return max(1, math.ceil(self.numerator * len(self.keys) / self.denominator))

    def signer(self, note: str) -> str | None:
        """The member whose key signed `note`, if any."""
        for member, keys in sorted(self.keys.items()):
            if any(verify_note(note, key) for key in keys):
                return member
        return None


def parse_member_keys(text: str, quorum: str = "2/3") -> MemberKeys:
    """Lines `MEMBER <verifier key>`; blank lines and `#` comments are skipped. `quorum` like 2/3."""
    problems: list[Problem] = []
    keys: dict[str, list[VerifierKey]] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            problems.append(Problem(f"line {n}", "expected: MEMBER <verifier key>"))
            continue
        try:
            keys.setdefault(parts[0], []).append(parse_verifier_key(parts[1]))
        except ContactGroupError as exc:
            problems.append(Problem(f"line {n}", str(exc)))
    num, _, den = quorum.partition("/")
    if not (num.isdigit() and den.isdigit() and 0 < int(num) <= int(den)):
        problems.append(Problem("quorum", f"{quorum!r} is not a fraction like 2/3"))
    if not keys:
        problems.append(Problem("member keys", "no keys listed"))
    if problems:
        raise ValidationFailed(problems)
    return MemberKeys({m: tuple(k) for m, k in keys.items()}, int(num), int(den))


def _approves(note: str, origin: str, new_key: VerifierKey) -> bool:
    """Whether a signed note's text is a handover proposal of this log to exactly this key."""
    try:
        lines = parse_note(note).text.splitlines()
    except ContactGroupError:
        return False
    fields = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
    if not lines or lines[0] != PROPOSAL_HEADER or fields.get("origin") != origin or fields.get("kind") != "handover":
        return False
    try:
        return bool(json.loads(fields.get("payload", "")).get("log_key") == new_key.text)
    except (ValueError, AttributeError):
        return False


def handover_problems(checkpoint: Checkpoint, new_key: VerifierKey, evidence: HandoverEvidence,
                      members: MemberKeys) -> list[str]:
    """Why `evidence` does not show a quorum handing `checkpoint.origin` over to `new_key`; empty if it does."""
    if not verify_inclusion(leaf_hash(evidence.body), evidence.index, checkpoint.size, list(evidence.proof),
                            checkpoint.root):
        return [f"event {evidence.index} is not in the tree of size {checkpoint.size}"]
    try:
        event = json.loads(evidence.body)
        data = event["data"]
    except (ValueError, KeyError, TypeError):
        return [f"event {evidence.index} is not a readable event"]
    if event.get("type") != "AuthorityHandedOver" or data.get("log_key") != new_key.text:
        return [f"event {evidence.index} does not hand the log over to {new_key.text}"]
    approvers = {members.signer(n) for n in data.get("approvals", []) if _approves(n, checkpoint.origin, new_key)}
    approvers.discard(None)
    if len(approvers) < members.needed:
        return [f"only {len(approvers)} of the {len(members.keys)} members this witness knows approved the new "
                f"key; {members.needed} are needed"]
    return []


@dataclass(frozen=True, slots=True)
class QuorumApproval:
    """A `RotationApproval` (see `witness.rotate_log_keys`) granted by checked handover evidence."""

    checkpoint: Checkpoint
    evidence: Sequence[HandoverEvidence]
    members: MemberKeys

    def permits(self, origin: str, current: tuple[VerifierKey, ...], proposed: tuple[VerifierKey, ...]) -> bool:
        if origin != self.checkpoint.origin or len(proposed) != 1:
            return False
        return any(not handover_problems(self.checkpoint, proposed[0], e, self.members) for e in self.evidence)
