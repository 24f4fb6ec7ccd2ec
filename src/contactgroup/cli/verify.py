"""`verify`: rebuild every projection from the event log and check the log itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from contactgroup.cli.common import DbOption, database, err, fail, handles_errors, out
from contactgroup.ledger.note import b64encode, parse_verifier_key
from contactgroup.ledger.policy import Policy, parse_policy
from contactgroup.reports.facts import SYNTHETIC_CAPTION
from contactgroup.services.key_files import parse_key_argument
from contactgroup.services.verify import KeptCheckpoint
from contactgroup.services.verify import verify as verify_record


def _read(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"{option} {path}: cannot be read: {exc.strerror}", 2) from None


@handles_errors
def verify(
    checkpoint: Annotated[list[Path] | None, typer.Option(
        "--checkpoint", help="A signed checkpoint note you kept (your witness's state, `ledger checkpoint`, a "
                             "receipt's checkpoint): the events must still give its root. Repeatable; needs "
                             "--log-key.")] = None,
    log_key: Annotated[list[str] | None, typer.Option(
        "--log-key", help="The log's verifier key as you know it (text or @FILE), to check --checkpoint with — "
                          "not the one the database records. Repeatable: the keys before and after a "
                          "handover.")] = None,
    policy_file: Annotated[Path | None, typer.Option(
        "--policy", help="Your own C2SP tlog-policy file: some stored checkpoint must be signed by one of its "
                         "logs and witnessed as its quorum requires.")] = None,
    db: DbOption = None,
) -> None:
    """Recompute every leaf hash and the tree, check the signed checkpoints, replay the log into a scratch
    database and compare every table.

    Exits 0 only if the record is intact, the stored tree and the latest signed checkpoint agree with the events,
    and every projection matches; otherwise lists each difference by table and key (or event index), exit 6.
    A database can only be checked against itself, unless you bring evidence from outside: a checkpoint you kept
    (--checkpoint with --log-key) and your own witness policy (--policy)."""
    kept = []
    if checkpoint:
        if not log_key:
            raise fail("--checkpoint needs --log-key: the log's verifier key as you know it", 2)
        keys = tuple(parse_verifier_key(parse_key_argument(k)) for k in log_key)
        for path in checkpoint:
            kept.append(KeptCheckpoint(str(path), _read(path, "--checkpoint").decode("utf-8", "replace"), keys))
    policy: Policy | None = parse_policy(_read(policy_file, "--policy")) if policy_file is not None else None
    database_ = database(db, local=True)
    database_.require_initialised()
    with Progress(TextColumn("[bold]verify[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
                  console=err, transient=True) as bar:
        task = bar.add_task("events", total=None)
        report = verify_record(database_, progress=lambda n: bar.advance(task, n), kept=kept, policy=policy)
    if report.synthetic:
        out.print(f"[bold yellow]{SYNTHETIC_CAPTION}[/]: this record is a generated demo, not real", highlight=False)
    if report.ok:
        out.print(f"[green]✓[/] record intact: {report.events:,} events replayed, {report.rows:,} projection rows "
                  f"match ({report.seconds:.2f} s)")
        out.print(f"  tree: {report.tree_size:,} leaves, root {b64encode(report.root)} recomputed from the events "
                  "matches the stored tree", highlight=False)
        if report.checkpoint_size is not None:
            out.print(f"  latest signed checkpoint: size {report.checkpoint_size:,}, signed by the log key, a prefix "
                      f"of the current tree ({report.checkpoints} checkpoint(s), {report.cosignatures} witness "
                      f"cosignature(s) checked)", highlight=False)
        else:
            out.print("  no signed checkpoint yet (`contactgroup ledger checkpoint`)", highlight=False)
        if report.older_steps_back:
            out.print(f"  note: {report.older_steps_back:,} events written before event times were kept in order "
                      "are earlier than the event before them", highlight=False)
        for size in report.kept:
            out.print(f"  your kept checkpoint of size {size:,}: the events give exactly its root", highlight=False)
        if report.policy_size is not None:
            by = ", ".join(report.policy_witnesses) or "no witness needed"
            out.print(f"  witnessed under your policy: the checkpoint of size {report.policy_size:,} ({by})",
                      highlight=False)
        return
    for finding in report.findings[:50]:
        # Escaped: a key like users[admin] would otherwise be read as Rich markup and vanish.
        err.print(f"[red]✗[/] {escape(str(finding))}", highlight=False)
    if len(report.findings) > 50:
        err.print(f"... and {len(report.findings) - 50} more differences")
    err.print(f"[bold red]error:[/] verification failed: {len(report.findings)} differences in "
              f"{report.events:,} events")
    raise typer.Exit(6)
