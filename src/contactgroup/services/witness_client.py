"""A member's witness following a log over HTTP: fetch the log's checkpoint, check it is signed by a key this
witness trusts (or by a new key a quorum of members handed the log to) and consistent with everything it cosigned
before, cosign it and post the cosignature — or refuse, keeping the evidence. The CLI (`contactgroup witness`)
only parses options and prints the notices."""

from __future__ import annotations

import base64
import enum
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from contactgroup.domain.errors import Conflict, ContactGroupError, ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint, parse_checkpoint
from contactgroup.ledger.cosignature import Cosigner
from contactgroup.ledger.handover import HandoverEvidence, MemberKeys, QuorumApproval, handover_problems
from contactgroup.ledger.merkle import HASH_SIZE
from contactgroup.ledger.note import b64decode_strict, parse_note, parse_verifier_key
from contactgroup.ledger.witness import (
    Accepted,
    AddCheckpoint,
    LogState,
    Refusal,
    Refused,
    WitnessState,
    add_checkpoint,
    check_signature,
    judge_older,
    load_witness_state,
    rotate_log_keys,
    save_witness_state,
    write_evidence,
)
from contactgroup.services import key_files

STATE_FILE = "state.json"
LOCK_FILE = ".lock"
EXIT_REFUSED = 7  # a checkpoint was refused: the log lied, or could not prove it did not


class Notice(enum.Enum):
    """What a witness run tells its operator; each front door words and places it (the CLI: stdout or stderr)."""

    FOLLOWING = "following"  # a log followed from now on, with the key given
    HANDOVER_FOLLOWED = "handover-followed"
    HANDOVER_REFUSED = "handover-refused"  # a new log key not followed, and why
    NOT_A_CHECKPOINT = "not-a-checkpoint"  # refused: the log served no signed checkpoint
    REFUSED = "refused"  # a checkpoint refused, and why
    ROLLBACK = "rollback"  # evidence kept: the log no longer serves what it signed
    SPLIT_VIEW = "split-view"  # evidence kept: two checkpoints that cannot both be honest
    EVIDENCE_FILE = "evidence-file"
    OLDER = "older"  # an older checkpoint, proved a prefix: nothing to cosign
    COSIGNED = "cosigned"
    WARNING = "warning"  # the log refused the cosignature, or could not be reached (retrying)


Notify = Callable[[Notice, str], None]


class MalformedResponse(Exception):
    """The log answered, but not with what the protocol says: a retry may help, a traceback never does."""


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise MalformedResponse(f"{what} is not JSON") from None


def _fetch_checkpoint(client: httpx.Client, log: str) -> str:
    response = client.get(f"{log}/checkpoint")
    response.raise_for_status()
    return response.text


def _fetch_proof(client: httpx.Client, log: str, old: int, new: int) -> tuple[bytes, ...]:
    """The log's consistency proof from `old` to `new` leaves (nothing to fetch from 0 or between equal sizes)."""
    if old == 0 or old >= new:
        return ()
    response = client.get(f"{log}/proof/consistency", params={"old": old, "new": new})
    response.raise_for_status()
    what = f"GET /proof/consistency?old={old}&new={new}"
    doc = _json(response, what)
    proof = doc.get("proof") if isinstance(doc, dict) else None
    if not isinstance(proof, list):
        raise MalformedResponse(f"{what} has no 'proof' list")
    hashes = []
    for i, item in enumerate(proof):
        raw = b64decode_strict(item) if isinstance(item, str) else None
        if raw is None or len(raw) != HASH_SIZE:
            raise MalformedResponse(f"{what}: proof[{i}] is not a base64 SHA-256 hash")
        hashes.append(raw)
    return tuple(hashes)


def _fetch_proof_back(client: httpx.Client, log: str, old: int, new: int) -> tuple[bytes, ...] | None:
    """The proof that an older checkpoint is a prefix of the cosigned one; None when the log says it cannot give
    it (a 4xx answer: it no longer has a tree of `new` leaves)."""
    try:
        return _fetch_proof(client, log, old, new)
    except httpx.HTTPStatusError as exc:
        if 400 <= exc.response.status_code < 500:
            return None
        raise


