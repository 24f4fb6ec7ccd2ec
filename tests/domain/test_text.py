"""The text rules every front door applies: limits, characters, and one written form of numbers and dates."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactgroup.domain import text


class TestNames:
    def test_a_name_of_the_limit_is_taken_one_more_is_refused_naming_field_and_limit(self) -> None:
        assert text.name_problems("name", "x" * text.MAX_NAME) == []
        (problem,) = text.name_problems("name", "x" * (text.MAX_NAME + 1))
        assert problem.where == "name"
        assert "201 characters" in problem.message and "at most 200" in problem.message

    @pytest.mark.parametrize("ch", ["\x00", "\x1b", "\n", "\t", "\r", "\x7f", "\x9b", "\u202e", "\u2066", "\u200b",
                                    "\u200d", "\ufeff", "\u2028", "\udc80"])
    def test_control_bidi_and_zero_width_characters_are_refused(self, ch: str) -> None:
        (problem,) = text.name_problems("name", f"Ger{ch}many")
        assert f"U+{ord(ch):04X}" in problem.message and "position 4" in problem.message

    def test_accents_and_other_scripts_are_names(self) -> None:
        assert text.name_problems("name", "Česká republika — Україна — 日本") == []


class TestFreeText:
    def test_line_breaks_and_tabs_are_free_text(self) -> None:
        assert text.text_problems("note", "first line\n\tsecond line") == []

    def test_bidi_and_zero_width_are_kept_in_free_text(self) -> None:
        assert text.text_problems("note", "abc\u202edef\u200b") == []

    @pytest.mark.parametrize("ch", ["\x00", "\x1b", "\r", "\x07", "\x85", "\udc80"])
    def test_other_control_characters_are_refused(self, ch: str) -> None:
        (problem,) = text.text_problems("end_use", f"ab{ch}")
        assert problem.where == "end_use" and "position 3" in problem.message

    def test_the_limit_is_4000_characters(self) -> None:
        assert text.text_problems("note", "é" * 4000) == []
        (problem,) = text.text_problems("note", "é" * 4001)
        assert "4,001 characters" in problem.message and "at most 4,000" in problem.message


class TestVisible:
    def test_escapes_and_invisible_characters_are_written_out(self) -> None:
        assert text.visible("a\x1b[2Jb\u202ec\u200bd") == "a\\x1b[2Jb\\u202ec\\u200bd"

    def test_line_breaks_stay_in_multiline_text_only(self) -> None:
        assert text.visible("a\nb\tc") == "a\nb\tc"
        assert text.visible("a\nb", multiline=False) == "a\\x0ab"

    @given(st.text())
    def test_what_is_shown_has_no_control_or_format_character(self, value: str) -> None:
        shown = text.visible(value)
        assert all(ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Cf", "Zl", "Zp") for ch in shown)

    @given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp"))))
    def test_ordinary_text_is_shown_unchanged(self, value: str) -> None:
        assert text.visible(value) == value


class TestStrictForms:
    @pytest.mark.parametrize("written", ["1_000", "١٢٣", "1,000", "1e3", " 12", "12\n", "", "0x10", "١"])
    def test_whole_numbers_have_one_form(self, written: str) -> None:
        with pytest.raises(ValueError, match=r"is not a whole number: write the digits 0-9 only, like 1000"):
            text.whole(written)

    def test_whole_numbers(self) -> None:
        assert text.whole("1000") == 1000 and text.whole("-3") == -3

    @pytest.mark.parametrize("written", ["1_000.5", "٣.٥", "1e6", "NaN", "Infinity", "1,5", "", "."])
    def test_decimals_have_one_form(self, written: str) -> None:
        with pytest.raises(ValueError, match=r"is not a number: .* like 1234\.56"):
            text.number(written)

    def test_decimals(self) -> None:
        assert text.number("1234.56") == Decimal("1234.56") and text.number("-.5") == Decimal("-0.5")

    @pytest.mark.parametrize("written", ["20250301", "2025-W09-6", "2025-3-1", "٢٠٢٥-٠٣-٠١", "2025-02-30",
                                         "2025-03-01T00:00", "2025-03-01\n"])
    def test_dates_have_one_form(self, written: str) -> None:
        with pytest.raises(ValueError, match=r"is not a date \(YYYY-MM-DD\): write it like 2025-03-01"):
            text.day(written)

    def test_dates(self) -> None:
        assert text.day("2025-03-01") == date(2025, 3, 1)


@pytest.mark.parametrize("rule", ["2/3\n", "٢/٣", "all\n"])
def test_a_quorum_rule_matches_whole_and_in_ascii_digits(rule: str) -> None:
    from contactgroup.domain.governance import rule_problems

    assert rule_problems(rule) != []
    assert rule_problems(rule.strip().replace("٢", "2").replace("٣", "3")) == []


def test_the_documented_limits_are_the_enforced_ones() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "limits.md").read_text(encoding="utf-8")
    for limit in (text.MAX_TEXT, text.MAX_NAME, text.MAX_IMPORT_ROWS, text.MAX_IMPORT_BYTES, text.MAX_XLSX_UNPACKED):
        assert f"{limit:,}" in doc
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "docs/limits.md" in readme
