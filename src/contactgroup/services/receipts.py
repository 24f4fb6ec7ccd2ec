"""Receipts: an event with its inclusion proof against a witnessed checkpoint, given to who may see the event, and
checked offline by anyone holding the log key (and the witnesses' keys, or their own tlog-policy)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from contactgroup.domain.errors import Conflict, ContactGroupError, Forbidden, NotFound, ValidationFailed
from contactgroup.domain.model import Role
from contactgroup.domain.state import State
from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import open_checkpoint
from contactgroup.ledger.cosignature import CosignerKey
from contactgroup.ledger.leaf import event_leaf_hash, leaf_data
from contactgroup.ledger.note import VerifierKey
from contactgroup.ledger.policy import Policy, WitnessPolicy
from contactgroup.services import access
from contactgroup.services.checkpoints import latest_witnessed
from contactgroup.services.proofs import b64, prove_inclusion
from contactgroup.services.witness_policy import log_info
from contactgroup.storage.database import Database, decode, decode_leaf, load_state, read_events

RECEIPT_FORMAT = "contactgroup-receipt/1"


def receipt_size(data: bytes) -> int | None:
    """The tree size a receipt claims, if it can be read (the full check is `check_receipt`'s)."""
    try:
        size = json.loads(data).get("tree_size")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


# Events whose subject is an offer, and how to find it: data["id"] names the offer, an allocation, a consent
# or a shipment; creating events carry the offer (or allocation) in their data.
_OFFER_ID = {"OfferDrafted", "OfferMade", "OfferCommitted", "OfferWithdrawn"}
_ALLOCATION_ID = {"AllocationAcceptedByDonor", "AllocationAcceptedByRecipient", "AllocationConfirmed",
                  "AllocationDeclined", "AllocationReopened", "AllocationOwedReleased"}


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
    (with its cosignatures) that covers it. Refused when `user_name` may not see the event. The bytes are the whole
    body for the account that recorded the event, else its leaf form, which names no account (version 3 on)."""
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
            raise Conflict(f"no {what}checkpoint covers event {index} yet", code="no-covering-checkpoint",
                           witnessed=info.policy is not None)
        size, note = found
        proof = prove_inclusion(conn, index, size)
    if proof.leaf_hash != event_leaf_hash(body):
        raise ContactGroupError(f"event {index} does not match the tree", code="tree-mismatch")
    return {
        "format": RECEIPT_FORMAT,
        "origin": info.origin,
        "index": index,
        "event": b64(body if event.actor == user_name else leaf_data(body)),  # names no one else's account
        "leaf_hash": proof.leaf_hash.hex(),
        "tree_size": size,
        "proof": [b64(p) for p in proof.proof],
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
    """Check a receipt offline: the event's bytes (its whole body, or its leaf form) hash to the leaf, the leaf is in
    the signed checkpoint's tree, the checkpoint is signed by `log_key` — or, with a member's own tlog-`policy`, by
    one of the policy's logs and witnessed as that policy requires; else (with witnesses) cosigned by `quorum` of
    them (default: all)."""
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
        result.event_type = decode_leaf(body).type
        computed = event_leaf_hash(body)  # the event's own body (naming its actor) or its leaf form
    except (ValueError, KeyError, TypeError) as exc:
        result.problems.append(f"event bytes are not an event: {exc}")
        computed = merkle.leaf_hash(body)
    if computed != leaf:
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
    if not merkle.verify_inclusion(computed, index, checkpoint.size, proof, checkpoint.root):
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
