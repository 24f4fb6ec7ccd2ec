"""The witness rules (C2SP tlog-witness semantics), pure: accept a log's new checkpoint and cosign it only if it
is signed by a trusted log key and consistent with everything this witness cosigned before for that origin.

A refusal is data (`Refused` with a `Refusal` reason, the HTTP status tlog-witness assigns, and — when two
signed checkpoints conflict — the evidence to keep). Log key rotation is an explicit, approved step
(`rotate_log_keys`). The witness state lives in one JSON file, replaced atomically.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from contactgroup.domain.errors import Forbidden, Problem, ValidationFailed
from contactgroup.ledger.atomicfile import write_atomic
from contactgroup.ledger.checkpoint import Checkpoint, parse_checkpoint
from contactgroup.ledger.cosignature import Cosignature, Cosigner
from contactgroup.ledger.merkle import EMPTY_ROOT, HASH_SIZE, MAX_CONSISTENCY_PROOF, verify_consistency
from contactgroup.ledger.note import (
    InvalidNoteSignature,
    UnverifiedNote,
    VerifierKey,
    b64decode_strict,
    b64encode,
    open_note,
    parse_note,
    parse_verifier_key,
)
from contactgroup.ledger.policy import WitnessPolicy

__all__ = [
    "Accepted",
    "AddCheckpoint",
    "Evidence",
    "FixedApproval",
    "LogState",
    "Refusal",
    "Refused",
    "RotationApproval",
    "Stale",
    "WitnessPolicy",
    "WitnessState",
    "add_checkpoint",
    "check_signature",
    "format_add_checkpoint",
    "judge_older",
    "load_witness_state",
    "parse_add_checkpoint",
    "rotate_log_keys",
    "save_witness_state",
    "write_evidence",
]

STATE_FORMAT = "contactgroup-witness-state/1"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_MAX_PROOF_LINES = 63  # tlog-witness: clients MUST NOT send more


class Refusal(enum.Enum):
    """Why a witness will not cosign; `status` is the HTTP status tlog-witness prescribes."""

    MALFORMED = "malformed"  # not a request, note or checkpoint; or old size > new size
    UNKNOWN_ORIGIN = "unknown-origin"  # no log with this origin is configured
    UNKNOWN_KEY = "unknown-key"  # no signature from a key trusted for the origin
    BAD_SIGNATURE = "bad-signature"  # a trusted key's signature does not verify: forged or altered
    ROLLBACK = "rollback"  # smaller than the checkpoint already cosigned
    SPLIT_VIEW = "split-view"  # same size as the cosigned checkpoint, different root
    OLD_SIZE_MISMATCH = "old-size-mismatch"  # the proof starts from a size other than the cosigned one
    INCONSISTENT = "inconsistent"  # the consistency proof fails: history was rewritten (or the proof is bad)

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    Refusal.MALFORMED: 400,
    Refusal.UNKNOWN_ORIGIN: 404,
    Refusal.UNKNOWN_KEY: 403,
    Refusal.BAD_SIGNATURE: 403,
    Refusal.ROLLBACK: 409,
    Refusal.SPLIT_VIEW: 409,
    Refusal.OLD_SIZE_MISMATCH: 409,
    Refusal.INCONSISTENT: 422,
}


# --- state ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogState:
    """What a witness knows of one log: the keys it trusts for the origin and the last checkpoint it cosigned
    (kept as the signed note it accepted, so it can be shown as evidence later)."""

    origin: str
    keys: tuple[VerifierKey, ...]
    note: str | None = None
    checkpoint: Checkpoint | None = None

    def __post_init__(self) -> None:
        problems = _key_problems(self.origin, self.keys)
        if (self.note is None) != (self.checkpoint is None):
            problems.append(Problem(self.origin, "note and checkpoint go together"))
        elif self.checkpoint is not None and self.checkpoint.origin != self.origin:
            problems.append(Problem(self.origin, f"checkpoint is for origin {self.checkpoint.origin!r}"))
        if problems:
            raise ValidationFailed(problems)

    @property
    def size(self) -> int:
        return self.checkpoint.size if self.checkpoint else 0

    @property
    def root(self) -> bytes:
        return self.checkpoint.root if self.checkpoint else EMPTY_ROOT


def _key_problems(origin: str, keys: object) -> list[Problem]:
    if not isinstance(keys, tuple) or not all(isinstance(k, VerifierKey) for k in keys):
        return [Problem(str(origin), "keys must be a tuple of verifier keys")]
    problems = []
    if not keys:
        problems.append(Problem(origin, "at least one trusted log key is needed"))
    for k in keys:
        # tlog-policy: a log key's name is the log's origin; a key named otherwise belongs to another log.
        if k.name != origin:
            problems.append(Problem(origin, f"key {k.text} is named {k.name!r}, not the origin"))
    if len({k.public_key for k in keys}) != len(keys):
        problems.append(Problem(origin, "a key is listed twice"))
    return problems


@dataclass(frozen=True, slots=True)
class WitnessState:
    """Every log this witness follows, by origin."""

    logs: tuple[LogState, ...] = ()

    def __post_init__(self) -> None:
        origins = [log.origin for log in self.logs]
        if len(set(origins)) != len(origins):
            raise ValidationFailed([Problem("witness state", "an origin is listed twice")])

    def log(self, origin: str) -> LogState | None:
        return next((log for log in self.logs if log.origin == origin), None)

    def with_log(self, log: LogState) -> WitnessState:
        """This state with `log` added, or replacing the log with the same origin."""
        others = tuple(existing for existing in self.logs if existing.origin != log.origin)
        return WitnessState(tuple(sorted((*others, log), key=lambda s: s.origin)))


# --- the add-checkpoint request ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """A tlog-witness add-checkpoint request: the size the witness last cosigned, a consistency proof from
    there, and the new signed checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


