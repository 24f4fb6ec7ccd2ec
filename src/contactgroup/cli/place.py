"""`place`: places the record knows by code (handover points), which requirements may name as their destination."""

from __future__ import annotations

from typing import Annotated

import typer

from contactgroup.cli import seam
from contactgroup.cli.common import AsOption, DbOption, Format, FormatOption, emit, handles_errors, out
from contactgroup.domain.model import Place, PlaceKind
from contactgroup.domain.state import as_data
from contactgroup.encoding.canonical import plain
from contactgroup.services import place as svc

app = typer.Typer(
    help="Places the record knows: handover points a requirement may name as its destination (besides a country, "
         "UKR, or a country's region, UKR-West). Transit times to a place are its own, else its region's, else its "
         "country's.",
    no_args_is_help=True,
)
COLUMNS = ("code", "name", "kind", "country", "region")


def _kind(text: str) -> PlaceKind:
    try:
        return PlaceKind(text.strip().replace("-", "_"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a kind of place; choose "
                                 f"{', '.join(k.value for k in PlaceKind)}") from None


@app.command("add")
@handles_errors
def place_add(
    code: Annotated[str, typer.Argument(help="The place's code, as requirements will name it (e.g. RZESZOW-HP); "
                                             "it may not start with a country code and '-'.")],
    name: Annotated[str, typer.Option("--name", help="What the place is called.")],
    country: Annotated[str, typer.Option("--country", help="The country it lies in (ISO 3166 alpha-3, e.g. POL).")],
    kind: Annotated[PlaceKind, typer.Option("--kind", parser=_kind, metavar="KIND",
                                              help="handover_point (also written handover-point).")] = (
        PlaceKind.HANDOVER_POINT),
    region: Annotated[str, typer.Option("--region", help="The country's region it lies in, as destinations write "
                                                         "it after the country (West for UKR-West).")] = "",
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Define a place requirements may be delivered to (coordinator)."""
    new = Place(code, name, country, kind, region)
    p = seam.change(db, as_, lambda uow, who: svc.define_place(uow, who, new),
                    seam.Remote("POST", "/api/v1/places", seam.typed(Place), json=plain(as_data(new))))
    where = f"{p.country}-{p.region}" if p.region else p.country
    out.print(f"place {p.code} defined ({p.kind.value} in {where})", highlight=False)


@app.command("list")
@handles_errors
def place_list(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List the defined places (every user sees them all)."""
    found = seam.open_listing(db, as_, svc.listed, seam.Remote("GET", "/api/v1/places", seam.typed(Place)))
    rows = [{"code": p.code, "name": p.name, "kind": p.kind.value, "country": p.country, "region": p.region}
            for p in found.rows]
    emit(rows, fmt, title="Places", columns=COLUMNS, synthetic=found.synthetic)
