"""The RFC 9162 §2.1 Merkle tree over raw leaf bytes: hashes, inclusion and consistency proofs, verification.

Hashing: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right), empty tree = SHA-256("").
Two ways to build proofs: from a list of leaf hashes (simple, O(n)), or from a `NodeStore` of complete
subtrees (what storage keeps), which costs O(log n) node reads at any size.

Edge cases, decided here and documented in docs/formats/ledger.md:
- consistency from old_size 0: RFC 9162 defines proofs only for 0 < m < n. The empty tree is a prefix of
  every tree, so we accept it with an EMPTY proof, but only when old_root is the empty-tree hash
  SHA-256("") — any other old root cannot be the root of an empty tree and is refused. (tlog-witness also
  requires the proof to be empty when the old size is zero.) `consistency_proof(leaves, 0)` returns [].
- old_size == new_size: the proof must be empty and the two roots equal.
- the verifiers take only `bytes` hashes of exactly 32 bytes and `int` sizes (not bool) in 0..2^64-1;
  anything else makes them return False, never raise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from contactgroup.domain.errors import ValidationFailed

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_SIZE = 2**64 - 1  # checkpoints carry uint64 sizes; larger sizes cannot be attested anyway
# A uint64 tree is at most 64 levels deep: an inclusion proof has at most 64 hashes, a consistency
# proof at most 2 per level. Longer proofs are refused before any hashing (cheap against abuse).
MAX_INCLUSION_PROOF = 64
MAX_CONSISTENCY_PROOF = 128

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 hash of one leaf's bytes."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an interior node from its two children."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly smaller than `size` (size >= 2): where RFC 9162 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


# --- proofs over any source of subtree hashes -------------------------------------------------------------
# `subtree(start, end)` returns MTH(D[start:end]). Both the list and the store variants below feed the same
# two recursions, so they cannot disagree about which hashes a proof contains or in what order.

SubtreeHash = Callable[[int, int], bytes]


def _path(subtree: SubtreeHash, index: int, start: int, end: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[start:end]), with m = index - start, collected bottom-up."""
    proof: list[bytes] = []
    # Walk down from the root, remembering siblings; the proof lists them leaf-first.
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start = start + k
    proof.reverse()
    return proof


def _subproof(subtree: SubtreeHash, m: int, start: int, end: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], true) for 0 < m < end - start, collected bottom-up."""
    proof: list[bytes] = []
    complete = True  # the RFC's `b`: whether the current subtree root is the old tree's root itself
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append(subtree(start, end))
            break
        k = _split(n)
        if m <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start, m, complete = start + k, m - k, False
    proof.reverse()
    return proof


# --- list-based API ---------------------------------------------------------------------------------------


def _check_hashes(leaf_hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(leaf_hashes):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ValidationFailed(f"leaf hash {i} is not {HASH_SIZE} bytes", where="merkle")


def _list_subtree(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    def subtree(start: int, end: int) -> bytes:
        n = end - start
        if n == 1:
            return leaf_hashes[start]
        k = _split(n)
        return node_hash(subtree(start, start + k), subtree(start + k, end))

    return subtree


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the tree whose leaves have these hashes (SHA-256("") for none)."""
    _check_hashes(leaf_hashes)
    if not leaf_hashes:
        return EMPTY_ROOT
    # Fold level by level: O(n) hashes, no recursion depth concerns.
    level = list(leaf_hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])  # an unpaired right edge moves up unchanged, exactly as in RFC 9162
        level = nxt
    return level[0]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path for leaf `index` in the tree of all `leaf_hashes`."""
    _check_hashes(leaf_hashes)
    _check_index(index, len(leaf_hashes))
    return _path(_list_subtree(leaf_hashes), index, 0, len(leaf_hashes))


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof that the first `old_size` leaves form a prefix of the tree of all `leaf_hashes`."""
    _check_hashes(leaf_hashes)
    _check_sizes(old_size, len(leaf_hashes))
    if old_size in (0, len(leaf_hashes)):
        return []
    return _subproof(_list_subtree(leaf_hashes), old_size, 0, len(leaf_hashes))


def _check_index(index: int, size: int) -> None:
    if not _is_int(index) or not 0 <= index < size:
        raise ValidationFailed(f"leaf index {index!r} is outside a tree of size {size}", where="merkle")


def _check_sizes(old_size: int, new_size: int) -> None:
    if not _is_int(old_size) or not _is_int(new_size) or not 0 <= old_size <= new_size <= MAX_SIZE:
        raise ValidationFailed(f"sizes must satisfy 0 <= old ({old_size!r}) <= new ({new_size!r})", "merkle")


# --- verification (never raises) --------------------------------------------------------------------------


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_hash(v: object) -> bool:
    return isinstance(v, bytes) and len(v) == HASH_SIZE


def _is_proof(proof: object, limit: int) -> bool:
    return isinstance(proof, list | tuple) and len(proof) <= limit and all(_is_hash(p) for p in proof)


