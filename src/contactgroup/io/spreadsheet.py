"""The tables desks exchange: CSV or XLSX, first sheet, first row as header. Rows come back as text, each with its
row number as the user sees it in the file (blank lines are skipped but still counted).

Reading is bounded before it starts (docs/limits.md): at most `MAX_IMPORT_BYTES` on disk, an XLSX at most
`MAX_XLSX_UNPACKED` once unpacked and without any DTD (no entity can expand), and at most `MAX_IMPORT_ROWS` data
rows. Writing neutralises formulas (OWASP "CSV injection"): see `csv_text` and `write_xlsx`."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

from contactgroup.domain import text
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.model import MAX_UNITS


@dataclass(frozen=True, slots=True)
class SheetRow:
    line: int  # the row number in the file as a spreadsheet or editor shows it (header = 1)
    cells: dict[str, str]  # {column: text}, blank cells as ""
    extra: int = 0  # cells beyond the header's columns (a CSV row that is too long)


@dataclass(frozen=True, slots=True)
class Sheet:
    """The rows under the header. `header` is the columns as named (lower case), `decimal_comma` says the file is a
    semicolon-separated CSV, whose numbers may be written with a decimal comma (`1234,5`)."""

    header: tuple[str, ...]
    rows: list[SheetRow]
    decimal_comma: bool = False


HEADER_SEARCH = 10  # non-blank rows looked at for the header: a title and a few notes may stand above it


def read_rows(path: Path, required: Sequence[str] = ()) -> Sheet:
    """Every non-blank row under the header: the first row that names every `required` column (a title row above
    it is skipped), else the first non-blank row. A CSV is separated by commas or semicolons (whichever finds the
    header) and written in UTF-8, with or without a byte order mark, or in Windows-1252.

    Raises ValidationFailed naming the file if it cannot be read, is over a limit, or names a column twice."""
    if path.is_dir():
        raise ValidationFailed([Problem(str(path), "is a directory, not a CSV or XLSX file")])
    if not path.is_file():
        raise ValidationFailed([Problem(str(path), "no such file")])
    check_size(path)
    xlsx = path.suffix.lower() == ".xlsx"
    try:
        return _xlsx(path, required) if xlsx else _csv(path, required)
    except (UnicodeDecodeError, csv.Error, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        kind = "an XLSX workbook" if xlsx else "a CSV file (UTF-8 or Windows-1252)"
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
    write_workbook(path, [("", columns, rows)])


def write_workbook(path: Path, sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Cell]]]]) -> None:
    """A workbook of one sheet per (title, columns, rows), typed as `write_xlsx` types them ("": the default
    title)."""
    from openpyxl import Workbook  # imported here: only spreadsheet users pay for it
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title or None)

        def cell(value: Cell) -> WriteOnlyCell:
            if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
                value = text.visible(value, multiline=False)  # XML cannot hold them: shown escaped, as on screen
            c = WriteOnlyCell(sheet, value=value)  # noqa: B023 -- used at once, inside this iteration
            if isinstance(value, str):
                c.data_type = "s"
            return c

        sheet.append([cell(c) for c in columns])
        for row in rows:
            sheet.append([cell(v) for v in row])
    book.save(path)


# --- cells as European spreadsheets write them ------------------------------------------------------------------
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")
_DOTTED_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


def cell_number(value: str, decimal_comma: bool) -> Decimal:
    """A number cell: the one form of `text.number`, or, in a semicolon-separated file, with a decimal comma
    (`1234,56`). A thousands separator is refused either way: `1.234` could be either number."""
    if decimal_comma and _DECIMAL_COMMA.fullmatch(value):
        return text.number(value.replace(",", "."))
    try:
        return text.number(value)
    except ValueError:
        comma = " or 1234,56" if decimal_comma else ""
        raise ValueError(f"{value!r} is not a number: write the digits 0-9 and an optional decimal point, like "
                         f"1234.56{comma} (no thousands separators or exponent)") from None


def cell_day(value: str) -> date:
    """A date cell: `YYYY-MM-DD`, or `DD.MM.YYYY` as much of Europe writes it."""
    try:
        if found := _DOTTED_DATE.fullmatch(value):
            return date(int(found[3]), int(found[2]), int(found[1]))
        return text.day(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or DD.MM.YYYY): write it like 2025-03-01") from None


# --- reading -----------------------------------------------------------------------------------------------------


def decoded(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (a byte order mark is dropped), else Windows-1252, the encoding Excel uses
    for "CSV" in Western Europe. UTF-8 is tried first: a Windows-1252 file with an accented letter or a euro sign
    is almost never valid UTF-8, so the order decides nothing a reader would see differently."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("it is UTF-16 text (Excel's \"Unicode text\"): save it as \"CSV UTF-8\" or \"CSV\"")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _blank(cells: Sequence[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _header_at(rows: Sequence[tuple[int, Sequence[object]]], required: Sequence[str]) -> int | None:
    """The index in `rows` (non-blank rows) of the first that names every required column, if any does."""
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH]):
        names = {_name(c) for c in cells}
        if required and all(r in names for r in required):
            return i
    return None


def _name(cell: object) -> str:
    return str(cell).strip().lower() if cell is not None else ""


def _csv(path: Path, required: Sequence[str]) -> Sheet:
    content = decoded(path.read_bytes())
    parsed: dict[str, tuple[list[tuple[int, list[str]]], int | None]] = {}
    for delimiter in (",", ";"):
        reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
        rows: list[tuple[int, list[str]]] = []
        for cells in reader:
            if not _blank(cells):
                # `line_num` is the line the record ends on: the row number the user sees for one-line records.
                rows.append((reader.line_num, cells))
            if len(rows) > text.MAX_IMPORT_ROWS + HEADER_SEARCH:
                break
        parsed[delimiter] = rows, _header_at(rows, required)
    comma, semicolon = parsed[","], parsed[";"]
    if semicolon[1] is not None and comma[1] is None:
        delimiter = ";"
    elif comma[1] is None and semicolon[0] and comma[0] and len(semicolon[0][0][1]) > len(comma[0][0][1]):
        delimiter = ";"  # no header found either way: the split that gives the first row more cells
    else:
        delimiter = ","
    rows, at = parsed[delimiter]
    if not rows:
        return Sheet((), [], delimiter == ";")
    at = at or 0
    header = [_name(c) for c in rows[at][1]]
    if problems := header_problems(path.name, header):
        raise ValidationFailed(problems)
    out: list[SheetRow] = []
    for line, cells in rows[at + 1:]:
        if len(out) == text.MAX_IMPORT_ROWS:
            raise too_many_rows(path)
        values = {h: (csv_unquote(cells[i]).strip() if i < len(cells) else "") for i, h in enumerate(header) if h}
        extra = sum(1 for c in cells[len(header):] if c.strip())
        out.append(SheetRow(line, values, extra))
    return Sheet(tuple(h for h in header if h), out, delimiter == ";")


def check_package(path: Path | BinaryIO, where: str | None = None) -> None:
    """An XLSX is a zip of XML parts: refuse one that unpacks past `MAX_XLSX_UNPACKED` (a small file can hold a
    huge cell) or whose XML declares a DTD (entity expansion, the "billion laughs"; a workbook never needs one),
    before any XML parser sees it. `where` names it in a problem (default: the path)."""
    where = where or str(path)
    with zipfile.ZipFile(path) as package:
        parts = package.infolist()
        unpacked = sum(p.file_size for p in parts)
        if unpacked > text.MAX_XLSX_UNPACKED:
            raise ValidationFailed([Problem(where, f"unpacks to {unpacked:,} bytes; an imported workbook may "
                                                       f"unpack to at most {text.MAX_XLSX_UNPACKED:,}")])
        for part in parts:
            if not part.filename.endswith((".xml", ".rels")):
                continue
            with package.open(part) as f:
                tail = b""
                while chunk := f.read(1 << 16):
                    if b"<!DOCTYPE" in tail + chunk or b"<!ENTITY" in tail + chunk:
                        raise ValidationFailed([Problem(where, f"{part.filename} declares a DTD or entities, "
                                                                   "which a workbook never needs: refused")])
                    tail = chunk[-16:]


def read_sheets(path: Path) -> list[tuple[str, Sheet]]:
    """Every sheet of a workbook by its title, each read as `read_rows` reads the first (within the same limits,
    counted per sheet); a CSV file is one sheet, named after the file."""
    if path.suffix.lower() != ".xlsx":
        return [(path.name, read_rows(path))]
    read_rows(path)  # the checks of a path, and of the package, before any sheet is parsed
    try:
        return _xlsx_sheets(path)
    except (ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ValidationFailed([Problem(str(path), f"cannot be read as an XLSX workbook: {exc}")]) from None


def _xlsx_sheets(path: Path) -> list[tuple[str, Sheet]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
        return [(str(ws.title), _sheet_rows(path, ws, ())) for ws in book.worksheets]
    except ValidationFailed:
        raise
    except Exception as exc:  # as in `_xlsx`: whatever a damaged workbook raises means it cannot be read
        raise ValueError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None


def _xlsx(path: Path, required: Sequence[str]) -> Sheet:
    from openpyxl import load_workbook  # imported here: only spreadsheet users pay for it

    try:
        check_package(path)
        worksheets = load_workbook(path, read_only=True, data_only=True).worksheets
        if not worksheets:
            raise ValueError("the workbook has no sheet")
        return _sheet_rows(path, worksheets[0], required)
    except ValidationFailed:
        raise
    # openpyxl parses the workbook as it goes, and a damaged one (truncated XML, a shared-string index past the
    # table, a bad date) fails with whatever the failing step raises: any of them means the file cannot be read.
    except Exception as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None


def _sheet_rows(path: Path, sheet: Any, required: Sequence[str]) -> Sheet:
    sheet.reset_dimensions()  # iterate the cells there are, not the size the file claims (A1:XFD1048576)
    rows: list[tuple[int, Sequence[object]]] = []
    for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if _blank(values):
            continue
        if len(rows) == text.MAX_IMPORT_ROWS + HEADER_SEARCH:
            raise too_many_rows(path)
        rows.append((line, values))
    if not rows:
        return Sheet((), [])
    at = _header_at(rows, required) or 0
    header = [_name(h) for h in rows[at][1]]
    if problems := header_problems(path.name, header):
        raise ValidationFailed(problems)
    out: list[SheetRow] = []
    for line, values in rows[at + 1:]:
        if len(out) == text.MAX_IMPORT_ROWS:
            raise too_many_rows(path)
        out.append(SheetRow(line, {h: _text(v) for h, v in zip(header, values, strict=False) if h}))
    return Sheet(tuple(h for h in header if h), out)


def _text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):  # a datetime cell: keep the date
        return str(value.date())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- checking a row's cells --------------------------------------------------------------------------------------
E = TypeVar("E", bound=StrEnum)


class RowCheck:
    """The cells of one row read as typed values; every problem is collected (file, row, column), none raised."""

    def __init__(self, source: str, row: SheetRow, required: Sequence[str], decimal_comma: bool) -> None:
        self.where = f"{source}: row {row.line}"
        self.row = row
        self.required = required
        self.decimal_comma = decimal_comma
        self.found: list[Problem] = []
        if row.extra:
            self.found.append(Problem(f"{self.where}, column (row)", "more cells than columns in the header"))

    def problem(self, name: str, message: str) -> None:
        self.found.append(Problem(f"{self.where}, column {name}", message))

    def text(self, name: str) -> str:
        value = self.row.cells.get(name, "")
        if name in self.required and not value:
            self.problem(name, "is empty")
        return value

    def units(self, name: str) -> int:
        """A positive whole number of units (at most `MAX_UNITS`); 0 if the cell is empty or wrong."""
        value = self.text(name)
        if not value:
            return 0
        try:
            n = text.whole(value)
        except ValueError as exc:
            self.problem(name, str(exc))
            return 0
        if n <= 0:
            self.problem(name, f"must be positive, got {n}")
        elif n > MAX_UNITS:
            self.problem(name, f"must be at most {MAX_UNITS:,} (10^12), got {n}")
        return n

    def number(self, name: str) -> Decimal | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return cell_number(value, self.decimal_comma)
        except ValueError as exc:
            self.problem(name, str(exc))
            return None

    def day(self, name: str) -> date | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return cell_day(value)
        except ValueError as exc:
            self.problem(name, str(exc))
            return None

    def choice(self, name: str, enum: type[E]) -> E | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return enum(value.lower())
        except ValueError:
            self.problem(name, f"{value!r} is not one of {', '.join(e.value for e in enum)}")
            return None


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Parsed(Generic[R]):
    """A spreadsheet's rows read as objects: those whose cells are all well formed, every problem by file, row and
    column, the columns the file has (a re-imported row changes only those) and those left unread."""

    rows: list[R]
    problems: list[Problem]
    columns: frozenset[str]
    ignored: tuple[str, ...] = ()


def header_checked(sheet: Sheet, source: str, required: Sequence[str], optional: Sequence[str]) -> Parsed[Any]:
    """What the header alone says: its problems (no header, a required column missing) and the columns it has."""
    if not sheet.header:
        return Parsed([], [Problem(source, "no rows: the header must name the columns "
                                           + ",".join([*required, *optional]))], frozenset())
    problems, ignored = column_notes(source, sheet.header, required, [*required, *optional])
    return Parsed([], problems, frozenset(sheet.header), ignored)


def column_notes(source: str, header: Sequence[str], required: Sequence[str],
                 known: Sequence[str]) -> tuple[list[Problem], tuple[str, ...]]:
    """A header's problems (a required column missing) and the columns it has that are not `known`: those are
    ignored, and the import says so once."""
    missing = [c for c in required if c not in header]
    if missing:
        return [Problem(f"{source}: header", f"missing column(s) {', '.join(missing)}")], ()
    return [], tuple(c for c in header if c not in known)


# --- an empty workbook to fill in --------------------------------------------------------------------------------
TEMPLATE_ROWS = 1000  # rows of the first sheet whose cells offer the drop-downs


def write_template(path: Path, name: str, columns: Sequence[str], required: Sequence[str],
                   help: Mapping[str, str], choices: Mapping[str, Sequence[str]]) -> None:
    """A workbook to fill in: the first sheet (`name`) has the header and, for each column in `choices`, a
    drop-down (a data validation list read from the "lists" sheet, since a list written inline may hold at most
    255 characters); the "columns" sheet says what each column means. Every cell is a string, never a formula."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = name
    lists = book.create_sheet("lists")
    explained = book.create_sheet("columns")

    def put(target: Any, row: int, column: int, value: str) -> None:
        target.cell(row=row, column=column, value=value).data_type = "s"

    for i, column in enumerate(columns, start=1):
        put(sheet, 1, i, column)
        sheet.column_dimensions[get_column_letter(i)].width = max(12, len(column) + 2)
    sheet.freeze_panes = "A2"
    for j, (column, values) in enumerate(choices.items(), start=1):
        letter = get_column_letter(j)
        put(lists, 1, j, column)
        for k, value in enumerate(values, start=2):
            put(lists, k, j, value)
        if not values:
            continue
        check = DataValidation(type="list", formula1=f"lists!${letter}$2:${letter}${len(values) + 1}",
                               allow_blank=True, showErrorMessage=True, errorTitle=column,
                               error=f"choose a {column} from the list")
        sheet.add_data_validation(check)
        at = get_column_letter(columns.index(column) + 1)
        check.add(f"{at}2:{at}{TEMPLATE_ROWS + 1}")
    for i, heading in enumerate(("column", "required", "meaning"), start=1):
        put(explained, 1, i, heading)
    for k, column in enumerate(columns, start=2):
        put(explained, k, 1, column)
        put(explained, k, 2, "yes" if column in required else "no")
        put(explained, k, 3, help.get(column, ""))
    explained.column_dimensions["C"].width = 100
    lists.sheet_state = "hidden"
    book.save(path)
