"""Output that cannot be turned against its reader: stored text shows as text in every table and message, escape
sequences never reach a terminal, and exported cells never run as spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from rich.console import Console

from contactgroup.cli import common
from contactgroup.domain.model import Category, Item
from contactgroup.services import coordination as svc
from tests.cli.conftest import Cli
from tests.factories import World, enter_offer, open_requirement

MARKUP = "[/] [link=https://evil.example]click[/link] [bold]"


class TestStoredMarkupShowsAsText:
    def test_a_closing_tag_in_a_requirement_note_shows_in_show_and_list(self, world: World, cli: Cli) -> None:
        req = open_requirement(world)
        world.do(svc.draft_requirement, "ukr", item_class="155mm", quantity=5, priority=2,
                 needed_by=date(2024, 9, 1),
                 destination="UKR-West", note=MARKUP)
        shown = cli("requirement", "show", "R-00002", user="ukr")
        assert shown.exit_code == 0, shown.output
        assert "[/] [link=https://evil.example]click[/link] [bold]" in shown.output
        listed = cli("requirement", "list", user="ukr")
        assert listed.exit_code == 0, listed.output
        assert req in listed.output

    def test_an_end_use_with_markup_shows_in_offer_show(self, world: World, cli: Cli) -> None:
        offer = enter_offer(world, end_use=MARKUP)
        shown = cli("offer", "show", offer, user="deu")
        assert shown.exit_code == 0, shown.output
        assert MARKUP in shown.output

    def test_an_item_name_with_markup_shows_in_the_catalogue(self, world: World, cli: Cli) -> None:
        world.do(svc.catalogue_item, "admin", Item("odd", "Odd [/] kit [link=x]y", Category.MILITARY, "kit"))
        listed = cli("catalogue", "items", user="deu")
        assert listed.exit_code == 0, listed.output
        assert "Odd [/] kit [link=x]y" in listed.output

    def test_bidi_and_zero_width_in_free_text_show_escaped(self, world: World, cli: Cli) -> None:
        offer = enter_offer(world, end_use="only for \u202eesu ecnefed\u202c\u200b")
        shown = cli("offer", "show", offer, user="deu")
        assert "only for \\u202eesu ecnefed\\u202c\\u200b" in shown.output
        as_json = json.loads(cli("offer", "show", offer, "-f", "json", user="deu").output)
        assert as_json[0]["end_use"] == "only for \u202eesu ecnefed\u202c\u200b"  # the data itself is unchanged


class TestTheConsoleSeam:
    """Text from an older record (before entry refused control characters) still cannot act on a terminal."""

    @pytest.fixture
    def screen(self, monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
        buffer = io.StringIO()
        console = common.PlainConsole(file=buffer, width=200, soft_wrap=True)
        monkeypatch.setattr(common, "out", console)
        return buffer

    def test_escape_sequences_in_a_table_are_written_out(self, screen: io.StringIO) -> None:
        hostile = "clear\x1b[2J osc8 \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ bell\x07 csi\x9b31m"
        common.emit([{"id": "R-1", "note": hostile}], common.Format.TABLE, title="T \x1b[31m")
        shown = screen.getvalue()
        assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
        assert "clear\\x1b[2J" in shown and "\\x1b]8;;https://evil.example" in shown and "T \\x1b[31m" in shown

    def test_a_message_whose_markup_cannot_parse_is_shown_plain(self, screen: io.StringIO) -> None:
        common.out.print("[green]✓[/] imported from [/].csv", highlight=False)
        assert "imported from [/].csv" in screen.getvalue()

    def test_intended_markup_still_styles(self) -> None:
        buffer = io.StringIO()
        console = common.PlainConsole(file=buffer, force_terminal=True, color_system="standard")
        console.print("[bold]ok[/]")
        assert "\x1b[1m" in buffer.getvalue() and "[bold]" not in buffer.getvalue()

    def test_a_plain_console_differs_from_rich_on_escapes(self) -> None:
        plain, rich = io.StringIO(), io.StringIO()
        Console(file=rich).print("x\x1b[2Jy", markup=False)
        common.PlainConsole(file=plain).print("x\x1b[2Jy", markup=False)
        assert "\x1b[2J" in rich.getvalue() and "\x1b" not in plain.getvalue()


class TestCsvExport:
    def test_an_end_use_that_is_a_formula_is_exported_as_text(self, world: World, cli: Cli) -> None:
        offer = enter_offer(world, end_use='=HYPERLINK("http://evil.example","details")', quantity=10)
        result = cli("offer", "show", offer, "-f", "csv", user="deu")
        assert result.exit_code == 0, result.output
        (row,) = csv.DictReader(io.StringIO(result.output))
        assert row["end_use"] == '\'=HYPERLINK("http://evil.example","details")'
        assert row["quantity"] == "10"

    def test_every_text_cell_a_spreadsheet_would_run_is_quoted(self, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
        rows = [{"note": v, "value": n} for v, n in (("=1+1", "-5"), ("+A1", "+1.5"), ("-2+3", "12"),
                                                     ("@x", "0"), ("\tTAB", "3"), ("'=y", "5"),
                                                     ("'plain", "6"), ("a=b", "-7.25"))]
        common.emit(rows, common.Format.CSV)
        written = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
        assert [r["note"] for r in written] == ["'=1+1", "'+A1", "'-2+3", "'@x", "'\tTAB", "''=y",
                                                "'plain", "a=b"]
        assert [r["value"] for r in written] == ["-5", "+1.5", "12", "0", "3", "5", "6", "-7.25"]
