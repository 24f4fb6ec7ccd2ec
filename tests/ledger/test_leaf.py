"""The leaf form of an event: the same body gives the same leaf, older bodies are their own leaf, and the leaf
commits to the actor without naming it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactgroup.domain.event import Event
from contactgroup.encoding.canonical import canonical_bytes
from contactgroup.ledger.leaf import actor_commitment, body_version, event_leaf_hash, leaf_data
from contactgroup.ledger.merkle import leaf_hash
from contactgroup.storage import database
from contactgroup.storage.database import decode, decode_leaf, encode

names = st.text(min_size=1, max_size=40)
data = st.dictionaries(st.text(max_size=10), st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                       max_size=5)
events = st.builds(Event, type=st.sampled_from(["OfferMade", "PledgeRecorded", "SettingChanged"]), data=data,
                   actor=names, party=st.sampled_from(["DEU", "UKR", "IDCC"]), authority=st.just("IDCC"),
                   at=st.integers(0, 10**9).map(lambda s: datetime(2022, 1, 1, tzinfo=UTC) + timedelta(seconds=s)))
secrets16 = st.binary(min_size=16, max_size=16)


@given(events, secrets16, secrets16)
def test_the_same_body_gives_the_same_leaf_which_names_no_actor(event: Event, salt: bytes, nonce: bytes) -> None:
    body = encode(event, salt, nonce)
    leaf = leaf_data(body)
    assert leaf == leaf_data(body) == leaf_data(encode(event, salt, nonce)) == leaf_data(leaf)
    shown = json.loads(leaf)
    assert "actor" not in shown and "actor_nonce" not in shown
    assert shown["actor_commitment"] == actor_commitment(nonce, event.actor)
    assert decode(body) == event and decode_leaf(leaf) == Event(event.type, event.data, "", event.party,
                                                                event.authority, event.at)
    assert event_leaf_hash(body) == event_leaf_hash(leaf) == leaf_hash(leaf)


@given(events, secrets16, secrets16, st.sampled_from([1, 2]))
def test_bodies_before_version_3_are_their_own_leaf(event: Event, salt: bytes, nonce: bytes, version: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(database, "BODY_VERSION", version)
        body = encode(event, salt, nonce)
    assert body_version(body) == version and b"actor_nonce" not in body
    assert leaf_data(body) is body and event_leaf_hash(body) == leaf_hash(body)


@given(events, names, secrets16, secrets16)
def test_another_actor_or_nonce_gives_another_leaf(event: Event, other: str, salt: bytes, nonce: bytes) -> None:
    body = encode(event, salt, nonce)
    if other != event.actor:
        assert leaf_data(encode(Event(event.type, event.data, other, event.party, event.authority, event.at),
                                salt, nonce)) != leaf_data(body)
    flipped = bytes([nonce[0] ^ 1]) + nonce[1:]
    assert leaf_data(encode(event, salt, flipped)) != leaf_data(body)


def test_the_commitment_is_over_a_domain_tag_the_nonce_and_the_actor() -> None:
    # As docs/formats/events.md defines it: anyone can recompute it.
    assert actor_commitment(bytes(16), "deu-desk") == hashlib.sha256(
        b"contactgroup actor commitment v1\x00" + bytes(16) + b"deu-desk").hexdigest()
    with pytest.raises(ValueError, match="16 bytes"):
        actor_commitment(bytes(15), "deu-desk")


EVENT = Event("OfferMade", {"id": "O-1"}, "deu-desk", "DEU", "IDCC", datetime(2026, 4, 1, tzinfo=UTC))


@pytest.mark.parametrize(("change", "why"), [
    (lambda d: d.pop("actor_nonce"), "actor with its nonce"),
    (lambda d: d.update(actor_nonce="ABC"), "actor with its nonce"),
    (lambda d: d.update(actor_commitment="0" * 64), "actor with its nonce"),
    (lambda d: (d.pop("actor"), d.pop("actor_nonce")), "neither an actor nor an actor commitment"),
])
def test_a_version_3_body_without_its_actor_and_nonce_has_no_leaf(change: object, why: str) -> None:
    fields = json.loads(encode(EVENT))
    change(fields)  # type: ignore[operator]
    with pytest.raises(ValueError, match=why):
        leaf_data(canonical_bytes(fields))


def test_a_version_3_body_that_is_not_canonical_has_no_leaf() -> None:
    body = encode(EVENT)
    with pytest.raises(ValueError, match="not canonical JSON"):
        leaf_data(body.replace(b'","', b'", "', 1))
    with pytest.raises(ValueError, match="not canonical JSON"):  # a key twice: a reader could see either actor
        leaf_data(body.replace(b'{"actor":', b'{"actor":"usa-desk","actor":', 1))
