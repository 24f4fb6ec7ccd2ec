"""The offers spreadsheet a desk officer fills in: one row per offer, checked cell by cell before anything is
written. Columns: member, item, quantity, available_from, depot, and optionally source, visibility, value,
currency, basis, consent_from, end_use, status (draft, offered, committed), committed_on (the pledge date of a
committed offer; default today). Row numbers are the file's own (header = 1, blank lines counted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from contactgroup.domain import model as m
from contactgroup.domain import text as t
from contactgroup.domain.errors import Problem
from contactgroup.io.spreadsheet import SheetRow

REQUIRED = ("member", "item", "quantity", "available_from", "depot")
OPTIONAL = ("source", "visibility", "value", "currency", "basis", "consent_from", "end_use", "status",
            "committed_on")
STATUSES = ("draft", "offered", "committed")
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class OfferRow:
    line: int  # the spreadsheet's row number (header = 1)
    offer: m.Offer
    status: str
    committed_on: date | None = None


def parse_offers(sheet: list[SheetRow], source: str) -> tuple[list[OfferRow], list[Problem]]:
    """Every row checked; returns the offers and every problem found (file, row, column)."""
    problems: list[Problem] = []
    rows = [r.cells for r in sheet]
    header = set(rows[0]) if rows else set()
    missing = [c for c in REQUIRED if c not in header]
    if not rows:
        return [], [Problem(source, "no rows: the first row must be the header " + ",".join(REQUIRED + OPTIONAL))]
    if missing:
        return [], [Problem(f"{source}: header", f"missing column(s) {', '.join(missing)}")]
    unknown = sorted(header - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        problems.append(Problem(f"{source}: header", f"unknown column(s) {', '.join(unknown)}"))
    parsed = []
    for sheet_row in sheet:
        line, row = sheet_row.line, sheet_row.cells
        where = f"{source}: row {line}"
        found: list[Problem] = []
        if sheet_row.extra:
            found.append(Problem(f"{where}, column (row)", "more cells than columns in the header"))

        def cell(name: str, where: str = where, row: dict[str, str] = row, found: list[Problem] = found) -> str:
            value = row.get(name, "")
            if name in REQUIRED and not value:
                found.append(Problem(f"{where}, column {name}", "is empty"))
            return value

        def number(name: str, text: str, where: str = where, found: list[Problem] = found) -> int:
            try:
                n = t.whole(text)
            except ValueError as exc:
                found.append(Problem(f"{where}, column {name}", str(exc)))
                return 0
            if n <= 0:
                found.append(Problem(f"{where}, column {name}", f"must be positive, got {n}"))
            elif n > m.MAX_UNITS:
                found.append(Problem(f"{where}, column {name}", f"must be at most {m.MAX_UNITS:,} (10^12), got {n}"))
            return n

        def day(name: str, text: str, where: str = where, found: list[Problem] = found) -> date:
            try:
                return t.day(text)
            except ValueError as exc:
                found.append(Problem(f"{where}, column {name}", str(exc)))
                return date.min

        def choice(name: str, enum: type[E], default: E | None, where: str = where,
                   found: list[Problem] = found, row: dict[str, str] = row) -> E | None:
            text = row.get(name, "")
            if not text:
                return default
            try:
                return enum(text)
            except ValueError:
                allowed = ", ".join(e.value for e in enum)
                found.append(Problem(f"{where}, column {name}", f"{text!r} is not one of {allowed}"))
                return default

        value: Decimal | None = None
        if row.get("value"):
            try:
                value = t.number(row["value"])
            except ValueError as exc:
                found.append(Problem(f"{where}, column value", str(exc)))
            else:
                if value < 0:
                    found.append(Problem(f"{where}, column value", f"must not be negative, got {value}"))
        status = row.get("status") or "offered"
        if status not in STATUSES:
            found.append(Problem(f"{where}, column status", f"{status!r} is not one of {', '.join(STATUSES)}"))
        committed_on = day("committed_on", row["committed_on"]) if row.get("committed_on") else None
        if committed_on is not None and status != "committed":
            found.append(Problem(f"{where}, column committed_on", "a commitment date needs status committed"))
        offer = m.Offer(
            id="", member=cell("member"), item=cell("item"),
            quantity=number("quantity", cell("quantity")) if cell("quantity") else 0,
            available_from=day("available_from", cell("available_from")) if cell("available_from") else date.min,
            depot=cell("depot"), source=choice("source", m.Source, m.Source.STOCKS) or m.Source.STOCKS,
            status=m.OfferStatus.DRAFT,
            visibility=choice("visibility", m.Visibility, m.Visibility.MEMBER) or m.Visibility.MEMBER,
            value=value, currency=row.get("currency") or None, basis=choice("basis", m.ValuationBasis, None),
            consent_from=row.get("consent_from") or None, end_use=row.get("end_use", ""),
        )
        problems.extend(found)
        if not found:
            parsed.append(OfferRow(line, offer, status, committed_on))
    return parsed, problems
