"""Witness policies. `WitnessPolicy`: k of n configured witnesses (the form the coordination publishes).
`Policy`: the C2SP tlog-policy text format (https://c2sp.org/tlog-policy) — `log`, `witness`, `group` and
`quorum` lines — parsed strictly, so that every member can verify with a policy of its own.
Only valid cosignatures from distinct witnesses count.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field

from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from contactgroup.ledger.cosignature import (
    Cosignature,
    CosignerKey,
    cosigner_key_for,
    parse_cosignature,
    parse_cosigner_key,
)
from contactgroup.ledger.note import ALG_ED25519, VerifierKey, b64decode_go, parse_verifier_key

CosignatureInput = str | Iterable[str | Cosignature]


def _cosignatures(lines: CosignatureInput) -> list[Cosignature]:
    items: Iterable[str | Cosignature] = lines.split("\n") if isinstance(lines, str) else lines
    found = []
    for item in items:
        if isinstance(item, Cosignature):
            found.append(item)
            continue
        try:
            found.append(parse_cosignature(item))
        except Exception:  # other signature types and junk are simply not cosignatures
            continue
    return found


@dataclass(frozen=True, slots=True)
class WitnessPolicy:
    """k-of-n: `quorum` valid cosignatures from distinct `witnesses` make a checkpoint witnessed."""

    witnesses: tuple[CosignerKey, ...]
    quorum: int

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.witnesses, tuple) or not all(isinstance(w, CosignerKey) for w in self.witnesses):
            raise ValidationFailed([Problem("witnesses", "must be a tuple of cosigner keys")])
        n = len(self.witnesses)
        if not isinstance(self.quorum, int) or isinstance(self.quorum, bool) or not 1 <= self.quorum <= n:
            problems.append(Problem("quorum", f"{self.quorum!r} must be between 1 and the {n} witnesses"))
        # tlog-policy: two vkeys wrapping one public key are the same witness, whatever their names;
        # letting both count would let one operator fill two seats of the quorum.
        seen: dict[bytes, str] = {}
        for w in self.witnesses:
            if w.public_key in seen:
                problems.append(Problem("witnesses", f"{w.name} and {seen[w.public_key]} share one public key"))
            seen[w.public_key] = w.name
        if problems:
            raise ValidationFailed(problems)

    def witnessed_by(self, checkpoint: Checkpoint, cosignatures: CosignatureInput) -> frozenset[CosignerKey]:
        """The configured witnesses with at least one valid cosignature of `checkpoint` among the lines."""
        by_id = {(w.name, w.key_id): w for w in self.witnesses}
        body = checkpoint.body.encode("utf-8")
        signed: set[CosignerKey] = set()
        for cos in _cosignatures(cosignatures):
            witness = by_id.get((cos.name, cos.key_id))
            if witness is not None and witness not in signed and witness.verify(body, cos.payload):
                signed.add(witness)
        return frozenset(signed)

    def is_witnessed(self, checkpoint: Checkpoint, cosignatures: CosignatureInput) -> bool:
        """Whether at least `quorum` distinct configured witnesses validly cosigned `checkpoint`."""
        return len(self.witnessed_by(checkpoint, cosignatures)) >= self.quorum


# --- C2SP tlog-policy --------------------------------------------------------------------------------------------

NONE = "none"  # the predefined name: `quorum none` asks for no cosignature
_WS = re.compile(r"[ \t]+")  # the spec's whitespace: ASCII space and tab only
_DECIMAL = re.compile(r"[1-9][0-9]*")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # control characters other than tab and newline


@dataclass(frozen=True, slots=True)
class PolicyLog:
    key: VerifierKey
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyWitness:
    name: str
    key: CosignerKey
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyGroup:
    """Witnessed when at least `threshold` of `members` (witnesses or earlier groups) witnessed."""

    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """A tlog-policy: a checkpoint is valid if one of `logs` signed it and the `quorum` witnessed it."""

    logs: tuple[PolicyLog, ...]
    witnesses: tuple[PolicyWitness, ...]
    groups: tuple[PolicyGroup, ...]
    quorum: str

    def witnessed_by(self, checkpoint: Checkpoint, cosignatures: CosignatureInput) -> frozenset[str]:
        """The names of the policy's witnesses with a valid cosignature of `checkpoint` among the lines."""
        by_id = {(w.key.name, w.key.key_id): w for w in self.witnesses}
        body = checkpoint.body.encode("utf-8")
        signed: set[str] = set()
        for cos in _cosignatures(cosignatures):
            w = by_id.get((cos.name, cos.key_id))
            if w is not None and w.name not in signed and w.key.verify(body, cos.payload):
                signed.add(w.name)
        return frozenset(signed)

    def satisfied_by(self, witnesses: Set[str]) -> bool:
        """Whether the quorum holds when exactly these witnesses (by policy name) cosigned."""
        if self.quorum == NONE:
            return True
        witnessed = set(witnesses) & {w.name for w in self.witnesses}
        for group in self.groups:  # in file order: a group refers only to names defined before it
            if sum(m in witnessed for m in group.members) >= group.threshold:
                witnessed.add(group.name)
        return self.quorum in witnessed

    def is_witnessed(self, checkpoint: Checkpoint, cosignatures: CosignatureInput) -> bool:
        return self.satisfied_by(self.witnessed_by(checkpoint, cosignatures))

    def open(self, note: str | bytes, log_keys: Sequence[VerifierKey] = ()) -> SignedCheckpoint:
        """Verify that one of the policy's logs signed `note` — or one of `log_keys` when the policy names no log
        (the spec allows that when the log is known from context) — and parse the checkpoint. Raises what
        `open_checkpoint` raises; also refuses a key whose name is not the checkpoint's origin."""
        keys = [log.key for log in self.logs] or list(log_keys)
        if not keys:
            raise ValidationFailed("the policy names no log and no log key was given", where="policy")
        signed = open_checkpoint(note, keys)
        names = {s.name for s in signed.note.verified}
        if signed.checkpoint.origin not in names:
            raise ValidationFailed(f"signed by {', '.join(sorted(names))}, not by a key named for the origin "
                                   f"{signed.checkpoint.origin!r}", where="policy")
        return signed

    def format(self) -> str:
        """The policy in tlog-policy text form."""
        lines = [f"log {log.key.text}" + (f" {log.url}" if log.url else "") for log in self.logs]
        lines += [f"witness {w.name} {w.key.text}" + (f" {w.url}" if w.url else "") for w in self.witnesses]
        lines += [f"group {g.name} {g.threshold} {' '.join(g.members)}" for g in self.groups]
        lines.append(f"quorum {self.quorum}")
        return "".join(line + "\n" for line in lines)


