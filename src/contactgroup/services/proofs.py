"""Proofs from the stored tree: inclusion of an event, consistency of two sizes, leaf hashes, and the handovers
a witness needs to follow a new log key."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from contactgroup.domain.errors import ValidationFailed
from contactgroup.ledger import merkle
from contactgroup.ledger.leaf import leaf_data
from contactgroup.storage import log_tables
from contactgroup.storage.database import Connection, TreeNodes

MAX_LEAVES = 65_536  # per request: a client pages through a large log
MAX_SIZE = 2**63 - 1  # tree sizes and indices are stored as 64-bit integers: no larger one names anything


def tree_size(conn: Connection) -> int:
    """Leaves in the stored tree (= events appended through the application)."""
    return log_tables.tree_size(conn)


def size_or_current(conn: Connection, size: int | None) -> int:
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
                "root": b64(self.root), "proof": [b64(p) for p in self.proof]}


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old: int
    new: int
    old_root: bytes
    new_root: bytes
    proof: tuple[bytes, ...]

    def as_json(self) -> dict[str, Any]:
        return {"old_size": self.old, "new_size": self.new, "old_root": b64(self.old_root),
                "new_root": b64(self.new_root), "proof": [b64(p) for p in self.proof]}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def prove_inclusion(conn: Connection, index: int, size: int | None = None) -> InclusionProof:
    """The audit path of event `index` in the tree of `size` leaves (default: the whole log), O(log n) reads."""
    n = size_or_current(conn, size)
    if not 0 <= index < n:
        raise ValidationFailed(f"index {index} is outside a tree of size {n}", where="index")
    store = TreeNodes(conn)
    proof = merkle.inclusion_proof_from_store(store, index, n)
    return InclusionProof(index, n, store.get(0, index), tuple(proof), merkle.root_from_store(store, n))


def prove_consistency(conn: Connection, old: int, new: int | None = None) -> ConsistencyProof:
    n = size_or_current(conn, new)
    if not 0 <= old <= n:
        raise ValidationFailed(f"old size {old} must be between 0 and the new size {n}", where="old")
    store = TreeNodes(conn)
    proof = merkle.consistency_proof_from_store(store, old, n)
    return ConsistencyProof(old, n, merkle.root_from_store(store, old), merkle.root_from_store(store, n),
                            tuple(proof))


def handovers(conn: Connection, size: int | None = None) -> list[dict[str, Any]]:
    """Every `AuthorityHandedOver` event in the tree of `size` leaves, in its leaf form (which names no account),
    with its inclusion proof: what a witness needs to move to a new log key on the members' signatures alone (see
    ledger/handover.py)."""
    n = size_or_current(conn, size)
    return [{"index": seq, "body": b64(leaf_data(body)), "tree_size": n,
             "proof": [b64(p) for p in prove_inclusion(conn, seq, n).proof]}
            for seq, body in log_tables.events_of_type(conn, "AuthorityHandedOver", before=n)]


def leaves(conn: Connection, start: int = 0, end: int | None = None, limit: int | None = None) -> list[bytes]:
    """Leaf hashes [start, end) in order, from the tree (what was attested, not recomputed)."""
    n = tree_size(conn)
    end = n if end is None else end
    if not 0 <= start <= end <= n:
        raise ValidationFailed(f"range {start}..{end} is outside the log's 0..{n}", where="leaves")
    if limit is not None and end - start > limit:
        raise ValidationFailed(f"at most {limit} leaves per request; ask for a smaller range", where="leaves")
    return log_tables.leaf_hashes(conn, start, end)