def parse_add_checkpoint(body: str) -> AddCheckpoint:
    """Parse the request body: `old <size>`, base64 proof lines, a blank line, the signed checkpoint."""
    if not isinstance(body, str):
        raise ValidationFailed("request body must be text", where="add-checkpoint")
    head, sep, note = body.partition("\n\n")
    lines = head.split("\n")
    problems = []
    if not sep:
        problems.append(Problem("add-checkpoint", "no blank line before the checkpoint"))
    first = lines[0]
    if not first.startswith("old ") or not _DECIMAL.fullmatch(first[4:]):
        problems.append(Problem("add-checkpoint", f"first line {first!r} is not 'old <size>'"))
    if len(lines) - 1 > _MAX_PROOF_LINES:
        problems.append(Problem("add-checkpoint", f"more than {_MAX_PROOF_LINES} proof lines"))
    proof = []
    for number, line in enumerate(lines[1:], start=2):
        raw = b64decode_strict(line)
        if raw is None or len(raw) != HASH_SIZE:
            problems.append(Problem(f"add-checkpoint line {number}", "is not a base64 SHA-256 hash"))
        else:
            proof.append(raw)
    if problems:
        raise ValidationFailed(problems)
    return AddCheckpoint(int(first[4:]), tuple(proof), note)


def format_add_checkpoint(request: AddCheckpoint) -> str:
    proof = "".join(b64encode(p) + "\n" for p in request.proof)
    return f"old {request.old_size}\n{proof}\n{request.note}"


# --- the decision -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """Two signed checkpoints of one log that cannot both be honest (or a refused proof that may show it)."""

    origin: str
    reason: Refusal
    cosigned_note: str  # what this witness had accepted
    refused_request: AddCheckpoint  # what it was asked to accept instead

    def files(self) -> dict[str, bytes]:
        """File name -> content: the two notes, and the refused request in its wire form (with the proof)."""
        digest = hashlib.sha256(self.refused_request.note.encode("utf-8")).hexdigest()[:16]
        stem = f"{_slug(self.origin)}.{self.reason.value}.{digest}"
        return {
            f"{stem}.cosigned.note": self.cosigned_note.encode("utf-8"),
            f"{stem}.refused.note": self.refused_request.note.encode("utf-8"),
            f"{stem}.refused-request.txt": format_add_checkpoint(self.refused_request).encode("utf-8"),
        }