def parse_witness_vkey(text: str) -> CosignerKey:
    """A witness vkey: the cosignature form (0x04), or the Ed25519 note form (0x01) of the same key."""
    fields = text.split("+", 2)
    raw = b64decode_go(fields[2]) if len(fields) == 3 else None
    if raw and raw[0] == ALG_ED25519:
        return cosigner_key_for(parse_verifier_key(text))
    return parse_cosigner_key(text)


@dataclass
class _Parsed:
    """What the lines of a policy file have defined so far."""

    logs: list[PolicyLog] = field(default_factory=list)
    witnesses: list[PolicyWitness] = field(default_factory=list)
    groups: list[PolicyGroup] = field(default_factory=list)
    quorum: str | None = None
    names: set[str] = field(default_factory=set)
    seen_keys: dict[bytes, str] = field(default_factory=dict)

    def new_name(self, name: str) -> str | None:
        """Why `name` cannot name a witness or group here, or None."""
        if name == NONE or name in self.names:
            return f"the name {name!r} is " + ("reserved" if name == NONE else "already defined")
        return None

    def new_key(self, public_key: bytes, owner: str) -> str | None:
        """Why a key cannot be given again, or None (and it is remembered as `owner`'s)."""
        if public_key in self.seen_keys:
            return f"duplicate key: already given for {self.seen_keys[public_key]}"
        self.seen_keys[public_key] = owner
        return None


# Each line kind: check its arguments against what earlier lines defined, add what it defines, or say what is
# wrong with it (a `ValidationFailed` from a key parser is wrong too).

def _log_line(p: _Parsed, args: list[str]) -> str | None:
    if len(args) not in (1, 2):
        return "expected `log <vkey> [<url>]`"
    key = parse_verifier_key(args[0])
    problem = p.new_key(key.public_key, f"log {key.name}")
    if problem is None:
        p.logs.append(PolicyLog(key, args[1] if len(args) == 2 else None))
    return problem


