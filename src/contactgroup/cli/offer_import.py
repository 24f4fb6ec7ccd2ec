"""`contactgroup import offers|requirements FILE`: a desk's offers or the recipient's requirements spreadsheet (CSV
or XLSX), all rows or none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contactgroup.cli import seam
from contactgroup.cli.common import AsOption, DbOption, err, handles_errors, out
from contactgroup.services.coordination import Caller
from contactgroup.services.offer_import import ImportSummary, import_offers
from contactgroup.services.requirement_import import import_requirements
from contactgroup.storage.database import UnitOfWork


@handles_errors
def offers_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (comma or semicolon) or XLSX; header: member,item,quantity,"
                                              "available_from,depot [,ref,id,source,visibility,value,currency,basis,"
                                              "consent_from,end_use,status,committed_on].")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Enter many offers from a spreadsheet, all rows or none.

    Every row is checked as a single offer would be; if any row is refused, every problem is listed (row and
    column) and nothing is recorded. A row naming an offer already recorded (its id, or the desk's own ref) with
    the same values changes nothing: a file imported twice, or exported with `offer list --format xlsx` and
    imported back, records nothing new. Offers absent from the file are left alone."""
    _imported("offer", "offers", import_offers, file, db, as_)


@handles_errors
def requirements_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (comma or semicolon) or XLSX; header: item_class,quantity,"
                                              "priority,needed_by,destination [,ref,id,area,note,status].")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Draft many requirements from a spreadsheet (the recipient's liaison), all rows or none.

    Every row is checked as a single requirement would be; if any row is refused, every problem is listed (row and
    column) and nothing is recorded. Status `submitted` submits the row's requirement too. A row naming a
    requirement already recorded (its id, or your own ref) with the same values changes nothing."""
    _imported("requirement", "requirements", import_requirements, file, db, as_)


Importer = Callable[[UnitOfWork, Caller, Path, Callable[[int, int], None]], ImportSummary]


def _imported(noun: str, kind: str, run: Importer, file: Path, db: str | None, as_: str | None) -> None:
    """Run an import in one transaction with a progress bar of its rows (or upload it to the server's import of
    `kind`, which checks it the same way), then say what it did."""
    with Progress(TextColumn(f"[bold]{noun}s[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("rows", total=None)
        summary = seam.change(db, as_, lambda uow, who: run(uow, who, file, lambda done, total: bar.update(
            task, completed=done, total=total)), seam.upload(kind, file, seam.typed(ImportSummary)))
    report_import(summary, noun, file.name)


def report_import(summary: ImportSummary, noun: str, name: str) -> None:
    """What an import did: how many objects it entered (first to last id), how many rows it found unchanged, and
    the columns it did not read."""
    if summary.ignored:
        out.print(f"ignored column(s) {', '.join(summary.ignored)}: not {noun} columns", highlight=False,
                  markup=False)
    ids = summary.entered
    span = f" ({ids[0]} to {ids[-1]})" if ids else ""
    plural = noun if len(ids) == 1 else f"{noun}s"
    same = len(summary.unchanged)
    kept = f"; {same:,} already recorded, unchanged" if same else ""
    amended = f"{len(summary.amended):,} amended ({', '.join(summary.amended)})" if summary.amended else ""
    if not ids and same and not amended:
        rows = (f"the row of {escape(name)} is already recorded as it is" if same == 1 else
                f"all {same:,} rows of {escape(name)} are already recorded as they are")
        out.print(f"[green]✓[/] nothing to change: {rows}", highlight=False)
    elif not ids and amended:
        out.print(f"[green]✓[/] {amended} from {escape(name)}{kept}", highlight=False)
    else:
        amended = f"; {amended}" if amended else ""
        out.print(f"[green]✓[/] {len(ids):,} {plural} imported from {escape(name)}{span}{amended}{kept}",
                  highlight=False)
