"""`contactgroup import ...`: reference data from files — the Kiel tracker and exchange rates. All or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contactgroup.cli import seam
from contactgroup.cli.common import AsOption, DbOption, err, handles_errors, out
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.io import kiel
from contactgroup.io.spreadsheet import check_size
from contactgroup.services.imports import KielSummary, RatesSummary, import_kiel, import_rates

app = typer.Typer(help="Import from files, all rows or none: a desk's offers or the recipient's requirements "
                       "spreadsheet, the Kiel Ukraine Support Tracker, exchange rates.",
                  no_args_is_help=True)


@app.command("kiel")
@handles_errors
def kiel_cmd(
    directory: Annotated[Path, typer.Argument(help="A Kiel UST release directory (data_explorer.csv, "
                                                   "release_info.csv).")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Import a Kiel Ukraine Support Tracker release: donors' 2021 GDP, monthly allocations and commitments.

    Donors that are not members are recorded as tracked donors, never admitted (members are admitted by
    `member add`, or by proposal once governance is in force); burden sharing shows them as tracked only.

    Needs a coordinator. Every cell is checked first; nothing is recorded unless all rows are valid.
    A release already imported is refused.
    """
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("recording tracker entries", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = seam.change(db, as_, lambda uow, who: import_kiel(uow, who, directory, progress),
                              seam.Remote("POST", "/api/v1/imports/kiel", seam.typed(KielSummary),
                                          files=lambda: _release_files(directory)))
    created = (f"; tracked donors (not members, not admitted): {', '.join(summary.donors_tracked)}"
               if summary.donors_tracked else "")
    out.print(f"Imported {escape(summary.label)} as [bold]{summary.source}[/]: {summary.rows} rows, "
              f"{summary.donors} donors, "
              f"{summary.entries} entries, {summary.gdp_recorded} GDP figures (2021, EUR){created}.\n"
              f"Allocated €{summary.allocated_eur:,.0f}, committed €{summary.committed_eur:,.0f}.", highlight=False)


def _release_files(directory: Path) -> dict[str, tuple[str, bytes]]:
    """A release's two files, to upload; each one missing named as the local import names it."""
    if not directory.is_dir():
        raise ValidationFailed([Problem(str(directory), "not a directory")])
    missing = [Problem(name, f"no such file (looked in {directory.resolve()})")
               for name in (kiel.INFO_FILE, kiel.DATA_FILE) if not (directory / name).is_file()]
    if missing:
        raise ValidationFailed(missing)
    check_size(directory / kiel.DATA_FILE)
    return {field: (name, (directory / name).read_bytes())
            for field, name in (("data_explorer", kiel.DATA_FILE), ("release_info", kiel.INFO_FILE))}


@app.command("rates")
@handles_errors
def rates_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with header currency,date,per_eur (units per 1 EUR).")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Record exchange rates for currencies the ECB does not publish. Needs a coordinator; all rows or none."""
    summary = seam.change(db, as_, lambda uow, who: import_rates(uow, who, file),
                          seam.upload("rates", file, seam.typed(RatesSummary)))
    out.print(f"Recorded {summary.rates} rates from {escape(summary.file)} for {', '.join(summary.currencies)} "
              f"({summary.first} to {summary.last}).", highlight=False)
