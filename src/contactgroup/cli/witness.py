"""`contactgroup witness`: a member's witness that follows a log over HTTP, cosigns each checkpoint consistent
with everything it cosigned before, and refuses loudly — keeping the evidence — when shown a rewritten
history or a split view. `contactgroup witness keygen` makes its key."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from contactgroup.cli.common import err, fail, handles_errors, out
from contactgroup.domain.errors import ContactGroupError, ValidationFailed
from contactgroup.ledger.checkpoint import Checkpoint, parse_checkpoint
from contactgroup.ledger.cosignature import Cosigner, parse_cosigner
from contactgroup.ledger.handover import (
    HandoverEvidence,
    MemberKeys,
    QuorumApproval,
    handover_problems,
    parse_member_keys,
)
from contactgroup.ledger.merkle import HASH_SIZE
from contactgroup.ledger.note import b64decode_strict, generate_key, parse_note, parse_verifier_key
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
    load_state,
    rotate_log_keys,
    save_state,
    write_evidence,
)
from contactgroup.services import key_files

app = typer.Typer(help="Witness a log: verify, cosign, refuse rewritten history. `witness keygen` makes a key.")

STATE_FILE = "state.json"
LOCK_FILE = ".lock"
EXIT_BUSY = 5  # another run holds the state directory
EXIT_REFUSED = 7  # a checkpoint was refused: the log lied, or could not prove it did not


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


def _trusted_log(state: WitnessState, origin: str, log_key: str | None) -> WitnessState:
    """The state with `origin` followed: from the state file, or — on the first run only — from --log-key."""
    known = state.log(origin)
    given = parse_verifier_key(key_files.parse_key_argument(log_key)) if log_key else None
    if known is not None:
        if given is not None and given not in known.keys:
            raise fail(f"--log-key {given.text} is not the key this witness trusts for {origin} "
                       f"({', '.join(k.text for k in known.keys)}); a key change needs an approved rotation", 2)
        return state
    if given is None:
        raise fail(f"this witness does not follow {origin} yet: pass --log-key with the log's verifier key, "
                   "obtained out of band (from the coordinating authority, not from this server). Trusting the "
                   "first key a server shows (trust on first use) would let that server choose what you witness.", 2)
    if given.name != origin:
        raise fail(f"--log-key is named {given.name!r} but the log's origin is {origin!r}", 2)
    err.print(f"following {origin} from now on, trusting {given.text} (given with --log-key)", highlight=False)
    return state.with_log(LogState(origin, (given,)))


def _follow_handover(client: httpx.Client, log: str, state: WitnessState, followed: LogState,
                     checkpoint: Checkpoint, note: str, members: MemberKeys) -> WitnessState:
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
            err.print(f"[bold red]not following the new key[/] {key.text}: {'; '.join(problems)}", highlight=False)
            continue
        rotated = rotate_log_keys(followed, (key,), QuorumApproval(checkpoint, [e], members))
        err.print(f"the log was handed over (event {e.index}): following {key.text} from now on, approved by "
                  f"{members.needed} or more of the {members.count} members this witness knows", highlight=False)
        return state.with_log(rotated)
    return state


def _report_refusal(log: str, checkpoint: Checkpoint, decision: Refused, state_dir: Path) -> int:
    err.print(f"[bold red]REFUSED[/] checkpoint of {checkpoint.origin} at size {checkpoint.size} from {log}: "
              f"{decision.reason.value}: {decision.message}", highlight=False)
    if decision.evidence is not None:
        files = write_evidence(state_dir, decision.evidence)
        if decision.reason is Refusal.ROLLBACK:
            err.print("[bold red]the log no longer serves what it signed before[/] (a restored or truncated "
                      "database, or a rewritten history); evidence kept:", highlight=False)
        else:
            err.print("[bold red]the log showed two checkpoints that cannot both be honest[/] (rewritten history "
                      "or a split view); evidence kept:", highlight=False)
        for f in files:
            err.print(f"  {f}", highlight=False)
    return EXIT_REFUSED


def witness_once(client: httpx.Client, log: str, cosigner: Cosigner, state_dir: Path, log_key: str | None,
                 members: MemberKeys | None = None) -> int:
    """One round: fetch, check the signature, fetch the proof, decide, persist, post. Returns the exit code
    (0 cosigned or nothing new, EXIT_REFUSED refused)."""
    note = _fetch_checkpoint(client, log)
    try:
        checkpoint = parse_checkpoint(parse_note(note).text)
    except ValidationFailed as exc:
        err.print(f"[bold red]REFUSED:[/] {log}/checkpoint is not a signed checkpoint: {exc}", highlight=False)
        return EXIT_REFUSED
    path = state_dir / STATE_FILE
    state = _trusted_log(load_state(path), checkpoint.origin, log_key)
    followed = state.log(checkpoint.origin)
    assert followed is not None
    # The signature first: a checkpoint no trusted key signed is refused as such, whatever proof comes with it.
    refused = check_signature(followed, note)
    if refused is not None and refused.reason is Refusal.UNKNOWN_KEY and members is not None:
        state = _follow_handover(client, log, state, followed, checkpoint, note, members)
        followed = state.log(checkpoint.origin)
        assert followed is not None
        refused = check_signature(followed, note)
    if refused is not None:
        return _report_refusal(log, checkpoint, refused, state_dir)
    if followed.checkpoint is not None and checkpoint.size < followed.size:
        older = judge_older(followed, note, checkpoint,
                            _fetch_proof_back(client, log, checkpoint.size, followed.size))
        if isinstance(older, Refused):
            return _report_refusal(log, checkpoint, older, state_dir)
        out.print(f"the log showed an older checkpoint (size {checkpoint.size:,}) than the one this witness "
                  f"cosigned (size {followed.size:,}); it proved it a prefix of that one: nothing to cosign",
                  highlight=False)
        return 0
    proof = _fetch_proof(client, log, followed.size, checkpoint.size)
    decision = add_checkpoint(state, AddCheckpoint(followed.size, proof, note), cosigner, int(time.time()))
    if isinstance(decision, Refused):
        return _report_refusal(log, checkpoint, decision, state_dir)
    assert isinstance(decision, Accepted)
    save_state(path, decision.state)  # persisted before the cosignature leaves this process (tlog-witness)
    response = client.post(f"{log}/cosignatures", params={"size": checkpoint.size},
                           content=decision.cosignature.line.encode("utf-8"),
                           headers={"Content-Type": "text/plain; charset=utf-8"})
    if response.status_code >= 400:
        err.print(f"[yellow]warning:[/] the log refused the cosignature ({response.status_code}): "
                  f"{response.text.strip()}", highlight=False)
    out.print(f"[green]✓[/] cosigned {checkpoint.origin} at size {checkpoint.size:,} "
              f"(consistent with size {followed.size:,})", highlight=False)
    return 0


@contextmanager
def locked(state_dir: Path, wait: float) -> Iterator[None]:
    """Hold an exclusive lock on the state directory (a `.lock` file in it, flock) for the whole run: two runs on
    one state could otherwise each check against the same cosigned checkpoint and cosign two different
    histories. Waits up to `wait` seconds for another run to finish, then gives up (exit 5)."""
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
                raise fail(f"another witness run is using the state directory {state_dir} (it holds {lock}); "
                           f"waited {wait:g} s. Run one witness per state directory.", EXIT_BUSY) from None
            time.sleep(0.05)
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock, also if this process dies


@app.callback(invoke_without_command=True)
@handles_errors
def run(
    ctx: typer.Context,
    log: Annotated[str | None, typer.Option("--log", help="The log's base URL, e.g. http://127.0.0.1:8000.")]
    = None,
    key: Annotated[Path | None, typer.Option("--key", help="This witness's private key file.")] = None,
    state: Annotated[Path | None, typer.Option("--state", help="State directory (state file, evidence).")] = None,
    log_key: Annotated[str | None, typer.Option("--log-key", help="The log's verifier key (or @FILE): required "
                                                                  "on the first run.")] = None,
    member_keys: Annotated[Path | None, typer.Option(
        "--member-keys", help="Members' verifier keys (lines `MEMBER KEY`, from `contactgroup keys export`): "
                              "lets this witness follow a handover to a new log key that a quorum approved.")] = None,
    quorum: Annotated[str, typer.Option(help="Share of those members a handover needs.")] = "2/3",
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 60.0,
    lock_wait: Annotated[float, typer.Option(help="Seconds to wait for another run on the same --state to end "
                                                  "(then exit 5).")] = 10.0,
) -> None:
    """Follow the log at --log: verify each new checkpoint's signature and its consistency with the last one
    this witness cosigned, cosign it, store the state atomically, post the cosignature. Exits 7 on refusal,
    with the two conflicting checkpoints saved in the state directory; 1 when the log cannot be followed (with
    --once; otherwise it retries); 5 when another run holds the state directory."""
    if ctx.invoked_subcommand is not None:
        return
    if log is None or key is None or state is None:
        raise fail("pass --log URL --key KEYFILE --state DIR (see --help)", 2)
    cosigner = parse_cosigner(key_files.read_signer_key(key).text)
    members = None
    if member_keys is not None:
        try:
            members = parse_member_keys(member_keys.read_text(encoding="utf-8"), quorum)
        except OSError as exc:
            raise fail(f"--member-keys {member_keys}: cannot be read: {exc.strerror}", 2) from None
    state.mkdir(parents=True, exist_ok=True)
    base = log.rstrip("/")
    with locked(state, lock_wait), httpx.Client(timeout=30.0) as client:
        while True:
            try:
                code = witness_once(client, base, cosigner, state, log_key, members)
            except (httpx.HTTPError, MalformedResponse) as exc:
                what = (f"the log sent a malformed response ({exc})" if isinstance(exc, MalformedResponse)
                        else str(exc))
                if once:
                    raise fail(f"cannot follow {base}: {what}", 1) from None
                err.print(f"[yellow]warning:[/] cannot follow {base}: {what}; retrying", highlight=False)
                code = 0
            if code != 0:
                raise typer.Exit(code)
            if once:
                return
            time.sleep(interval)


@app.command()
@handles_errors
def keygen(
    name: Annotated[str, typer.Argument(help="The witness's name, e.g. witness.example.org/deu.")],
    out_file: Annotated[Path, typer.Option("--out", help="Private key file to create (mode 0600).")],
) -> None:
    """Make a witness key: writes the private key (0600), prints the verifier key to give the coordinator."""
    signer, _ = generate_key(name)
    key_files.write_private_key(out_file, signer.text)
    cosigner = Cosigner(signer)
    err.print(f"private key written to {out_file} (mode 0600). Give the coordinator this verifier key:",
              highlight=False)
    out.print(cosigner.verifier.text, highlight=False)
