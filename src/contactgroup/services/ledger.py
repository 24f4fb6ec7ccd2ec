"""The verifiable record as use cases: the log key, signed checkpoints, proofs, witnesses' cosignatures and
policy, and receipts (an event with its inclusion proof against a witnessed checkpoint), for CLI and HTTP.

The log key belongs to the coordinating authority and lives in a private key file, never in the database; its
verifier key is in the log itself (`SettingChanged log_verifier_key`), so every member learns it from the record.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contactgroup.domain import model as m
from contactgroup.domain.errors import Conflict, ContactGroupError, Forbidden, NotFound, ValidationFailed
from contactgroup.domain.model import Role
from contactgroup.domain.state import State
from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from contactgroup.ledger.checkpoint import sign_checkpoint as sign_checkpoint_note
from contactgroup.ledger.cosignature import (
    CosignerKey,
    parse_cosignature,
    parse_cosigner_key,
    verify_cosignature,
)
from contactgroup.ledger.note import (
    SignerKey,
    VerifierKey,
    generate_key,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
)
from contactgroup.ledger.policy import Policy, WitnessPolicy, parse_witness_vkey, published_policy
from contactgroup.services import coordination as svc
from contactgroup.services import policy as access
from contactgroup.services.clock import Clock
from contactgroup.storage import record
from contactgroup.storage.database import (
    Connection,
    Database,
    TreeNodes,
    UnitOfWork,
    decode,
    load_state,
    read_events,
)

LOG_KEY_SETTING = "log_verifier_key"
LOG_KEY_ENV = "CONTACTGROUP_LOG_KEY"
WITNESS_ACTION = "coordination:found"  # who may name witnesses and their quorum: the coordinating authority
RECEIPT_FORMAT = "contactgroup-receipt/1"
MAX_LEAVES = 65_536  # per request: a client pages through a large log
MAX_SIZE = 2**63 - 1  # tree sizes and indices are stored as 64-bit integers: no larger one names anything


# --- key files -----------------------------------------------------------------------------------------------


def default_log_key_path(db: Database) -> Path | None:
    """`<db file>.logkey` beside an SQLite file; None for PostgreSQL or an in-memory database."""
    path = db.engine.url.database if db.is_sqlite else None
    if not path or path == ":memory:":
        return None
    return Path(f"{path}.logkey")


def resolve_log_key_path(db: Database, explicit: str | os.PathLike[str] | None) -> Path | None:
    """`--log-key` wins, then CONTACTGROUP_LOG_KEY, then the default beside an SQLite file."""
    chosen = explicit or os.environ.get(LOG_KEY_ENV)
    return Path(chosen) if chosen else default_log_key_path(db)


def write_private_key(path: str | os.PathLike[str], key_text: str) -> None:
    """Create `path` readable by its owner only (0600) holding one private key line; never overwrite."""
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Conflict(f"{target} already exists: a private key is never overwritten") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key_text + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(target, 0o600)  # the umask cannot widen it, but an inherited ACL or odd umask might narrow oddly


def read_signer_key(path: str | os.PathLike[str]) -> SignerKey:
    """The private key in a key file (`PRIVATE+KEY+...`)."""
    target = Path(path)
    try:
        text = target.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise NotFound(f"no key file at {target}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ValidationFailed(f"cannot read key file {target}: {exc}", where="key file") from None
    return parse_signer_key(text)


def ensure_log_key(path: Path, origin: str) -> tuple[SignerKey, bool]:
    """The log signing key at `path` (created if absent) and whether it was created now.

    An existing file is reused only if it holds a key named for this origin (a re-run after a failed init,
    or a key the operator prepared offline)."""
    if path.exists():
        signer = read_signer_key(path)
        if signer.name != origin:
            raise Conflict(f"{path} holds a key named {signer.name!r}, not the log origin {origin!r}")
        return signer, False
    signer, _ = generate_key(origin)
    write_private_key(path, signer.text)
    return signer, True


def create_log_key(db: Database, caller: svc.Caller, path: Path) -> tuple[SignerKey, bool]:
    """Give a log that has no key yet (founded without a key file) its signing key, and publish the verifier."""
    with db.transaction() as uow:
        origin = uow.state.setting("origin")
        if uow.state.setting(LOG_KEY_SETTING):
            raise Conflict(f"the log already has a verifier key ({uow.state.setting(LOG_KEY_SETTING)})")
        signer, created = ensure_log_key(path, origin)
        record_log_key(uow, caller, signer.verifier)
    return signer, created


def parse_key_argument(text: str) -> str:
    """A key given on the command line: the key text itself, or `@path` to a file holding it."""
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise NotFound(f"cannot read key file {text[1:]}: {exc}") from None
    return text.strip()


# --- the log key and witnesses, recorded in the log -------------------------------------------------------------


def record_log_key(uow: UnitOfWork, caller: svc.Caller, verifier: VerifierKey) -> None:
    """Publish the log's verifier key in the log. Once set it changes only with a handover, not here."""
    current = uow.state.setting(LOG_KEY_SETTING)
    if current and current != verifier.text:
        raise Conflict(f"the log already has a verifier key ({current}); a new one needs a key rotation")
    if verifier.name != uow.state.setting("origin"):
        raise ValidationFailed(f"the log key must be named {uow.state.setting('origin')!r}", where="log key")
    if not current:
        svc.record_setting(uow, caller, LOG_KEY_SETTING, verifier.text)


