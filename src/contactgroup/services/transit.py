"""Transit days from a depot country to a destination, kept in the record (`TransitTimeSet`), so that allocation
from the database counts the days an offer needs from its depot to the requirement's destination. A destination
is a place the record knows (`domain/place.py`): a country, a country's region, or a defined place."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from contactgroup.domain import codes, place
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.model import MAX_TRANSIT_DAYS
from contactgroup.domain.state import State
from contactgroup.io.spreadsheet import header_problems
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

ISO3 = re.compile(r"[A-Z]{3}")
COLUMNS = ("origin", "destination", "days")


@dataclass(frozen=True, slots=True)
class Transit:
    origin: str
    destination: str
    days: int


def origin_country(state: State, depot: str) -> str:
    """The country transit days count from: a depot that is a place of the network ships from its country."""
    found = state.places.get(depot)
    return found.country if found is not None else depot


def recorded_days(state: State) -> dict[tuple[str, str], int]:
    """Recorded transit days by (origin, destination)."""
    return {key: t.days for key, t in state.transit_times.items()}


def transit_days(state: State) -> dict[tuple[str, str], int]:
    """The transit days allocation counts, by (origin, destination): the recorded routes, and for each requirement's
    destination without a route of its own from an origin, the route to the nearest place that holds it (a defined
    place's region, then its country; a region's country: `place.transit_keys`). Pairs with none take 0 days."""
    days = recorded_days(state)
    origins = sorted({origin for origin, _ in days})
    derived = {}
    for destination in sorted({r.destination for r in state.requirements.values()}):
        wider = place.transit_keys(state, destination)[1:]
        for origin in origins:
            if (origin, destination) in days:
                continue
            found = next((days[(origin, key)] for key in wider if (origin, key) in days), None)
            if found is not None:
                derived[(origin, destination)] = found
    return {**days, **derived}


def listed(state: State) -> list[Transit]:
    return [Transit(o, d, days) for (o, d), days in sorted(recorded_days(state).items())]


def check(origin: str, destination: str, days: object, where: str = "", *, state: State | None = None) -> list[Problem]:
    """Findings for one route: the origin a country as offer depots name it (ISO 3166 alpha-3, the same list), the
    destination a place the record knows as requirements name it (without `state`: a country or a country's
    region only), and whole days from 0 to 3650. `where` prefixes each column."""
    found = []
    prefix = f"{where}, column " if where else ""
    if not (ISO3.fullmatch(origin) and codes.is_country(origin)):
        found.append(Problem(f"{prefix}origin", f"must be an ISO 3166 alpha-3 country code as offer depots are "
                                                f"(e.g. DEU), got {origin!r}"))
    found.extend(place.check_destination(state or State(), destination, f"{prefix}destination"))
    if not (isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= MAX_TRANSIT_DAYS):
        found.append(Problem(f"{prefix}days", f"must be a whole number of days from 0 to {MAX_TRANSIT_DAYS}, "
                                              f"got {days!r}"))
    return found


ACTION = "transit:set"


def set_transit(uow: UnitOfWork, caller: svc.Caller, origin: str, destination: str, days: int) -> Transit:
    """Record the transit days of one route (coordinator)."""
    svc.authorized(uow, caller, ACTION)  # refuse before judging the values: a refusal costs nothing
    found = check(origin, destination, days, state=uow.state)
    if found:
        raise ValidationFailed(found)
    _record(uow, caller, Transit(origin, destination, days))
    return Transit(origin, destination, days)


def _record(uow: UnitOfWork, caller: svc.Caller, route: Transit) -> None:
    ctx = svc.authorized(uow, caller, ACTION)
    svc.record_events(uow, [ctx.event("TransitTimeSet", {"origin": route.origin, "destination": route.destination,
                                                         "days": route.days})])


def parse_csv(text: str, source: str = "transit file", state: State | None = None
              ) -> tuple[list[Transit], list[Problem]]:
    """Routes from CSV text with the header origin,destination,days; every bad cell is named by the file, its own
    line number (blank lines count) and the column. Destinations are checked against `state`'s places."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    if twice := header_problems(source, header):
        return [], twice
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra:
        what = "; ".join(p for p in (f"missing {', '.join(missing)}" if missing else "",
                                     f"unknown {', '.join(extra)}" if extra else "") if p)
        return [], [Problem(f"{source}: header", f"must be origin,destination,days ({what})")]
    rows: list[Transit] = []
    found: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num  # the file's own line: DictReader skips blank lines, enumerate would not count them
        where = f"{source}: row {line}"
        if None in row or any(v is None for v in row.values()):
            found.append(Problem(f"{where}, column (row)", "must have exactly three cells"))
            continue
        origin, destination, raw = (row[c].strip() for c in COLUMNS)
        days: object = int(raw) if re.fullmatch(r"\d+", raw) else raw
        bad = check(origin, destination, days, where, state=state)
        if not bad and (origin, destination) in seen:
            bad = [Problem(f"{where}, column (row)",
                           f"route {origin} -> {destination} repeats row {seen[(origin, destination)]}")]
        found.extend(bad)
        if not bad:
            seen[(origin, destination)] = line
            rows.append(Transit(origin, destination, int(raw)))
    return rows, found


def import_transit(uow: UnitOfWork, caller: svc.Caller, text: str, source: str = "transit file") -> list[Transit]:
    """Record every route of a CSV file, or none if any row is bad (every bad row is reported)."""
    svc.authorized(uow, caller, ACTION)  # refuse before reading: a refusal costs nothing
    rows, found = parse_csv(text, source, uow.state)
    if found:
        raise ValidationFailed(found)
    for t in rows:
        _record(uow, caller, t)
    return rows
