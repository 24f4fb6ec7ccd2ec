"""Hostile import files: refused with the file, row and column named and exit 2, all or nothing, never a traceback;
what is accepted is shown back exactly as written."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from contactgroup.domain import text
from tests.cli.conftest import Cli
from tests.conftest import KIEL_R29
from tests.factories import World
from tests.io.xlsx_files import handmade

HEADER = "member,item,quantity,available_from,depot,end_use,value,currency,basis\n"


def offers(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "offers.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def refused(cli: Cli, path: Path, *expected: str) -> str:
    before = cli.events()
    result = cli("import", "offers", str(path), user="deu")
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for line in expected:
        assert line in result.output, result.output
    assert cli.events() == before
    return result.output


class TestStrictCells:
    @pytest.mark.parametrize(("cell", "column"), [("1_000", "quantity"), ("١٠", "quantity"), ("1e3", "quantity"),
                                                  ("20250301", "available_from"), ("2024-8-1", "available_from"),
                                                  ("١٢٣", "value"), ("1_000.5", "value")])
    def test_numbers_and_dates_have_one_form(self, world: World, cli: Cli, tmp_path: Path, cell: str,
                                             column: str) -> None:
        cells = {"quantity": "10", "available_from": "2024-08-01", "value": "", column: cell}
        money = ",EUR,market" if cells["value"] else ",,"
        path = offers(tmp_path, "DEU,155-a,10,2024-08-01,DEU,,,,",
                      f"DEU,155-a,{cells['quantity']},{cells['available_from']},DEU,,{cells['value']}{money}")
        output = refused(cli, path, f"offers.csv: row 3, column {column}: {cell!r} is not a")
        assert "like 1000" in output or "like 1234.56" in output or "like 2025-03-01" in output

    def test_a_duplicated_column_is_refused_not_last_one_wins(self, world: World, cli: Cli, tmp_path: Path) -> None:
        path = offers(tmp_path, "DEU,155-a,7,2024-08-01,DEU,7000",
                      header="member,item,quantity,available_from,depot,quantity\n")
        refused(cli, path, "offers.csv: header: column 'quantity' appears twice (columns 3 and 6)")


class TestFreeTextCells:
    def test_an_end_use_over_the_limit_names_row_column_and_limit(self, world: World, cli: Cli,
                                                                  tmp_path: Path) -> None:
        path = offers(tmp_path, "DEU,155-a,10,2024-08-01,DEU,fine,,,", f"DEU,155-a,10,2024-08-01,DEU,{'e' * 4001},,,")
        refused(cli, path, "offers.csv: row 3, column end_use: is 4,001 characters long; free text may have at "
                           "most 4,000")

    def test_an_escape_sequence_in_a_cell_names_row_and_column(self, world: World, cli: Cli, tmp_path: Path) -> None:
        path = offers(tmp_path, "DEU,155-a,10,2024-08-01,DEU,\x1b[2J,,,")
        refused(cli, path, "offers.csv: row 2, column end_use: contains a control character (U+001B")

    def test_an_exported_formula_comes_back_as_the_text_it_was(self, world: World, cli: Cli, tmp_path: Path) -> None:
        path = offers(tmp_path, "DEU,155-a,10,2024-08-01,DEU,'=1+1,,,", "DEU,155-a,11,2024-08-01,DEU,'quoted,,,")
        result = cli("import", "offers", str(path), user="deu")
        assert result.exit_code == 0, result.output
        shown = [json.loads(cli("offer", "show", o, "-f", "json", user="deu").output)[0]["end_use"]
                 for o in ("O-00001", "O-00002")]
        assert shown == ["=1+1", "'quoted"]


class TestLimits:
    def test_a_file_over_the_row_limit_is_refused_and_nothing_written(self, world: World, cli: Cli,
                                                                      tmp_path: Path) -> None:
        path = offers(tmp_path, *(["DEU,155-a,1,2024-08-01,DEU,,,,"] * (text.MAX_IMPORT_ROWS + 1)))
        refused(cli, path, f"has more than {text.MAX_IMPORT_ROWS:,} data rows")

    def test_a_file_over_the_byte_limit_is_refused(self, world: World, cli: Cli, tmp_path: Path) -> None:
        path = offers(tmp_path, "DEU,155-a,1,2024-08-01,DEU," + "x" * text.MAX_IMPORT_BYTES + ",,,")
        refused(cli, path, f"an imported file may have at most {text.MAX_IMPORT_BYTES:,} bytes")

    def test_a_small_workbook_hiding_a_huge_cell_is_refused(self, world: World, cli: Cli, tmp_path: Path) -> None:
        big = "a" * (text.MAX_XLSX_UNPACKED + 1)
        path = handmade(tmp_path / "offers.xlsx", [["member", "item", "quantity", "available_from", "depot",
                                                    "end_use"], ["DEU", "155-a", 1, "2024-08-01", "DEU", big]])
        assert path.stat().st_size < 1_000_000
        refused(cli, path, str(path), f"at most {text.MAX_XLSX_UNPACKED:,}")


class TestDamagedWorkbook:
    @pytest.mark.parametrize("damage", ["truncated", "index", "entities"])
    def test_exit_2_naming_the_file(self, world: World, cli: Cli, tmp_path: Path, damage: str) -> None:
        rows: list[list[str | bytes | int]] = [["member", "item", "quantity", "available_from", "depot"],
                                               ["DEU", "155-a", 1, "2024-08-01", "DEU"]]
        prolog = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        path = handmade(tmp_path / "offers.xlsx", rows, **({"prolog": prolog} if damage == "entities" else {}))
        if damage != "entities":
            damaged = tmp_path / "damaged.xlsx"
            with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as out:
                for name in src.namelist():
                    data = src.read(name)
                    if name == "xl/worksheets/sheet1.xml":
                        data = data[: len(data) // 2] if damage == "truncated" else data.replace(b"<v>0</v>",
                                                                                              b"<v>4242</v>")
                    out.writestr(name, data)
            path = damaged
        refused(cli, path, str(path))


class TestReferenceFiles:
    def test_a_kiel_column_named_twice_is_refused(self, cli: Cli, tmp_path: Path) -> None:
        release = tmp_path / "release"
        shutil.copytree(KIEL_R29, release)
        data = release / "data_explorer.csv"
        data.chmod(0o644)
        lines = data.read_text(encoding="utf-8").splitlines()
        data.write_text("\n".join([lines[0] + ',"military"', *(line + ",0" for line in lines[1:])]) + "\n",
                        encoding="utf-8")
        result = cli("import", "kiel", str(release), "--as", "admin")
        assert result.exit_code == 2 and "column 'military' appears twice" in result.output, result.output

    @pytest.mark.parametrize(("row", "says"), [("UAH,20250301,44.5", "is not a date (YYYY-MM-DD)"),
                                               ("UAH,2025-03-01,4_4.5", "is not a number"),
                                               ("UAH,2025-03-01,٤٤", "is not a number")])
    def test_rates_parse_strictly(self, cli: Cli, tmp_path: Path, row: str, says: str) -> None:
        path = tmp_path / "rates.csv"
        path.write_text(f"currency,date,per_eur\n{row}\n", encoding="utf-8")
        result = cli("import", "rates", str(path), "--as", "admin")
        assert result.exit_code == 2 and "rates.csv, row 2" in result.output and says in result.output


def test_a_transit_column_named_twice_is_refused() -> None:
    from contactgroup.services.transit import parse_csv

    rows, found = parse_csv("origin,destination,days,days\nDEU,UKR,3,30\n", "transit.csv")
    assert rows == [] and [str(p) for p in found] == [
        "transit.csv: header: column 'days' appears twice (columns 3 and 4): each column may appear once"]


def test_a_transit_destination_is_a_name_of_at_most_200_characters() -> None:
    from contactgroup.services.transit import parse_csv

    _, found = parse_csv(f"origin,destination,days\nDEU,UKR-{'a' * 300},3\n", "transit.csv")
    assert [str(p) for p in found] == [
        "transit.csv: row 2, column destination: is 304 characters long; a name may have at most 200"]
