"""HXL-tagged CSV (the Humanitarian Exchange Language): a header row, then a row of hashtags, then the data.

Text cells are written formula-safe (`csv_text`); numbers are written exactly (Decimals in plain notation)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from contactgroup.domain.errors import Problem
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


MAX_READ_BYTES = 64 * 1024 * 1024  # an HXL file read back from a release: far above any coordination's


def read_hxl_csv(path: Path, columns: Sequence[Column]) -> tuple[list[dict[str, str]], list[Problem]]:
    """The data rows of an HXL CSV file written with `columns` (header and hashtag rows as `hxl_csv` writes them),
    each as {header: text}; or the problems found (each naming the file, and the row as a spreadsheet counts it)."""
    name = f"{path.parent.name}/{path.name}"
    try:
        if path.stat().st_size > MAX_READ_BYTES:
            return [], [Problem(name, f"is larger than {MAX_READ_BYTES:,} bytes")]
        with path.open(encoding="utf-8", newline="") as f:
            lines = list(csv.reader(f))
    except FileNotFoundError:
        return [], [Problem(name, "no such file in the release")]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [Problem(name, f"not a readable UTF-8 CSV file: {exc}")]
    if lines[:2] != [[c.header for c in columns], [c.tag for c in columns]]:
        return [], [Problem(f"{name}, rows 1-2", f"not the header and hashtags {', '.join(c.tag for c in columns)}")]
    rows, problems = [], []
    for n, line in enumerate(lines[2:], start=3):
        if len(line) != len(columns):
            problems.append(Problem(f"{name}, row {n}", f"{len(line)} cells for {len(columns)} columns"))
        else:
            rows.append({c.header: cell for c, cell in zip(columns, line, strict=True)})
    return rows, problems
