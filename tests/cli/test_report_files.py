"""`contactgroup report ... --format xlsx|pdf`: the workbook read back cell by cell against the JSON, the PDF's text
holding the same figures as rounded on screen, its chart drawn as vector paths, and files never sent to a terminal."""

from __future__ import annotations

import json
import math
import os
import pty
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.cli.report import BURDEN_FIELDS, GAPS_FIELDS, LAG_FIELDS, By, coverage_fields
from contactgroup.domain.model import Category, Item, ItemClass
from contactgroup.io.report_xlsx import HEADER_ROW, NUMBER_FORMATS
from contactgroup.reports import charts
from contactgroup.reports.document import Field, Kind, shown
from contactgroup.reports.glossary import GLOSSARY, defined
from contactgroup.services import coordination as svc
from tests.cli.conftest import Cli, build_demo_through_cli
from tests.conftest import DatabaseCopies
from tests.factories import World, open_requirement

pytestmark = pytest.mark.xdist_group("cli-demo")  # one worker builds the demo, not each

REPORTS: dict[str, tuple[tuple[str, ...], tuple[Field, ...]]] = {
    "coverage": (("--by", "requirement"), coverage_fields(By.REQUIREMENT)),
    "coverage-tier": (("--by", "tier"), coverage_fields(By.TIER)),
    "burden": ((), BURDEN_FIELDS),
    "lag": ((), LAG_FIELDS),
    "gaps": (("--limit", "30"), GAPS_FIELDS),
}


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@dataclass
class Outputs:
    rows: list[dict[str, Any]]
    xlsx: Path
    pdf: Path
    fields: tuple[Field, ...]


@pytest.fixture(scope="session")  # not module: tests reordered by their parameters would build it twice
def demo(tmp_path_factory: pytest.TempPathFactory, database_copies: DatabaseCopies) -> str:
    directory = tmp_path_factory.mktemp("demo")
    db = database_copies.copy(f"sqlite:///{directory / 'demo.db'}", directory, "cli-demo", build_demo_through_cli)
    db.engine.dispose()
    return str(directory / "demo.db")


@pytest.fixture(scope="session")
def outputs(demo: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outputs]:
    """Every report as JSON, XLSX and PDF, from one demo database."""
    directory = tmp_path_factory.mktemp("reports")
    made = {}
    for name, (options, fields) in REPORTS.items():
        command = name.split("-")[0]
        as_json = run("report", command, *options, "--db", demo, "-f", "json")
        assert as_json.exit_code == 0, as_json.output
        files = {}
        for fmt in ("xlsx", "pdf"):
            files[fmt] = directory / f"{name}.{fmt}"
            result = run("report", command, *options, "--db", demo, "-f", fmt, "--output", str(files[fmt]))
            assert result.exit_code == 0, result.output
            assert f"wrote {files[fmt]}" in result.stderr
        made[name] = Outputs(json.loads(as_json.stdout)["rows"], files["xlsx"], files["pdf"], fields)
    return made


def same_cell(kind: Kind, cell: Any, value: Any) -> bool:
    """Whether the workbook's cell holds the JSON value: integers, text and dates exactly; a decimal to the 16
    significant digits a spreadsheet number holds (every digit when it has no more, as money to the cent has) —
    never the rounded figure a table shows."""
    if value is None or isinstance(value, bool | int) or kind is Kind.TEXT:
        return bool(cell == value)
    if kind is Kind.DATE:
        return bool(cell == datetime.combine(date.fromisoformat(value), datetime.min.time()))
    exact = Decimal(value)
    if len(exact.as_tuple().digits) <= 15:
        return Decimal(repr(cell)) == exact
    return math.isclose(cell, float(exact), rel_tol=1e-15)