def _slug(origin: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", origin)[:80] or "_"


@dataclass(frozen=True, slots=True)
class Accepted:
    state: WitnessState
    checkpoint: Checkpoint
    cosignature: Cosignature


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal
    message: str
    cosigned_size: int | None = None  # told back on OLD_SIZE_MISMATCH, as tlog-witness's 409 body
    evidence: Evidence | None = None

    @property
    def status(self) -> int:
        return self.reason.status


def add_checkpoint(
    state: WitnessState, request: AddCheckpoint, cosigner: Cosigner, timestamp: int
) -> Accepted | Refused:
    """Decide on one add-checkpoint request; on acceptance return the new state and the cosignature.

    The caller must persist `Accepted.state` before handing out the cosignature, and must not let two
    decisions on the same origin interleave (tlog-witness's rollback race).
    """
    try:
        text = parse_note(request.note).text
        claimed = parse_checkpoint(text)
    except ValidationFailed as e:
        return Refused(Refusal.MALFORMED, f"not a signed checkpoint: {e}")
    log = state.log(claimed.origin)
    if log is None:
        return Refused(Refusal.UNKNOWN_ORIGIN, f"no log with origin {claimed.origin!r} is followed")
    refused = check_signature(log, request.note)
    if refused is not None:
        return refused
    return _decide(state, log, claimed, request, cosigner, timestamp)


def check_signature(log: LogState, note: str) -> Refused | None:
    """Why `note` is not signed by a key `log` trusts (None when it is): the first thing to check, before any
    proof is asked for."""
    try:
        open_note(note, log.keys)
    except UnverifiedNote:
        return Refused(Refusal.UNKNOWN_KEY, f"no signature by a key trusted for {log.origin!r}")
    except InvalidNoteSignature as e:
        return Refused(Refusal.BAD_SIGNATURE, str(e))
    except ValidationFailed as e:
        return Refused(Refusal.MALFORMED, str(e))
    return None


@dataclass(frozen=True, slots=True)
class Stale:
    """The log showed a signed checkpoint older than the one cosigned, and proved it a prefix of that one:
    honest, only old (a cached or lagging server). Nothing to cosign, nothing to accuse."""

    checkpoint: Checkpoint
    cosigned_size: int


def judge_older(log: LogState, note: str, older: Checkpoint, proof: Sequence[bytes] | None) -> Stale | Refused:
    """A checkpoint (signed by a trusted key, already checked) smaller than the one `log` cosigned, with the log's
    consistency proof from its size to the cosigned size — None when the log could not give one.

    Only an inconsistency is evidence of dishonesty. A valid proof: `Stale`. An invalid one: `INCONSISTENT`, with
    evidence. No proof at all: the log no longer has the tree it signed before (a restored older database, a
    truncated log) — refused as `ROLLBACK`, with evidence, for the log signed both checkpoints."""
    assert log.checkpoint is not None and log.note is not None and older.size < log.size
    request = AddCheckpoint(older.size, tuple(proof or ()), note)
    if proof is None:
        return Refused(
            Refusal.ROLLBACK,
            f"the log no longer serves what it signed before: it shows size {older.size} and cannot prove it a "
            f"prefix of the size {log.size} it signed and this witness cosigned",
            log.size,
            Evidence(log.origin, Refusal.ROLLBACK, log.note, request),
        )
    if not verify_consistency(older.size, log.size, older.root, log.root, list(proof)):
        return Refused(
            Refusal.INCONSISTENT,
            f"the log's checkpoint of size {older.size} is not a prefix of the cosigned size {log.size}: "
            "no valid consistency proof",
            log.size,
            Evidence(log.origin, Refusal.INCONSISTENT, log.note, request),
        )
    return Stale(older, log.size)


def _decide(
    state: WitnessState, log: LogState, new: Checkpoint, request: AddCheckpoint, cosigner: Cosigner, timestamp: int
) -> Accepted | Refused:
    def evidence(reason: Refusal) -> Evidence | None:
        return Evidence(log.origin, reason, log.note, request) if log.note is not None else None

    if log.checkpoint is not None:
        if new.size < log.size:
            return Refused(
                Refusal.ROLLBACK,
                f"checkpoint size {new.size} is below the cosigned size {log.size}",
                log.size,
                evidence(Refusal.ROLLBACK),
            )
        if new.size == log.size and new.root != log.root:
            return Refused(
                Refusal.SPLIT_VIEW,
                f"a different root for size {new.size} was already cosigned",
                log.size,
                evidence(Refusal.SPLIT_VIEW),
            )
    if request.old_size != log.size:
        return Refused(
            Refusal.OLD_SIZE_MISMATCH,
            f"proof starts at size {request.old_size}, the cosigned size is {log.size}",
            log.size,
        )
    if request.old_size > new.size or len(request.proof) > MAX_CONSISTENCY_PROOF:
        return Refused(Refusal.MALFORMED, f"old size {request.old_size} exceeds checkpoint size {new.size}")
    if not verify_consistency(log.size, new.size, log.root, new.root, list(request.proof)):
        return Refused(
            Refusal.INCONSISTENT,
            f"no valid consistency proof from size {log.size} to {new.size}",
            log.size,
            evidence(Refusal.INCONSISTENT),
        )
    updated = replace(log, note=request.note, checkpoint=new)
    return Accepted(state.with_log(updated), new, cosigner.cosign(new, timestamp))


# --- key rotation: the seam governance will drive ----------------------------------------------------------


class RotationApproval(Protocol):
    """Whoever may approve a change of a log's trusted keys (later: a quorum of members' signed votes)."""

    def permits(self, origin: str, current: tuple[VerifierKey, ...], proposed: tuple[VerifierKey, ...]) -> bool: ...


@dataclass(frozen=True, slots=True)
class FixedApproval:
    """A `RotationApproval` that always answers the same: for tests and single-operator setups."""

    answer: bool

    def permits(self, origin: str, current: tuple[VerifierKey, ...], proposed: tuple[VerifierKey, ...]) -> bool:
        return self.answer


def rotate_log_keys(log: LogState, proposed: Sequence[VerifierKey], approval: RotationApproval) -> LogState:
    """The log state trusting exactly `proposed` from now on, if `approval` permits it.

    The cosigned checkpoint stays: the new key continues the same tree and must stay consistent with it.
    To overlap keys during a handover, propose old and new together, then the new one alone.
    """
    keys = tuple(proposed)
    problems = _key_problems(log.origin, keys)
    if problems:
        raise ValidationFailed(problems)
    if not approval.permits(log.origin, log.keys, keys):
        raise Forbidden(f"rotation of the keys of {log.origin!r} was not approved")
    return replace(log, keys=keys)


# --- files: state and evidence -----------------------------------------------------------------------------


def state_to_json(state: WitnessState) -> bytes:
    logs = [
        {"origin": log.origin, "keys": [k.text for k in log.keys], "checkpoint_note": log.note} for log in state.logs
    ]
    doc = {"format": STATE_FORMAT, "logs": logs}
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def state_from_json(data: bytes) -> WitnessState:
    try:
        doc: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValidationFailed(f"not JSON: {e}", where="witness state") from None
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT or not isinstance(doc.get("logs"), list):
        raise ValidationFailed(f"not a {STATE_FORMAT} document", where="witness state")
    logs = []
    problems: list[Problem] = []
    for i, entry in enumerate(doc["logs"]):
        try:
            logs.append(_log_from_json(entry))
        except ValidationFailed as e:
            problems.extend(Problem(f"witness state log {i + 1}", str(p)) for p in e.problems)
    if problems:
        raise ValidationFailed(problems)
    return WitnessState(tuple(logs))


def _log_from_json(entry: Any) -> LogState:
    if not isinstance(entry, dict) or not isinstance(entry.get("origin"), str):
        raise ValidationFailed("each log needs an origin")
    keys_text = entry.get("keys")
    if not isinstance(keys_text, list):
        raise ValidationFailed("keys must be a list of verifier keys")
    keys = tuple(parse_verifier_key(k) for k in keys_text)
    note = entry.get("checkpoint_note")
    if note is None:
        return LogState(entry["origin"], keys)
    if not isinstance(note, str):
        raise ValidationFailed("checkpoint_note must be a signed note or null")
    # Syntax only: after a rotation the stored note may carry a key no longer trusted, and that is fine.
    return LogState(entry["origin"], keys, note, parse_checkpoint(parse_note(note).text))


def save_witness_state(path: str | os.PathLike[str], state: WitnessState) -> None:
    """Write the witness state atomically (temporary file, fsync, rename)."""
    write_atomic(path, state_to_json(state))


def load_witness_state(path: str | os.PathLike[str]) -> WitnessState:
    """Read the witness state; a missing file is a witness that follows no log yet."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return WitnessState()
    return state_from_json(data)


def write_evidence(directory: str | os.PathLike[str], evidence: Evidence) -> list[Path]:
    """Keep the conflicting checkpoints in `directory` (created if needed); returns the files written."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in evidence.files().items():
        write_atomic(folder / name, content)
        written.append(folder / name)
    return written