def parse_witness_key(text: str) -> CosignerKey:
    """A witness's key: its cosigner form (type 0x04) or its Ed25519 note verifier form (0x01).

    The type byte decides which form is meant, so that what is wrong with a damaged key (its key id, say) is
    reported for that form."""
    return parse_witness_vkey(text)


def add_witness(uow: UnitOfWork, caller: svc.Caller, name: str, key_text: str,
                replace: bool = False) -> tuple[CosignerKey, CosignerKey | None]:
    """Name a witness (recorded in the log). Returns its key and the key it had before, if any (the same key:
    nothing was recorded).

    A witness's key changes only when asked explicitly (`replace`): a key silently replaced would discount every
    cosignature the witness gives with the key its operator still uses. Past cosignatures stay checked against
    the key registered when they were received."""
    key = parse_witness_key(key_text)
    if key.name != name:
        raise ValidationFailed(f"the key is named {key.name!r}, not {name!r}", where="witness")
    current = active_witnesses(uow.state)
    previous = current.get(name)
    if previous is not None and previous.text == key.text:
        return key, previous  # already registered with this very key: nothing to record
    if previous is not None and not replace:
        raise Conflict(f"{name} is already a witness with the key {previous.text}; pass --replace to change "
                       f"its key to {key.text}")
    WitnessPolicy(tuple({**current, name: key}.values()), 1)  # refuses two names for one public key
    ctx = svc.authorized(uow, caller, WITNESS_ACTION)
    svc.record_events(uow, [ctx.event("WitnessAdded", {"name": name, "key": key.text})])
    return key, previous


def remove_witness(uow: UnitOfWork, caller: svc.Caller, name: str) -> CosignerKey:
    """Take a witness out of the published policy (recorded in the log); its past cosignatures stay valid."""
    ctx = svc.authorized(uow, caller, WITNESS_ACTION)
    previous = active_witnesses(uow.state).get(name)
    if previous is None:
        raise NotFound(f"{name} is not a witness of this log")
    svc.record_events(uow, [ctx.event("WitnessRemoved", {"name": name})])
    return previous


def set_quorum(uow: UnitOfWork, caller: svc.Caller, quorum: int) -> WitnessPolicy:
    ctx = svc.authorized(uow, caller, WITNESS_ACTION)
    policy = WitnessPolicy(tuple(active_witnesses(uow.state).values()), quorum)
    svc.record_events(uow, [ctx.event("QuorumRuleSet", {"decision": m.WITNESSES, "rule": str(quorum)})])
    return policy


