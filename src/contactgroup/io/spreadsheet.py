"""Reading the tables desks exchange: CSV or XLSX, first sheet, first row as header. Rows come back as text."""

from __future__ import annotations

import csv
from pathlib import Path

from contactgroup.domain.errors import Problem, ValidationFailed


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows as {column: text}, blank cells as "". Raises ValidationFailed naming the file if it cannot be read."""
    if not path.is_file():
        raise ValidationFailed([Problem(str(path), "no such file")])
    try:
        if path.suffix.lower() == ".xlsx":
            return _xlsx(path)
        with path.open(newline="", encoding="utf-8-sig") as f:
            return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]
    except (UnicodeDecodeError, csv.Error, OSError, ValueError, KeyError) as exc:
        raise ValidationFailed([Problem(str(path), f"cannot be read as {path.suffix or 'CSV'}: {exc}")]) from None


def _xlsx(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook  # imported here: only spreadsheet users pay for it

    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    out = []
    for values in rows:
        if all(v is None for v in values):
            continue
        out.append({h: _text(v) for h, v in zip(header, values, strict=False) if h})
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):  # a datetime cell: keep the date
        return str(value.date())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
