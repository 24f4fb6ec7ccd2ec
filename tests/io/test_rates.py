from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import Rate
from contactgroup.io.rates import read_rates


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rates.csv"
    path.write_text(body, encoding="utf-8")
    return path


def test_reads_rates_per_eur(tmp_path: Path) -> None:
    path = write(tmp_path, "currency,date,per_eur\nUAH,2024-01-02,42.1\nGEL,2024-01-02,2.95\n")
    assert read_rates(path) == [Rate("UAH", date(2024, 1, 2), Decimal("42.1")),
                                Rate("GEL", date(2024, 1, 2), Decimal("2.95"))]


@pytest.mark.parametrize(("line", "column", "words"), [
    ("uah,2024-01-02,42", "currency", "ISO 4217"),
    ("EUR,2024-01-02,1", "currency", "reference currency"),
    ("UAH,2024-02-30,42", "date", "not a date"),
    ("UAH,02/01/2024,42", "date", "not a date"),
    ("UAH,2024-01-02,forty", "per_eur", "not a number"),
    ("UAH,2024-01-02,0", "per_eur", "must be positive"),
    ("UAH,2024-01-02,-3", "per_eur", "must be positive"),
    ("UAH,2024-01-02,", "per_eur", "missing value"),
    ("UAH,2024-01-01,42", "date", "already given in row 2"),
])
def test_bad_cell_names_file_row_and_column(tmp_path: Path, line: str, column: str, words: str) -> None:
    path = write(tmp_path, f"currency,date,per_eur\nUAH,2024-01-01,41\n{line}\n")
    with pytest.raises(ValidationFailed) as caught:
        read_rates(path)
    found = [str(p) for p in caught.value.problems]
    assert len(found) == 1 and found[0].startswith(f"rates.csv, row 3, column {column}: ") and words in found[0]


def test_missing_column(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match=r"rates\.csv, row 1, column per_eur: missing column"):
        read_rates(write(tmp_path, "currency,date,rate\nUAH,2024-01-01,41\n"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        read_rates(write(tmp_path, ""))
