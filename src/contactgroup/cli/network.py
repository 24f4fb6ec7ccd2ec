"""`network`: the transport network of the record — legs, border rules and mobility zones (its places are the
record's places) — listed, imported from and exported to CSV or XLSX."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.markup import escape

from contactgroup.cli import seam
from contactgroup.cli.common import (
    AsOption,
    DbOption,
    Format,
    FormatOption,
    emit,
    fail,
    handles_errors,
    open_to_all,
    out,
)
from contactgroup.domain import place
from contactgroup.domain.model import BorderRule, Leg, Place, Zone
from contactgroup.services import mobility as svc

T = TypeVar("T")

app = typer.Typer(
    help="The transport network: places (see `place`), directed legs between them by mode, border rules (what "
         "entering a country by a mode takes, from a date on) and mobility zones (groups of countries whose "
         "crossings need no per-movement permission, or a shorter one). Import and export as CSV or XLSX.",
    no_args_is_help=True,
)


def _capacity(amount: int | None, unit: str) -> str:
    return "" if amount is None else f"{amount:,} {unit}/day"


def _leg(leg: Leg) -> dict[str, object]:
    return {"origin": leg.origin, "to": leg.to, "mode": leg.mode.value, "transit_days": leg.transit_days,
            "capacity": _capacity(leg.capacity, leg.capacity_unit.value), "source": leg.source}


def _rule(rule: BorderRule) -> dict[str, object]:
    return {"country": rule.country, "mode": rule.mode.value, "since": rule.since.isoformat(),
            "permission": "yes" if rule.permission else "no", "lead_days": rule.lead_days,
            "dangerous_extra_days": rule.dangerous_extra_days, "preauthorised": " ".join(rule.preauthorised),
            "source": rule.source}


def _zone(zone: Zone) -> dict[str, object]:
    return {"code": zone.code, "name": zone.name, "countries": " ".join(zone.countries),
            "starts": zone.starts.isoformat(), "lead_days": "none" if zone.lead_days is None else zone.lead_days,
            "modes": " ".join(m.value for m in zone.modes), "source": zone.source}


@app.command("legs")
@handles_errors
def network_legs(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List the legs (every user sees them all)."""
    found = seam.open_listing(db, as_, svc.legs, seam.Remote("GET", "/api/v1/legs", seam.typed(Leg)))
    # in the record's order (origin, end, mode) either way: the server's pages are sorted by text
    rows = sorted(found.rows, key=lambda leg: (leg.origin, leg.to, leg.mode))
    emit([_leg(leg) for leg in rows], fmt, title="Legs", columns=LEG_COLUMNS, synthetic=found.synthetic)


@app.command("rules")
@handles_errors
def network_rules(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List the border rules, each in force from its date until the next for the same country and mode."""
    found = seam.open_listing(db, as_, svc.border_rules,
                              seam.Remote("GET", "/api/v1/border-rules", seam.typed(BorderRule)))
    rows = sorted(found.rows, key=lambda rule: (rule.country, rule.mode, rule.since))
    emit([_rule(r) for r in rows], fmt, title="Border rules", columns=RULE_COLUMNS, synthetic=found.synthetic)


@app.command("zones")
@handles_errors
def network_zones(db: DbOption = None, as_: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List the mobility zones (lead_days none: no per-movement permission inside the zone)."""
    found = seam.open_listing(db, as_, svc.zones, seam.Remote("GET", "/api/v1/zones", seam.typed(Zone)))
    emit([_zone(z) for z in found.rows], fmt, title="Mobility zones", columns=ZONE_COLUMNS,
         synthetic=found.synthetic)


@app.command("import")
@handles_errors
def network_import(
    files: Annotated[list[Path], typer.Argument(help="CSV files or XLSX workbooks, one table per file or sheet, "
                                                     "told apart by the header: places (code,name,kind,country,"
                                                     "...), legs (origin,to,mode,transit_days,...), rules (country,"
                                                     "mode,since,...), zones (code,name,countries,starts,...).")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Record the places, legs, border rules and zones of the files, or nothing if any row is bad (coordinator).
    Rows the record already holds as they are are skipped, so a file may be imported again."""
    if seam.against_server() and len(files) != 1:
        raise fail("against a server, `network import` takes one file, uploaded whole (an XLSX workbook holds every "
                   "table, a sheet each): all of its rows are recorded, or none", 2)
    done = seam.change(db, as_, lambda uow, who: svc.import_network(uow, who, files),
                       seam.upload("network", files[0], seam.typed(svc.Imported)))
    counts = ", ".join(f"{n:,} {table}" for table, n in done.recorded.items())
    out.print(f"recorded {counts} ({done.unchanged:,} rows already held as they are)", highlight=False)
    for column in done.ignored:
        out.print(f"ignored {escape(column)} (not a column of its table)", highlight=False)


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@app.command("export")
@handles_errors
def network_export(
    path: Annotated[Path, typer.Argument(help="For csv, a directory to write places.csv, legs.csv, rules.csv and "
                                              "zones.csv into; for xlsx, the workbook to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or xlsx.")] = ExportFormat.CSV,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Write the network as `network import` reads it back (every user may)."""
    if seam.against_server():  # the server's four lists, written as a local export writes them
        def every(route: str, cls: type[T]) -> list[T]:
            return seam.open_listing(db, as_, lambda _: (), seam.Remote("GET", route, seam.typed(cls))).rows

        network = (every("/api/v1/places", Place), every("/api/v1/legs", Leg), every("/api/v1/border-rules",
                   BorderRule), every("/api/v1/zones", Zone))
    else:
        state = open_to_all(db, as_)
        network = (place.sorted_places(state), svc.legs(state), svc.border_rules(state), svc.zones(state))
    if fmt is ExportFormat.XLSX and not path.parent.is_dir():  # before openpyxl starts: it fails noisily midway
        raise fail(f"cannot write {path}: no directory {path.parent}", 1)
    try:
        written = svc.write_network(path, fmt.value, *network)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}", 1) from None
    for each in written:
        out.print(f"wrote {escape(str(each))}", highlight=False)


LEG_COLUMNS = ("origin", "to", "mode", "transit_days", "capacity", "source")
RULE_COLUMNS = ("country", "mode", "since", "permission", "lead_days", "dangerous_extra_days", "preauthorised",
                "source")
ZONE_COLUMNS = ("code", "name", "countries", "starts", "lead_days", "modes", "source")