def active_witnesses(state: State) -> dict[str, CosignerKey]:
    """The witnesses the log names now, by name (in name order), with their keys."""
    return {name: parse_cosigner_key(w.key) for name, w in sorted(state.witnesses.items()) if w.active}


# --- reading the record ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogInfo:
    """What a verifier needs to know about the log: origin, verifier key and witness policy."""

    origin: str
    key: VerifierKey | None
    witnesses: tuple[tuple[str, CosignerKey], ...]
    quorum: int

    @property
    def policy(self) -> WitnessPolicy | None:
        if not self.witnesses:
            return None
        return WitnessPolicy(tuple(k for _, k in self.witnesses), min(self.quorum, len(self.witnesses)))

    @property
    def published_policy(self) -> Policy:
        """The coordination's policy in C2SP tlog-policy form: a convenience for members, who verify with
        their own."""
        return published_policy(self.key, self.witnesses, self.quorum)

    def require_key(self) -> VerifierKey:
        if self.key is None:
            raise NotFound("the log has no verifier key yet: `contactgroup init` records it (or "
                           "`contactgroup ledger init-key`)")
        return self.key


def _log_info(settings: dict[str, str], witnesses: Sequence[m.Witness], quorum_rule: str) -> LogInfo:
    key_text = settings.get(LOG_KEY_SETTING)
    active = tuple((w.name, parse_cosigner_key(w.key)) for w in sorted(witnesses, key=lambda w: w.name) if w.active)
    quorum = int(quorum_rule) if quorum_rule.isdigit() else 1  # unset: one witness's cosignature suffices
    return LogInfo(settings.get("origin", ""), parse_verifier_key(key_text) if key_text else None, active, quorum)


def log_info_of_state(state: State) -> LogInfo:
    rule = state.quorum_rules.get(m.WITNESSES)
    return _log_info({n: s.value for n, s in state.tables["settings"].items()}, list(state.witnesses.values()),
                     rule.rule if rule else "")


def log_info(conn: Connection) -> LogInfo:
    rule = next((r.rule for r in record.entities(conn, "quorum_rules") if r.decision == m.WITNESSES), "")
    return _log_info(record.settings(conn), record.entities(conn, "witnesses"), rule)


def log_keys(conn: Connection, size: int | None = None) -> list[VerifierKey]:
    """Every log key the first `size` events (default: all) set, oldest first: a handover changes the key, and
    older checkpoints (and the receipts built on them) stay signed by the old one."""
    keys = []
    for _, body in record.events_of_type(conn, "SettingChanged", before=2**62 if size is None else size):
        data = decode(body).data
        if data.get("name") == LOG_KEY_SETTING:
            keys.append(parse_verifier_key(str(data.get("value"))))
    return keys


def log_key_at(conn: Connection, size: int) -> VerifierKey | None:
    """The log key in force once the first `size` events were recorded: the one that signed that tree."""
    keys = log_keys(conn, size)
    return keys[-1] if keys else None


def receipt_size(data: bytes) -> int | None:
    """The tree size a receipt claims, if it can be read (the full check is `check_receipt`'s)."""
    try:
        size = json.loads(data).get("tree_size")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


def tree_size(conn: Connection) -> int:
    """Leaves in the stored tree (= events appended through the application)."""
    return record.tree_size(conn)


def _size_or_current(conn: Connection, size: int | None) -> int:
    current = tree_size(conn)
    if size is None:
        return current
    if not 0 <= size <= current:
        raise ValidationFailed(f"size {size} is outside the log's 0..{current}", where="size")
    return size


