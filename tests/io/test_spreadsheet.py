"""Reading and writing the tables desks exchange, against hostile files: bounded before reading, damaged workbooks
refused with the file named, one meaning per column, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from contactgroup.domain import text
from contactgroup.domain.errors import ValidationFailed
from contactgroup.io import spreadsheet
from contactgroup.io.spreadsheet import csv_text, csv_unquote, read_rows, write_xlsx
from tests.io.xlsx_files import handmade

HEADER = ["member", "item", "quantity", "available_from", "depot", "end_use"]


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def rezip(path: Path, change: dict[str, Callable[[bytes], bytes]]) -> Path:
    """A copy of the workbook at `path` with some of its parts rewritten."""
    target = path.with_name("changed.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            out.writestr(info.filename, change.get(info.filename, lambda b: b)(data))
    return target


def refusal(path: Path) -> str:
    with pytest.raises(ValidationFailed) as refused:
        read_rows(path)
    return str(refused.value)


class TestDamagedWorkbooks:
    @pytest.fixture
    def good(self, tmp_path: Path) -> Path:
        return workbook(tmp_path / "offers.xlsx", [HEADER, ["DEU", "155-a", 10, date(2024, 8, 1), "DEU", "any"]])

    def test_a_good_workbook_reads(self, good: Path) -> None:
        (row,) = read_rows(good).rows
        assert row.cells["quantity"] == "10" and row.cells["available_from"] == "2024-08-01"

    def test_a_truncated_sheet_is_refused_naming_the_file(self, good: Path) -> None:
        bad = rezip(good, {"xl/worksheets/sheet1.xml": lambda b: b[: len(b) // 2]})
        assert str(bad) in refusal(bad) and "cannot be read as an XLSX workbook" in refusal(bad)

    def test_a_shared_string_index_past_the_table_is_refused(self, tmp_path: Path) -> None:
        good = handmade(tmp_path / "offers.xlsx", [["member", "quantity"], ["DEU", 10]])
        assert read_rows(good).rows[0].cells == {"member": "DEU", "quantity": "10"}
        bad = rezip(good, {"xl/worksheets/sheet1.xml": lambda b: b.replace(b't="s"><v>2</v>', b't="s"><v>99999</v>')})
        message = refusal(bad)
        assert str(bad) in message and "cannot be read as an XLSX workbook" in message

    def test_entity_expansion_is_refused_before_any_parser_sees_it(self, tmp_path: Path) -> None:
        entities = b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10) for i in range(1, 10))
        prolog = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">' + entities + b"]>"
        bad = handmade(tmp_path / "offers.xlsx", [["member", "end_use"], ["DEU", b"&lol9;"]], prolog=prolog)
        message = refusal(bad)
        assert str(bad) in message and "xl/sharedStrings.xml declares a DTD or entities" in message

    def test_a_small_file_that_unpacks_past_the_limit_is_refused(self, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(text, "MAX_XLSX_UNPACKED", 200_000)
        big = handmade(tmp_path / "offers.xlsx", [["member", "end_use"], ["DEU", "a" * 300_000]])
        assert big.stat().st_size < 20_000
        message = refusal(big)
        assert "unpacks to" in message and "at most 200,000" in message

    def test_not_a_zip_at_all(self, tmp_path: Path) -> None:
        path = tmp_path / "offers.xlsx"
        path.write_bytes(b"PK\x03\x04 not really")
        assert "cannot be read as an XLSX workbook" in refusal(path)


class TestLimits:
    def test_a_file_over_the_byte_limit_is_refused_before_reading(self, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(text, "MAX_IMPORT_BYTES", 1000)
        path = tmp_path / "offers.csv"
        path.write_bytes(b"\xff" * 1001)  # not even UTF-8: the size alone decides
        assert "is 1,001 bytes; an imported file may have at most 1,000 bytes" in refusal(path)

    @pytest.mark.parametrize("suffix", ["csv", "xlsx"])
    def test_more_rows_than_the_limit_are_refused(self, tmp_path: Path, suffix: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(text, "MAX_IMPORT_ROWS", 5)
        rows = [HEADER, *([["DEU", "155-a", 1, "2024-08-01", "DEU", ""]] * 6)]
        path = tmp_path / f"offers.{suffix}"
        if suffix == "csv":
            path.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")
        else:
            workbook(path, rows)
        assert "has more than 5 data rows" in refusal(path)
        monkeypatch.setattr(text, "MAX_IMPORT_ROWS", 6)
        assert len(read_rows(path).rows) == 6

    def test_the_documented_limits(self) -> None:
        assert (text.MAX_IMPORT_ROWS, text.MAX_IMPORT_BYTES) == (10_000, 5_000_000)


class TestHeader:
    @pytest.mark.parametrize("suffix", ["csv", "xlsx"])
    def test_a_column_named_twice_is_refused(self, tmp_path: Path, suffix: str) -> None:
        rows = [["member", "item", "quantity", "available_from", "depot", "quantity"],
                ["DEU", "155-a", 7, "2024-08-01", "DEU", 7000]]
        path = tmp_path / f"offers.{suffix}"
        if suffix == "csv":
            path.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")
        else:
            workbook(path, rows)
        assert f"offers.{suffix}: header: column 'quantity' appears twice (columns 3 and 6)" in refusal(path)


class TestFormulas:
    @pytest.mark.parametrize(("cell", "written"), [
        ("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
        ("\rx", "'\rx"), ("'=x", "''=x"), ("-5", "-5"), ("+1.5", "+1.5"), ("'quoted", "'quoted"), ("a=b", "a=b"),
        ("", ""), ("-", "'-"),
    ])
    def test_csv_text(self, cell: str, written: str) -> None:
        assert csv_text(cell) == written
        assert csv_unquote(written) == cell

    @given(st.text())
    def test_what_is_exported_imports_back_the_same(self, cell: str) -> None:
        assert csv_unquote(csv_text(cell)) == cell

    def test_import_strips_the_apostrophe_only_before_a_formula_character(self, tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_text("member,item,quantity,available_from,depot,end_use\n"
                        "DEU,155-a,1,2024-08-01,DEU,'=not a formula\n"
                        "DEU,155-a,1,2024-08-01,DEU,'plain quote\n", encoding="utf-8")
        assert [r.cells["end_use"] for r in read_rows(path).rows] == ["=not a formula", "'plain quote"]

    def test_xlsx_cells_are_typed_and_text_is_never_a_formula(self, tmp_path: Path) -> None:
        path = tmp_path / "export.xlsx"
        write_xlsx(path, ["note", "quantity", "value", "on"],
                   [["=HYPERLINK(\"http://evil.example\",\"x\")", 7, Decimal("-12.5"), date(2024, 8, 1)],
                    ["@SUM(A1)", -3, None, None], ["bell\x07", 0, Decimal("1"), None]])
        sheet = load_workbook(path).active
        rows = list(sheet.iter_rows(min_row=2))
        assert [c.data_type for c in rows[0]] == ["s", "n", "n", "d"]
        assert rows[0][0].value == "=HYPERLINK(\"http://evil.example\",\"x\")" and rows[0][1].value == 7
        assert rows[1][0].value == "@SUM(A1)" and rows[2][0].value == "bell\\x07"
        with zipfile.ZipFile(path) as package:
            assert b"<f>" not in package.read("xl/worksheets/sheet1.xml")
        assert spreadsheet.read_rows(path).rows[0].cells["note"] == "=HYPERLINK(\"http://evil.example\",\"x\")"


class TestEuropeanCsv:
    """The CSV Excel writes in much of Europe: semicolons, decimal commas, DD.MM.YYYY, Windows-1252 or UTF-8 with
    a byte order mark, often under a title row."""

    BODY = ("Angebote der Bundesrepublik – Stand 01.08.2024;;;;;;;\n"
            "\n"
            "Member;Item;quantity;available_from;depot;value;currency;end_use\n"
            "DEU;155-a;1200;01.08.2024;DEU;3600000,50;EUR;Übungsmunition für Ausbildung, 5 € je Schuss\n")

    @pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-8"])
    def test_title_row_semicolons_decimal_comma_and_dotted_date(self, tmp_path: Path, encoding: str) -> None:
        from contactgroup.io.offers import REQUIRED, parse_offers

        path = tmp_path / "angebote.csv"
        path.write_bytes(self.BODY.encode(encoding))
        sheet = read_rows(path, REQUIRED)
        assert sheet.decimal_comma and [r.line for r in sheet.rows] == [4]
        parsed = parse_offers(sheet, path.name)
        assert parsed.problems == []
        (row,) = parsed.rows
        offer = row.offer
        assert (offer.quantity, offer.available_from, offer.value) == (1200, date(2024, 8, 1), Decimal("3600000.50"))
        assert offer.end_use == "Übungsmunition für Ausbildung, 5 € je Schuss"

    def test_a_bad_dotted_date_or_thousands_separator_is_named(self, tmp_path: Path) -> None:
        from contactgroup.io.offers import REQUIRED, parse_offers

        path = tmp_path / "angebote.csv"
        path.write_text("member;item;quantity;available_from;depot;value;currency;basis\n"
                        "DEU;155-a;1200;30.02.2024;DEU;1.234,5;EUR;market\n", encoding="utf-8")
        parsed = parse_offers(read_rows(path, REQUIRED), path.name)
        assert [str(p) for p in parsed.problems] == [
            "angebote.csv: row 2, column value: '1.234,5' is not a number: write the digits 0-9 and an optional "
            "decimal point, like 1234.56 or 1234,56 (no thousands separators or exponent)",
            "angebote.csv: row 2, column available_from: '30.02.2024' is not a date (YYYY-MM-DD or DD.MM.YYYY): "
            "write it like 2025-03-01",
        ]

    def test_a_comma_file_keeps_its_decimal_point_and_unknown_columns_are_listed(self, tmp_path: Path) -> None:
        from contactgroup.io.offers import REQUIRED, parse_offers

        path = tmp_path / "offers.csv"
        path.write_text('member,item,quantity,available_from,depot,value,currency,basis,remarks\n'
                        'DEU,155-a,10,2024-08-01,DEU,"1,5",EUR,market,call first\n', encoding="utf-8")
        sheet = read_rows(path, REQUIRED)
        parsed = parse_offers(sheet, path.name)
        assert not sheet.decimal_comma and parsed.ignored == ("remarks",)
        assert [p.where for p in parsed.problems] == ["offers.csv: row 2, column value"]

    def test_utf16_is_named(self, tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_bytes("member\titem\n".encode("utf-16"))
        assert "UTF-16" in refusal(path)

    def test_an_xlsx_title_row_is_skipped_and_rows_keep_their_numbers(self, tmp_path: Path) -> None:
        from contactgroup.io.offers import REQUIRED

        path = tmp_path / "offers.xlsx"
        workbook(path, [["Offers of DEU, August"], [], ["Member", "Item", "Quantity", "Available_From", "Depot"],
                        ["DEU", "155-a", 5, date(2024, 8, 1), "DEU"]])
        sheet = read_rows(path, REQUIRED)
        assert sheet.header == ("member", "item", "quantity", "available_from", "depot")
        (row,) = sheet.rows
        assert row.line == 4 and row.cells["available_from"] == "2024-08-01"

    @given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
    def test_a_dotted_date_reads_as_the_date_it_writes(self, day: date) -> None:
        assert spreadsheet.cell_day(day.strftime("%d.%m.%Y")) == day == spreadsheet.cell_day(day.isoformat())

    @given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
    def test_a_decimal_comma_reads_as_the_number_it_writes(self, value: Decimal) -> None:
        written = format(value, "f")
        assert spreadsheet.cell_number(written.replace(".", ","), decimal_comma=True) == value
        assert spreadsheet.cell_number(written, decimal_comma=True) == value
