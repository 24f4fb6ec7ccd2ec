"""The leaf form of an event: the bytes the Merkle tree commits to, which a proof may show without the actor.

From body version 3 on, an event's stored body names its `actor` beside a random `actor_nonce`. Its leaf data is
the same canonical JSON with those two keys replaced by `actor_commitment`, a hiding and binding commitment to the
actor: SHA-256 over a domain tag, the nonce's 16 bytes and the actor's UTF-8. A rewritten actor changes the
commitment, so the tree still binds who recorded the event; without the nonce, the commitment (unlike a plain hash
of the actor, which anyone could confirm by trying every account name) tells nothing about who it was. A public
release shows the leaf form; the log, `verify` and a member's receipt keep the whole body. A body of an older
version is its own leaf data, byte for byte, so old logs verify as they always did (see docs/formats/events.md).
"""

from __future__ import annotations

import hashlib
import json
import re

from contactgroup.encoding.canonical import serialised
from contactgroup.ledger.merkle import leaf_hash

ACTOR_COMMITTED = 3  # the first body version whose leaf data commits to the actor instead of naming it
ACTOR_NONCE_BYTES = 16
ACTOR_DOMAIN = b"contactgroup actor commitment v1\x00"  # no other hash of this project starts with these bytes
_NONCE = re.compile(r"[0-9a-f]{32}")
_COMMITMENT = re.compile(r"[0-9a-f]{64}")


def body_version(body: bytes) -> int:
    """The `v` of an event's canonical bytes: keys are sorted, so it is the last one (0 when there is none)."""
    try:
        return int(body[body.rindex(b'"v":') + 4:-1])
    except ValueError:
        return 0


def actor_commitment(nonce: bytes, actor: str) -> str:
    """The hex SHA-256 that stands for `actor` in a leaf. The nonce has a fixed length, so the encoding is
    unambiguous: no other (nonce, actor) pair gives the same hashed bytes."""
    if len(nonce) != ACTOR_NONCE_BYTES:
        raise ValueError(f"an actor nonce has {ACTOR_NONCE_BYTES} bytes, not {len(nonce)}")
    return hashlib.sha256(ACTOR_DOMAIN + nonce + actor.encode("utf-8")).hexdigest()


def leaf_data(body: bytes) -> bytes:
    """The leaf data of an event's stored body (a leaf form is its own). Raises ValueError for bytes of version 3
    or later that are not a canonical body or leaf form: one leaf has one body, and one leaf form."""
    if body_version(body) < ACTOR_COMMITTED:
        return body
    try:
        fields = _DECODER.decode(body.decode("utf-8"))
        if not isinstance(fields, dict) or serialised(fields) != body:
            raise ValueError("not canonical JSON")
    except (TypeError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"event bytes of version {body_version(body)} are not canonical JSON ({exc})") from None
    if "actor" not in fields and "actor_nonce" not in fields:
        commitment = fields.get("actor_commitment")
        if not isinstance(commitment, str) or not _COMMITMENT.fullmatch(commitment):
            raise ValueError("event bytes with neither an actor nor an actor commitment")
        return body
    actor, nonce = fields.pop("actor", None), fields.pop("actor_nonce", None)
    if not isinstance(actor, str) or not isinstance(nonce, str) or not _NONCE.fullmatch(nonce) \
            or "actor_commitment" in fields:
        raise ValueError("event bytes must carry an actor with its nonce (32 hex digits), or only a commitment")
    fields["actor_commitment"] = actor_commitment(bytes.fromhex(nonce), actor)
    return serialised(fields)


def _no_number(text: str) -> None:
    raise ValueError(f"{text}: canonical bytes hold no float")


# Parsed JSON holds only JSON's own types and no float (refused when parsed): `plain` would return it unchanged, so
# its canonical bytes are `serialised`. Made once: json.loads with options builds a new decoder per call, which cost
# more than the parsing itself.
_DECODER = json.JSONDecoder(parse_float=_no_number, parse_constant=_no_number)


def event_leaf_hash(body: bytes) -> bytes:
    """The leaf hash of an event, from its stored body or its leaf form."""
    return leaf_hash(leaf_data(body))
