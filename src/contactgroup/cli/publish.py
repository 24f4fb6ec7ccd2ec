"""`contactgroup publish OUTDIR`: the public transparency release (see docs/publish.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from contactgroup.cli.common import DbOption, database, err, handles_errors, out, whole_number_in
from contactgroup.services.clock import SystemClock
from contactgroup.services.publish import EVIDENCE_FILE, MAX_RELEASE_NUMBER
from contactgroup.services.publish import publish as publish_release


@handles_errors
def publish(
    outdir: Annotated[Path, typer.Argument(help="A new (or empty) directory to write the release into.")],
    release: Annotated[int, typer.Option("--release", parser=whole_number_in(1, MAX_RELEASE_NUMBER),
                                         help="The release's number in the Kiel tracker's layout (kiel/"
                                              "release_info.csv): one more than the last you published.")] = 1,
    db: DbOption = None,
) -> None:
    """Write the public part of the record at its newest witnessed checkpoint: the Kiel tracker's layout, HXL CSV,
    IATI XML, HTML pages and the evidence (events, inclusion proofs, the signed checkpoint) in release.json."""
    db_ = database(db)
    db_.require_initialised()
    done = publish_release(db_, outdir, SystemClock(), release)
    if done.not_in_iati:
        err.print(f"[bold yellow]note[/]: left out of the IATI file, having humanitarian or financial figures but no "
                  f"IATI organisation identifier (`member iati`): {escape(', '.join(done.not_in_iati))}",
                  highlight=False)
    if done.not_in_kiel:
        err.print(f"[bold yellow]note[/]: left out of kiel/, their codes being none the Kiel tracker's layout takes: "
                  f"{escape(', '.join(done.not_in_kiel))}", highlight=False)
    if done.actors:
        err.print(f"[bold yellow]note[/]: older events in {EVIDENCE_FILE} (body version 1 or 2) name the accounts "
                  f"that recorded them: {escape(', '.join(done.actors))}", highlight=False)
    out.print(f"[green]✓[/] public release at tree size {done.tree_size:,} written to {escape(str(outdir))}: "
              f"{len(done.files)} files, {done.records:,} records with their events and proofs", highlight=False)
