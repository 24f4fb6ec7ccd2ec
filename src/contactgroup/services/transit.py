"""Transit days between countries, kept in the record as settings (`transit:ORIGIN:DESTINATION`), so that
allocation from the database counts the days an offer needs from its depot to the requirement's destination."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.state import State
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

PREFIX = "transit:"
# A country code, optionally with a region as destinations carry it ("UKR", "UKR-West"); never ':' or spaces.
PLACE = re.compile(r"[A-Z]{3}(-[A-Za-z0-9]+)*")
COLUMNS = ("origin", "destination", "days")
MAX_TRANSIT_DAYS = 3650  # the optimiser's limit (allocation.validation), repeated to keep this import light


@dataclass(frozen=True, slots=True)
class Transit:
    origin: str
    destination: str
    days: int


def setting_name(origin: str, destination: str) -> str:
    return f"{PREFIX}{origin}:{destination}"


def transit_days(state: State) -> dict[tuple[str, str], int]:
    """Recorded transit days by (origin, destination); pairs not recorded take 0 days."""
    out: dict[tuple[str, str], int] = {}
    for name, setting in state.tables["settings"].items():
        if isinstance(name, str) and name.startswith(PREFIX):
            origin, _, destination = name[len(PREFIX):].partition(":")
            out[(origin, destination)] = int(setting.value)
    return out


def listed(state: State) -> list[Transit]:
    return [Transit(o, d, days) for (o, d), days in sorted(transit_days(state).items())]


def check(origin: str, destination: str, days: object, where: str = "") -> list[Problem]:
    """Findings for one route: places as offers and requirements name them, and whole days from 0 to 3650."""
    found = []
    prefix = f"{where}." if where else ""
    for name, code in (("origin", origin), ("destination", destination)):
        if not PLACE.fullmatch(code):
            found.append(Problem(f"{prefix}{name}", f"must be a country code (ISO alpha-3, e.g. DEU), optionally "
                                                    f"with a region (UKR-West), got {code!r}"))
    if not (isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= MAX_TRANSIT_DAYS):
        found.append(Problem(f"{prefix}days", f"must be a whole number of days from 0 to {MAX_TRANSIT_DAYS}, "
                                              f"got {days!r}"))
    return found


def set_transit(uow: UnitOfWork, caller: svc.Caller, origin: str, destination: str, days: int) -> Transit:
    """Record the transit days of one route (coordinator only, like every setting)."""
    found = check(origin, destination, days)
    if found:
        raise ValidationFailed(found)
    svc.record_setting(uow, caller, setting_name(origin, destination), str(days))
    return Transit(origin, destination, days)


def parse_csv(text: str) -> tuple[list[Transit], list[Problem]]:
    """Routes from CSV text with the header origin,destination,days; every bad cell is named by row and column."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra:
        what = "; ".join(p for p in (f"missing {', '.join(missing)}" if missing else "",
                                     f"unknown {', '.join(extra)}" if extra else "") if p)
        return [], [Problem("header", f"must be origin,destination,days ({what})")]
    rows: list[Transit] = []
    found: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(reader, start=2):  # line 1 is the header
        where = f"row {line}"
        if None in row or any(v is None for v in row.values()):
            found.append(Problem(where, "must have exactly three cells"))
            continue
        origin, destination, raw = (row[c].strip() for c in COLUMNS)
        days: object = int(raw) if re.fullmatch(r"\d+", raw) else raw
        bad = check(origin, destination, days, where)
        if not bad and (origin, destination) in seen:
            bad = [Problem(where, f"route {origin} -> {destination} repeats row {seen[(origin, destination)]}")]
        found.extend(bad)
        if not bad:
            seen[(origin, destination)] = line
            rows.append(Transit(origin, destination, int(raw)))
    return rows, found


def import_transit(uow: UnitOfWork, caller: svc.Caller, text: str) -> list[Transit]:
    """Record every route of a CSV file, or none if any row is bad."""
    svc.authorized(uow, caller, "coordination:found")  # refuse before reading: a refusal costs nothing
    rows, found = parse_csv(text)
    if found:
        raise ValidationFailed(found)
    for t in rows:
        svc.record_setting(uow, caller, setting_name(t.origin, t.destination), str(t.days))
    return rows
