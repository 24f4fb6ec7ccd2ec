"""`verify`: rebuild every projection from the event log and check the log itself."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from contactgroup.cli.common import DbOption, database, err, handles_errors, out
from contactgroup.ledger.note import b64encode
from contactgroup.reports.facts import SYNTHETIC_CAPTION, is_synthetic
from contactgroup.services.verify import verify as verify_record


@handles_errors
def verify(db: DbOption = None) -> None:
    """Recompute every leaf hash and the tree, check the signed checkpoints, replay the log into a scratch
    database and compare every table.

    Exits 0 only if the record is intact, the stored tree and the latest signed checkpoint agree with the events,
    and every projection matches; otherwise lists each difference by table and key (or event index)."""
    database_ = database(db)
    database_.require_initialised()
    with Progress(TextColumn("[bold]verify[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
                  console=err, transient=True) as bar:
        task = bar.add_task("events", total=None)
        report = verify_record(database_, progress=lambda n: bar.advance(task, n))
    if is_synthetic(database_.state()):
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
        return
    for finding in report.findings[:50]:
        # Escaped: a key like users[admin] would otherwise be read as Rich markup and vanish.
        err.print(f"[red]✗[/] {escape(str(finding))}", highlight=False)
    if len(report.findings) > 50:
        err.print(f"... and {len(report.findings) - 50} more differences")
    err.print(f"[bold red]error:[/] verification failed: {len(report.findings)} differences in "
              f"{report.events:,} events")
    raise typer.Exit(6)