def _witness_line(p: _Parsed, args: list[str]) -> str | None:
    if len(args) not in (2, 3):
        return "expected `witness <name> <vkey> [<url>]`"
    name = args[0]
    problem = p.new_name(name)
    if problem is not None:
        return problem
    key = parse_witness_vkey(args[1])
    problem = p.new_key(key.public_key, f"witness {name}")
    if problem is None:
        p.names.add(name)
        p.witnesses.append(PolicyWitness(name, key, args[2] if len(args) == 3 else None))
    return problem


def _threshold(k_text: str, n: int) -> int | None:
    if k_text in ("all", "any"):
        return n if k_text == "all" else 1
    return int(k_text) if _DECIMAL.fullmatch(k_text) and 1 <= int(k_text) <= n else None


def _group_line(p: _Parsed, args: list[str]) -> str | None:
    if len(args) < 3:
        return "expected `group <name> all|any|<k> <name>...` with at least one member"
    name, k_text, members = args[0], args[1], args[2:]
    undefined = [m for m in members if m not in p.names]
    k = _threshold(k_text, len(members))
    problem = (p.new_name(name)
               or (f"member(s) {', '.join(undefined)} not defined on an earlier line" if undefined else None)
               or ("a member is listed twice" if len(set(members)) != len(members) else None)
               or (f"threshold {k_text!r} must be all, any or a decimal 1..{len(members)}" if k is None else None))
    if problem is None and k is not None:
        p.names.add(name)
        p.groups.append(PolicyGroup(name, k, tuple(members)))
    return problem


def _quorum_line(p: _Parsed, args: list[str]) -> str | None:
    if len(args) != 1:
        return "expected `quorum <name>`"
    if p.quorum is not None:
        return "a second quorum line"
    if args[0] != NONE and args[0] not in p.names:
        return f"{args[0]!r} is not a witness or group defined on an earlier line"
    p.quorum = args[0]
    return None


_LINES: dict[str, Callable[[_Parsed, list[str]], str | None]] = {
    "log": _log_line, "witness": _witness_line, "group": _group_line, "quorum": _quorum_line,
}


def parse_policy(data: str | bytes) -> Policy:
    """Parse a tlog-policy file; raises `ValidationFailed` naming every bad line (`policy line N`).

    Names are compared as exact strings (the spec: opaque octets); non-UTF-8 octets are kept as they are."""
    text = data.decode("utf-8", errors="surrogateescape") if isinstance(data, bytes) else data
    problems: list[Problem] = []
    parsed = _Parsed()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line
    for number, raw_line in enumerate(lines, start=1):
        where = f"policy line {number}"
        if _FORBIDDEN.search(raw_line):
            problems.append(Problem(where, "holds a control character other than tab"))
            continue
        line = raw_line.strip(" \t")
        if not line or line.startswith("#"):
            continue
        keyword, *args = _WS.split(line)
        handler = _LINES.get(keyword)
        try:
            problem = handler(parsed, args) if handler else f"unknown keyword {keyword!r}"
        except ValidationFailed as exc:
            problems.extend(Problem(where, p.message) for p in exc.problems)
            continue
        if problem is not None:
            problems.append(Problem(where, problem))
    if parsed.quorum is None and not problems:
        problems.append(Problem("policy", "no quorum line (write `quorum none` to ask for no cosignature)"))
    if problems:
        raise ValidationFailed(problems)
    assert parsed.quorum is not None
    return Policy(tuple(parsed.logs), tuple(parsed.witnesses), tuple(parsed.groups), parsed.quorum)


def published_policy(log_key: VerifierKey | None, witnesses: Sequence[tuple[str, CosignerKey]],
                     quorum: int, earlier_keys: Sequence[VerifierKey] = ()) -> Policy:
    """The coordination's k-of-n policy in tlog-policy form: its log (under its current key and any earlier ones,
    which signed the checkpoints before a handover), its witnesses, one group of k."""
    members = tuple(name for name, _ in witnesses)
    keys = [*earlier_keys, *([log_key] if log_key is not None else [])]
    logs = tuple(PolicyLog(k) for i, k in enumerate(keys) if k not in keys[:i])
    ws = tuple(PolicyWitness(name, key) for name, key in witnesses)
    if not members:
        return Policy(logs, ws, (), NONE)
    group = "published-quorum"
    while group in members or group == NONE:
        group += "_"
    k = max(1, min(quorum, len(members)))
    return Policy(logs, ws, (PolicyGroup(group, k, members),), group)
