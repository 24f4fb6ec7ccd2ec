"""HXL-tagged CSV (the Humanitarian Exchange Language): a header row, then a row of hashtags, then the data.

Text cells are written formula-safe (`csv_text`); numbers are written exactly (Decimals in plain notation)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from contactgroup.io.spreadsheet import csv_text

# A hashtag and its attributes, as the HXL standard writes them: #tag +attribute ... (lower case, no spaces).
TAG = re.compile(r"#[a-z][a-z0-9_]*(?: ?\+[a-z][a-z0-9_]*)*")

Cell = str | int | Decimal | None


@dataclass(frozen=True, slots=True)
class Column:
    header: str  # what a person reads
    tag: str  # what a machine reads: "#org+donor+code"

    def __post_init__(self) -> None:
        if not TAG.fullmatch(self.tag):
            raise ValueError(f"{self.tag!r} is not an HXL hashtag with attributes")


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    return csv_text(value)


def hxl_csv(columns: Sequence[Column], rows: Iterable[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.header for c in columns])
    writer.writerow([c.tag for c in columns])
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"a row of {len(row)} cells for {len(columns)} columns")
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()
