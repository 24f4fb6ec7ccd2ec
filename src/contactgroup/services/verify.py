"""`verify`: prove the projections are exactly what the event log says, and that the log is intact.

The log is read in order; every leaf hash is recomputed from the stored bytes; the events are replayed into a
scratch SQLite database built by the same migrations; every projection table is compared row by row.
The Merkle tree is rebuilt from the events and compared with the stored tree nodes (a changed, deleted,
inserted or swapped event is named by index), and every stored signed checkpoint must be signed by the log's
key and be a prefix of today's tree (the latest one through a consistency proof from the stored nodes).
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.event import evolve, upcast
from contactgroup.domain.state import TABLES, State
from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from contactgroup.ledger.cosignature import parse_cosigner_key, verify_cosignature
from contactgroup.ledger.leaf import ACTOR_COMMITTED, event_leaf_hash
from contactgroup.ledger.merkle import leaf_hash
from contactgroup.ledger.note import VerifierKey, b64encode, parse_note, parse_verifier_key
from contactgroup.ledger.policy import Policy
from contactgroup.services.governance import GovernanceCheck
from contactgroup.storage import log_tables
from contactgroup.storage.database import (
    Connection,
    Database,
    TreeNodes,
    body_version,
    decode,
    read_events,
    write_projections,
)


@dataclass
class Finding:
    where: str  # "events[12]" or "offers[O-00012]"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class VerifyReport:
    events: int = 0
    rows: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    leaf_hashes: list[bytes] = field(default_factory=list)
    root: bytes = merkle.EMPTY_ROOT  # of the tree recomputed from the events
    tree_size: int = 0  # leaves in the stored tree
    checkpoints: int = 0  # signed checkpoints checked
    checkpoint_size: int | None = None  # the latest one's size
    log_key: str = ""
    synthetic: bool = False  # the replayed log says it is a generated demo
    # (index of the event that set it, verifier key): the log key changes only by a handover
    key_history: list[tuple[int, str]] = field(default_factory=list)
    cosignatures: int = 0  # stored witness cosignatures checked
    older_steps_back: int = 0  # events written before times were kept in order (body v1) that step back: noted
    # witness name -> (index, time, key text) of each WitnessAdded ("" for WitnessRemoved), in log order
    witness_history: dict[str, list[tuple[int, datetime, str]]] = field(default_factory=dict)
    origin: str = ""
    kept: list[int] = field(default_factory=list)  # sizes of the kept checkpoints that matched
    policy_size: int | None = None  # the newest stored checkpoint the member's policy counts as witnessed
    policy_witnesses: tuple[str, ...] = ()

    def witness_keys_at(self, name: str, at: datetime) -> list[str]:
        """The key(s) registered for witness `name` at time `at` ("" when it was removed): normally one; two when
        a key change has the same time stamp as `at`, for the log's clock cannot order them."""
        history = self.witness_history.get(name, [])
        found = []
        for i, (_, since, key) in enumerate(history):
            until = history[i + 1][1] if i + 1 < len(history) else None
            if since <= at and (until is None or at <= until):
                found.append(key)
        return found

    def key_at(self, size: int) -> str:
        """The log key in force once the first `size` events were recorded (the one that signs that tree)."""
        keys = [key for index, key in self.key_history if index < size]
        return keys[-1] if keys else ""

    @property
    def ok(self) -> bool:
        return not self.findings


