"""Proofs from a node store: same answers as the list functions, O(log n) node reads, O(log n) appends."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactgroup.domain.errors import ValidationFailed
from contactgroup.ledger.merkle import (
    EMPTY_ROOT,
    MemoryNodeStore,
    Node,
    append_nodes,
    consistency_proof,
    consistency_proof_from_store,
    inclusion_proof,
    inclusion_proof_from_store,
    leaf_hash,
    root_from_store,
    root_hash,
)

from .test_merkle import NODE_HASHES, ROOTS


def build(n: int) -> tuple[MemoryNodeStore, list[bytes]]:
    store = MemoryNodeStore()
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(n)]
    for h in leaves:
        store.append(h)
    return store, leaves


class TestAppend:
    def test_store_holds_the_published_complete_subtrees(self) -> None:
        # Vectors: transparency-dev/merkle testonly/constants.go NodeHashes (see test_merkle.py).
        from .test_merkle import LEAVES

        store = MemoryNodeStore()
        for h in LEAVES:
            store.append(h)
        assert [[h.hex() for h in row] for row in store.levels] == NODE_HASHES

    def test_roots_of_every_prefix_match_published_roots(self) -> None:
        from .test_merkle import LEAVES

        store = MemoryNodeStore()
        for h in LEAVES:
            store.append(h)
        assert [root_from_store(store, n).hex() for n in range(9)] == ROOTS

    def test_append_writes_leaf_and_completed_subtrees_only(self) -> None:
        store, _ = build(7)
        nodes = append_nodes(store, 7, leaf_hash(b"eighth"))
        assert [(n.level, n.index) for n in nodes] == [(0, 7), (1, 3), (2, 1), (3, 0)]
        assert [(n.level, n.index) for n in append_nodes(store, 6, leaf_hash(b"x"))] == [(0, 6)]

    def test_append_reads_one_node_per_completed_level(self) -> None:
        store, _ = build(2**10 - 1)
        store.reads = 0
        store.append(leaf_hash(b"last"))
        assert store.reads == 10

    def test_store_refuses_to_change_a_written_node(self) -> None:
        store, _ = build(4)
        store.put(Node(0, 1, store.get(0, 1)))  # rewriting the same hash is harmless
        with pytest.raises(ValueError, match="different hash"):
            store.put(Node(0, 1, leaf_hash(b"forged")))

    def test_store_refuses_gaps_and_missing_nodes(self) -> None:
        store, _ = build(4)
        with pytest.raises(ValueError, match="gap"):
            store.put(Node(0, 9, leaf_hash(b"x")))
        with pytest.raises(KeyError):
            store.get(3, 0)
        with pytest.raises(KeyError):
            store.get(0, -1)

    def test_append_refuses_a_bad_leaf_hash(self) -> None:
        with pytest.raises(ValidationFailed):
            append_nodes(MemoryNodeStore(), 0, b"short")

    def test_empty_store_root(self) -> None:
        assert root_from_store(MemoryNodeStore(), 0) == EMPTY_ROOT


class TestProofsFromStore:
    def test_every_proof_equals_the_list_proof_up_to_33_leaves(self) -> None:
        store, leaves = build(33)
        for size in range(1, 34):
            assert root_from_store(store, size) == root_hash(leaves[:size])
            for index in range(size):
                assert inclusion_proof_from_store(store, index, size) == inclusion_proof(leaves[:size], index)
            for old in range(size + 1):
                assert consistency_proof_from_store(store, old, size) == consistency_proof(leaves[:size], old)

    def test_refuses_index_or_sizes_out_of_range(self) -> None:
        store, _ = build(5)
        with pytest.raises(ValidationFailed):
            inclusion_proof_from_store(store, 5, 5)
        with pytest.raises(ValidationFailed):
            consistency_proof_from_store(store, 4, 3)
        with pytest.raises(ValidationFailed):
            root_from_store(store, -1)

    def test_node_reads_are_logarithmic(self) -> None:
        # 2^14 + 2^13 + ... a size with many set bits is the worst case for right-edge subtrees.
        size = 2**15 - 1
        store, _ = build(size)
        bound = 2 * size.bit_length() + 2
        for index in (0, 1, size // 2, size - 2, size - 1):
            store.reads = 0
            inclusion_proof_from_store(store, index, size)
            assert store.reads <= bound, (index, store.reads)
        for old in (1, 2, 3, size // 3, size - 2, size - 1):
            store.reads = 0
            consistency_proof_from_store(store, old, size)
            assert store.reads <= bound, (old, store.reads)
        store.reads = 0
        root_from_store(store, size)
        assert store.reads == size.bit_count()


class TestStoreProperties:
    @settings(max_examples=40, deadline=None)
    @given(st.integers(1, 300), st.data())
    def test_store_proofs_equal_list_proofs(self, size: int, data: st.DataObject) -> None:
        store, leaves = build(size)
        tree = data.draw(st.integers(1, size))
        index = data.draw(st.integers(0, tree - 1))
        old = data.draw(st.integers(0, tree))
        assert inclusion_proof_from_store(store, index, tree) == inclusion_proof(leaves[:tree], index)
        assert consistency_proof_from_store(store, old, tree) == consistency_proof(leaves[:tree], old)

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.binary(max_size=40), max_size=200))
    def test_incremental_appends_give_root_hash(self, datas: list[bytes]) -> None:
        store = MemoryNodeStore()
        hashes = [leaf_hash(d) for d in datas]
        for i, h in enumerate(hashes):
            store.append(h)
            assert root_from_store(store, i + 1) == root_hash(hashes[: i + 1])
        assert root_from_store(store, len(hashes)) == root_hash(hashes)
