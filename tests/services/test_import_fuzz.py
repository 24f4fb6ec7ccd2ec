"""Fuzzing the offers import (CSV and XLSX) and its free text: every file is either refused with each problem named
by file, row and column, writing nothing, or accepted and its text shown back exactly; never a traceback."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.domain import text
from contactgroup.domain.errors import ValidationFailed
from contactgroup.io.spreadsheet import csv_text, write_xlsx
from contactgroup.services.offer_import import import_offers
from tests.factories import World

COLUMNS = ("member", "item", "quantity", "available_from", "depot", "end_use")
# Where a refusal may point: the file, its header, or a row and column of it.
WHERE = re.compile(r"offers\.(csv|xlsx)(: header|: row \d+(, column [a-z_()]+)?)?")

# Each cell is mostly well formed, so that whole files are accepted too, and sometimes hostile.
printable = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60)
free_text = printable | printable | st.text(st.characters(blacklist_categories=("Cs",)), max_size=60) | \
    st.sampled_from(["[/]", "[link=https://evil.example]x[/link]", "\x1b[2J", "\x1b]8;;http://x\x1b\\y\x1b]8;;\x1b\\",
                     "=1+1", "'=SUM(A1)", "@cmd", "-2+3", "\u202egnp.exe", "a\u200bb", "line\nline", "tab\there",
                     "\x00", "x" * 4000, "x" * 4001])
valid_whole = st.integers(1, 10**6).map(str)
whole = valid_whole | valid_whole | st.integers(-3, 10**13).map(str) | \
    st.sampled_from(["1_000", "١٠", "1e3", "", " 7 ", "+5", "0x10"])
valid_day = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(str)
day = valid_day | valid_day | st.dates().map(str) | \
    st.sampled_from(["20250301", "2024-02-30", "٢٠٢٤-٠٨-٠١", "2024-8-1", ""])
row = st.fixed_dictionaries({"member": st.sampled_from(["DEU", "DEU", "DEU", "FRA", "XXX", ""]),
                             "item": st.just("155-a"), "quantity": whole, "available_from": day,
                             "depot": st.sampled_from(["DEU", "DEU", "deu"]), "end_use": free_text})


def _write(folder: Path, kind: str, rows: list[dict[str, str]]) -> Path:
    path = folder / f"offers.{kind}"
    if kind == "csv":
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(COLUMNS)
            w.writerows([csv_text(r[c]) for c in COLUMNS] for r in rows)
    else:
        write_xlsx(path, COLUMNS, [[r[c] for c in COLUMNS] for r in rows])
    return path


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(["csv", "xlsx"]), rows=st.lists(row, min_size=1, max_size=3))
def test_refused_by_row_and_column_or_shown_back_verbatim(world: World, kind: str,
                                                          rows: list[dict[str, str]]) -> None:
    if kind == "xlsx":  # XML cannot hold these at all: the writer would show them escaped, not as they are
        rows = [{k: ILLEGAL_CHARACTERS_RE.sub("", v).replace("\r", "") for k, v in r.items()} for r in rows]
    before = world.event_count()
    with TemporaryDirectory() as folder:
        path = _write(Path(folder), kind, rows)
        try:
            with world.db.transaction() as uow:
                ids = import_offers(uow, world.caller("deu"), path).entered
        except ValidationFailed as refused:
            assert refused.problems
            for problem in refused.problems:
                assert WHERE.fullmatch(problem.where), problem
            assert world.event_count() == before  # all or nothing
            event("refused")
            return
    event("accepted")
    assert len(ids) == len(rows)
    state = world.db.state()
    for offer_id, r in zip(ids, rows, strict=True):
        end_use = r["end_use"].strip()
        assert state.offers[offer_id].end_use == end_use
        assert text.text_problems("end_use", end_use) == []
        env = {"CONTACTGROUP_DB": world.db.url, "COLUMNS": "300"}
        shown = CliRunner().invoke(app, ["offer", "show", offer_id, "-f", "json", "--as", "deu"], env=env)
        assert json.loads(shown.output)[0]["end_use"] == end_use
        table = CliRunner().invoke(app, ["offer", "show", offer_id, "--as", "deu"], env=env)
        assert table.exit_code == 0 and "\x1b" not in table.output
        for line in text.visible(end_use).expandtabs().splitlines():  # a table shows a tab as spaces
            assert line.strip() in table.output
