"""`contactgroup ledger ...` and `contactgroup serve`: checkpoints, proofs, notes, receipts, witness policy."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from contactgroup.cli import seam
from contactgroup.cli.common import (
    AsOption,
    DbOption,
    caller,
    database,
    err,
    fail,
    handles_errors,
    out,
    whole_number,
    whole_number_in,
)
from contactgroup.domain.errors import ContactGroupError, ValidationFailed
from contactgroup.ledger.cosignature import CosignerKey, parse_cosigner_key
from contactgroup.ledger.note import Verifier, VerifierKey, open_note, parse_verifier_key
from contactgroup.ledger.policy import Policy, parse_policy, published_policy
from contactgroup.services import (
    checkpoints,
    key_files,
    log_keys,
    proofs,
    receipts,
    release_check,
    witness_policy,
)
from contactgroup.services.access import user as registered_user
from contactgroup.services.clock import SystemClock
from contactgroup.storage.database import Database

app = typer.Typer(help="The verifiable record: signed checkpoints, proofs, receipts, witnesses.",
                  no_args_is_help=True)

LogKeyOption = Annotated[
    str | None,
    typer.Option("--log-key", envvar=log_keys.LOG_KEY_ENV, show_envvar=True,
                 help="The log's private signing key file. Default: <db file>.logkey beside an SQLite database."),
]


class ProofFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


class LeafFormat(enum.StrEnum):
    HEX = "hex"


def _db(db: str | None, *, local: bool = False) -> Database:
    """The local database; beside a server only for what is `local` by nature (the log key's own work), the other
    commands refusing rather than quietly reading a local copy."""
    found = database(db, local=local)
    found.require_initialised()
    return found


def _signer_path(database: Database, log_key: str | None) -> Path:
    path = log_keys.resolve_log_key_path(database, log_key)
    if path is None:
        raise fail("no log key file: pass --log-key PATH or set CONTACTGROUP_LOG_KEY", 2)
    return path


def _note_key(text: str) -> Verifier:
    """A verifier key text: an Ed25519 note key (0x01) or a witness cosigner key (0x04)."""
    try:
        return parse_verifier_key(text)
    except ValidationFailed:
        try:
            return parse_cosigner_key(text)
        except ValidationFailed:
            raise ValidationFailed(f"{text!r} is not a verifier key (<name>+<hex id>+<base64 key>)",
                                   where="key") from None


@app.command()
@handles_errors
def checkpoint(log_key: LogKeyOption = None, db: DbOption = None) -> None:
    """Sign the log's current tree as a C2SP checkpoint note with the authority's key, store it, print it."""
    database = _db(db, local=True)
    signer = key_files.read_signer_key(_signer_path(database, log_key))
    cp, note, fresh = checkpoints.sign_checkpoint(database, signer, SystemClock())
    sys.stdout.write(note)
    err.print(f"{'signed' if fresh else 'already signed'}: {cp.origin} at size {cp.size:,}", highlight=False)


@app.command("init-key")
@handles_errors
def init_key(log_key: LogKeyOption = None, as_: AsOption = None, db: DbOption = None) -> None:
    """Create the log signing key of a log founded without one (e.g. on PostgreSQL) and publish its verifier."""
    database = _db(db, local=True)
    path = _signer_path(database, log_key)
    signer, created = log_keys.create_log_key(database, caller(as_), path)
    out.print(f"log signing key {'created' if created else 'reused'} in {path} (mode 0600); verifier key "
              f"recorded in the log: {signer.verifier.text}", highlight=False)


@app.command("public-key")
@handles_errors
def public_key(db: DbOption = None) -> None:
    """Print the log's verifier key, as the log itself records it."""
    def here() -> str:
        with _db(db).reader() as conn:
            return witness_policy.log_info(conn).require_key().text

    def served(policy: Any) -> str:
        if policy["log_key"] is None:
            raise ContactGroupError("the log records no verifier key yet", code="no-log-key")
        return str(policy["log_key"])

    sys.stdout.write(seam.fetch(db, here, seam.Remote("GET", "/policy", served)) + "\n")


@app.command("leaves")
@handles_errors
def leaves(
    start: Annotated[int, typer.Option(parser=whole_number, help="First leaf index.")] = 0,
    end: Annotated[int | None, typer.Option(parser=whole_number,
                                            help="Stop before this index (default: the whole log).")] = None,
    fmt: Annotated[LeafFormat, typer.Option("--format", help="Output format.")] = LeafFormat.HEX,
    db: DbOption = None,
) -> None:
    """Print the leaf hashes, one per line in log order (hashes only: they reveal nothing of the events)."""
    def here() -> str:
        with _db(db).reader() as conn:
            return "".join(h.hex() + "\n" for h in proofs.leaves(conn, start, end))

    sys.stdout.write(seam.fetch(db, here, seam.Remote("GET", "/leaves", str, params=seam.given(
        {"start": start, "end": end}), text=True)))


@app.command()
@handles_errors
def prove(
    index: Annotated[int, typer.Option(parser=whole_number, help="The event's index (its seq).")],
    size: Annotated[int | None, typer.Option(parser=whole_number,
                                             help="Tree size to prove against (default: the whole log).")] = None,
    fmt: Annotated[ProofFormat, typer.Option("--format", "-f", help="A readable block or JSON.")] = ProofFormat.TEXT,
    db: DbOption = None,
) -> None:
    """The inclusion proof (RFC 9162 audit path) of one event."""
    def here() -> dict[str, Any]:
        with _db(db).reader() as conn:
            return proofs.prove_inclusion(conn, index, size).as_json()

    doc = seam.fetch(db, here, seam.Remote("GET", "/proof/inclusion", dict,
                                           params=seam.given({"index": index, "size": size})))
    if fmt is ProofFormat.JSON:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    lines = [f"inclusion proof: event {doc['index']} in the tree of size {doc['tree_size']}",
             f"leaf hash   {doc['leaf_hash']}", f"root        {doc['root']}",
             f"audit path  {len(doc['proof'])} hashes, leaf side first:"]
    lines += [f"  {p}" for p in doc["proof"]]
    sys.stdout.write("\n".join(lines) + "\n")


@app.command()
@handles_errors
def consistency(
    old: Annotated[int, typer.Option(parser=whole_number, help="The older tree size.")],
    new: Annotated[int | None, typer.Option(parser=whole_number,
                                            help="The newer tree size (default: the whole log).")] = None,
    fmt: Annotated[ProofFormat, typer.Option("--format", "-f", help="A readable block or JSON.")] = ProofFormat.TEXT,
    db: DbOption = None,
) -> None:
    """The consistency proof (RFC 9162) that the tree of size OLD is a prefix of the tree of size NEW."""
    def here() -> dict[str, Any]:
        with _db(db).reader() as conn:
            return proofs.prove_consistency(conn, old, new).as_json()

    doc = seam.fetch(db, here, seam.Remote("GET", "/proof/consistency", dict,
                                           params=seam.given({"old": old, "new": new})))
    if fmt is ProofFormat.JSON:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    lines = [f"consistency proof: size {doc['old_size']} -> {doc['new_size']}", f"old root    {doc['old_root']}",
             f"new root    {doc['new_root']}", f"proof       {len(doc['proof'])} hashes:"]
    lines += [f"  {p}" for p in doc["proof"]]
    sys.stdout.write("\n".join(lines) + "\n")


@app.command("verify-note")
@handles_errors
def verify_note(
    file: Annotated[str, typer.Argument(help="The signed note file ('-' for standard input).")],
    key: Annotated[str, typer.Option("--key", help="Verifier key text, or @FILE holding it.")],
) -> None:
    """Verify a C2SP signed note (Go's note format): exit 0 only if KEY's signature on it is valid."""
    verifier = _note_key(key_files.parse_key_argument(key))
    data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    try:
        opened = open_note(data, [verifier])
    except Exception as exc:  # any reason to refuse is a refusal, reported as one line
        raise fail(f"not verified by {verifier.name}+{verifier.key_id.hex()}: {exc}", 6) from None
    out.print(f"[green]✓[/] signed by {verifier.name}+{verifier.key_id.hex()} "
              f"({len(opened.unverified)} other signature(s) not checked)", highlight=False)
    sys.stdout.write(opened.text)


@app.command()
@handles_errors
def receipt(
    index: Annotated[int, typer.Option(parser=whole_number, help="The event's index.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the receipt here (default: stdout).")] = None,
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """A receipt for one event you may see: its bytes, leaf hash and inclusion proof against the newest
    witnessed checkpoint (with cosignatures). Check it offline with `ledger check-receipt`."""
    doc = seam.either(db, as_, lambda: receipts.receipt(_db(db), caller(as_).user, index),
                      seam.Remote("GET", f"/api/v1/receipts/{index}", dict))
    text = json.dumps(doc, indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"receipt for event {index} (tree size {doc['tree_size']}) written to {out_file}", highlight=False)


@app.command("check-receipt")
@handles_errors
def check_receipt(
    file: Annotated[Path, typer.Argument(help="The receipt (JSON).")],
    key: Annotated[str | None, typer.Option("--key", help="The log's verifier key text or @FILE (default: from "
                                                          "--policy, or read from --db if one is there).")] = None,
    policy_file: Annotated[Path | None, typer.Option(
        "--policy", help="Your own C2SP tlog-policy file (log, witness, group, quorum lines): the checkpoint must "
                         "be signed by one of its logs and witnessed as its quorum requires.")] = None,
    witness: Annotated[list[str] | None, typer.Option("--witness", help="A witness key (repeatable).")] = None,
    quorum: Annotated[int | None, typer.Option(parser=whole_number,
                                               help="Cosignatures needed (default: every --witness).")] = None,
    db: DbOption = None,
) -> None:
    """Check a receipt offline: event bytes -> leaf -> inclusion proof -> checkpoint signed by the log key,
    witnessed as your --policy requires (or cosigned by QUORUM of the --witness keys)."""
    member_policy = _read_policy(policy_file) if policy_file is not None else None
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"{file}: cannot be read: {exc.strerror}", 2) from None
    if member_policy is not None and (witness or quorum is not None):
        raise fail("pass either --policy or --witness/--quorum, not both", 2)
    log_key: VerifierKey | None = None
    if key is not None:
        log_key = parse_verifier_key(key_files.parse_key_argument(key))
    elif member_policy is None or not member_policy.logs:
        database = Database(db)
        if not database.is_initialised():
            raise fail("pass --key (or a --policy with a log line): the log's verifier key (a receipt cannot "
                       "vouch for its own key)", 2)
        size = receipts.receipt_size(data)
        with database.reader() as conn:
            log_key = log_keys.log_key_at(conn, size) if size is not None else None
            log_key = log_key or witness_policy.log_info(conn).require_key()
        err.print(f"using the log key recorded in {database.url} for a tree of {size} events: {log_key.text}",
                  highlight=False)
    witnesses: list[CosignerKey] = [witness_policy.parse_witness_key(key_files.parse_key_argument(w))
                                    for w in witness or []]
    result = receipts.check_receipt(data, log_key, witnesses, quorum, member_policy)
    if not result.ok:
        for problem in result.problems:
            err.print(f"[red]✗[/] {problem}", highlight=False)
        raise fail(f"receipt refused: {file}", 6)
    by = f"; cosigned by {', '.join(result.witnessed_by)}" if result.witnessed_by else ""
    under = f" under the policy {policy_file}" if member_policy is not None else ""
    out.print(f"[green]✓[/] event {result.index} ({result.event_type}) is in the log {result.origin} at tree size "
              f"{result.tree_size}, signed by the log key{by}{under}", highlight=False)


def release_key(key: str | None, db: str | None) -> VerifierKey:
    """The log's verifier key a release is checked with: --key, or the one the record in --db sets (a release
    never vouches for its own key)."""
    if key is not None:
        return parse_verifier_key(key_files.parse_key_argument(key))
    database = Database(db)
    if not database.is_initialised():
        raise fail("pass --key: the log's verifier key (a release cannot vouch for its own key)", 2)
    with database.reader() as conn:
        log_key = witness_policy.log_info(conn).require_key()
    err.print(f"using the log key recorded in {database.url}: {log_key.text}", highlight=False)
    return log_key


@app.command("check-release")
@handles_errors
def check_release(
    directory: Annotated[Path, typer.Argument(help="The release directory (`contactgroup publish OUTDIR`).")],
    key: Annotated[str | None, typer.Option("--key", help="The log's verifier key text or @FILE (default: the key "
                                                          "recorded in --db, if one is there).")] = None,
    db: DbOption = None,
) -> None:
    """Check a public release offline: every published record's events are in the log at the release's checkpoint,
    signed by the log key, and make the figures it shows."""
    result = release_check.check_release(directory, release_key(key, db))
    if not result.ok:
        for problem in result.problems:
            err.print(f"[red]✗[/] {escape(problem)}", highlight=False)
        raise fail(f"release refused: {directory}", 6)
    out.print(f"[green]✓[/] {result.checked:,} records ({result.events:,} events) are in the log {result.origin} at "
              f"tree size {result.tree_size:,}, signed by the log key; {result.cannot_check:,} totals cannot be "
              f"checked (their events are not public)", highlight=False)


def _read_policy(path: Path) -> Policy:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"--policy {path}: cannot be read: {exc.strerror}", 2) from None
    return parse_policy(data)