def _trusted_log(state: WitnessState, origin: str, log_key: str | None, notify: Notify) -> WitnessState:
    """The state with `origin` followed: from the state file, or — on the first run only — from --log-key."""
    known = state.log(origin)
    given = parse_verifier_key(key_files.parse_key_argument(log_key)) if log_key else None
    if known is not None:
        if given is not None and given not in known.keys:
            raise ValidationFailed(f"--log-key {given.text} is not the key this witness trusts for {origin} "
                                   f"({', '.join(k.text for k in known.keys)}); a key change needs an approved "
                                   f"rotation")
        return state
    if given is None:
        raise ValidationFailed(f"this witness does not follow {origin} yet: pass --log-key with the log's verifier "
                               "key, obtained out of band (from the coordinating authority, not from this server). "
                               "Trusting the first key a server shows (trust on first use) would let that server "
                               "choose what you witness.")
    if given.name != origin:
        raise ValidationFailed(f"--log-key is named {given.name!r} but the log's origin is {origin!r}")
    notify(Notice.FOLLOWING, f"following {origin} from now on, trusting {given.text} (given with --log-key)")
    return state.with_log(LogState(origin, (given,)))


def _follow_handover(client: httpx.Client, log: str, state: WitnessState, followed: LogState,
                     checkpoint: Checkpoint, note: str, members: MemberKeys, notify: Notify) -> WitnessState:
    """A checkpoint signed by a key this witness does not trust: trust it only if the log proves a handover to
    that key approved by a quorum of the members this witness knows. Consistency is still checked afterwards."""
    response = client.get(f"{log}/handovers", params={"size": checkpoint.size})
    response.raise_for_status()
    try:
        evidence = [HandoverEvidence(h["index"], base64.b64decode(h["body"]),
                                     tuple(base64.b64decode(p) for p in h["proof"]))
                    for h in _json(response, "GET /handovers")]
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponse(f"GET /handovers: {type(exc).__name__}: {exc}") from None
    signed_by = {(signature.name, signature.key_id) for signature in parse_note(note).signatures}
    for e in evidence:
        try:
            key = parse_verifier_key(json.loads(e.body)["data"]["log_key"])
        except (ContactGroupError, ValueError, KeyError, TypeError):
            continue
        if (key.name, key.key_id) not in signed_by:
            continue
        problems = handover_problems(checkpoint, key, e, members)
        if problems:
            notify(Notice.HANDOVER_REFUSED, f"{key.text}: {'; '.join(problems)}")
            continue
        rotated = rotate_log_keys(followed, (key,), QuorumApproval(checkpoint, [e], members))
        notify(Notice.HANDOVER_FOLLOWED, f"the log was handed over (event {e.index}): following {key.text} from now "
                                         f"on, approved by {members.needed} or more of the {members.count} members "
                                         f"this witness knows")
        return state.with_log(rotated)
    return state


def _report_refusal(log: str, checkpoint: Checkpoint, decision: Refused, state_dir: Path, notify: Notify) -> int:
    notify(Notice.REFUSED, f"checkpoint of {checkpoint.origin} at size {checkpoint.size} from {log}: "
                           f"{decision.reason.value}: {decision.message}")
    if decision.evidence is not None:
        files = write_evidence(state_dir, decision.evidence)
        if decision.reason is Refusal.ROLLBACK:
            notify(Notice.ROLLBACK, "(a restored or truncated database, or a rewritten history); evidence kept:")
        else:
            notify(Notice.SPLIT_VIEW, "(rewritten history or a split view); evidence kept:")
        for f in files:
            notify(Notice.EVIDENCE_FILE, str(f))
    return EXIT_REFUSED


