"""The tables desks exchange: CSV or XLSX, first sheet, first row as header. Rows come back as text, each with its
row number as the user sees it in the file (blank lines are skipped but still counted).

Reading is bounded before it starts (docs/limits.md): at most `MAX_IMPORT_BYTES` on disk, an XLSX at most
`MAX_XLSX_UNPACKED` once unpacked and without any DTD (no entity can expand), and at most `MAX_IMPORT_ROWS` data
rows. Writing neutralises formulas (OWASP "CSV injection"): see `csv_text` and `write_xlsx`."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from contactgroup.domain import text
from contactgroup.domain.errors import Problem, ValidationFailed


@dataclass(frozen=True, slots=True)
class SheetRow:
    line: int  # the row number in the file as a spreadsheet or editor shows it (header = 1)
    cells: dict[str, str]  # {column: text}, blank cells as ""
    extra: int = 0  # cells beyond the header's columns (a CSV row that is too long)


def read_rows(path: Path) -> list[SheetRow]:
    """Every non-blank row under the header. Raises ValidationFailed naming the file if it cannot be read, is over
    a limit, or names a column twice."""
    if path.is_dir():
        raise ValidationFailed([Problem(str(path), "is a directory, not a CSV or XLSX file")])
    if not path.is_file():
        raise ValidationFailed([Problem(str(path), "no such file")])
    check_size(path)
    xlsx = path.suffix.lower() == ".xlsx"
    try:
        return _xlsx(path) if xlsx else _csv(path)
    except (UnicodeDecodeError, csv.Error, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        kind = "an XLSX workbook" if xlsx else "a UTF-8 CSV file"
        raise ValidationFailed([Problem(str(path), f"cannot be read as {kind}: {exc}")]) from None


def check_size(path: Path) -> None:
    """Refuse a file over `MAX_IMPORT_BYTES` before reading any of it."""
    size = path.stat().st_size
    if size > text.MAX_IMPORT_BYTES:
        raise ValidationFailed([Problem(str(path), f"is {size:,} bytes; an imported file may have at most "
                                                   f"{text.MAX_IMPORT_BYTES:,} bytes: split it into several files")])


def too_many_rows(path: Path) -> ValidationFailed:
    return ValidationFailed([Problem(str(path), f"has more than {text.MAX_IMPORT_ROWS:,} data rows; an import may "
                                                f"have at most {text.MAX_IMPORT_ROWS:,}: split it into several files")])


def header_problems(where: str, header: Sequence[str]) -> list[Problem]:
    """A column named twice would leave one of its cells unread ("last one wins"): refused, naming both places."""
    first: dict[str, int] = {}
    found = []
    for i, name in enumerate(header, start=1):
        if not name:
            continue
        if name in first:
            found.append(Problem(f"{where}: header", f"column {name!r} appears twice (columns {first[name]} and {i}): "
                                                     "each column may appear once"))
        first.setdefault(name, i)
    return found


# --- formulas: what a spreadsheet would run ----------------------------------------------------------------------
# A cell a spreadsheet would read as a formula (or, after a tab or carriage return, as the start of one) gets a
# leading apostrophe on export; an import takes it off again, and only before those characters, so text round-trips
# exactly. A cell that already starts with apostrophes before such a character gets one more, for the same reason.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """A text cell as it is written into CSV: with a leading `'` if a spreadsheet would take it for a formula.
    A plain number (`-5`, `+1.5`) is a number, not a formula, and stays as it is."""
    if value.lstrip("'").startswith(FORMULA_START):
        try:
            text.number(value)
        except ValueError:
            return "'" + value
    return value


def csv_unquote(value: str) -> str:
    """The text a CSV cell written by `csv_text` holds."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_START):
        return value[1:]
    return value


Cell = str | int | Decimal | date | bool | None


def write_xlsx(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """A one-sheet workbook of typed cells: numbers as numbers, dates as dates, and text always as a string cell,
    never a formula (openpyxl would otherwise store a text starting with '=' as one)."""
    from openpyxl import Workbook  # imported here: only spreadsheet users pay for it
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet()

    def cell(value: Cell) -> WriteOnlyCell:
        if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
            value = text.visible(value, multiline=False)  # XML cannot hold them: shown escaped, as on screen
        c = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            c.data_type = "s"
        return c

    sheet.append([cell(c) for c in columns])
    for row in rows:
        sheet.append([cell(v) for v in row])
    book.save(path)


# --- reading -----------------------------------------------------------------------------------------------------


def _csv(path: Path) -> list[SheetRow]:
    out: list[SheetRow] = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header: list[str] | None = None
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                if problems := header_problems(path.name, header):
                    raise ValidationFailed(problems)
                continue
            if len(out) == text.MAX_IMPORT_ROWS:
                raise too_many_rows(path)
            # `line_num` is the line the record ends on: the row number the user sees for one-line records.
            values = {h: (csv_unquote(cells[i]).strip() if i < len(cells) else "") for i, h in enumerate(header) if h}
            extra = sum(1 for c in cells[len(header):] if c.strip())
            out.append(SheetRow(reader.line_num, values, extra))
    return out


def _check_package(path: Path) -> None:
    """An XLSX is a zip of XML parts: refuse one that unpacks past `MAX_XLSX_UNPACKED` (a small file can hold a
    huge cell) or whose XML declares a DTD (entity expansion, the "billion laughs"; a workbook never needs one),
    before any XML parser sees it."""
    with zipfile.ZipFile(path) as package:
        parts = package.infolist()
        unpacked = sum(p.file_size for p in parts)
        if unpacked > text.MAX_XLSX_UNPACKED:
            raise ValidationFailed([Problem(str(path), f"unpacks to {unpacked:,} bytes; an imported workbook may "
                                                       f"unpack to at most {text.MAX_XLSX_UNPACKED:,}")])
        for part in parts:
            if not part.filename.endswith((".xml", ".rels")):
                continue
            with package.open(part) as f:
                tail = b""
                while chunk := f.read(1 << 16):
                    if b"<!DOCTYPE" in tail + chunk or b"<!ENTITY" in tail + chunk:
                        raise ValidationFailed([Problem(str(path), f"{part.filename} declares a DTD or entities, "
                                                                   "which a workbook never needs: refused")])
                    tail = chunk[-16:]


def _xlsx(path: Path) -> list[SheetRow]:
    from openpyxl import load_workbook  # imported here: only spreadsheet users pay for it

    try:
        _check_package(path)
        return _sheet_rows(path, load_workbook(path, read_only=True, data_only=True))
    except ValidationFailed:
        raise
    # openpyxl parses the workbook as it goes, and a damaged one (truncated XML, a shared-string index past the
    # table, a bad date) fails with whatever the failing step raises: any of them means the file cannot be read.
    except Exception as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None


def _sheet_rows(path: Path, book: object) -> list[SheetRow]:
    worksheets = getattr(book, "worksheets", [])
    if not worksheets:
        raise ValueError("the workbook has no sheet")
    sheet = worksheets[0]
    sheet.reset_dimensions()  # iterate the cells there are, not the size the file claims (A1:XFD1048576)
    header: list[str] | None = None
    out: list[SheetRow] = []
    for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if header is None:
            header = [str(h).strip() if h is not None else "" for h in values]
            if problems := header_problems(path.name, header):
                raise ValidationFailed(problems)
            continue
        if len(out) == text.MAX_IMPORT_ROWS:
            raise too_many_rows(path)
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
