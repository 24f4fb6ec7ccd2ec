"""Spreadsheets both ways on the command line: export a desk's offers, import them back unchanged; templates with
drop-downs; requirements from a file; exit codes, and nothing written on refusal."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from contactgroup.cli import common
from contactgroup.io.requirements import EXPORT as REQUIREMENT_EXPORT
from contactgroup.services import coordination as svc
from tests.cli.conftest import Cli
from tests.factories import World, enter_offer


def exported(cli: Cli, tmp_path: Path, fmt: str) -> Path:
    result = cli("offer", "list", "--member", "DEU", "--format", fmt, "--as", "deu")
    assert result.exit_code == 0, result.output
    path = tmp_path / f"offers.{fmt}"
    path.write_bytes(result.stdout_bytes)
    return path


class TestRoundTrip:
    def test_an_exported_xlsx_imports_back_unchanged(self, world: World, cli: Cli, tmp_path: Path) -> None:
        enter_offer(world, status="committed", ref="DEU-1", end_use="training only", visibility="public")
        enter_offer(world, status="offered", item="fpv", quantity=40)
        path = exported(cli, tmp_path, "xlsx")
        sheet = load_workbook(path).worksheets[0]
        header = [c.value for c in sheet[1]]
        row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
        assert (row["ref"], row["quantity"], row["end_use"]) == ("DEU-1", 600, "training only")
        assert sheet["F2"].is_date  # available_from: a date cell, not text
        before = cli.events()
        result = cli("import", "offers", str(path), "--as", "deu")
        assert result.exit_code == 0, result.output
        assert "nothing to change: all 2 rows of offers.xlsx are already recorded" in result.stdout
        assert cli.events() == before

    def test_an_exported_csv_imports_back_unchanged(self, world: World, cli: Cli, tmp_path: Path) -> None:
        enter_offer(world, status="committed", ref="DEU-1", value=Decimal("1500000.50"), currency="EUR",
                    basis="market", end_use="=not a formula; 5 €")
        path = exported(cli, tmp_path, "csv")
        before = cli.events()
        result = cli("import", "offers", str(path), "--as", "deu")
        assert result.exit_code == 0 and "already recorded" in result.stdout, result.output
        assert cli.events() == before

    def test_a_changed_export_amends_the_offer_it_names(self, world: World, cli: Cli, tmp_path: Path) -> None:
        oid = enter_offer(world, status="committed", ref="DEU-1")
        path = exported(cli, tmp_path, "xlsx")
        book = load_workbook(path)
        book.worksheets[0]["E2"] = 650  # quantity
        book.save(path)
        before = cli.events()
        result = cli("import", "offers", str(path), "--as", "deu")
        assert result.exit_code == 0 and f"1 amended ({oid})" in result.output, result.output
        assert cli.events() == before + 1 and world.db.state().offers[oid].quantity == 650

    def test_xlsx_comes_out_as_the_workbook_bytes(self, world: World, cli: Cli) -> None:
        # The test runner's output is not a terminal: the workbook's bytes come out as they are.
        result = cli("offer", "list", "--format", "xlsx", "--as", "deu")
        assert result.exit_code == 0 and result.stdout_bytes.startswith(b"PK")


class TestTemplate:
    def test_offers_template_has_drop_downs_and_explains_each_column(self, world: World, cli: Cli,
                                                                      tmp_path: Path) -> None:
        path = tmp_path / "offers.xlsx"
        result = cli("template", "offers", str(path))
        assert result.exit_code == 0, result.output
        book = load_workbook(path)
        assert book.sheetnames == ["offers", "lists", "columns"]
        sheet = book["offers"]
        header = [c.value for c in sheet[1]]
        assert header[:6] == ["ref", "member", "item", "quantity", "available_from", "depot"]
        lists = {str(dv.sqref)[0]: dv.formula1 for dv in sheet.data_validations.dataValidation}
        column = {name: chr(ord("A") + i) for i, name in enumerate(header)}
        assert set(lists) >= {column[c] for c in ("member", "item", "currency", "visibility")}
        columns = zip(*book["lists"].iter_rows(values_only=True), strict=True)
        values = {name: [v for v in rest if v] for name, *rest in columns}
        assert values["item"][:3] == ["155-a", "155-b", "fpv"] and "EUR" in values["currency"]
        assert values["visibility"][:4] == ["member", "coalition", "recipient", "public"]
        explained = {r[0].value: (r[1].value, r[2].value) for r in book["columns"].iter_rows(min_row=2)}
        assert explained["quantity"][0] == "yes" and "ref" in explained

    def test_a_filled_template_imports(self, world: World, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "offers.xlsx"
        assert cli("template", "offers", str(path)).exit_code == 0
        book = load_workbook(path)
        book["offers"].append(["DEU-7", "DEU", "FPV", 12, "01.09.2024", "DEU"])
        book.save(path)
        result = cli("import", "offers", str(path), "--as", "deu")
        assert result.exit_code == 0 and "1 offer imported" in result.stdout, result.output

    def test_refuses_to_overwrite_a_file(self, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "offers.xlsx"
        path.write_bytes(b"mine")
        result = cli("template", "offers", str(path))
        assert result.exit_code == 5 and "already exists" in result.output
        assert path.read_bytes() == b"mine"


class TestRequirements:
    HEADER = "Anforderungen;;;;;\nref;item_class;quantity;priority;needed_by;destination;status\n"

    def test_imports_then_changes_nothing_the_second_time(self, world: World, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "requirements.csv"
        path.write_bytes((self.HEADER + "UKR-1;155MM;1000;1;01.09.2030;UKR-Lviv;submitted\n"
                                        "UKR-2;fpv;300;2;2030-10-01;UKR;\n").encode("cp1252"))
        first = cli("import", "requirements", str(path), "--as", "ukr")
        assert first.exit_code == 0 and "2 requirements imported" in first.stdout, first.output
        before = cli.events()
        again = cli("import", "requirements", str(path), "--as", "ukr")
        assert again.exit_code == 0 and "nothing to change" in again.stdout, again.output
        assert cli.events() == before
        rows = {r.ref: r for r in world.db.state().requirements.values()}
        assert (rows["UKR-1"].item_class, rows["UKR-1"].status.value, rows["UKR-2"].status.value) == (
            "155mm", "submitted", "draft")

    def test_every_problem_of_every_row_and_nothing_written(self, world: World, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "requirements.csv"
        path.write_text(self.HEADER + "UKR-1;155mn;0;1;31.09.2030;Lviv;\nUKR-1;fpv;3;1;2030-10-01;Kyiv;closed\n",
                        encoding="utf-8")
        before = cli.events()
        result = cli("import", "requirements", str(path), "--as", "ukr")
        assert result.exit_code == 2
        for line in ("row 3, column quantity: must be positive, got 0",
                     "row 3, column needed_by: '31.09.2030' is not a date",
                     "row 4, column status: a new requirement is draft or submitted, not 'closed'"):
            assert line in result.output, result.output
        assert cli.events() == before

    def test_a_desk_officer_may_not(self, world: World, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "requirements.csv"
        path.write_text(self.HEADER + "X;fpv;3;1;2030-10-01;Kyiv;\n", encoding="utf-8")
        result = cli("import", "requirements", str(path), "--as", "deu")
        assert result.exit_code == 2 and "requirement:draft" in result.output, result.output

    def _listed(self, world: World) -> None:
        world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=1000, priority=2,
                 needed_by=date(2024, 9, 1), destination="UKR-West", ref="UKR-1", note="=1+1 (not a formula)")
        world.do(svc.draft_requirement, "ukr", item_class="fpv", quantity=300, priority=1,
                 needed_by=date(2024, 10, 1), destination="UKR")

    def test_the_list_shows_each_ref_in_every_format(self, world: World, cli: Cli, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
        self._listed(world)
        screen = io.StringIO()  # a terminal of the usual 80 columns: the area gives way first, not the ref
        monkeypatch.setattr(common, "out", common.PlainConsole(file=screen, width=80, soft_wrap=True))
        assert cli("requirement", "list", "--as", "deu").exit_code == 0
        header = screen.getvalue().splitlines()[1].split()
        assert header[:2] == ["id", "ref"] and "area" not in header, screen.getvalue()
        assert "UKR-1" in screen.getvalue() and "left out at this width: area" in screen.getvalue()
        listed = json.loads(cli("requirement", "list", "--format", "json", "--as", "deu").output)
        assert [(r["id"], r["ref"]) for r in listed] == [("R-00002", ""), ("R-00001", "UKR-1")]
        rows = list(csv.DictReader(io.StringIO(cli("requirement", "list", "--format", "csv", "--as", "deu").output)))
        assert tuple(rows[0]) == REQUIREMENT_EXPORT and rows[1]["ref"] == "UKR-1"
        xlsx = cli("requirement", "list", "--format", "xlsx", "--as", "deu")
        path = tmp_path / "requirements.xlsx"
        path.write_bytes(xlsx.stdout_bytes)
        sheet = load_workbook(path).worksheets[0]
        assert tuple(c.value for c in sheet[1]) == REQUIREMENT_EXPORT and sheet["B3"].value == "UKR-1"

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_an_export_imports_back_unchanged_and_an_edited_one_amends(self, world: World, cli: Cli,
                                                                        tmp_path: Path, fmt: str) -> None:
        self._listed(world)
        path = tmp_path / f"requirements.{fmt}"
        path.write_bytes(cli("requirement", "list", "--format", fmt, "--as", "ukr").stdout_bytes)
        before = cli.events()
        again = cli("import", "requirements", str(path), "--as", "ukr")
        assert again.exit_code == 0, again.output
        assert f"nothing to change: all 2 rows of requirements.{fmt} are already recorded" in again.stdout
        assert cli.events() == before
        if fmt == "csv":
            path.write_text(path.read_text(encoding="utf-8").replace(",1000,2,", ",1500,2,"), encoding="utf-8")
        else:
            book = load_workbook(path)
            book.worksheets[0]["D3"] = 1500  # quantity of UKR-1 (second by priority)
            book.save(path)
        amended = cli("import", "requirements", str(path), "--as", "ukr")
        assert amended.exit_code == 0 and "1 amended (R-00001)" in amended.output, amended.output
        assert world.db.state().requirements["R-00001"].quantity == 1500
        assert cli.events() == before + 1


def test_unknown_columns_are_ignored_with_one_line_saying_so(world: World, cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "offers.csv"
    path.write_text("member,item,quantity,available_from,depot,remarks,contact\n"
                    "DEU,155-a,10,2024-08-01,DEU,call first,Major X\nDEU,fpv,3,2024-08-01,DEU,,\n", encoding="utf-8")
    result = cli("import", "offers", str(path), "--as", "deu")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("ignored column(s) remarks, contact: not offer columns") == 1
    assert "2 offers imported from offers.csv" in result.stdout
