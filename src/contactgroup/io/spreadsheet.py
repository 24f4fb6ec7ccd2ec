"""Reading the tables desks exchange: CSV or XLSX, first sheet, first row as header. Rows come back as text,
each with its row number as the user sees it in the file (blank lines are skipped but still counted)."""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path

from contactgroup.domain.errors import Problem, ValidationFailed


@dataclass(frozen=True, slots=True)
class SheetRow:
    line: int  # the row number in the file as a spreadsheet or editor shows it (header = 1)
    cells: dict[str, str]  # {column: text}, blank cells as ""
    extra: int = 0  # cells beyond the header's columns (a CSV row that is too long)


def read_rows(path: Path) -> list[SheetRow]:
    """Every non-blank row under the header. Raises ValidationFailed naming the file if it cannot be read."""
    if path.is_dir():
        raise ValidationFailed([Problem(str(path), "is a directory, not a CSV or XLSX file")])
    if not path.is_file():
        raise ValidationFailed([Problem(str(path), "no such file")])
    try:
        if path.suffix.lower() == ".xlsx":
            return _xlsx(path)
        return _csv(path)
    except (UnicodeDecodeError, csv.Error, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        kind = "an XLSX workbook" if path.suffix.lower() == ".xlsx" else "a UTF-8 CSV file"
        raise ValidationFailed([Problem(str(path), f"cannot be read as {kind}: {exc}")]) from None


def _csv(path: Path) -> list[SheetRow]:
    out = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header: list[str] | None = None
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                continue
            # `line_num` is the line the record ends on: the row number the user sees for one-line records.
            values = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header) if h}
            extra = sum(1 for c in cells[len(header):] if c.strip())
            out.append(SheetRow(reader.line_num, values, extra))
    return out


def _xlsx(path: Path) -> list[SheetRow]:
    from openpyxl import load_workbook  # imported here: only spreadsheet users pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except InvalidFileException as exc:
        raise ValueError(str(exc)) from None
    if not book.worksheets:
        raise ValueError("the workbook has no sheet")
    sheet = book.worksheets[0]
    header: list[str] | None = None
    out = []
    for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if header is None:
            header = [str(h).strip() if h is not None else "" for h in values]
            continue
        cells = {h: _text(v) for h, v in zip(header, values, strict=False) if h}
        out.append(SheetRow(line, cells))
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):  # a datetime cell: keep the date
        return str(value.date())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