def _check_log(conn: Connection, report: VerifyReport, progress: Callable[[int], None] | None) -> State:
    state = State()
    governance = GovernanceCheck()  # fed in the same replay: every handover and log-key change has its quorum
    expected_seq = 0
    seqs: list[int] = []
    for seq, body, stored_leaf in read_events(conn):
        seqs.append(seq)
        where = f"events[{seq}]"
        if seq != expected_seq:
            kind = "missing (deleted?)" if seq > expected_seq else "duplicated"
            report.findings.append(Finding(f"events[{expected_seq}]", f"event {kind}: the next stored seq is {seq}"))
            expected_seq = seq
        try:
            leaf = event_leaf_hash(body)
        except ValueError as exc:
            report.findings.append(Finding(where, f"its bytes have no leaf form: {exc}"))
            leaf = leaf_hash(body)  # a leaf all the same, so that the tree check names this index too
        if leaf != stored_leaf:
            report.findings.append(Finding(where, _leaf_mismatch(body)))
        report.leaf_hashes.append(leaf)
        try:
            event = decode(body)
            governance.see(state, seq, event, body)
            event = upcast(event)  # a log written before witnesses had events names them in settings
            evolve(state, event)
            if event.type == "SettingChanged" and event.data.get("name") == "log_verifier_key":
                report.key_history.append((seq, str(event.data.get("value"))))
            elif event.type in ("WitnessAdded", "WitnessRemoved"):
                key = str(event.data.get("key", ""))  # "" = removed
                report.witness_history.setdefault(str(event.data["name"]), []).append((seq, event.at, key))
        except (ContactGroupError, KeyError, ValueError, TypeError) as exc:
            report.findings.append(Finding(where, f"cannot be replayed: {exc}"))
        expected_seq += 1
        report.events += 1
        if progress is not None:
            progress(1)
    report.findings.extend(Finding(f"events[{seq}]", message) for seq, message in governance.findings)
    _check_columns(conn, report, seqs)
    return state


def _leaf_mismatch(body: bytes) -> str:
    """Why an event's stored leaf hash may differ from its bytes: from version 3 on, the leaf commits to the actor
    with the body's nonce, so a rewritten actor (or nonce) is an edit like any other."""
    if body_version(body) >= ACTOR_COMMITTED:
        return "stored leaf hash does not match the event's bytes or the commitment to its actor (edited?)"
    return "stored leaf hash does not match the event's bytes (edited?)"


def _check_columns(conn: Connection, report: VerifyReport, seqs: list[int]) -> None:
    """The indexed columns of each event row must say what its canonical bytes say. A column that cannot even be
    read (a time that is no time) is named by the row's index, and the check goes on after it."""
    start, done = 0, False
    while not done:
        last = start - 1
        try:
            for row in log_tables.event_rows(conn, start):
                last = row.seq
                try:
                    ev = decode(row.body)
                except (ContactGroupError, KeyError, ValueError, TypeError):
                    continue  # not an event at all: _check_log has named it already
                columns = (row.type, row.actor, row.party, row.authority, row.at)
                if (ev.type, ev.actor, ev.party, ev.authority, ev.at) != columns:
                    report.findings.append(Finding(f"events[{row.seq}]",
                                                   "row columns differ from the event's canonical bytes"))
            done = True
        except Exception as exc:  # raised while reading the row after `last`
            bad = next((seq for seq in seqs if seq > last), None)
            if bad is None:
                report.findings.append(Finding("events", f"a row cannot be read: {type(exc).__name__}: {exc}"))
                return
            report.findings.append(Finding(f"events[{bad}]", f"a column cannot be read: {type(exc).__name__}: "
                                                             f"{exc}"))
            start = bad + 1


@dataclass(frozen=True, slots=True)
class KeptCheckpoint:
    """A signed checkpoint a member kept (from its witness state, `ledger checkpoint`, a receipt), with the log
    key the member trusts: evidence from outside the database that it must still agree with."""

    where: str  # how to name it in findings, e.g. the file name
    note: str
    log_keys: tuple[VerifierKey, ...]  # any of them (the keys before and after a handover)


