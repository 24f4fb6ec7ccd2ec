"""`transit`: days an offer needs from its depot country to a requirement's destination, kept in the record."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from contactgroup.cli import seam
from contactgroup.cli.common import (
    AsOption,
    DbOption,
    Format,
    FormatOption,
    emit,
    fail,
    handles_errors,
    out,
    whole_number,
)
from contactgroup.services import transit as svc

app = typer.Typer(
    help="Transit days between countries, used by `contactgroup allocate` (0 days where none is recorded).",
    no_args_is_help=True,
)


@app.command("set")
@handles_errors
def transit_set(
    origin: Annotated[str, typer.Argument(help="Country the offers ship from (ISO 3166 alpha-3, e.g. DEU).")],
    destination: Annotated[str, typer.Argument(help="Destination as requirements name it: a country "
                                                        "(UKR), a region (UKR-West) or a place's code.")],
    days: Annotated[int, typer.Argument(parser=whole_number, help="Whole days in transit, 0 to 3650.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Record the transit days of one route (coordinator)."""
    t = seam.change(db, as_, lambda uow, who: svc.set_transit(uow, who, origin, destination, days),
                    seam.Remote("POST", "/api/v1/transit", seam.typed(svc.Transit),
                                json={"origin": origin, "destination": destination, "days": days}))
    out.print(f"transit {t.origin} -> {t.destination}: {t.days} days", highlight=False)


@app.command("list")
@handles_errors
def transit_list(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List the recorded routes and their transit days (every user sees them all)."""
    found = seam.open_listing(db, as_, svc.listed, seam.Remote("GET", "/api/v1/transit", seam.typed(svc.Transit)))
    rows = [{"origin": t.origin, "destination": t.destination, "days": t.days} for t in found.rows]
    emit(rows, fmt, title="Transit days", columns=svc.COLUMNS, synthetic=found.synthetic)


@app.command("import")
@handles_errors
def transit_import(
    file: Annotated[Path, typer.Argument(help="CSV with the header origin,destination,days.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Record every route of a CSV file, or none if any row is bad (coordinator)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{file}: cannot read it ({exc})", 2) from None
    rows = seam.change(db, as_, lambda uow, who: svc.import_transit(uow, who, text, source=str(file)),
                       seam.upload("transit", file, seam.typed(list[svc.Transit])))
    out.print(f"{len(rows):,} routes recorded from {file}", highlight=False)
