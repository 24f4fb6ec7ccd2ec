"""`place`: places the record knows by code (handover points), which requirements may name as their destination."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from contactgroup.cli import seam
from contactgroup.cli.common import AsOption, DbOption, Format, FormatOption, emit, handles_errors, out, whole_number
from contactgroup.domain.model import CapacityUnit, Place, PlaceKind
from contactgroup.domain.state import as_data
from contactgroup.encoding.canonical import plain
from contactgroup.services import place as svc

app = typer.Typer(
    help="Places the record knows: handover points a requirement may name as its destination (besides a country, "
         "UKR, or a country's region, UKR-West), and the depots, ports, terminals, airfields, hubs and crossings of "
         "the transport network (see `network`). Transit times to a place are its own, else its region's, else its "
         "country's.",
    no_args_is_help=True,
)
COLUMNS = ("code", "name", "kind", "country", "region", "lat", "lon", "capacity")


def _degrees(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a number of degrees (e.g. 50.11)") from None
    if not value.is_finite():
        raise typer.BadParameter(f"{text!r} is not a number of degrees (e.g. 50.11)")
    return value


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
                                              help="depot, port, rail_terminal, airfield, logistics_hub, "
                                                   "border_crossing or handover_point ('-' for '_' is taken).")] = (
        PlaceKind.HANDOVER_POINT),
    region: Annotated[str, typer.Option("--region", help="The country's region it lies in, as destinations write "
                                                         "it after the country (West for UKR-West).")] = "",
    lat: Annotated[Decimal | None, typer.Option("--lat", parser=_degrees, metavar="DEGREES",
                                                help="Latitude in decimal degrees (WGS 84); a place legs of the "
                                                     "transport network use needs both coordinates.")] = None,
    lon: Annotated[Decimal | None, typer.Option("--lon", parser=_degrees, metavar="DEGREES",
                                                help="Longitude in decimal degrees (WGS 84).")] = None,
    capacity: Annotated[int | None, typer.Option("--capacity", parser=whole_number, metavar="N",
                                                 help="What may pass the place per day (a hub, a crossing).")] = None,
    unit: Annotated[CapacityUnit, typer.Option("--capacity-unit", help="What --capacity counts: t (tonnes) or "
                                                                       "shipments.")] = CapacityUnit.SHIPMENTS,
    source: Annotated[str, typer.Option("--source", help="Where the facts are from (a public source).")] = "",
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Define a place: a handover point requirements may be delivered to, or a place of the transport network
    (coordinator)."""
    new = Place(code, name, country, kind, region, lat, lon, capacity, unit, source)
    p = seam.change(db, as_, lambda uow, who: svc.define_place(uow, who, new),
                    seam.Remote("POST", "/api/v1/places", seam.typed(Place), json=plain(as_data(new))))
    where = f"{p.country}-{p.region}" if p.region else p.country
    out.print(f"place {p.code} defined ({p.kind.value} in {where})", highlight=False)


@app.command("list")
@handles_errors
def place_list(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List the defined places (every user sees them all)."""
    found = seam.open_listing(db, as_, svc.listed, seam.Remote("GET", "/api/v1/places", seam.typed(Place)))
    rows = [{"code": p.code, "name": p.name, "kind": p.kind.value, "country": p.country, "region": p.region,
             "lat": "" if p.lat is None else str(p.lat), "lon": "" if p.lon is None else str(p.lon),
             "capacity": "" if p.capacity is None else f"{p.capacity} {p.capacity_unit.value}/day"}
            for p in found.rows]
    emit(rows, fmt, title="Places", columns=COLUMNS, synthetic=found.synthetic)