def verify(db: Database, progress: Callable[[int], None] | None = None, kept: Sequence[KeptCheckpoint] = (),
           policy: Policy | None = None) -> VerifyReport:
    """Check the record and rebuild every projection from it; findings name the table and key that differ.

    `kept`: checkpoints a member kept, each checked against the events with the member's log key (not the
    database's). `policy`: the member's own tlog-policy; the newest stored checkpoint it counts as witnessed
    is reported, and none at all is a finding."""
    start = time.perf_counter()
    report = VerifyReport()
    with db.reader() as conn:
        state = _check_log(conn, report, progress)
        report.origin = state.setting("origin")
        report.synthetic = state.setting("synthetic") == "yes"
        computed = _check_tree(conn, report)
        _check_checkpoints(conn, state, computed, report)
        _check_cosignatures(conn, report)
        _check_times(conn, report)
        for k in kept:
            _check_kept(k, computed, report)
        if policy is not None:
            _check_policy(conn, policy, report)
        live: dict[str, dict[str, Any]] = {}
        unreadable: dict[str, set[str]] = {}
        for table in TABLES:
            try:
                live[table] = log_tables.projection_rows(conn, table)
            except Exception:  # a malformed stored value: name its row, as any other tampering, and go on
                live[table], errors = log_tables.projection_rows_one_by_one(conn, table)
                unreadable[table] = set(errors)
                for key, error in sorted(errors.items()):
                    report.findings.append(Finding(f"{table}[{key}]", f"a stored value cannot be read: {error}"))
    with tempfile.TemporaryDirectory(prefix="contactgroup-verify-") as tmp:
        scratch = Database(f"sqlite:///{Path(tmp) / 'rebuilt.db'}")
        scratch.migrate()
        with scratch.engine.begin() as conn:
            state.dirty = {(t, k) for t, entities in state.tables.items() for k in entities}
            write_projections(conn, state, set())
            rebuilt = {table: log_tables.projection_rows(conn, table) for table in TABLES}
        scratch.engine.dispose()
    for table in TABLES:
        bad = unreadable.get(table, set())
        _compare(table, live[table], {k: v for k, v in rebuilt[table].items() if k not in bad}, report)
        report.rows += len(live[table])
    report.seconds = time.perf_counter() - start
    return report


def _check_kept(kept: KeptCheckpoint, computed: merkle.MemoryNodeStore, report: VerifyReport) -> None:
    """A kept checkpoint: signed by the member's log key, for this log, and the events' tree at its size has
    exactly its root. The database's own checkpoints and tree play no part: they may all have been rebuilt."""
    where = f"kept checkpoint {kept.where}"
    try:
        checkpoint = open_checkpoint(kept.note, list(kept.log_keys)).checkpoint
    except ContactGroupError as exc:
        keys = " or ".join(k.text for k in kept.log_keys)
        report.findings.append(Finding(where, f"not a checkpoint signed by {keys}: {exc}"))
        return
    if checkpoint.origin != report.origin:
        report.findings.append(Finding(where, f"is for the log {checkpoint.origin!r}, this database holds "
                                              f"{report.origin!r}"))
        return
    n = len(report.leaf_hashes)
    if checkpoint.size > n:
        report.findings.append(Finding(where, f"the log signed a tree of {checkpoint.size} events, the database "
                                              f"holds {n}: events were deleted or the log was rolled back"))
        return
    root = merkle.root_from_store(computed, checkpoint.size)
    if root != checkpoint.root:
        report.findings.append(Finding(where, f"the first {checkpoint.size} events give the root {b64encode(root)}, "
                                              f"the log signed {b64encode(checkpoint.root)}: history before "
                                              f"{checkpoint.size} was rewritten"))
        return
    report.kept.append(checkpoint.size)


def _check_policy(conn: Connection, policy: Policy, report: VerifyReport) -> None:
    """The newest stored checkpoint signed by a log of the member's policy and witnessed as it requires."""
    for size, note in reversed(log_tables.checkpoints(conn)):
        full = note + "".join(line + "\n" for line in log_tables.cosignature_lines(conn, size))
        log_key = report.key_at(size)
        try:
            signed = policy.open(full, [parse_verifier_key(log_key)] if log_key else [])
        except ContactGroupError:
            continue
        names = policy.witnessed_by(signed.checkpoint, full)
        if policy.satisfied_by(names) and size <= len(report.leaf_hashes):
            report.policy_size, report.policy_witnesses = size, tuple(sorted(names))
            return
    report.findings.append(Finding("checkpoints", f"none is signed by a log your policy names and witnessed as "
                                                  f"it requires (quorum {policy.quorum})"))