@app.command("witness-add")
@handles_errors
def witness_add(
    name: Annotated[str, typer.Argument(help="The witness's name (its key's name).")],
    vkey: Annotated[str, typer.Argument(help="Its verifier key text (cosigner or note form), or @FILE.")],
    replace: Annotated[bool, typer.Option("--replace", help="Change the key of a witness already named.")] = False,
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """Add a witness to the log's published policy (recorded in the log; coordinator only). Changing the key of
    a witness already named needs --replace; its past cosignatures stay checked against its old key."""
    with _db(db).transaction() as uow:
        key, previous = witness_policy.add_witness(uow, caller(as_), name, key_files.parse_key_argument(vkey),
                                                   replace=replace)
    if previous is not None and previous.text == key.text:
        out.print(f"witness {name} already has this key; nothing recorded", highlight=False)
    elif previous is not None:
        out.print(f"[green]✓[/] witness {name}: key replaced, {previous.text} -> {key.text}", highlight=False)
    else:
        out.print(f"[green]✓[/] witness {name} added: {key.text}", highlight=False)


@app.command("witness-remove")
@handles_errors
def witness_remove(
    name: Annotated[str, typer.Argument(help="The witness's name.")],
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """Take a witness out of the log's published policy (recorded in the log; coordinator only). Its past
    cosignatures stay valid."""
    with _db(db).transaction() as uow:
        key = witness_policy.remove_witness(uow, caller(as_), name)
        info = witness_policy.log_info_of_state(uow.state)
    out.print(f"[green]✓[/] witness {name} removed (was {key.text})", highlight=False)
    if info.policy is None:
        out.print("[yellow]no witnesses left[/]: checkpoints are now only signed by the log", highlight=False)
    else:
        out.print(f"the published policy is now: witnessed when {info.policy.quorum} of {len(info.witnesses)} "
                  "witnesses cosign", highlight=False)


class PolicyFormat(enum.StrEnum):
    TEXT = "text"
    TLOG = "tlog-policy"


@app.command()
@handles_errors
def policy(
    quorum: Annotated[int | None, typer.Option(parser=whole_number,
                                               help="Set k: cosignatures a checkpoint needs (coordinator).")] = None,
    fmt: Annotated[PolicyFormat, typer.Option("--format", "-f", help="A readable summary, or the C2SP "
                                                                    "tlog-policy text a member can start its "
                                                                    "own policy file from.")]
    = PolicyFormat.TEXT,
    as_: AsOption = None,
    db: DbOption = None,
) -> None:
    """Show the coordination's published witness policy (k of n); with --quorum, change k. The published policy
    is a convenience: what counts for a member is its own policy (`check-receipt --policy`, `verify --policy`)."""
    database = _db(db)
    if quorum is not None:
        with database.transaction() as uow:
            witness_policy.set_quorum(uow, caller(as_), quorum)
    with database.reader() as conn:
        info = witness_policy.log_info(conn)
        earlier = log_keys.log_keys(conn)[:-1]
    if fmt is PolicyFormat.TLOG:
        sys.stdout.write(f"# The witness policy published by the coordination {info.origin}. A convenience: check\n"
                         "# the keys out of band and keep your own copy; your own policy is what counts.\n"
                         + ("# The log lines include the keys of earlier authorities: they signed the checkpoints\n"
                            "# (and receipts) from before each handover.\n" if earlier else "")
                         + published_policy(info.key, info.witnesses, info.quorum, earlier).format())
        return
    out.print(f"log {info.origin}  key {info.key.text if info.key else '(none)'}", highlight=False)
    if not info.witnesses:
        out.print("no witnesses: a checkpoint is only signed by the log (add some with `ledger witness-add`)")
        return
    out.print(f"witnessed when {info.effective_quorum} of {len(info.witnesses)} witnesses "
              "cosign:", highlight=False)
    for name, key in info.witnesses:
        out.print(f"  {name}  {key.text}", highlight=False)


@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default; 0.0.0.0 for every "
                                           "interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(parser=whole_number_in(0, 65535), help="TCP port (0 to 65535).")] = 8000,
    tls_cert: Annotated[Path | None, typer.Option(
        "--tls-cert", help="PEM certificate (chain) to serve HTTPS with; needs --tls-key.")] = None,
    tls_key: Annotated[Path | None, typer.Option(
        "--tls-key", help="The certificate's PEM private key.")] = None,
    forwarded_allow_ips: Annotated[str, typer.Option(
        "--forwarded-allow-ips", help="Comma-separated addresses or networks of reverse proxies whose "
                                      "X-Forwarded-For and X-Forwarded-Proto are trusted (e.g. 127.0.0.1 for nginx "
                                      "on the same machine). Default: none, the headers are ignored.")] = "",
    checkpoint_interval: Annotated[float, typer.Option(
        help="Sign a new checkpoint at most every this many seconds (0: on every request after the log grew). "
             "Witnesses polling within one interval cosign the same checkpoint.")] = 5.0,
    approvals_as: Annotated[str | None, typer.Option(
        "--approvals-as", help="Take members' signed approvals (POST /proposals/ID/approvals) and hand them in as "
                               "this user. Without it the server takes none.")] = None,
    max_connections: Annotated[int, typer.Option(
        parser=whole_number_in(1),
        help="Connections served at once (1 or more); beyond them a request is answered 503 at once.")] = 100,
    keep_alive: Annotated[int, typer.Option(
        parser=whole_number_in(1, 300), help="Seconds an idle keep-alive connection stays open (1 to 300).")] = 5,
    log_key: LogKeyOption = None,
    db: DbOption = None,
) -> None:
    """Serve the record over HTTP: checkpoints, proofs, leaves, witness cosignatures, policy, and governance
    proposals (OpenAPI at /docs).

    With the log key available, a background signer signs a checkpoint when the log has grown, at most once per
    --checkpoint-interval; GET /checkpoint only reads (the latest; ?size=N an older one). Several servers may run
    on one PostgreSQL database: they elect one signer among them (a database lock), and another takes over if it
    stops. On SQLite run one server per database file.

    Request bodies above 10 MiB are refused before they are read. The server has no header timeout of its own:
    facing the internet, run it behind the reverse proxy of docs/reverse-proxy.md (see docs/deployment.md).

    Members read a proposal's text at GET /proposals/ID/text, sign it offline (`governance sign`) and, with
    --approvals-as, POST the signed note to /proposals/ID/approvals: no account and no database access needed."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    from contactgroup.api.app import create_app
    from contactgroup.api.server import Listening, check_tls, trusted_proxies, uvicorn_config

    listening = Listening(host, port, tls_cert, tls_key, trusted_proxies(forwarded_allow_ips), max_connections,
                          keep_alive)
    check_tls(tls_cert, tls_key)  # before the database is opened: a typo in a path is the first thing to say
    database = _db(db)
    path = log_keys.resolve_log_key_path(database, log_key)
    signing = path if path is not None and path.exists() else None
    if signing is None:
        err.print("no log key file: serving the stored checkpoints only (pass --log-key to sign new ones)")
    if approvals_as is not None:
        registered_user(database.state(), approvals_as)  # an unknown user is refused now, not at the first approval
    app = create_app(database.url, log_key=signing, checkpoint_interval=checkpoint_interval,
                     approvals_as=approvals_as)
    if app.state.signer is not None:
        app.state.signer.check()  # a key that is not the log's is refused now, not at every signature
    _log_to_stderr("contactgroup")
    try:
        uvicorn.Server(uvicorn_config(app, listening)).run()
    except SystemExit as exc:  # uvicorn's exit when it cannot listen: its code (3) would read "not found" here
        if exc.code == STARTUP_FAILURE:
            raise fail(f"cannot listen on {host} port {port} (the reason is above)", 1) from None
        raise


def _log_to_stderr(name: str) -> None:
    """The server's own messages (which process signs, what it signed) beside uvicorn's on stderr."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
