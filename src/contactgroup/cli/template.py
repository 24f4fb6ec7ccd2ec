"""`contactgroup template offers|requirements FILE.xlsx`: an empty workbook to fill in and import, with drop-downs
of the members, items, currencies and choices the record knows, and a sheet that explains each column."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from contactgroup.cli.common import DbOption, database, fail, handles_errors, out
from contactgroup.domain.model import Source, ValuationBasis, Visibility
from contactgroup.domain.state import State
from contactgroup.io import offers, requirements
from contactgroup.io.spreadsheet import write_template

app = typer.Typer(help="Write an empty spreadsheet to fill in and import (`contactgroup import offers|requirements`).",
                  no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(help="The workbook to write (.xlsx); an existing file is refused.")]


def _target(file: Path) -> Path:
    if file.suffix.lower() != ".xlsx":
        raise fail(f"{file.name}: a template is an XLSX workbook: name the file *.xlsx", 2)
    if file.exists():
        raise fail(f"{file}: already exists; a template never overwrites a file", 5)
    return file


def _currencies(state: State) -> list[str]:
    return sorted({"EUR", *(mb.currency for mb in state.members.values()), *(r.currency for r in state.rates.values())})


@app.command("offers")
@handles_errors
def offers_cmd(file: FileArgument, db: DbOption = None) -> None:
    """An offers workbook: drop-downs of members (and funds), items, currencies, visibility, source, basis and
    status; the "columns" sheet explains each column."""
    path = _target(file)
    state = database(db).state()
    write_template(path, "offers", offers.TEMPLATE, offers.REQUIRED, offers.HELP, {
        "member": sorted([*state.members, *state.funds]),
        "item": sorted(state.items),
        # a country (members' codes are ISO alpha-3) or a place of the transport network (one with coordinates)
        "depot": sorted(state.members) + sorted(c for c, p in state.places.items() if p.lat is not None),
        "currency": _currencies(state),
        "visibility": [v.value for v in Visibility],
        "source": [s.value for s in Source],
        "basis": [b.value for b in ValuationBasis],
        "consent_from": sorted(state.members),
        "status": [s.value for s in offers.NEW_STATUSES],
    })
    out.print(f"[green]✓[/] wrote {escape(str(path))}: fill in the offers sheet, then `contactgroup import offers "
              f"{escape(path.name)}`", highlight=False)


@app.command("requirements")
@handles_errors
def requirements_cmd(file: FileArgument, db: DbOption = None) -> None:
    """A requirements workbook: drop-downs of item classes, capability areas and status; the "columns" sheet
    explains each column."""
    path = _target(file)
    state = database(db).state()
    write_template(path, "requirements", requirements.TEMPLATE, requirements.REQUIRED, requirements.HELP, {
        "item_class": sorted(state.item_classes),
        "area": sorted(state.coalitions),
        "status": [s.value for s in requirements.NEW_STATUSES],
    })
    out.print(f"[green]✓[/] wrote {escape(str(path))}: fill in the requirements sheet, then `contactgroup import "
              f"requirements {escape(path.name)}`", highlight=False)
