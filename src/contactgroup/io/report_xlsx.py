"""A report as an XLSX workbook: the exact values with number formats that show them rounded, a frozen header,
a "Definitions" sheet from the glossary, and a native chart built from the report's one chart definition."""

from __future__ import annotations

import enum
import io
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from contactgroup.domain import text
from contactgroup.domain.errors import ValidationFailed
from contactgroup.io.spreadsheet import check_package
from contactgroup.reports.charts import Chart
from contactgroup.reports.document import ROUNDING_NOTE, Kind, Report

# How a sheet shows each kind; the cell keeps the exact value (a workbook's reader sees every digit it holds).
NUMBER_FORMATS: Mapping[Kind, str] = {
    Kind.NUMBER: "#,##0",
    Kind.UNITS: "#,##0",
    Kind.MONEY: "#,##0",
    Kind.SHARE: "0.00%",
    Kind.PERCENT: "0.00",
    Kind.DAYS: "#,##0.#",
    Kind.DATE: "yyyy-mm-dd",
}
HEADER_ROW = 4  # title, caption and a blank line above it
STAMP_SHEET = "Stamp"
# The stamp block's rows as an analyst reads them (column A), beside the value (B) and the key a program reads (C),
# which is the label of the CSV header block's `# key: value` line.
STAMP_LABELS: Mapping[str, str] = {
    "report": "Report",
    "format": "Stamp format",
    "origin": "Log (the coordination's origin)",
    "as_of": "Record time (UTC): the record as it stood then",
    "log_size": "Log size: events the report was computed on",
    "root": "Root of the log's Merkle tree at that size",
    "last_event_at": "Time of the last of those events",
    "generated_at": "Computed at",
    "parameters": "Filters and options",
    "checkpoint": "Checkpoint",
    "checkpoint_size": "Checkpoint: the first signed at or after the log size",
    "checkpoint_note_base64": "Checkpoint's signed note (base64)",
    "consistency_proof": "Consistency proof from the log size to the checkpoint",
}
STAMP_HEADER = ("stamp", "value", "key")


def _value(v: Any) -> Any:
    """A record's value as a cell holds it: numbers and dates typed, an enum or a list as its text."""
    if isinstance(v, enum.Enum):
        return str(v.value)
    if isinstance(v, tuple | list):
        return ", ".join(str(x) for x in v)
    if isinstance(v, bool | int | Decimal | date) or v is None:
        return v
    return str(v)


def _put(sheet: Any, row: int, column: int, value: Any, number_format: str | None = None) -> None:
    """One cell; text is always stored as text (never read as a formula), with characters XML cannot hold
    written out as on screen."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = _value(value)
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        value = text.visible(value, multiline=False)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    elif number_format and value is not None and not isinstance(value, bool):
        cell.number_format = number_format


def _chart(book: Any, sheet: Any, report: Report, chart: Chart) -> None:
    """A native bar chart over the report sheet's own cells: the same rows and series as the SVG chart. Its bar
    labels (`Chart.label`, several fields joined) are text cells of the "Chart" sheet, referenced as text."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.data_source import AxDataSource, StrRef
    from openpyxl.chart.series import SeriesLabel

    keys = [f.key for f in report.fields]
    if not all(key in keys for key, _ in chart.series):
        return
    drawn = chart.shown_rows(report.rows)
    if not drawn:
        return
    first = HEADER_ROW + 1 + next(i for i, r in enumerate(report.rows) if r is drawn[0])
    last = first + len(drawn) - 1  # the drawn rows are the first `top` with a value: one block
    place = book.create_sheet("Chart")
    _put(place, 1, 1, "label")
    for i, row in enumerate(drawn, start=2):
        _put(place, i, 1, chart.label(row))
    labels = AxDataSource(strRef=StrRef(f=f"'Chart'!$A$2:$A${len(drawn) + 1}"))
    bar = BarChart()
    bar.type, bar.grouping, bar.title = "bar", "clustered", chart.heading
    bar.y_axis.title = chart.axis
    bar.x_axis.scaling.orientation = "maxMin"  # the report's first row on top, as in the table
    bar.height, bar.width = 4 + 0.5 * len(drawn) * len(chart.series), 24
    for key, label in chart.series:
        col = keys.index(key) + 1
        bar.add_data(Reference(sheet, min_col=col, min_row=first, max_row=last), titles_from_data=False)
        bar.series[-1].tx = SeriesLabel(v=label)
        bar.series[-1].cat = labels
    place.column_dimensions["A"].width = 28
    place.add_chart(bar, "C1")