@dataclass(frozen=True, slots=True)
class InclusionProof:
    index: int
    size: int
    leaf_hash: bytes
    proof: tuple[bytes, ...]
    root: bytes

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "tree_size": self.size, "leaf_hash": self.leaf_hash.hex(),
                "root": _b64(self.root), "proof": [_b64(p) for p in self.proof]}


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old: int
    new: int
    old_root: bytes
    new_root: bytes
    proof: tuple[bytes, ...]

    def as_json(self) -> dict[str, Any]:
        return {"old_size": self.old, "new_size": self.new, "old_root": _b64(self.old_root),
                "new_root": _b64(self.new_root), "proof": [_b64(p) for p in self.proof]}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def prove_inclusion(conn: Connection, index: int, size: int | None = None) -> InclusionProof:
    """The audit path of event `index` in the tree of `size` leaves (default: the whole log), O(log n) reads."""
    n = _size_or_current(conn, size)
    if not 0 <= index < n:
        raise ValidationFailed(f"index {index} is outside a tree of size {n}", where="index")
    store = TreeNodes(conn)
    proof = merkle.inclusion_proof_from_store(store, index, n)
    return InclusionProof(index, n, store.get(0, index), tuple(proof), merkle.root_from_store(store, n))


def prove_consistency(conn: Connection, old: int, new: int | None = None) -> ConsistencyProof:
    n = _size_or_current(conn, new)
    if not 0 <= old <= n:
        raise ValidationFailed(f"old size {old} must be between 0 and the new size {n}", where="old")
    store = TreeNodes(conn)
    proof = merkle.consistency_proof_from_store(store, old, n)
    return ConsistencyProof(old, n, merkle.root_from_store(store, old), merkle.root_from_store(store, n),
                            tuple(proof))


def handovers(conn: Connection, size: int | None = None) -> list[dict[str, Any]]:
    """Every `AuthorityHandedOver` event in the tree of `size` leaves, with its bytes and inclusion proof: what a
    witness needs to move to a new log key on the members' signatures alone (see ledger/handover.py)."""
    n = _size_or_current(conn, size)
    return [{"index": seq, "body": _b64(body), "tree_size": n,
             "proof": [_b64(p) for p in prove_inclusion(conn, seq, n).proof]}
            for seq, body in record.events_of_type(conn, "AuthorityHandedOver", before=n)]


def leaves(conn: Connection, start: int = 0, end: int | None = None, limit: int | None = None) -> list[bytes]:
    """Leaf hashes [start, end) in order, from the tree (what was attested, not recomputed)."""
    n = tree_size(conn)
    end = n if end is None else end
    if not 0 <= start <= end <= n:
        raise ValidationFailed(f"range {start}..{end} is outside the log's 0..{n}", where="leaves")
    if limit is not None and end - start > limit:
        raise ValidationFailed(f"at most {limit} leaves per request; ask for a smaller range", where="leaves")
    return record.leaf_hashes(conn, start, end)


# --- checkpoints and cosignatures -------------------------------------------------------------------------------


def latest_checkpoint(conn: Connection) -> tuple[int, str] | None:
    return record.latest_checkpoint(conn)


def checkpoint_at(conn: Connection, size: int) -> str | None:
    return record.checkpoint_at(conn, size)


def cosignature_lines(conn: Connection, size: int) -> list[str]:
    return record.cosignature_lines(conn, size)


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
        record.insert_checkpoint(conn, size, note, clock.now())
        return checkpoint, note, True


def current_checkpoint(conn: Connection) -> str:
    """The latest signed checkpoint note with every stored cosignature appended."""
    latest = latest_checkpoint(conn)
    if latest is None:
        raise NotFound("no signed checkpoint yet: run `contactgroup ledger checkpoint`")
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
        stored = not record.has_cosignature(conn, size, name)
        if stored:
            record.insert_cosignature(conn, size, name, cos.line.rstrip("\n"), clock.now())
        lines = cosignature_lines(conn, size)
    policy = info.policy
    signed = policy.witnessed_by(checkpoint, lines) if policy else frozenset()
    return CosignatureReceived(size, name, stored, bool(policy and len(signed) >= policy.quorum),
                               tuple(sorted(k.name for k in signed)), policy.quorum if policy else 0)


def latest_witnessed(conn: Connection, info: LogInfo, covering: int = 0) -> tuple[int, str] | None:
    """The largest checkpoint with size > `covering` that the policy counts as witnessed, with cosignatures."""
    policy = info.policy
    for size, note in record.checkpoints_after(conn, covering):
        full = with_cosignatures(note, cosignature_lines(conn, size))
        if policy is None:
            return size, full  # no witnesses configured: the log's own signature is all there is
        checkpoint = parse_checkpoint(parse_note(note).text)
        if policy.is_witnessed(checkpoint, full):
            return size, full
    return None


