"""`contactgroup witness`: a member's witness that follows a log over HTTP, cosigns each checkpoint consistent
with everything it cosigned before, and refuses loudly — keeping the evidence — when shown a rewritten
history or a split view. `contactgroup witness keygen` makes its key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from contactgroup.cli.common import err, fail, handles_errors, out
from contactgroup.ledger.cosignature import Cosigner, parse_cosigner
from contactgroup.ledger.handover import parse_member_keys
from contactgroup.ledger.note import generate_key
from contactgroup.services import key_files
from contactgroup.services import witness_client as client
from contactgroup.services.witness_client import Notice

app = typer.Typer(help="Witness a log: verify, cosign, refuse rewritten history. `witness keygen` makes a key.")

# How each notice is shown: on stdout (what the run did) or stderr (what the operator must know), after a lead-in.
SHOWN: dict[Notice, tuple[bool, str]] = {
    Notice.FOLLOWING: (False, ""),
    Notice.HANDOVER_FOLLOWED: (False, ""),
    Notice.HANDOVER_REFUSED: (False, "[bold red]not following the new key[/] "),
    Notice.NOT_A_CHECKPOINT: (False, "[bold red]REFUSED:[/] "),
    Notice.REFUSED: (False, "[bold red]REFUSED[/] "),
    Notice.ROLLBACK: (False, "[bold red]the log no longer serves what it signed before[/] "),
    Notice.SPLIT_VIEW: (False, "[bold red]the log showed two checkpoints that cannot both be honest[/] "),
    Notice.EVIDENCE_FILE: (False, "  "),
    Notice.OLDER: (True, ""),
    Notice.COSIGNED: (True, "[green]✓[/] "),
    Notice.WARNING: (False, "[yellow]warning:[/] "),
}


def show(notice: Notice, text: str) -> None:
    to_stdout, lead = SHOWN[notice]
    (out if to_stdout else err).print(lead + escape(text), highlight=False)


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
    code = client.follow(log, cosigner, state, log_key, members, show, once=once, interval=interval,
                         lock_wait=lock_wait)
    if code != 0:
        raise typer.Exit(code)


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