@pytest.mark.parametrize("name", list(REPORTS))
class TestXlsx:
    def test_every_cell_is_the_json_value_exactly(self, outputs: dict[str, Outputs], name: str) -> None:
        out = outputs[name]
        sheet = load_workbook(out.xlsx)["Report"]
        assert [c.value for c in sheet[HEADER_ROW]] == [f.key for f in out.fields]
        assert sheet.max_row == HEADER_ROW + len(out.rows) and out.rows
        for i, record in enumerate(out.rows, start=HEADER_ROW + 1):
            for col, f in enumerate(out.fields, start=1):
                cell = sheet.cell(row=i, column=col)
                assert same_cell(f.kind, cell.value, record[f.key]), (i, f.key, cell.value, record[f.key])
                if cell.value is not None and f.kind in NUMBER_FORMATS:
                    assert cell.number_format == NUMBER_FORMATS[f.kind]

    def test_money_is_stored_exact_and_only_shown_rounded(self, outputs: dict[str, Outputs], name: str) -> None:
        out = outputs[name]
        money = [f.key for f in out.fields if f.kind is Kind.MONEY]
        fractional = [r[k] for r in out.rows for k in money
                      if r.get(k) and Decimal(r[k]) % 1 and len(Decimal(r[k]).as_tuple().digits) <= 15]
        if money:  # the demo's values have cents: a workbook that rounded them would lose them
            assert fractional, "no money with cents to check"
        sheet = load_workbook(out.xlsx)["Report"]
        stored = {sheet.cell(row=r, column=c).value for r in range(HEADER_ROW + 1, sheet.max_row + 1)
                  for c, f in enumerate(out.fields, start=1) if f.kind is Kind.MONEY}
        assert all(float(Decimal(v)) in stored for v in fractional)  # to the cent, not to the euro shown

    def test_header_is_frozen_and_the_report_says_what_it_is(self, outputs: dict[str, Outputs], name: str) -> None:
        sheet = load_workbook(outputs[name].xlsx)["Report"]
        assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
        assert "SYNTHETIC DEMO DATA" in sheet["A1"].value and sheet["A2"].value

    def test_definitions_sheet_is_the_glossary(self, outputs: dict[str, Outputs], name: str) -> None:
        out = outputs[name]
        sheet = load_workbook(out.xlsx)["Definitions"]
        rows = [(r[0].value, r[1].value) for r in sheet.iter_rows(min_row=2, max_row=len(out.fields) + 1)]
        assert rows == defined(f.key for f in out.fields)

    def test_a_native_chart_over_the_report_cells(self, outputs: dict[str, Outputs], name: str) -> None:
        """The workbook's chart draws the same rows and series as the report's one chart definition."""
        from openpyxl.utils import get_column_letter

        out = outputs[name]
        chart = {"coverage": charts.COVERAGE, "burden": charts.BURDEN, "lag": charts.LAG,
                 "gaps": charts.GAPS}[name.split("-")[0]]
        book = load_workbook(out.xlsx)
        (drawn,) = book["Chart"]._charts  # openpyxl reads a chart back into the sheet that holds it
        rows = chart.shown_rows(out.rows)
        labels = [c.value for c in book["Chart"]["A"][1:]]
        assert labels == [chart.label(r) for r in rows] and labels
        keys = [f.key for f in out.fields]
        first = HEADER_ROW + 1 + out.rows.index(rows[0])
        assert [s.val.numRef.f for s in drawn.series] == [
            f"'Report'!${get_column_letter(keys.index(key) + 1)}${first}:"
            f"${get_column_letter(keys.index(key) + 1)}${first + len(rows) - 1}" for key, _ in chart.series]
        assert [s.tx.v for s in drawn.series] == [label for _, label in chart.series]


@pytest.mark.parametrize("name", list(REPORTS))
class TestPdf:
    def test_text_holds_the_same_figures_as_shown(self, outputs: dict[str, Outputs], name: str) -> None:
        out = outputs[name]
        reader = PdfReader(out.pdf)
        text = " ".join(page.extract_text() for page in reader.pages)
        words = set(text.split())
        numeric = [f for f in out.fields if f.kind is not Kind.TEXT]
        for record in out.rows:
            for f in numeric:
                value = record[f.key]
                figure = shown(f.kind, Decimal(value) if isinstance(value, str) and f.kind is not Kind.DATE
                               else date.fromisoformat(value) if f.kind is Kind.DATE else value)
                if figure:
                    assert figure in words, (f.key, figure)
        assert "Tables round money to the euro and shares to two decimals" in " ".join(text.split())

    def test_chart_is_vector_paths_not_an_image(self, outputs: dict[str, Outputs], name: str) -> None:
        first = PdfReader(outputs[name].pdf).pages[0]
        xobjects = first["/Resources"].get("/XObject", {})
        assert not [x for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image"]
        paths = re.findall(rb"[0-9.]+ [0-9.]+ m .*? [SfB]\b", first.get_contents().get_data())
        assert len(paths) > 30  # the bars, axes and ticks as path operators (move, line, fill or stroke)

    def test_pages_render(self, outputs: dict[str, Outputs], name: str, tmp_path: Path) -> None:
        if not shutil.which("pdftoppm"):
            pytest.skip("pdftoppm (poppler-utils) is not installed: the pages are not rendered here")
        subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "2", str(outputs[name].pdf),
                        str(tmp_path / "page")], check=True)
        pages = sorted(tmp_path.glob("page-*.png"))
        assert pages and all(p.stat().st_size > 1000 for p in pages)


