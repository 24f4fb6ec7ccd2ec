"""User-supplied exchange rates: a CSV `currency,date,per_eur` (units of currency per 1 EUR, as the ECB quotes).

For currencies the ECB does not publish (UAH, GEL, MDL, ...). Every cell is checked; row numbers count the
header as row 1.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from contactgroup.domain import codes
from contactgroup.domain import text as t
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.model import Rate
from contactgroup.io.kiel import decimal_cell, missing_columns, read_csv

COLUMNS = ("currency", "date", "per_eur")
CURRENCY = re.compile(r"[A-Z]{3}")


def _date(text: str) -> date | None:
    try:
        return t.day(text)
    except ValueError:
        return None


def read_rates(path: Path) -> list[Rate]:
    """Read and validate a rates file; raises `ValidationFailed` listing every problem (nothing partial)."""
    path = Path(path)
    file = path.name
    problems: list[Problem] = []
    read = read_csv(path, problems)
    if read is None:
        raise ValidationFailed(problems)
    header, rows = read
    problems = missing_columns(file, header, COLUMNS)
    if problems:
        raise ValidationFailed(problems)
    out: list[Rate] = []
    seen: dict[tuple[str, date], int] = {}
    for n, row in zip(rows.lines, rows, strict=True):
        before = len(problems)

        def bad(column: str, message: str, n: int = n) -> None:
            problems.append(Problem(f"{file}, row {n}, column {column}", message))

        if None in row:
            bad("(row)", "more cells than columns in the header")
        currency = (row.get("currency") or "").strip()
        day_text = (row.get("date") or "").strip()
        rate_text = (row.get("per_eur") or "").strip()
        if not (CURRENCY.fullmatch(currency) and codes.is_money_currency(currency)):
            bad("currency", f"{currency!r} is not an ISO 4217 currency code" if currency else "missing value")
        elif currency == "EUR":
            bad("currency", "EUR is the reference currency: its rate is 1 by definition")
        day = _date(day_text)
        if day is None:
            bad("date", f"{day_text!r} is not {t.DATE_FORM}" if day_text else "missing value")
        per_eur = decimal_cell(rate_text) if rate_text else None
        if not rate_text:
            bad("per_eur", "missing value")
        elif per_eur is None:
            bad("per_eur", f"{rate_text!r} is not {t.NUMBER_FORM}")
        elif per_eur <= 0:
            bad("per_eur", f"{rate_text} must be positive")
        if len(problems) == before and day is not None and per_eur is not None:
            first = seen.setdefault((currency, day), n)
            if first != n:
                bad("date", f"{currency} {day} is already given in row {first}")
            else:
                out.append(Rate(currency, day, per_eur))
    if not rows:
        problems.append(Problem(f"{file}, row 2", "no rates in the file"))
    if problems:
        raise ValidationFailed(problems)
    return out