def _compare(table: str, live: dict[str, Any], rebuilt: dict[str, Any], report: VerifyReport) -> None:
    for key in sorted(live.keys() | rebuilt.keys()):
        where = f"{table}[{key}]"
        if key not in rebuilt:
            report.findings.append(Finding(where, "row exists in the database but no event created it"))
        elif key not in live:
            report.findings.append(Finding(where, "the log creates this row but it is missing from the database"))
        elif live[key] != rebuilt[key]:
            report.findings.append(Finding(where, f"differs from the log: stored {live[key]} "
                                                  f"but the log gives {rebuilt[key]}"))


# --- the tree ---------------------------------------------------------------------------------------------------

_MAX_NODE_FINDINGS = 20


def _check_tree(conn: Connection, report: VerifyReport) -> merkle.MemoryNodeStore:
    """Rebuild the tree from the events' bytes, compare it with the stored nodes; returns the rebuilt tree."""
    leaves = report.leaf_hashes
    computed = merkle.MemoryNodeStore()
    computed.levels = [list(leaves)] if leaves else []
    while computed.levels and len(computed.levels[-1]) > 1:
        lower = computed.levels[-1]
        computed.levels.append([merkle.node_hash(lower[i], lower[i + 1]) for i in range(0, len(lower) - 1, 2)])
    report.root = merkle.root_hash(leaves)

    stored0 = log_tables.tree_level(conn, 0)
    report.tree_size = len(stored0)
    if sorted(stored0) != list(range(len(stored0))):
        report.findings.append(Finding("tree_nodes", "the stored leaves are not numbered 0..n-1 (rows deleted?)"))
    _compare_leaves(leaves, [stored0.get(i, b"") for i in range(max(stored0, default=-1) + 1)], report)

    # Interior nodes: each stored node must be the hash of its two stored children (the tree itself unchanged).
    below, level, bad = stored0, 1, 0
    while len(below) >= 2:
        above = log_tables.tree_level(conn, level)
        for idx in range(len(below) // 2):
            left, right = below.get(2 * idx), below.get(2 * idx + 1)
            expected = merkle.node_hash(left, right) if left is not None and right is not None else None
            if above.get(idx) != expected and bad < _MAX_NODE_FINDINGS:
                bad += 1
                what = "missing" if above.get(idx) is None else "not the hash of its two children"
                report.findings.append(Finding(f"tree_nodes[{level}/{idx}]", f"stored node {what}"))
        below, level = above, level + 1

    stored_root = merkle.root_from_store(TreeNodes(conn), report.tree_size) if report.tree_size and not bad else None
    if stored_root is not None and report.tree_size == len(leaves) and stored_root != report.root:
        report.findings.append(Finding("tree", f"stored root {b64encode(stored_root)} differs from the root "
                                               f"{b64encode(report.root)} recomputed from the events"))
    return computed


def _compare_leaves(leaves: list[bytes], stored: list[bytes], report: VerifyReport) -> None:
    """Name each event whose bytes do not sit at its place in the tree: edited, deleted, inserted or swapped."""
    n = max(len(leaves), len(stored))
    mismatched = [i for i in range(n) if (leaves[i] if i < len(leaves) else None)
                  != (stored[i] if i < len(stored) else None)]
    if not mismatched:
        return
    where = {h: i for i, h in enumerate(stored) if h}
    explained: set[int] = set()
    for i in mismatched:
        if i in explained:
            continue
        if i >= len(leaves):
            report.findings.append(Finding(f"events[{i}]", "in the tree but missing from the log (deleted?)"))
            continue
        j = where.get(leaves[i])
        if j is not None and j != i and j < len(leaves) and i < len(stored) and leaves[j] == stored[i]:
            explained.update((i, j))
            report.findings.append(Finding(f"events[{i}]", f"swapped with events[{j}]: each holds the other's "
                                                           f"bytes (reordered)"))
            continue
        end = _reordered_window(leaves, stored, i) if j is not None and j != i else None
        if end is not None:
            explained.update(range(i, end + 1))
            moved = ", ".join(f"events[{k}] is leaf {where[leaves[k]]}" for k in range(i, end + 1)
                              if leaves[k] != stored[k])
            report.findings.append(Finding(f"events[{i}]", f"events {i}..{end} hold the tree's leaves {i}..{end} in "
                                                           f"another order (reordered): {moved}"))
            continue
        if j is not None and j != i:
            shift = j - i
            run = i
            while run < len(leaves) and where.get(leaves[run]) == run + shift:
                explained.add(run)
                run += 1
            if shift > 0:
                if run == len(leaves):  # the tree's last leaves moved down: not separate deletions
                    explained.update(range(len(leaves), len(leaves) + shift))
                gone = ", ".join(str(k) for k in range(i, i + shift))
                report.findings.append(Finding(
                    f"events[{i}]", f"tree leaf {gone} missing from the log (deleted?): events {i}..{run - 1} "
                                    f"are the tree's leaves {i + shift}..{run - 1 + shift}"))
            else:
                report.findings.append(Finding(
                    f"events[{i + shift}]", f"{-shift} event(s) at {i + shift}..{i - 1} are not in the tree "
                                            f"(inserted?): events {i}..{run - 1} are the tree's leaves "
                                            f"{i + shift}..{run - 1 + shift}"))
                explained.update(range(i + shift, i))
                for k in range(i + shift, i):
                    _drop_finding(report, f"events[{k}]", "bytes differ")
            continue
        if i >= len(stored):
            report.findings.append(Finding(f"events[{i}]", "not in the tree (appended outside the application?)"))
        else:
            report.findings.append(Finding(f"events[{i}]", "bytes differ from the tree's leaf at this index "
                                                           "(edited?)"))


_MAX_REORDER = 64


def _reordered_window(leaves: list[bytes], stored: list[bytes], i: int) -> int | None:
    """The end e of the shortest run i..e (3 to 64 events) holding exactly the tree's leaves i..e in another
    order — a rotation or shuffle, which would otherwise read as deletions plus insertions; else None."""
    diff: Counter[bytes] = Counter()
    for e in range(i, min(len(leaves), len(stored), i + _MAX_REORDER)):
        diff[leaves[e]] += 1
        diff[stored[e]] -= 1
        for h in (leaves[e], stored[e]):
            if diff[h] == 0:
                del diff[h]
        if not diff:
            return e if e - i >= 2 else None
    return None


def _drop_finding(report: VerifyReport, where: str, containing: str) -> None:
    report.findings[:] = [f for f in report.findings if not (f.where == where and containing in f.message)]


# --- signed checkpoints -----------------------------------------------------------------------------------------


def _stored_checkpoint(note: str | None) -> Checkpoint | None:
    """The checkpoint in a stored note, or None when the stored value is not one (named by _check_checkpoints)."""
    if note is None:
        return None
    try:
        return parse_checkpoint(parse_note(note).text)
    except ContactGroupError:
        return None


def _check_cosignatures(conn: Connection, report: VerifyReport) -> None:
    """Every stored cosignature: by a witness the log named when it was received, valid for the checkpoint it is
    stored with under the key registered for that witness then (a witness may change its key later)."""
    try:
        notes = dict(log_tables.checkpoints(conn))
        stored = log_tables.cosignatures(conn)
    except Exception as exc:  # a malformed stored value (a time that is no time): a finding, not a crash
        report.findings.append(Finding("cosignatures", f"cannot be read: {type(exc).__name__}: {exc}"))
        return
    for size, witness, line, received in stored:
        where = f"cosignatures[{size}/{witness}]"
        report.cosignatures += 1
        key_texts = [k for k in report.witness_keys_at(witness, received) if k]
        if not key_texts:
            known = "was not a witness the log named" if witness in report.witness_history else \
                "is not a witness the log names"
            report.findings.append(Finding(where, f"{witness} {known} when this was received ({received})"))
            continue
        checkpoint = _stored_checkpoint(notes.get(size))
        if checkpoint is None:
            report.findings.append(Finding(where, f"no readable signed checkpoint of size {size} to cosign"))
            continue
        keys = []
        for text in key_texts:
            try:
                keys.append(parse_cosigner_key(text))
            except ContactGroupError:
                report.findings.append(Finding(where, f"the key recorded for {witness} is malformed: {text!r}"))
        if keys and not any(verify_cosignature(checkpoint, line, key) for key in keys):
            report.findings.append(Finding(where, f"not a valid cosignature by {witness} of the checkpoint of "
                                                  f"size {size} (key then: {', '.join(k.text for k in keys)})"))


def _check_checkpoints(conn: Connection, state: State, computed: merkle.MemoryNodeStore,
                       report: VerifyReport) -> None:
    """Every stored checkpoint: signed by the log key the log published, for its origin, and a prefix of the
    tree the events give now; the latest also through a consistency proof built from the stored nodes."""
    rows = log_tables.checkpoints(conn)
    report.log_key = state.setting("log_verifier_key")
    n = len(report.leaf_hashes)
    for size, note in rows:
        where = f"checkpoints[{size}]"
        report.checkpoints += 1
        if not report.key_at(size):
            report.findings.append(Finding(where, "signed, but the log named no verifier key by then"))
            continue
        try:
            key = parse_verifier_key(report.key_at(size))
        except ContactGroupError as exc:
            report.findings.append(Finding(where, f"the log key recorded by then is malformed: {exc}"))
            continue
        try:
            checkpoint = open_checkpoint(note, [key]).checkpoint
        except ContactGroupError as exc:
            report.findings.append(Finding(where, f"not validly signed by the log key {key.text}: {exc}"))
            continue
        if checkpoint.origin != state.setting("origin") or checkpoint.size != size:
            report.findings.append(Finding(where, f"is for {checkpoint.origin} at size {checkpoint.size}"))
            continue
        if size > n:
            report.findings.append(Finding(where, f"signed a tree of {size} events but the log holds only {n} "
                                                  f"(events deleted?)"))
            continue
        if merkle.root_from_store(computed, size) != checkpoint.root:
            report.findings.append(Finding(where, f"the first {size} events no longer give the signed root: "
                                                  f"history before {size} was rewritten"))
        report.checkpoint_size = size
    if report.checkpoint_size is None:
        return
    latest = report.checkpoint_size
    _, latest_note = rows[[s for s, _ in rows].index(latest)]
    signed_root = open_checkpoint(latest_note, [parse_verifier_key(report.key_at(latest))]).checkpoint.root
    try:
        proof = merkle.consistency_proof_from_store(TreeNodes(conn), latest, report.tree_size)
    except (KeyError, ContactGroupError) as exc:
        report.findings.append(Finding(f"checkpoints[{latest}]", f"no consistency proof from the stored tree: {exc}"))
        return
    if report.tree_size != n or not merkle.verify_consistency(latest, n, signed_root, report.root, proof):
        report.findings.append(Finding(f"checkpoints[{latest}]", f"the signed tree of size {latest} is not a prefix "
                                                                 f"of the log's tree of size {n}"))


def _check_times(conn: Connection, report: VerifyReport) -> None:
    """Event times never go backwards in events the writer stamped in order (body version 2 on); a step back
    into an older event is only counted (logs written before then, the old demo's among them, still verify)."""
    previous: datetime | None = None
    rows = log_tables.event_rows(conn)
    while True:
        try:
            row = next(rows)
        except Exception:  # the end; or a time that is no time, which `_check_columns` names (no more is read)
            return
        if previous is not None and row.at < previous:
            if body_version(row.body) >= 2:
                report.findings.append(Finding(f"events[{row.seq}]", f"its time {row.at.isoformat()} is before the "
                                               f"previous event's {previous.isoformat()}: times go backwards"))
            else:
                report.older_steps_back += 1
        previous = row.at