def test_every_field_a_report_emits_is_in_the_glossary(outputs: dict[str, Outputs]) -> None:
    emitted = {key for out in outputs.values() for row in out.rows for key in row}
    assert emitted - GLOSSARY.keys() == set()


def test_binary_formats_refuse_a_terminal(demo: str, tmp_path: Path) -> None:
    """Run for real on a pseudo-terminal: a workbook is never written to a screen, and nothing is written."""
    for fmt in ("xlsx", "pdf"):
        leader, follower = pty.openpty()
        done = subprocess.run([sys.executable, "-m", "contactgroup", "report", "burden", "--db", demo, "-f", fmt],
                              stdout=follower, stderr=subprocess.PIPE, cwd=tmp_path, timeout=120,
                              env={**os.environ, "COLUMNS": "200"})
        os.close(follower)
        os.close(leader)
        assert done.returncode == 2
        assert f"--format {fmt} writes a file: pass --output FILE" in done.stderr.decode()


def test_a_table_is_not_written_to_a_file(demo: str, tmp_path: Path) -> None:
    result = run("report", "lag", "--db", demo, "--output", str(tmp_path / "lag.txt"))
    assert result.exit_code == 2 and "--output takes --format csv, json, xlsx or pdf" in result.output
    assert not (tmp_path / "lag.txt").exists()


def test_json_and_csv_go_to_a_file_unchanged(demo: str, tmp_path: Path) -> None:
    for fmt in ("json", "csv"):
        target = tmp_path / f"burden.{fmt}"
        assert run("report", "burden", "--db", demo, "-f", fmt, "-o", str(target)).exit_code == 0
        printed = run("report", "burden", "--db", demo, "-f", fmt).stdout
        assert _timeless(target.read_text(encoding="utf-8")) == _timeless(printed)


def _timeless(text: str) -> str:
    """A report without its stamp's times of computing (which differ between two runs)."""
    return "\n".join(line for line in text.splitlines() if not any(
        key in line for key in ('"as_of":', '"generated_at":', "# as_of:", "# generated_at:")))


HOSTILE = '=HYPERLINK("http://x.invalid","open") 東京 Київ Łódź Αθήνα'


def test_hostile_names_stay_text_in_the_workbook_and_marked_in_the_pdf(world: World, cli: Cli,
                                                                      tmp_path: Path) -> None:
    """A name from the record that looks like a formula is a text cell, never a formula; characters the PDF's font
    lacks (here Japanese) are shown as "?", never failing the report; Cyrillic, Polish and Greek print as written."""
    with world.db.transaction() as uow:
        admin = world.caller("admin")
        svc.catalogue_item(uow, admin, Item("odd", "Odd item", Category.HUMANITARIAN, "each", None,
                                              Decimal("10")))
        svc.define_item_class(uow, admin, ItemClass("odd", HOSTILE, "artillery", ("odd",)))
    rid = open_requirement(world, 5, 1, item_class="odd")
    book_path, pdf_path = tmp_path / "c.xlsx", tmp_path / "c.pdf"
    assert cli("report", "coverage", "-f", "xlsx", "-o", str(book_path)).exit_code == 0
    assert cli("report", "coverage", "-f", "pdf", "-o", str(pdf_path)).exit_code == 0
    sheet = load_workbook(book_path)["Report"]
    row = next(r for r in sheet.iter_rows(min_row=HEADER_ROW + 1) if r[0].value == rid)
    assert row[1].value == HOSTILE and row[1].data_type == "s"
    text = " ".join(PdfReader(pdf_path).pages[1].extract_text().split())
    assert '=HYPERLINK("http://x.invalid","open") ?? Київ Łódź Αθήνα' in text


def test_an_output_that_cannot_be_written_is_one_clear_line(demo: str, tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "burden.pdf"
    result = run("report", "burden", "--db", demo, "-f", "pdf", "--output", str(target))
    assert result.exit_code == 2 and f"--output {target}: cannot write it" in result.output
    assert "Traceback" not in result.output and not target.exists()
