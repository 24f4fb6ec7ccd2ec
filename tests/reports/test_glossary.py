"""The one vocabulary: the glossary in docs/reports.md is the code's, every field a report emits is defined, and the
words committed, allocated and delivered head no column of another meaning."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from contactgroup.cli.report import BURDEN_FIELDS, GAPS_FIELDS, LAG_FIELDS, By, coverage_fields
from contactgroup.reports.burden import BurdenRow
from contactgroup.reports.coverage import CoverageRow
from contactgroup.reports.gaps import GapRow
from contactgroup.reports.glossary import GLOSSARY, VOCABULARY, defined, markdown
from contactgroup.reports.lag import LagRow

DOC = Path(__file__).resolve().parents[2] / "docs" / "reports.md"
SHOWN = [*(f for by in By for f in coverage_fields(by)), *BURDEN_FIELDS, *LAG_FIELDS, *GAPS_FIELDS]


def test_docs_show_the_glossary_of_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- glossary:start -->\n", "<!-- glossary:end -->"
    assert text[text.index(start) + len(start):text.index(end)] == markdown(), (
        "docs/reports.md's glossary differs from contactgroup.reports.glossary: regenerate it")


@pytest.mark.parametrize("row", [CoverageRow, BurdenRow, LagRow, GapRow])
def test_every_field_of_every_report_is_defined(row: type) -> None:
    assert {f.name for f in dataclasses.fields(row)} - GLOSSARY.keys() == set()


def test_the_added_fields_and_the_demo_marker_are_defined() -> None:
    assert {"reasons", "breakdown", "synthetic"} <= GLOSSARY.keys()


def test_an_undefined_field_is_an_error_not_a_silent_gap() -> None:
    with pytest.raises(KeyError, match="not in the glossary: made_up"):
        defined(["member", "made_up"])


def test_committed_allocated_delivered_head_only_columns_of_their_one_meaning() -> None:
    """A heading that says committed, allocated or delivered shows a field of that meaning: burden's EUR, or
    delivered units — never the legacy coverage and gaps keys."""
    for f in SHOWN:
        for word in VOCABULARY:
            if word in f.heading:
                assert f.key in {f"{word}_eur", word, f"{word}_pct_gdp"} and f.key not in {"committed", "allocated"}
    assert not {"committed", "allocated"} & {f.key for f in SHOWN}
    assert GLOSSARY["committed"].startswith("LEGACY") and GLOSSARY["allocated"].startswith("LEGACY")
