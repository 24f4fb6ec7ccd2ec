"""Signed checkpoints of the tree and the witnesses' cosignatures of them: signing, storing, finding the newest
one the witness policy counts as witnessed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from contactgroup.domain.errors import Forbidden, NotFound, ValidationFailed
from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import Checkpoint, parse_checkpoint
from contactgroup.ledger.checkpoint import sign_checkpoint as sign_checkpoint_note
from contactgroup.ledger.cosignature import parse_cosignature, verify_cosignature
from contactgroup.ledger.note import SignerKey, parse_note
from contactgroup.services.clock import Clock
from contactgroup.services.proofs import MAX_SIZE, tree_size
from contactgroup.services.witness_policy import LogInfo, log_info
from contactgroup.storage import log_tables
from contactgroup.storage.database import Connection, Database, TreeNodes


def latest_checkpoint(conn: Connection) -> tuple[int, str] | None:
    return log_tables.latest_checkpoint(conn)


def checkpoint_at(conn: Connection, size: int) -> str | None:
    return log_tables.checkpoint_at(conn, size)


def cosignature_lines(conn: Connection, size: int) -> list[str]:
    return log_tables.cosignature_lines(conn, size)


def with_cosignatures(note: str, lines: Sequence[str]) -> str:
    """The signed note with cosignature lines appended (each line ends with a newline)."""
    return note + "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def sign_checkpoint(db: Database, signer: SignerKey, clock: Clock) -> tuple[Checkpoint, str, bool]:
    """Sign the tree as it is now (if not already signed at this size) and store the note.

    Returns the checkpoint, its signed note, and whether it was signed now. The key must be the one the log
    published; a checkpoint signed by another key would be worthless to every verifier."""
    with db.writer() as conn:
        info = log_info(conn)
        published = info.require_key()
        if signer.verifier.text != published.text:
            raise Forbidden(f"this key ({signer.verifier.text}) is not the log's verifier key ({published.text})")
        size = tree_size(conn)
        existing = checkpoint_at(conn, size)
        if existing is not None:
            return parse_checkpoint(parse_note(existing).text), existing, False
        checkpoint = Checkpoint(info.origin, size, merkle.root_from_store(TreeNodes(conn), size))
        note = sign_checkpoint_note(checkpoint, [signer])
        log_tables.insert_checkpoint(conn, size, note, clock.now())
        return checkpoint, note, True


def current_checkpoint(conn: Connection) -> str:
    """The latest signed checkpoint note with every stored cosignature appended."""
    latest = latest_checkpoint(conn)
    if latest is None:
        raise NotFound("no signed checkpoint yet", code="no-checkpoint")
    size, note = latest
    return with_cosignatures(note, cosignature_lines(conn, size))


@dataclass(frozen=True, slots=True)
class CosignatureReceived:
    size: int
    witness: str
    stored: bool  # False when this witness's cosignature of this size was already kept
    witnessed: bool
    cosigned_by: tuple[str, ...]
    quorum: int


def add_cosignature(db: Database, line: str, size: int | None, clock: Clock) -> CosignatureReceived:
    """Verify a witness's cosignature line of the checkpoint of `size` (default: the latest) and keep it."""
    try:
        cos = parse_cosignature(line)
    except ValidationFailed as exc:
        raise ValidationFailed(f"not a cosignature line: {exc}", where="cosignature") from None
    with db.writer() as conn:
        info = log_info(conn)
        known = {(k.name, k.key_id): (name, k) for name, k in info.witnesses}
        if (cos.name, cos.key_id) not in known:
            raise Forbidden(f"{cos.name}+{cos.key_id.hex()} is not a witness of this log "
                            f"(the coordinator adds witnesses with `contactgroup ledger witness-add`)")
        name, key = known[(cos.name, cos.key_id)]
        if size is None:
            latest = latest_checkpoint(conn)
            if latest is None:
                raise NotFound("no signed checkpoint yet")
            size, note = latest
        else:
            if not 0 <= size <= MAX_SIZE:
                raise ValidationFailed(f"size {size} is outside 0..{MAX_SIZE}", where="size")
            found = checkpoint_at(conn, size)
            if found is None:
                raise NotFound(f"no signed checkpoint of size {size}")
            note = found
        checkpoint = parse_checkpoint(parse_note(note).text)
        if not verify_cosignature(checkpoint, cos, key):
            raise Forbidden(f"the cosignature by {name} does not verify for the checkpoint of size {size}")
        stored = not log_tables.has_cosignature(conn, size, name)
        if stored:
            log_tables.insert_cosignature(conn, size, name, cos.line.rstrip("\n"), clock.now())
        lines = cosignature_lines(conn, size)
    policy = info.policy
    signed = policy.witnessed_by(checkpoint, lines) if policy else frozenset()
    return CosignatureReceived(size, name, stored, bool(policy and len(signed) >= policy.quorum),
                               tuple(sorted(k.name for k in signed)), policy.quorum if policy else 0)


@dataclass(frozen=True, slots=True)
class WitnessState:
    """A witness the log names now, and the largest checkpoint it cosigned (None: none yet), received when."""

    name: str
    key: str
    cosigned: int | None
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class RecordState:
    """The record as a reader checks it: its size, the latest signed checkpoint (None: none yet) and each witness."""

    origin: str
    log_key: str | None
    events: int
    checkpoint: Checkpoint | None
    signed_at: datetime | None
    witnesses: tuple[WitnessState, ...]
    quorum: int
    witnessed: int | None  # the largest checkpoint the witness policy counts as witnessed


def record_state(db: Database) -> RecordState:
    """The record's state: what `/checkpoint` and `/policy` publish, with what each witness last cosigned."""
    with db.reader() as conn:
        info = log_info(conn)
        latest = latest_checkpoint(conn)
        checkpoint = parse_checkpoint(parse_note(latest[1]).text) if latest else None
        signed_at = log_tables.checkpoint_signed_at(conn, latest[0]) if latest else None
        last = log_tables.last_cosigned(conn)
        witnessed = latest_witnessed(conn, info)
        events = tree_size(conn)
    witnesses = tuple(WitnessState(name, key.text, *last.get(name, (None, None))) for name, key in info.witnesses)
    return RecordState(info.origin, info.key.text if info.key else None, events, checkpoint, signed_at, witnesses,
                       info.effective_quorum, witnessed[0] if witnessed else None)


def latest_witnessed(conn: Connection, info: LogInfo, covering: int = 0) -> tuple[int, str] | None:
    """The largest checkpoint with size > `covering` that the policy counts as witnessed, with cosignatures."""
    policy = info.policy
    for size, note in log_tables.checkpoints_after(conn, covering):
        full = with_cosignatures(note, cosignature_lines(conn, size))
        if policy is None:
            return size, full  # no witnesses configured: the log's own signature is all there is
        checkpoint = parse_checkpoint(parse_note(note).text)
        if policy.is_witnessed(checkpoint, full):
            return size, full
    return None
