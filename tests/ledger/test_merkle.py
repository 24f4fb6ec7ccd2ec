"""RFC 9162 Merkle tree: published vectors, corruption probes, edge cases, garbage input, properties."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactgroup.domain.errors import ValidationFailed
from contactgroup.ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# --- published vectors ------------------------------------------------------------------------------------
# Source: github.com/transparency-dev/merkle (the Certificate Transparency Go Merkle library), files
# testonly/constants.go (LeafInputs, NodeHashes, RootHashes, EmptyRootHash) and proof/verify_test.go
# (inclusionProofs, consistencyProofs). Values are copied as facts; sizes and indices as published there.

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]

NODE_HASHES = [  # NODE_HASHES[level][index]: complete subtrees of the 8-leaf tree
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

ROOTS = [  # ROOTS[size] for the tree of the first `size` leaf inputs
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# (1-based leaf number as published, tree size, audit path); our API is 0-based: index = leaf - 1.
INCLUSION_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

CONSISTENCY_PROOFS = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
LEAVES = [leaf_hash(x) for x in LEAF_INPUTS]


def hx(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def root(size: int) -> bytes:
    return bytes.fromhex(ROOTS[size])


class TestVectors:
    def test_leaf_hashes_match_level_zero(self) -> None:
        assert [h.hex() for h in LEAVES] == NODE_HASHES[0]

    def test_node_hash_builds_level_one(self) -> None:
        assert [node_hash(LEAVES[i], LEAVES[i + 1]).hex() for i in range(0, 8, 2)] == NODE_HASHES[1]

    @pytest.mark.parametrize("size", range(9))
    def test_root_of_each_prefix(self, size: int) -> None:
        assert root_hash(LEAVES[:size]) == root(size)

    def test_empty_tree_root_is_sha256_of_nothing(self) -> None:
        assert root_hash([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()

    @pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS)
    def test_inclusion_proof_generation(self, leaf: int, size: int, proof: list[str]) -> None:
        assert inclusion_proof(LEAVES[:size], leaf - 1) == hx(proof)

    @pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS)
    def test_inclusion_proof_verifies(self, leaf: int, size: int, proof: list[str]) -> None:
        assert verify_inclusion(LEAVES[leaf - 1], leaf - 1, size, hx(proof), root(size))

    @pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
    def test_consistency_proof_generation(self, old: int, new: int, proof: list[str]) -> None:
        assert consistency_proof(LEAVES[:new], old) == hx(proof)

    @pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
    def test_consistency_proof_verifies(self, old: int, new: int, proof: list[str]) -> None:
        assert verify_consistency(old, new, root(old), root(new), hx(proof))


# --- corruption probes (the cases transparency-dev/merkle's verify_test.go probes) -----------------------


def inclusion_probes(index: int, size: int, proof: list[bytes], rt: bytes, leaf: bytes) -> dict[str, tuple]:
    probes: dict[str, tuple] = {
        "index - 1": (leaf, index - 1, size, proof, rt),
        "index + 1": (leaf, index + 1, size, proof, rt),
        "index ^ 2": (leaf, index ^ 2, size, proof, rt),
        "size * 2": (leaf, index, size * 2, proof, rt),
        "size // 2": (leaf, index, size // 2, proof, rt),
        "wrong leaf": (b"WrongLeaf", index, size, proof, rt),
        "other leaf": (SOME_HASH, index, size, proof, rt),
        "empty root": (leaf, index, size, proof, EMPTY_ROOT),
        "random root": (leaf, index, size, proof, SOME_HASH),
        "trailing garbage": (leaf, index, size, [*proof, b""], rt),
        "trailing root": (leaf, index, size, [*proof, rt], rt),
        "preceding garbage": (leaf, index, size, [b"", *proof], rt),
        "preceding root": (leaf, index, size, [rt, *proof], rt),
    }
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes[f"modified proof[{i}] bit 3"] = (leaf, index, size, flipped, rt)
        truncated = list(proof)
        truncated[i] = truncated[i][:-1]
        probes[f"truncated proof[{i}]"] = (leaf, index, size, truncated, rt)
    if proof:
        probes["removed component"] = (leaf, index, size, proof[:-1], rt)
    if len(proof) > 1:
        probes["inserted component"] = (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], rt)
    return probes


def consistency_probes(m: int, n: int, r1: bytes, r2: bytes, proof: list[bytes]) -> dict[str, tuple]:
    probes: dict[str, tuple] = {
        "size1 - 1": (m - 1, n, r1, r2, proof),
        "size1 + 1": (m + 1, n, r1, r2, proof),
        "size1 ^ 2": (m ^ 2, n, r1, r2, proof),
        "size2 * 2": (m, n * 2, r1, r2, proof),
        "size2 // 2": (m, n // 2, r1, r2, proof),
        "wrong root1": (m, n, b"WrongRoot", r2, proof),
        "wrong root2": (m, n, r1, b"WrongRoot", proof),
        "random root1": (m, n, SOME_HASH, r2, proof),
        "swapped roots": (m, n, r2, r1, proof),
        "empty proof": (m, n, r1, r2, []),
        "trailing garbage": (m, n, r1, r2, [*proof, b""]),
        "trailing root1": (m, n, r1, r2, [*proof, r1]),
        "trailing root2": (m, n, r1, r2, [*proof, r2]),
        "preceding garbage": (m, n, r1, r2, [b"", *proof]),
        "preceding root1": (m, n, r1, r2, [r1, *proof]),
        "preceding root2": (m, n, r1, r2, [r2, *proof]),
        "preceding proof[0]": (m, n, r1, r2, [proof[0], *proof]),
        "truncated proof": (m, n, r1, r2, proof[:-1]),
    }
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes[f"modified proof[{i}] bit 4"] = (m, n, r1, r2, flipped)
        short = list(proof)
        short[i] = short[i][:31]
        probes[f"truncated hash proof[{i}]"] = (m, n, r1, r2, short)
    return probes


def _turns(index: int, size: int) -> list[bool]:
    """Whether each step of the audit path, leaf first, hashes the sibling on the left."""
    turns = []
    start, end = 0, size
    while end - start > 1:
        k = 1 << ((end - start - 1).bit_length() - 1)
        left = index - start >= k
        turns.append(left)
        start, end = (start + k, end) if left else (start, start + k)
    return turns[::-1]


class TestInclusion:
    @pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS)
    def test_rejects_every_corruption(self, leaf: int, size: int, proof: list[str]) -> None:
        probes = inclusion_probes(leaf - 1, size, hx(proof), root(size), LEAVES[leaf - 1])
        accepted = [name for name, args in probes.items() if verify_inclusion(*args)]
        assert accepted == []

    def test_single_leaf_tree_root_is_the_leaf(self) -> None:
        h = leaf_hash(b"data")
        assert verify_inclusion(h, 0, 1, [], h)
        assert not verify_inclusion(h, 0, 1, [], b"")
        assert not verify_inclusion(b"", 0, 1, [], h)

    @pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (1, 1)])
    def test_rejects_index_outside_tree(self, index: int, size: int) -> None:
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
        assert not verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)

    def test_rejects_wrong_index_or_size_across_the_tree(self) -> None:
        for index in range(8):
            proof = inclusion_proof(LEAVES, index)
            for other in range(8):
                assert verify_inclusion(LEAVES[index], other, 8, proof, root(8)) == (other == index)
            for size in range(index + 1, 17):
                # A size is bound to the proof only through the path's shape (and, in use, through the signed
                # root): sizes giving leaf `index` a path of another length or other left/right turns fail.
                other_tree = [SOME_HASH] * size
                if len(inclusion_proof(other_tree, index)) != len(proof) or _turns(index, size) != _turns(index, 8):
                    assert not verify_inclusion(LEAVES[index], index, size, proof, root(8)), size

    def test_generation_refuses_bad_arguments(self) -> None:
        for index in (-1, 8, True):
            with pytest.raises(ValidationFailed):
                inclusion_proof(LEAVES, index)  # type: ignore[arg-type]
        with pytest.raises(ValidationFailed):
            inclusion_proof([b"short"], 0)


class TestConsistency:
    @pytest.mark.parametrize(("old", "new", "proof"), [p for p in CONSISTENCY_PROOFS if p[2]])
    def test_rejects_every_corruption(self, old: int, new: int, proof: list[str]) -> None:
        probes = consistency_probes(old, new, root(old), root(new), hx(proof))
        accepted = [name for name, args in probes.items() if verify_consistency(*args)]
        assert accepted == []

    def test_rejects_swapped_roots(self) -> None:
        proof = consistency_proof(LEAVES, 3)
        assert verify_consistency(3, 8, root(3), root(8), proof)
        assert not verify_consistency(3, 8, root(8), root(3), proof)

    def test_rejects_time_travel(self) -> None:
        assert not verify_consistency(1, 0, root(1), root(0), [])
        assert not verify_consistency(2, 1, root(2), root(1), [])
        assert not verify_consistency(8, 3, root(8), root(3), consistency_proof(LEAVES, 3))

    def test_equal_sizes_need_equal_roots_and_empty_proof(self) -> None:
        assert verify_consistency(5, 5, root(5), root(5), [])
        assert not verify_consistency(5, 5, root(5), root(4), [])
        assert not verify_consistency(5, 5, root(5), root(5), [root(5)])
        assert not verify_consistency(1, 1, EMPTY_ROOT, SOME_HASH, [])

    def test_from_empty_tree_accepts_empty_proof_with_empty_root(self) -> None:
        # Our decision (module docstring): the empty tree is a prefix of every tree, its root is fixed.
        for n in range(9):
            assert verify_consistency(0, n, EMPTY_ROOT, root(n), [])
        assert consistency_proof(LEAVES, 0) == []

    def test_from_empty_tree_refuses_a_wrong_old_root(self) -> None:
        assert not verify_consistency(0, 3, SOME_HASH, root(3), [])
        assert not verify_consistency(0, 0, EMPTY_ROOT, SOME_HASH, [])

    def test_from_empty_tree_refuses_a_non_empty_proof(self) -> None:
        assert not verify_consistency(0, 3, EMPTY_ROOT, root(3), [EMPTY_ROOT])
        assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])

    def test_every_pair_of_sizes_up_to_eight(self) -> None:
        for new in range(9):
            for old in range(new + 1):
                proof = consistency_proof(LEAVES[:new], old)
                assert verify_consistency(old, new, root(old), root(new), proof), (old, new)
                if old and old < new:
                    assert not verify_consistency(old, new, root(new), root(old), proof)

    def test_generation_refuses_bad_sizes(self) -> None:
        for old in (-1, 9, False):
            with pytest.raises(ValidationFailed):
                consistency_proof(LEAVES, old)  # type: ignore[arg-type]


GARBAGE: list[Any] = [None, "x", 1.5, -1, 2**64, True, [], [b"x" * 32], b"", "a" * 32, object(), (b"\x00" * 32,) * 200]


class TestGarbageNeverRaises:
    @pytest.mark.parametrize("junk", GARBAGE)
    def test_inclusion_answers_false(self, junk: Any) -> None:
        good = (LEAVES[5], 5, 8, inclusion_proof(LEAVES, 5), root(8))
        for position in range(5):
            args = list(good)
            args[position] = junk
            assert verify_inclusion(*args) is False

    @pytest.mark.parametrize("junk", GARBAGE)
    def test_consistency_answers_false(self, junk: Any) -> None:
        good = (3, 8, root(3), root(8), consistency_proof(LEAVES, 3))
        for position in range(5):
            args = list(good)
            args[position] = junk
            assert verify_consistency(*args) is False

    def test_proof_of_non_bytes_elements(self) -> None:
        proof: list[Any] = [p.hex() for p in inclusion_proof(LEAVES, 5)]
        assert verify_inclusion(LEAVES[5], 5, 8, proof, root(8)) is False
        assert verify_inclusion(LEAVES[5], 5, 8, [bytearray(p) for p in inclusion_proof(LEAVES, 5)], root(8)) is False


# --- properties -------------------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(min_value=1, max_value=70))
    leaves = [leaf_hash(i.to_bytes(4, "big") + bytes([draw(st.integers(0, 3))])) for i in range(size)]
    return leaves, draw(st.integers(0, size - 1))


@st.composite
def tree_and_old_size(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(min_value=2, max_value=70))
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    return leaves, draw(st.integers(1, size - 1))


def mutations(proof: list[bytes]) -> list[list[bytes]]:
    """Every single-bit flip, every truncation and two extensions of a proof."""
    out = []
    for i, h in enumerate(proof):
        for bit in range(len(h) * 8):
            flipped = bytearray(h)
            flipped[bit // 8] ^= 1 << (bit % 8)
            out.append([*proof[:i], bytes(flipped), *proof[i + 1 :]])
    out.extend(proof[:k] for k in range(len(proof)))
    out.append([*proof, proof[-1] if proof else SOME_HASH])
    out.append([SOME_HASH, *proof])
    return out


class TestProperties:
    @PROPERTY_SETTINGS
    @given(tree_and_index())
    def test_every_inclusion_proof_verifies(self, case: tuple[list[bytes], int]) -> None:
        leaves, index = case
        assert verify_inclusion(leaves[index], index, len(leaves), inclusion_proof(leaves, index), root_hash(leaves))

    @PROPERTY_SETTINGS
    @given(tree_and_old_size())
    def test_every_consistency_proof_verifies(self, case: tuple[list[bytes], int]) -> None:
        leaves, old = case
        proof = consistency_proof(leaves, old)
        assert verify_consistency(old, len(leaves), root_hash(leaves[:old]), root_hash(leaves), proof)

    @settings(max_examples=25, deadline=None)
    @given(tree_and_index())
    def test_every_mutated_inclusion_proof_fails(self, case: tuple[list[bytes], int]) -> None:
        leaves, index = case
        rt = root_hash(leaves)
        for bad in mutations(inclusion_proof(leaves, index)):
            assert not verify_inclusion(leaves[index], index, len(leaves), bad, rt)

    @settings(max_examples=25, deadline=None)
    @given(tree_and_old_size())
    def test_every_mutated_consistency_proof_fails(self, case: tuple[list[bytes], int]) -> None:
        leaves, old = case
        r1, r2 = root_hash(leaves[:old]), root_hash(leaves)
        for bad in mutations(consistency_proof(leaves, old)):
            assert not verify_consistency(old, len(leaves), r1, r2, bad)

    @PROPERTY_SETTINGS
    @given(tree_and_old_size(), st.integers(0, 69))
    def test_a_changed_old_leaf_breaks_consistency(self, case: tuple[list[bytes], int], which: int) -> None:
        # History rewritten: the new tree differs in one of the first `old` leaves.
        leaves, old = case
        rewritten = list(leaves)
        rewritten[which % old] = SOME_HASH
        proof = consistency_proof(rewritten, old)
        assert not verify_consistency(old, len(leaves), root_hash(leaves[:old]), root_hash(rewritten), proof)
