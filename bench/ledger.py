"""Benchmark of the verifiable record's pure layer: hashing, appends, proofs, verification, signatures.

Usage: .venv/bin/python bench/ledger.py [--entries 1000000] [--samples 1000] [--seed 1]
                                      [--db-entries 1000000] [--verify-entries 100000,1000000] [--no-db]

hashlib.sha256 on this machine is the physical reference: nothing in the tree can beat one hash per leaf plus
about one per append. Each measurement is a function in MEASUREMENTS taking the shared `Context` and returning
rows; DB-backed measurements (durable append throughput, full verify of a stored log) are meant to be added
the same way, reusing `Context.leaf_data` so every row describes the same log.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from contactgroup.ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from contactgroup.ledger.cosignature import generate_cosigner, verify_cosignature
from contactgroup.ledger.merkle import (
    MemoryNodeStore,
    consistency_proof_from_store,
    inclusion_proof,
    inclusion_proof_from_store,
    leaf_hash,
    root_from_store,
    verify_consistency,
    verify_inclusion,
)
from contactgroup.ledger.note import generate_key
from contactgroup.ledger.witness import AddCheckpoint, LogState, WitnessState, add_checkpoint
from contactgroup.services import checkpoints, key_files
from contactgroup.services import coordination as svc
from contactgroup.services import proofs as tree_proofs
from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.services.verify import verify
from contactgroup.storage.database import Database, TreeNodes

LEAF_BYTES = 200  # about the size of one canonical event (see docs/formats/events.md)


@dataclass(frozen=True, slots=True)
class Row:
    what: str
    value: str
    detail: str = ""


@dataclass
class Context:
    entries: int
    samples: int
    rng: random.Random
    leaf_data: list[bytes] = field(default_factory=list)
    leaf_hashes: list[bytes] = field(default_factory=list)
    store: MemoryNodeStore = field(default_factory=MemoryNodeStore)
    db_entries: int = 0
    verify_entries: tuple[int, ...] = ()
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="contactgroup-bench-")))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _micro(seconds: list[float]) -> str:
    ms = sorted(s * 1e6 for s in seconds)
    return f"{statistics.mean(ms):.1f} µs (p50 {ms[len(ms) // 2]:.1f}, max {ms[-1]:.1f})"


def sha256_reference(ctx: Context) -> list[Row]:
    """The physical reference: raw hashlib.sha256 over 200-byte leaves and over large buffers."""
    data = ctx.leaf_data[: min(ctx.entries, 200_000)]
    sha = hashlib.sha256
    seconds = _timed(lambda: [sha(d).digest() for d in data])
    big = bytes(64 * 1024 * 1024)
    big_seconds = _timed(lambda: sha(big).digest())
    return [
        Row(
            "sha256, 200-byte messages",
            f"{len(data) / seconds:,.0f} hashes/s",
            f"{len(data) * LEAF_BYTES / seconds / 1e6:,.0f} MB/s",
        ),
        Row("sha256, one 64 MiB buffer", f"{len(big) / big_seconds / 1e6:,.0f} MB/s", "streaming throughput"),
    ]


def append(ctx: Context) -> list[Row]:
    """Leaf hashing alone, then leaf hashing + incremental append of every entry into a MemoryNodeStore."""
    seconds_hash = _timed(lambda: [leaf_hash(d) for d in ctx.leaf_data])
    store = MemoryNodeStore()

    def run() -> None:
        put = store.append
        for d in ctx.leaf_data:
            put(leaf_hash(d))

    seconds = _timed(run)
    ctx.store = store
    ctx.leaf_hashes = store.levels[0]
    nodes = sum(len(row) for row in store.levels)
    return [
        Row(f"leaf hash, {ctx.entries:,} entries", f"{ctx.entries / seconds_hash:,.0f} leaves/s", ""),
        Row(
            f"leaf hash + append to MemoryNodeStore, {ctx.entries:,} entries",
            f"{ctx.entries / seconds:,.0f} entries/s",
            f"{seconds:.1f} s total; {nodes:,} nodes stored; {store.reads / ctx.entries:.2f} reads/append",
        ),
    ]


def proofs(ctx: Context) -> list[Row]:
    """Root, inclusion and consistency proofs from the store at full size, then their verification."""
    n, store = ctx.entries, ctx.store
    store.reads = 0
    root = root_from_store(store, n)
    root_reads = store.reads
    root_s = _timed(lambda: [root_from_store(store, n) for _ in range(ctx.samples)]) / ctx.samples

    incl_t, incl_reads, incl = [], [], []
    for index in (ctx.rng.randrange(n) for _ in range(ctx.samples)):
        store.reads = 0
        start = time.perf_counter()
        proof = inclusion_proof_from_store(store, index, n)
        incl_t.append(time.perf_counter() - start)
        incl_reads.append(store.reads)
        incl.append((index, proof))

    cons_t, cons_reads, cons = [], [], []
    for old in (ctx.rng.randrange(1, n) for _ in range(ctx.samples)):
        store.reads = 0
        start = time.perf_counter()
        proof = consistency_proof_from_store(store, old, n)
        cons_t.append(time.perf_counter() - start)
        cons_reads.append(store.reads)
        cons.append((old, root_from_store(store, old), proof))

    vi_t = []
    for index, proof in incl:
        leaf = ctx.leaf_hashes[index]
        start = time.perf_counter()
        ok = verify_inclusion(leaf, index, n, proof, root)
        vi_t.append(time.perf_counter() - start)
        assert ok
    vc_t = []
    for old, old_root, proof in cons:
        start = time.perf_counter()
        ok = verify_consistency(old, n, old_root, root, proof)
        vc_t.append(time.perf_counter() - start)
        assert ok

    # One O(n) list-based proof, to show what the store saves.
    list_s = _timed(lambda: inclusion_proof(ctx.leaf_hashes, n // 3))
    return [
        Row(f"root from store at {n:,}", f"{root_s * 1e6:.1f} µs", f"{root_reads} node reads"),
        Row(
            f"inclusion proof from store at {n:,}",
            _micro(incl_t),
            f"node reads mean {statistics.mean(incl_reads):.1f}, max {max(incl_reads)}; "
            f"{statistics.mean(len(p) for _, p in incl):.1f} hashes",
        ),
        Row(
            f"consistency proof from store at {n:,}",
            _micro(cons_t),
            f"node reads mean {statistics.mean(cons_reads):.1f}, max {max(cons_reads)}; "
            f"{statistics.mean(len(p) for _, _, p in cons):.1f} hashes",
        ),
        Row("verify inclusion proof", _micro(vi_t), f"{ctx.samples} proofs"),
        Row("verify consistency proof", _micro(vc_t), f"{ctx.samples} proofs"),
        Row(f"inclusion proof from a plain list at {n:,}", f"{list_s * 1e3:,.0f} ms", "O(n) reference, 1 proof"),
    ]


def signatures(ctx: Context) -> list[Row]:
    """Signing and opening a checkpoint note, cosigning, and one witness decision."""
    origin = "bench.example/log"
    signer, verifier = generate_key(origin)
    cosigner, witness_key = generate_cosigner("bench.example/witness")
    cp = Checkpoint(origin, ctx.entries, root_from_store(ctx.store, ctx.entries))
    k = min(ctx.samples, 500)
    sign_s = _timed(lambda: [sign_checkpoint(cp, [signer]) for _ in range(k)]) / k
    note = sign_checkpoint(cp, [signer])
    open_s = _timed(lambda: [open_checkpoint(note, [verifier]) for _ in range(k)]) / k
    cos_s = _timed(lambda: [cosigner.cosign(cp, 1_750_000_000) for _ in range(k)]) / k
    line = cosigner.cosign(cp, 1_750_000_000).line
    vcos_s = _timed(lambda: [verify_cosignature(cp, line, witness_key) for _ in range(k)]) / k

    old = ctx.entries // 2
    old_cp = Checkpoint(origin, old, root_from_store(ctx.store, old))
    state = WitnessState((LogState(origin, (verifier,), sign_checkpoint(old_cp, [signer]), old_cp),))
    request = AddCheckpoint(old, tuple(consistency_proof_from_store(ctx.store, old, ctx.entries)), note)
    wit_s = _timed(lambda: [add_checkpoint(state, request, cosigner, 1_750_000_000) for _ in range(k)]) / k
    return [
        Row("sign checkpoint note (Ed25519)", f"{sign_s * 1e6:.0f} µs", ""),
        Row("open + parse signed checkpoint", f"{open_s * 1e6:.0f} µs", "1 signature verified"),
        Row("cosign checkpoint (tlog-cosignature v1)", f"{cos_s * 1e6:.0f} µs", ""),
        Row("verify cosignature line", f"{vcos_s * 1e6:.0f} µs", ""),
        Row("witness add-checkpoint decision", f"{wit_s * 1e6:.0f} µs", "verify note + proof, cosign"),
    ]


# --- DB-backed: SQLite file, WAL, synchronous=FULL (every commit reaches the disk) ------------------------------

CLOCK = FixedClock(datetime(2024, 7, 1, 9, 0, tzinfo=UTC))


def _founded(ctx: Context, name: str) -> Database:
    path = ctx.workdir / f"{name}.db"
    db = Database(str(path))
    if not db.is_initialised():
        init_coordination(db, CLOCK, log_key=ctx.workdir / f"{name}.logkey", with_members=False)
    return db


def _append(db: Database, events: int, per_transaction: int) -> float:
    """Append `events` synthetic SettingChanged events (about 200 bytes each), `per_transaction` per commit."""
    admin = svc.Caller("admin", CLOCK)
    start = time.perf_counter()
    done = 0
    while done < events:
        with db.transaction() as uow:
            for _ in range(min(per_transaction, events - done)):
                svc.record_setting(uow, admin, "bench", f"{done:012d}" + "x" * 40)
                done += 1
    return time.perf_counter() - start


def _events(db: Database) -> int:
    with db.reader() as conn:
        return tree_proofs.tree_size(conn)


def db_append(ctx: Context) -> list[Row]:
    """Durable appends into SQLite (WAL, synchronous=FULL): one event per transaction, then 1000 per transaction."""
    rows = []
    for batch, events in ((1, 500), (1000, 50_000)):
        db = _founded(ctx, f"append-{batch}")
        seconds = _append(db, events, batch)
        rows.append(Row(f"durable append, {batch} event(s)/transaction (SQLite WAL, synchronous=FULL)",
                        f"{events / seconds:,.0f} events/s",
                        f"{events:,} events in {seconds:.1f} s, incl. tree nodes and projections; "
                        f"{events / batch / seconds:,.0f} commits/s"))
        db.engine.dispose()
    return rows


PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def db_append_postgres(ctx: Context) -> list[Row]:
    """Durable appends into PostgreSQL (advisory lock + SERIALIZABLE, synchronous_commit on) in a scratch schema:
    1, then 1000 events per transaction. Skipped with a row saying so when no server answers."""
    rows = []
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return [Row("durable append (PostgreSQL)", "not measured", f"no server at {PG}: {exc.orig}")]
    for batch, events in ((1, 500), (1000, 50_000)):
        schema = f"bench_{batch}_{ctx.rng.randrange(1 << 32):08x}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            db = Database(f"{PG}?options=-csearch_path%3D{schema}")
            init_coordination(db, CLOCK, log_key=ctx.workdir / f"{schema}.logkey", with_members=False)
            seconds = _append(db, events, batch)
            rows.append(Row(f"durable append, {batch} event(s)/transaction "
                            "(PostgreSQL 127.0.0.1, advisory lock + SERIALIZABLE)",
                            f"{events / seconds:,.0f} events/s",
                            f"{events:,} events in {seconds:.1f} s, incl. tree nodes and projections; "
                            f"{events / batch / seconds:,.0f} commits/s"))
            db.engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
    return rows


class _CountingNodes(TreeNodes):
    reads = 0

    def get(self, level: int, index: int) -> bytes:
        _CountingNodes.reads += 1
        return super().get(level, index)


def _log_of(ctx: Context, size: int) -> tuple[Database, float]:
    """A founded log grown to `size` events in transactions of 20,000 (reused when it already exists)."""
    db = _founded(ctx, f"log-{size}")
    seconds = _append(db, size - _events(db), 20_000)
    return db, seconds


def db_proofs(ctx: Context) -> list[Row]:
    """Build a log of --db-entries events, then inclusion and consistency proofs read from its tree_nodes."""
    n = ctx.db_entries
    db, build = _log_of(ctx, n)
    size = _events(db)
    incl_t, incl_reads, cons_t = [], [], []
    with db.reader() as conn:
        for index in (ctx.rng.randrange(size) for _ in range(ctx.samples)):
            store = _CountingNodes(conn)  # a fresh cache per proof: every node is a database read
            _CountingNodes.reads = 0
            start = time.perf_counter()
            proof = merkle_inclusion(store, index, size)
            incl_t.append(time.perf_counter() - start)
            incl_reads.append(_CountingNodes.reads)
            assert len(proof) <= 64
        for old in (ctx.rng.randrange(1, size) for _ in range(ctx.samples)):
            store = _CountingNodes(conn)
            start = time.perf_counter()
            consistency_proof_from_store(store, old, size)
            cons_t.append(time.perf_counter() - start)
    db.engine.dispose()
    return [
        Row(f"build a {size:,}-event log (20,000 events/transaction)", f"{size / build:,.0f} events/s",
            f"{build:.0f} s, {(ctx.workdir / f'log-{n}.db').stat().st_size / 1e6:,.0f} MB file"),
        Row(f"inclusion proof from the database at {size:,}", _micro(incl_t),
            f"node reads mean {statistics.mean(incl_reads):.1f}, max {max(incl_reads)}"),
        Row(f"consistency proof from the database at {size:,}", _micro(cons_t), f"{ctx.samples} proofs"),
    ]


def merkle_inclusion(store: TreeNodes, index: int, size: int) -> list[bytes]:
    return inclusion_proof_from_store(store, index, size)


def db_verify(ctx: Context) -> list[Row]:
    """Full `verify` (replay, projections, tree rebuilt and compared, checkpoints) of stored logs."""
    rows = []
    for n in ctx.verify_entries:
        db, _ = _log_of(ctx, n)
        signer = key_files.read_signer_key(ctx.workdir / f"log-{n}.logkey")
        checkpoints.sign_checkpoint(db, signer, CLOCK)
        start = time.perf_counter()
        report = verify(db)
        seconds = time.perf_counter() - start
        assert report.ok, report.findings[:5]
        rows.append(Row(f"full verify at {report.events:,} events", f"{seconds:,.1f} s",
                        f"{report.events / seconds:,.0f} events/s; 1 signed checkpoint checked"))
        db.engine.dispose()
    return rows


MEASUREMENTS: list[Callable[[Context], list[Row]]] = [sha256_reference, append, proofs, signatures]
DB_MEASUREMENTS: list[Callable[[Context], list[Row]]] = [db_append, db_append_postgres, db_proofs, db_verify]


def table(rows: list[Row]) -> str:
    lines = ["| measurement | result | detail |", "|---|---|---|"]
    lines += [f"| {r.what} | {r.value} | {r.detail} |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db-entries", type=int, default=1_000_000, help="size of the stored log for proofs")
    parser.add_argument("--verify-entries", default="100000,1000000", help="stored log sizes to verify in full")
    parser.add_argument("--no-db", action="store_true", help="only the pure, in-memory measurements")
    parser.add_argument("--only", default="", help="comma-separated measurement names to run, e.g. db_append")
    args = parser.parse_args()
    if args.entries < 2:
        parser.error("--entries must be at least 2")
    # Like timeit: no cyclic-GC pauses inside timings. The ledger creates no reference cycles, and scans of
    # the millions of objects held here would otherwise make the outliers measure the collector, not the code.
    gc.disable()
    rng = random.Random(args.seed)
    prefix = rng.randbytes(LEAF_BYTES - 8)
    # Entries differ in their last 8 bytes: same size as real events, cheap to generate, all distinct.
    ctx = Context(args.entries, args.samples, rng, [prefix + i.to_bytes(8, "big") for i in range(args.entries)])
    ctx.db_entries = args.db_entries
    ctx.verify_entries = tuple(int(v) for v in args.verify_entries.split(",") if v)
    rows: list[Row] = []
    chosen = MEASUREMENTS + ([] if args.no_db else DB_MEASUREMENTS)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {m.__name__ for m in chosen}
        if unknown:
            parser.error(f"--only: unknown measurement(s) {', '.join(sorted(unknown))}")
        chosen = [m for m in chosen if m.__name__ in wanted]
    for measure in chosen:
        print(f"running {measure.__name__} ...", file=sys.stderr, flush=True)
        rows += measure(ctx)
    print(
        f"Python {sys.version.split()[0]}, {args.entries:,} entries of {LEAF_BYTES} bytes, "
        f"{args.samples} samples, cyclic GC off\n"
    )
    print(table(rows))
    shutil.rmtree(ctx.workdir, ignore_errors=True)  # the stored logs take ~0.6 GB at 10^6 events


if __name__ == "__main__":
    main()
