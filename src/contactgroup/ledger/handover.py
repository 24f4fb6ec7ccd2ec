"""How a witness moves to a new log key without trusting either authority: the handover event, proven to be
in the tree, must carry the text of one handover proposal of this log to that very key, enacted before it
expired, and approvals of exactly that text signed by a quorum of distinct members whose keys the witness holds
(every member signature in a note counts, once per member). `verify` applies the same check to the log itself.

The witness then still requires the new key's checkpoints to be consistent with everything it cosigned under
the old key, so a new authority cannot rewrite the history it inherits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint
from contactgroup.ledger.leaf import event_leaf_hash
from contactgroup.ledger.merkle import verify_inclusion
from contactgroup.ledger.note import VerifierKey, parse_note, parse_verifier_key, verify_note

PROPOSAL_HEADER = "contactgroup governance proposal"


@dataclass(frozen=True, slots=True)
class HandoverEvidence:
    """An `AuthorityHandedOver` event's leaf form (or stored body), its index, and its inclusion proof in a
    checkpoint's tree."""

    index: int
    body: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class MemberKeys:
    """The members' verifier keys a witness holds (exchanged out of band), and the share of them it requires."""

    keys: Mapping[str, tuple[VerifierKey, ...]]
    numerator: int = 2
    denominator: int = 3
    electorate: int | None = None  # members the share is of; default: those listed in `keys`

    @property
    def quorum(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    @property
    def count(self) -> int:
        """The members the share is of."""
        return len(self.keys) if self.electorate is None else self.electorate

    @property
    def needed(self) -> int:
        return max(1, math.ceil(self.numerator * self.count / self.denominator))

    def signers(self, note: str) -> set[str]:
        """Every member with a key that validly signed `note` (a note may carry several members' signatures)."""
        try:
            lines = {(s.name, s.key_id) for s in parse_note(note).signatures}
        except ContactGroupError:
            return set()
        return {member for member, keys in self.keys.items()
                if any((k.name, k.key_id) in lines and verify_note(note, k) for k in keys)}

    def signer(self, note: str) -> str | None:
        """One member whose key signed `note`, if any."""
        return min(self.signers(note), default=None)


def parse_member_keys(text: str, quorum: str = "2/3") -> MemberKeys:
    """Lines `MEMBER <verifier key>`, or `MEMBER` alone for a member with no key (it cannot sign, but it counts
    in the share: a quorum is of all the members listed); blank lines and `#` comments are skipped. `quorum`
    like 2/3."""
    problems: list[Problem] = []
    keys: dict[str, list[VerifierKey]] = {}
    listed: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) not in (1, 2):
            problems.append(Problem(f"line {n}", "expected: MEMBER <verifier key>, or MEMBER alone"))
            continue
        listed.add(parts[0])
        if len(parts) == 1:
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
    return MemberKeys({m: tuple(k) for m, k in keys.items()}, int(num), int(den), electorate=len(listed))


def _fields(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in text.splitlines()[1:] if " " in line)


def _time(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def approvers(event: Mapping[str, object], origin: str, new_key: VerifierKey,
              members: MemberKeys) -> tuple[set[str], list[str]]:
    """(the distinct members of `members` whose signatures over the event's proposal text it carries, why the
    event itself cannot show a quorum). Only notes over exactly that text count: signatures over other
    proposals (or other texts) count for nothing, however many there are."""
    data = event.get("data")
    if not isinstance(data, Mapping):
        return set(), ["the handover event carries no data"]
    text = data.get("proposal_text")
    if not isinstance(text, str) or not text.startswith(PROPOSAL_HEADER + "\n"):
        return set(), ["the handover event carries no proposal text to check its approvals against"]
    fields = _fields(text)
    problems = []
    if fields.get("origin") != origin:
        problems.append(f"its proposal is for the log {fields.get('origin')!r}, not {origin!r}")
    if fields.get("kind") != "handover":
        problems.append(f"its proposal is a {fields.get('kind')!r}, not a handover")
    if fields.get("id") != data.get("proposal"):
        problems.append(f"its proposal text is of {fields.get('id')!r}, but it names {data.get('proposal')!r}")
    try:
        payload = json.loads(fields.get("payload", ""))
        log_key, to = payload.get("log_key"), payload.get("to")
    except (ValueError, AttributeError):
        log_key = to = None
    if log_key != new_key.text:
        problems.append(f"its proposal does not name the key {new_key.text}")
    if "to" in data and to != data.get("to"):
        problems.append(f"its proposal hands over to {to!r}, not {data.get('to')!r}")
    expires, at = _time(fields.get("expires")), _time(event.get("at"))
    if expires is None or at is None:
        problems.append("its proposal's expiry or the event's time cannot be read")
    elif at > expires:
        problems.append(f"it was enacted at {event.get('at')}, after its proposal expired at {fields['expires']}")
    if problems:
        return set(), problems
    found: set[str] = set()
    notes = data.get("approvals", [])
    for n in notes if isinstance(notes, list) else []:
        if not isinstance(n, str):
            continue
        try:
            if parse_note(n).text != text:
                continue
        except ContactGroupError:
            continue
        found |= members.signers(n)
    return found, []


def handover_problems(checkpoint: Checkpoint, new_key: VerifierKey, evidence: HandoverEvidence,
                      members: MemberKeys) -> list[str]:
    """Why `evidence` does not show a quorum handing `checkpoint.origin` over to `new_key`; empty if it does."""
    try:
        leaf = event_leaf_hash(evidence.body)
    except ValueError:
        return [f"event {evidence.index} is not a readable event"]
    if not verify_inclusion(leaf, evidence.index, checkpoint.size, list(evidence.proof), checkpoint.root):
        return [f"event {evidence.index} is not in the tree of size {checkpoint.size}"]
    try:
        event = json.loads(evidence.body)
        data = event["data"]
    except (ValueError, KeyError, TypeError):
        return [f"event {evidence.index} is not a readable event"]
    if event.get("type") != "AuthorityHandedOver" or data.get("log_key") != new_key.text:
        return [f"event {evidence.index} does not hand the log over to {new_key.text}"]
    found, problems = approvers(event, checkpoint.origin, new_key, members)
    if problems:
        return [f"event {evidence.index}: {p}" for p in problems]
    if len(found) < members.needed:
        return [f"only {len(found)} of the {members.count} members this witness knows approved the new "
                f"key; {members.needed} are needed under this witness's quorum {members.quorum} (the member's own "
                f"policy, not the log's: change it with `contactgroup witness --quorum`)"]
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