# --- receipts ---------------------------------------------------------------------------------------------------

# Events whose subject is an offer, and how to find it: data["id"] names the offer, an allocation, a consent
# or a shipment; creating events carry the offer (or allocation) in their data.
_OFFER_ID = {"OfferDrafted", "OfferMade", "OfferCommitted", "OfferWithdrawn"}
_ALLOCATION_ID = {"AllocationAcceptedByDonor", "AllocationAcceptedByRecipient", "AllocationConfirmed",
                  "AllocationDeclined"}
_CONSENT_ID = {"ConsentGranted", "ConsentRefused"}
_DELIVERY_ID = {"ShipmentReachedHub", "ShipmentHandedOver", "ShipmentReceived"}


def offer_of_event(state: State, type_: str, data: dict[str, Any]) -> str | None:
    """The offer an event is about, or None when it is not offer-related."""
    if type_ in _OFFER_ID:
        return str(data["id"])
    if type_ in ("AllocationProposed", "ConsentRequested"):
        return str(data["offer"])
    allocation: str | None = None
    if type_ in _ALLOCATION_ID:
        allocation = str(data["id"])
    elif type_ == "ShipmentDispatched":
        allocation = str(data["allocation"])
    elif type_ in _DELIVERY_ID:
        delivery = state.deliveries.get(str(data["id"]))
        allocation = delivery.allocation if delivery else "?"
    elif type_ in _CONSENT_ID:
        consent = state.consents.get(str(data["id"]))
        return consent.offer if consent else "?"
    if allocation is None:
        return None
    found = state.allocations.get(allocation)
    return found.offer if found else "?"


def may_see_event(state: State, user_name: str, type_: str, data: dict[str, Any]) -> bool:
    who = access.user(state, user_name)
    offer_id = offer_of_event(state, type_, data)
    if offer_id is None:
        return True  # everything that is not about an offer is visible to every registered user
    if who.role is Role.COORDINATOR:
        return True
    offer = state.offers.get(offer_id)
    return offer is not None and access.can_see_offer(state, who, offer)


def receipt(db: Database, user_name: str, index: int) -> dict[str, Any]:
    """A receipt for event `index`: its bytes, leaf hash, inclusion proof, and the newest witnessed checkpoint
    (with its cosignatures) that covers it. Refused when `user_name` may not see the event."""
    with db.reader() as conn:
        events = list(read_events(conn, index, index + 1))
        if not events:
            raise NotFound(f"no event {index}")
        _, body, _ = events[0]
        event = decode(body)
        state = load_state(conn)[0]
        if not may_see_event(state, user_name, event.type, dict(event.data)):
            raise Forbidden(f"{user_name} may not see event {index} ({event.type}): no receipt")
        info = log_info(conn)
        found = latest_witnessed(conn, info, covering=index)
        if found is None:
            what = "witnessed " if info.policy else ""
            raise Conflict(f"no {what}checkpoint covers event {index} yet: sign one with "
                           f"`contactgroup ledger checkpoint`" + (" and let the witnesses cosign it"
                                                                   if info.policy else ""))
        size, note = found
        proof = prove_inclusion(conn, index, size)
    if proof.leaf_hash != merkle.leaf_hash(body):
        raise ContactGroupError(f"event {index} does not match the tree: run `contactgroup verify`")
    return {
        "format": RECEIPT_FORMAT,
        "origin": info.origin,
        "index": index,
        "event": _b64(body),
        "leaf_hash": proof.leaf_hash.hex(),
        "tree_size": size,
        "proof": [_b64(p) for p in proof.proof],
        "checkpoint": note,
    }