def _stamp(sheet: Any, lines: Sequence[tuple[str, str]]) -> None:
    """The stamp as a block of rows: what it is, its value, its key (a log size and a checkpoint size as numbers;
    everything else as text, exactly as the CSV header block writes it)."""
    from openpyxl.styles import Font

    for col, heading in enumerate(STAMP_HEADER, start=1):
        _put(sheet, 1, col, heading)
        sheet.cell(row=1, column=col).font = Font(bold=True)
    for row, (key, value) in enumerate(lines, start=2):
        _put(sheet, row, 1, STAMP_LABELS.get(key, key))
        _put(sheet, row, 2, int(value) if key in STAMP_NUMBERS and value.isdigit() else value)
        _put(sheet, row, 3, key)
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 48, 64
    sheet.column_dimensions["C"].width = 24
    sheet.freeze_panes = "A2"


STAMP_NUMBERS = frozenset({"log_size", "checkpoint_size"})


def report_xlsx(report: Report) -> bytes:
    """The workbook's bytes: sheet "Report" (title, caption, header frozen, exact typed values), "Stamp" (the record
    it was computed on, a block of label / value / key rows), "Definitions" (every shown field's meaning, from the
    glossary), and "Chart" when the report has one."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Report"
    _put(sheet, 1, 1, report.title)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    _put(sheet, 2, 1, "; ".join(p for p in (report.caption, *report.notes) if p))
    for col, f in enumerate(report.fields, start=1):
        _put(sheet, HEADER_ROW, col, f.key)
        sheet.cell(row=HEADER_ROW, column=col).font = Font(bold=True)
        sheet.column_dimensions[sheet.cell(row=HEADER_ROW, column=col).column_letter].width = max(10, len(f.key) + 2)
    for i, record in enumerate(report.rows, start=HEADER_ROW + 1):
        for col, f in enumerate(report.fields, start=1):
            _put(sheet, i, col, record.get(f.key), NUMBER_FORMATS.get(f.kind))
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)

    terms = book.create_sheet("Definitions")
    _put(terms, 1, 1, "field")
    _put(terms, 1, 2, "meaning")
    for i, (field, meaning) in enumerate(report.definitions(), start=2):
        _put(terms, i, 1, field)
        _put(terms, i, 2, meaning)
    _put(terms, len(report.fields) + 3, 1, "note")
    _put(terms, len(report.fields) + 3, 2,
         f"Cells hold exact values; number formats show them rounded. {ROUNDING_NOTE}.")
    terms.column_dimensions["A"].width, terms.column_dimensions["B"].width = 26, 120
    terms.freeze_panes = "A2"
    if report.stamp:
        _stamp(book.create_sheet(STAMP_SHEET, 1), report.stamp)
    if report.chart is not None:
        _chart(book, sheet, report, report.chart)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def read_report_xlsx(data: bytes) -> tuple[dict[str, str], list[str], list[dict[str, Any]]]:
    """A workbook `report_xlsx` wrote, read back: its stamp block ({key: value as text}), the fields it shows and the
    report's rows ({field: cell value}, as the cells hold them). A `ValidationFailed` when it is not one."""
    import zipfile

    from openpyxl import load_workbook

    try:
        check_package(io.BytesIO(data), "report file")  # its size unpacked and no DTD, before any XML is parsed
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as exc:
        raise ValidationFailed(f"not a readable XLSX workbook ({exc})", where="report file") from None
    try:
        for name in ("Report", STAMP_SHEET):
            if name not in book.sheetnames:
                raise ValidationFailed(f"no sheet {name!r}: not a stamped report (`report ... --format xlsx` "
                                       f"writes one)", where="report file")
        stamp: dict[str, str] = {}
        for row in book[STAMP_SHEET].iter_rows(min_row=1, max_col=3, values_only=True):
            if row[:1] == (STAMP_HEADER[0],) or len(row) < 3 or row[2] is None:
                continue
            stamp[str(row[2])] = "" if row[1] is None else str(row[1])
        lines = book["Report"].iter_rows(min_row=HEADER_ROW, values_only=True)
        header = [str(c) if c is not None else "" for c in next(lines, ())]
        rows = [dict(zip(header, cells, strict=False)) for cells in lines if any(c is not None for c in cells)]
    finally:
        book.close()
    return stamp, header, rows