def root_from_inclusion_proof(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root implied by an audit path (RFC 9162 §2.1.3.2), or None when the path cannot fit the sizes."""
    if not (_is_hash(leaf) and _is_int(index) and _is_int(tree_size) and _is_proof(proof, MAX_INCLUSION_PROOF)):
        return None
    if not 0 <= index < tree_size <= MAX_SIZE:
        return None
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:  # skip levels where this node has no right sibling
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether `proof` shows the leaf with hash `leaf_hash` at `index` in the tree of `tree_size` with `root`."""
    try:
        if not _is_hash(root):
            return False
        return root_from_inclusion_proof(leaf_hash, index, tree_size, proof) == root
    except Exception:  # a verifier answers yes or no; hostile input must never turn into a crash
        return False


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether `proof` shows the tree (old_size, old_root) is a prefix of the tree (new_size, new_root)."""
    try:
        return _verify_consistency(old_size, new_size, old_root, new_root, proof)
    except Exception:  # see verify_inclusion
        return False


def _verify_consistency(m: int, n: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    if not (_is_int(m) and _is_int(n) and _is_hash(old_root) and _is_hash(new_root)):
        return False
    if not _is_proof(proof, MAX_CONSISTENCY_PROOF) or not 0 <= m <= n <= MAX_SIZE:
        return False
    if m == 0:
        # The empty tree is a prefix of every tree; its root is fixed, so a wrong old root is still wrong.
        return len(proof) == 0 and old_root == EMPTY_ROOT and (n > 0 or new_root == EMPTY_ROOT)
    if m == n:
        return len(proof) == 0 and old_root == new_root
    if len(proof) == 0:
        return False
    # RFC 9162 §2.1.4.2.
    path = list(proof)
    if _is_power_of_two(m):
        path.insert(0, old_root)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --- node store: what storage keeps, and O(log n) proofs from it ------------------------------------------


class NodeStore(Protocol):
    """Read access to complete subtrees: `get(level, index)` is the hash of the 2**level leaves starting
    at leaf index * 2**level. Only complete subtrees exist; they never change once written."""

    def get(self, level: int, index: int) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Node:
    """One complete-subtree hash to persist."""

    level: int
    index: int
    hash: bytes


def append_nodes(store: NodeStore, size: int, new_leaf_hash: bytes) -> list[Node]:
    """The nodes to write when `new_leaf_hash` becomes leaf `size` (the tree grows to size + 1).

    Returns the leaf node plus every subtree it completes, bottom-up; reads one existing node per completed
    level (the left siblings), so an append costs O(log n) reads and writes.
    """
    if not _is_hash(new_leaf_hash):
        raise ValidationFailed(f"leaf hash must be {HASH_SIZE} bytes", where="merkle")
    if not _is_int(size) or not 0 <= size < MAX_SIZE:
        raise ValidationFailed(f"tree size {size!r} cannot grow", where="merkle")
    nodes = [Node(0, size, new_leaf_hash)]
    level, index, h = 0, size, new_leaf_hash
    while index & 1:  # this node is a right child: its parent is now complete
        h = node_hash(store.get(level, index - 1), h)
        level, index = level + 1, index >> 1
        nodes.append(Node(level, index, h))
    return nodes


def _store_subtree(store: NodeStore) -> SubtreeHash:
    def subtree(start: int, end: int) -> bytes:
        n = end - start
        if _is_power_of_two(n) and start % n == 0:
            return store.get(n.bit_length() - 1, start // n)
        # A right-edge range: the RFC split keeps its left part complete and aligned, so this recursion
        # reads one node per set bit of n, never more.
        k = _split(n)
        return node_hash(subtree(start, start + k), subtree(start + k, end))

    return subtree


def root_from_store(store: NodeStore, size: int) -> bytes:
    """MTH of the first `size` leaves, from at most one node read per set bit of `size`."""
    if not _is_int(size) or not 0 <= size <= MAX_SIZE:
        raise ValidationFailed(f"tree size {size!r} is invalid", where="merkle")
    return EMPTY_ROOT if size == 0 else _store_subtree(store)(0, size)


def inclusion_proof_from_store(store: NodeStore, index: int, size: int) -> list[bytes]:
    """Same as `inclusion_proof` for the first `size` leaves of the store, in O(log size) reads."""
    if not _is_int(size) or size > MAX_SIZE:
        raise ValidationFailed(f"tree size {size!r} is invalid", where="merkle")
    _check_index(index, size)
    return _path(_store_subtree(store), index, 0, size)


def consistency_proof_from_store(store: NodeStore, old_size: int, new_size: int) -> list[bytes]:
    """Same as `consistency_proof` between two sizes of the store's tree, in O(log new_size) reads."""
    _check_sizes(old_size, new_size)
    if old_size in (0, new_size):
        return []
    return _subproof(_store_subtree(store), old_size, 0, new_size)


class MemoryNodeStore:
    """An in-memory `NodeStore` for tests and benchmarks: one list of hashes per level."""

    __slots__ = ("levels", "reads")

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = []
        self.reads = 0  # counts get() calls so tests and benchmarks can check the O(log n) promise

    @property
    def size(self) -> int:
        return len(self.levels[0]) if self.levels else 0

    def get(self, level: int, index: int) -> bytes:
        self.reads += 1
        # Negative indices would silently wrap around a Python list; they name no subtree.
        if level < 0 or index < 0 or level >= len(self.levels) or index >= len(self.levels[level]):
            raise KeyError(f"no complete subtree at level {level}, index {index}")
        return self.levels[level][index]

    def put(self, node: Node) -> None:
        while len(self.levels) <= node.level:
            self.levels.append([])
        row = self.levels[node.level]
        if node.index == len(row):
            row.append(node.hash)
        elif node.index < len(row):
            if row[node.index] != node.hash:  # complete subtrees are immutable: a change is tampering
                raise ValueError(f"node ({node.level}, {node.index}) already holds a different hash")
        else:
            raise ValueError(f"node ({node.level}, {node.index}) would leave a gap")

    def append(self, new_leaf_hash: bytes) -> list[Node]:
        """Add the next leaf and every subtree it completes; returns what was written."""
        nodes = append_nodes(self, self.size, new_leaf_hash)
        for node in nodes:
            self.put(node)
        return nodes

    def iter_leaves(self) -> Iterator[bytes]:
        yield from (self.levels[0] if self.levels else ())
