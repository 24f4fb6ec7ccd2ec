"""`contactgroup import offers FILE`: a desk's offers spreadsheet (CSV or XLSX), all rows or none."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contactgroup.cli.common import AsOption, DbOption, caller, err, handles_errors, out, writer
from contactgroup.services.offer_import import import_offers


@handles_errors
def offers_cmd(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX; header: member,item,quantity,available_from,depot "
                                              "[,source,visibility,value,currency,basis,consent_from,end_use,"
                                              "status].")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Enter many offers from a spreadsheet, all rows or none.

    Every row is checked as a single offer would be; if any row is refused, every problem is listed (row and
    column) and nothing is recorded."""
    who = caller(as_)
    with Progress(TextColumn("[bold]offers[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("rows", total=None)
        with writer(db) as uow:
            ids = import_offers(uow, who, file, lambda done, total: bar.update(task, completed=done, total=total))
    span = f" ({ids[0]} to {ids[-1]})" if ids else ""
    noun = "offer" if len(ids) == 1 else "offers"
    out.print(f"[green]✓[/] {len(ids):,} {noun} imported from {escape(file.name)}{span}", highlight=False)
