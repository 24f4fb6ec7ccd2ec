"""`contactgroup template offers|requirements FILE.xlsx`: an empty workbook to fill in and import, with drop-downs
of the members, items, currencies and choices the record knows, and a sheet that explains each column."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from contactgroup.cli import seam
from contactgroup.cli.common import DbOption, database, fail, handles_errors, out
from contactgroup.domain.model import Source, ValuationBasis, Visibility
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


@dataclass(frozen=True, slots=True)
class Known:
    """The codes the record knows, which a template's drop-downs offer."""

    members: list[str]
    funds: list[str]
    items: list[str]
    classes: list[str]
    areas: list[str]
    currencies: list[str]
    places: list[str]  # of the transport network (those with coordinates)


def _known(db: str | None) -> Known:
    """The codes of the local record, or of the server's lists (each open to every signed-in user)."""
    if not seam.against_server():
        state = database(db).state()
        return Known(sorted(state.members), sorted(state.funds), sorted(state.items), sorted(state.item_classes),
                     sorted(state.coalitions), _currencies([mb.currency for mb in state.members.values()],
                                                           [r.currency for r in state.rates.values()]),
                     sorted(c for c, p in state.places.items() if p.lat is not None))

    def rows(path: str) -> list[dict[str, Any]]:
        return seam.open_listing(db, None, lambda _: [], seam.Remote("GET", f"/api/v1/{path}", dict)).rows

    members = rows("members")
    return Known(sorted(m["code"] for m in members), sorted(f["code"] for f in rows("funds")),
                 sorted(i["code"] for i in rows("items")), sorted(c["code"] for c in rows("item-classes")),
                 sorted(c["area"] for c in rows("coalitions")),
                 _currencies([m["currency"] for m in members], [r["currency"] for r in rows("rates")]),
                 sorted(p["code"] for p in rows("places") if p.get("lat") is not None))


def _currencies(of_members: list[str], of_rates: list[str]) -> list[str]:
    return sorted({"EUR", *of_members, *of_rates})


@app.command("offers")
@handles_errors
def offers_cmd(file: FileArgument, db: DbOption = None) -> None:
    """An offers workbook: drop-downs of members (and funds), items, currencies, visibility, source, basis and
    status; the "columns" sheet explains each column."""
    path = _target(file)
    known = _known(db)
    write_template(path, "offers", offers.TEMPLATE, offers.REQUIRED, offers.HELP, {
        "member": sorted([*known.members, *known.funds]),
        "item": known.items,
        # a country (members' codes are ISO alpha-3) or a place of the transport network (one with coordinates)
        "depot": known.members + known.places,
        "currency": known.currencies,
        "visibility": [v.value for v in Visibility],
        "source": [s.value for s in Source],
        "basis": [b.value for b in ValuationBasis],
        "consent_from": known.members,
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
    known = _known(db)
    write_template(path, "requirements", requirements.TEMPLATE, requirements.REQUIRED, requirements.HELP, {
        "item_class": known.classes,
        "area": known.areas,
        "status": [s.value for s in requirements.NEW_STATUSES],
    })
    out.print(f"[green]✓[/] wrote {escape(str(path))}: fill in the requirements sheet, then `contactgroup import "
              f"requirements {escape(path.name)}`", highlight=False)