def witness_once(client: httpx.Client, log: str, cosigner: Cosigner, state_dir: Path, log_key: str | None,
                 notify: Notify, members: MemberKeys | None = None) -> int:
    """One round: fetch, check the signature, fetch the proof, decide, persist, post. Returns the exit code
    (0 cosigned or nothing new, EXIT_REFUSED refused)."""
    note = _fetch_checkpoint(client, log)
    try:
        checkpoint = parse_checkpoint(parse_note(note).text)
    except ValidationFailed as exc:
        notify(Notice.NOT_A_CHECKPOINT, f"{log}/checkpoint is not a signed checkpoint: {exc}")
        return EXIT_REFUSED
    path = state_dir / STATE_FILE
    state = _trusted_log(load_witness_state(path), checkpoint.origin, log_key, notify)
    followed = state.log(checkpoint.origin)
    assert followed is not None
    # The signature first: a checkpoint no trusted key signed is refused as such, whatever proof comes with it.
    refused = check_signature(followed, note)
    if refused is not None and refused.reason is Refusal.UNKNOWN_KEY and members is not None:
        state = _follow_handover(client, log, state, followed, checkpoint, note, members, notify)
        followed = state.log(checkpoint.origin)
        assert followed is not None
        refused = check_signature(followed, note)
    if refused is not None:
        return _report_refusal(log, checkpoint, refused, state_dir, notify)
    if followed.checkpoint is not None and checkpoint.size < followed.size:
        older = judge_older(followed, note, checkpoint,
                            _fetch_proof_back(client, log, checkpoint.size, followed.size))
        if isinstance(older, Refused):
            return _report_refusal(log, checkpoint, older, state_dir, notify)
        notify(Notice.OLDER, f"the log showed an older checkpoint (size {checkpoint.size:,}) than the one this "
                             f"witness cosigned (size {followed.size:,}); it proved it a prefix of that one: nothing "
                             f"to cosign")
        return 0
    proof = _fetch_proof(client, log, followed.size, checkpoint.size)
    decision = add_checkpoint(state, AddCheckpoint(followed.size, proof, note), cosigner, int(time.time()))
    if isinstance(decision, Refused):
        return _report_refusal(log, checkpoint, decision, state_dir, notify)
    assert isinstance(decision, Accepted)
    save_witness_state(path, decision.state)  # persisted before the cosignature leaves this process (tlog-witness)
    response = client.post(f"{log}/cosignatures", params={"size": checkpoint.size},
                           content=decision.cosignature.line.encode("utf-8"),
                           headers={"Content-Type": "text/plain; charset=utf-8"})
    if response.status_code >= 400:
        notify(Notice.WARNING, f"the log refused the cosignature ({response.status_code}): "
                               f"{response.text.strip()}")
    notify(Notice.COSIGNED, f"cosigned {checkpoint.origin} at size {checkpoint.size:,} "
                            f"(consistent with size {followed.size:,})")
    return 0


@contextmanager
def locked(state_dir: Path, wait: float) -> Iterator[None]:
    """Hold an exclusive lock on the state directory (a `.lock` file in it, flock) for the whole run: two runs on
    one state could otherwise each check against the same cosigned checkpoint and cosign two different
    histories. Waits up to `wait` seconds for another run to finish, then gives up (`Conflict`)."""
    lock = state_dir / LOCK_FILE
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise Conflict(f"another witness run is using the state directory {state_dir} (it holds {lock}); "
                               f"waited {wait:g} s. Run one witness per state directory.") from None
            time.sleep(0.05)
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock, also if this process dies


def follow(log: str, cosigner: Cosigner, state_dir: Path, log_key: str | None, members: MemberKeys | None,
           notify: Notify, *, once: bool, interval: float, lock_wait: float) -> int:
    """Follow the log at `log` round after round (or one round with `once`), holding the state directory's lock.
    Returns the exit code of a refusal (EXIT_REFUSED), or 0 after one round with `once`; an unreachable log is a
    warning and a retry, or with `once` an error."""
    state_dir.mkdir(parents=True, exist_ok=True)
    base = log.rstrip("/")
    with locked(state_dir, lock_wait), httpx.Client(timeout=30.0) as client:
        while True:
            try:
                code = witness_once(client, base, cosigner, state_dir, log_key, notify, members)
            except (httpx.HTTPError, MalformedResponse) as exc:
                what = (f"the log sent a malformed response ({exc})" if isinstance(exc, MalformedResponse)
                        else str(exc))
                if once:
                    raise ContactGroupError(f"cannot follow {base}: {what}") from None
                notify(Notice.WARNING, f"cannot follow {base}: {what}; retrying")
                code = 0
            if code != 0 or once:
                return code
            time.sleep(interval)