@dataclass
class ReceiptCheck:
    problems: list[str] = field(default_factory=list)
    index: int = -1
    tree_size: int = 0
    event_type: str = ""
    origin: str = ""
    witnessed_by: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def check_receipt(data: bytes | str, log_key: VerifierKey | None, witnesses: Sequence[CosignerKey] = (),
                  quorum: int | None = None, policy: Policy | None = None) -> ReceiptCheck:
    """Check a receipt offline: the event's bytes hash to the leaf, the leaf is in the signed checkpoint's tree,
    the checkpoint is signed by `log_key` — or, with a member's own tlog-`policy`, by one of the policy's logs
    and witnessed as that policy requires; else (with witnesses) cosigned by `quorum` of them (default: all)."""
    result = ReceiptCheck()
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        result.problems.append(f"not a JSON receipt: {exc}")
        return result
    if not isinstance(doc, dict) or doc.get("format") != RECEIPT_FORMAT:
        result.problems.append(f"not a {RECEIPT_FORMAT} document")
        return result
    try:
        index, size, origin = doc["index"], doc["tree_size"], doc["origin"]
        if not isinstance(index, int) or not isinstance(size, int) or isinstance(index, bool) \
                or isinstance(size, bool):
            raise TypeError("index and tree_size must be integers")
        if not isinstance(origin, str):
            raise TypeError("origin must be text")
        body = base64.b64decode(doc["event"], validate=True)
        leaf = bytes.fromhex(doc["leaf_hash"])
        proof = [base64.b64decode(p, validate=True) for p in doc["proof"]]
        note = doc["checkpoint"]
        if not isinstance(note, str):
            raise TypeError("checkpoint must be a signed note")
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        result.problems.append(f"malformed receipt: {exc}")
        return result
    result.index, result.tree_size = index, size
    try:
        result.event_type = decode(body).type
    except (ValueError, KeyError, TypeError) as exc:
        result.problems.append(f"event bytes are not an event: {exc}")
    if merkle.leaf_hash(body) != leaf:
        result.problems.append("the event's bytes do not hash to the receipt's leaf hash (altered event)")
    keys = [log_key] if log_key is not None else []
    try:
        if policy is not None:
            signed = policy.open(note, keys)
        else:
            if log_key is None:
                raise ValidationFailed("no log key to check the checkpoint with", where="receipt")
            signed = open_checkpoint(note, keys)
    except ContactGroupError as exc:
        by = "a log of the policy" if policy is not None and policy.logs else (log_key.text if log_key else "?")
        result.problems.append(f"checkpoint not signed by {by}: {exc}")
        return result
    checkpoint = signed.checkpoint
    result.origin = checkpoint.origin
    if log_key is not None and checkpoint.origin != log_key.name and not (policy and policy.logs):
        result.problems.append(f"checkpoint is for origin {checkpoint.origin!r}, not {log_key.name!r}")
    if origin != checkpoint.origin:
        result.problems.append(f"the receipt says origin {origin!r}, its checkpoint is for {checkpoint.origin!r}")
    if checkpoint.size != size:
        result.problems.append(f"receipt says tree size {size}, the checkpoint says {checkpoint.size}")
    if not merkle.verify_inclusion(merkle.leaf_hash(body), index, checkpoint.size, proof, checkpoint.root):
        result.problems.append(f"the inclusion proof does not lead from event {index} to the checkpoint's root")
    if policy is not None:
        names = policy.witnessed_by(checkpoint, note)
        result.witnessed_by = tuple(sorted(names))
        if not policy.satisfied_by(names):
            cosigned = ", ".join(sorted(names)) or "none of its witnesses"
            result.problems.append(f"not witnessed as the policy requires (quorum {policy.quorum}): cosigned by "
                                   f"{cosigned}")
    elif witnesses:
        k = len(witnesses) if quorum is None else quorum
        try:
            wpolicy = WitnessPolicy(tuple(witnesses), k)
        except ValidationFailed as exc:
            result.problems.append(str(exc))
            return result
        signed_by = wpolicy.witnessed_by(checkpoint, note)
        result.witnessed_by = tuple(sorted(w.name for w in signed_by))
        if len(signed_by) < k:
            result.problems.append(f"cosigned by {len(signed_by)} of the given witnesses, {k} needed")
    return result
