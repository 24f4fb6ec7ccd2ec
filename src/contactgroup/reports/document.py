"""A report as every output shows it: its rows (exact), the fields a reader sees, with the kind of number each is,
and its chart. The CLI table, the XLSX workbook and the PDF all render this one description."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from contactgroup.reports.charts import Chart
from contactgroup.reports.glossary import defined


class Kind(enum.StrEnum):
    """What a field holds, which decides how a table rounds it and which number format a workbook gives it."""

    TEXT = "text"
    NUMBER = "number"  # a count or a rank that describes a row (how many requirements, a priority): not a figure
    UNITS = "units"  # whole units of one item class
    MONEY = "money"  # EUR, exact; shown to the euro
    SHARE = "share"  # a fraction 0..1; shown as a percent, two decimals
    PERCENT = "percent"  # already percent (of GDP); shown with two decimals
    DAYS = "days"
    DATE = "date"


ROUNDING_NOTE = "Tables round money to the euro and shares to two decimals; CSV, JSON and XLSX keep exact values"


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    heading: str
    kind: Kind = Kind.TEXT


@dataclass(frozen=True, slots=True)
class Report:
    """`rows` are the exact records (JSON and CSV print them whole); `fields` are what a table, a sheet and a page
    show, in order; `drop` the fields a narrow table leaves out first; `stamp` the record it was computed on, as
    the header block of a CSV file or a workbook (services/reporting.py `header_lines`)."""

    name: str
    title: str
    caption: str
    fields: tuple[Field, ...]
    rows: Sequence[Mapping[str, Any]]
    chart: Chart | None = None
    drop: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    stamp: tuple[tuple[str, str], ...] = ()  # the stamp's (key, value) lines: a workbook's "Stamp" sheet

    def definitions(self) -> list[tuple[str, str]]:
        """(field, meaning) from the glossary for every field this report shows."""
        return defined(f.key for f in self.fields)


def _euro(value: Decimal | int) -> str:
    return f"{Decimal(value).quantize(Decimal(1), ROUND_HALF_EVEN):,}"


def _two(value: Decimal | float | int) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01'), ROUND_HALF_EVEN):,}"


def shown(kind: Kind, value: Any) -> str:
    """A cell as a table or a page shows it: money to the euro, shares and percents to two decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind is Kind.MONEY:
        return _euro(value)
    if kind is Kind.SHARE:
        return f"{_two(Decimal(str(value)) * 100)}%"
    if kind is Kind.PERCENT:
        return _two(value)
    if isinstance(value, int):
        return f"{value:,}" if kind is not Kind.TEXT else str(value)  # a year or a code is not a quantity
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def without_zero_rows(rows: Sequence[Mapping[str, Any]], figures: Sequence[str]) -> list[Any]:
    """The rows with some figure not zero (a figure that is None, such as a unit total over unlike classes, counts
    as nothing to show)."""
    return [r for r in rows if any(r.get(k) for k in figures)]
