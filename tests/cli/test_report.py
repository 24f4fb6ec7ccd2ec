"""`contactgroup report ...`: the four reports as tables, CSV and JSON, with fixed JSON keys."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from click.testing import Result

from contactgroup.domain.event import Context
from tests.cli.conftest import Cli
from tests.factories import World
from tests.reports.scenario import Scenario

BURDEN_KEYS = {"member", "committed_eur", "allocated_eur", "delivered_eur", "share_of_total", "gdp_year",
               "allocated_pct_gdp", "committed_pct_gdp"}


def rows_of(result: Result) -> list[dict[str, Any]]:
    """The rows of a stamped JSON report (the envelope's `rows`)."""
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)["rows"]
    return rows


def without_stamp(text: str) -> str:
    """A CSV report without its `# label: value` header block, as an importing reader skips it."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("# "))


def mark_synthetic(w: World) -> None:
    with w.db.transaction() as uow:
        ctx = Context("admin", "IDCC", "IDCC", w.clock.now())
        uow.record([ctx.event("SettingChanged", {"name": "synthetic", "value": "yes"})])


class TestBurden:
    def test_json_has_the_fixed_keys_and_exact_money(self, scenario: Scenario, cli: Cli) -> None:
        result = cli("report", "burden", "--format", "json")
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)["rows"]
        assert all(set(r) >= BURDEN_KEYS for r in rows)
        deu = next(r for r in rows if r["member"] == "DEU")
        assert Decimal(deu["allocated_eur"]) == 1890000 and deu["gdp_year"] == 2023
        assert "AMMO" not in {r["member"] for r in rows}

    def test_gdp_year_option(self, scenario: Scenario, cli: Cli) -> None:
        rows = rows_of(cli("report", "burden", "--gdp-year", "2019", "-f", "json"))
        assert {r["gdp_year"] for r in rows} == {None} and {r["allocated_pct_gdp"] for r in rows} == {None}

    def test_a_gdp_year_without_gdp_says_so_and_which_years_there_are(self, scenario: Scenario, cli: Cli) -> None:
        table = cli("report", "burden", "--gdp-year", "2019")
        assert "no GDP recorded for 2019 (years available: 2023)" in " ".join(table.stdout.split())
        as_csv = cli("report", "burden", "--gdp-year", "2019", "-f", "csv")
        assert as_csv.exit_code == 0 and "no GDP recorded for 2019 (years available: 2023)" in as_csv.stderr
        assert "no GDP recorded" not in cli("report", "burden", "-f", "csv").stderr

    def test_table_rounds_money_and_explains(self, scenario: Scenario, cli: Cli) -> None:
        result = cli("report", "burden")
        assert result.exit_code == 0, result.output
        assert "Burden sharing" in result.stdout and "1,890,000" in result.stdout and "66.32%" in result.stdout
        assert "pro rata" in result.stdout and "SYNTHETIC" not in result.stdout
        assert "round money to the euro and shares to two decimals" in " ".join(result.stdout.split())

    def test_csv_header(self, scenario: Scenario, cli: Cli) -> None:
        reader = csv.DictReader(io.StringIO(without_stamp(cli("report", "burden", "-f", "csv").stdout)))
        assert set(reader.fieldnames or []) >= BURDEN_KEYS
        assert Decimal(next(reader)["allocated_eur"]) == 1890000


class TestCoverage:
    # Tier 1 asks for two item classes: no unit total (units of unlike things are not added), only value.
    @pytest.mark.parametrize(("by", "first_key", "needed"), [("requirement", "R-00001", 1000), ("tier", "1", None),
                                                              ("class", "155mm", 1500),
                                                              ("area", "artillery", 1500)])
    def test_groupings(self, scenario: Scenario, cli: Cli, by: str, first_key: str, needed: int) -> None:
        rows = rows_of(cli("report", "coverage", "--by", by, "-f", "json"))
        assert rows[0]["grouping"] == by and rows[0]["key"] == first_key and rows[0]["needed"] == needed

    def test_table(self, scenario: Scenario, cli: Cli) -> None:
        result = cli("report", "coverage", "--by", "tier")
        assert result.exit_code == 0 and "Coverage by tier" in result.stdout and "priority 1" in result.stdout

    def test_csv(self, scenario: Scenario, cli: Cli) -> None:
        text = without_stamp(cli("report", "coverage", "-f", "csv").stdout)
        assert text.splitlines()[0].startswith("grouping,key,name,priority,area,status,requirements,needed")

    def test_unknown_grouping_is_refused(self, scenario: Scenario, cli: Cli) -> None:
        assert cli("report", "coverage", "--by", "nation").exit_code == 2


class TestLagAndGaps:
    def test_lag_json(self, scenario: Scenario, cli: Cli) -> None:
        rows = rows_of(cli("report", "lag", "-f", "json"))
        assert {"member": "DEU", "category": "military", "shipments": 2, "units": 590, "median_days": "40",
                "p90_days": 50, "min_days": 30, "max_days": 50} in rows

    def test_gaps_limit_and_reasons(self, scenario: Scenario, cli: Cli) -> None:
        rows = rows_of(cli("report", "gaps", "--limit", "3", "-f", "json"))
        assert [r["requirement"] for r in rows] == [scenario.r1, scenario.r3, scenario.r2]
        assert rows[2]["reason"] == "taken_by_higher_priority"
        assert rows[2]["breakdown"]["needs_consent"] == 100
        assert not any(o in json.dumps(rows) for o in scenario.offers)

    def test_gaps_table(self, scenario: Scenario, cli: Cli) -> None:
        result = cli("report", "gaps")
        assert result.exit_code == 0 and "no_compatible_offer" in result.stdout


class TestSyntheticData:
    @pytest.mark.parametrize("report", ["coverage", "burden", "lag", "gaps"])
    def test_demo_output_says_so_in_every_format(self, scenario: Scenario, cli: Cli, report: str) -> None:
        mark_synthetic(scenario.world)
        assert "SYNTHETIC DEMO DATA" in cli("report", report).stdout
        as_json = cli("report", report, "-f", "json")
        assert all(r["synthetic"] is True for r in rows_of(as_json))
        assert "SYNTHETIC" in as_json.stderr
        assert "synthetic" in without_stamp(cli("report", report, "-f", "csv").stdout).splitlines()[0]


def test_reports_on_an_empty_coordination(cli: Cli) -> None:
    for report in ("coverage", "burden", "lag", "gaps"):
        result = cli("report", report)
        assert result.exit_code == 0, (report, result.output)


def test_missing_database_is_one_clear_line(tmp_path: object) -> None:
    from contactgroup.storage.database import Database

    result = Cli(Database(f"sqlite:///{tmp_path}/none.db"))("report", "burden")
    assert result.exit_code != 0 and "contactgroup init" in result.output


class TestZeroRows:
    def test_burden_leaves_out_donors_with_nothing_unless_all(self, scenario: Scenario, cli: Cli) -> None:
        shown = json.loads(cli("report", "burden", "-f", "json").stdout)["rows"]
        every = json.loads(cli("report", "burden", "--all", "-f", "json").stdout)["rows"]
        zero = [r for r in every
                if not any(Decimal(r[k]) for k in ("committed_eur", "allocated_eur", "delivered_eur"))]
        assert zero and [r for r in every if r not in zero] == shown
        table = " ".join(cli("report", "burden").stdout.split())
        rows = f"{len(zero)} row{'s' if len(zero) > 1 else ''}"
        assert f"{rows} with every figure zero left out (--all shows them)" in table

    def test_coverage_keeps_every_requirement_with_a_need(self, scenario: Scenario, cli: Cli) -> None:
        rows = json.loads(cli("report", "coverage", "-f", "json").stdout)["rows"]
        assert [r["key"] for r in rows] == [scenario.r1, scenario.r3, scenario.r2, scenario.r4]


class TestVocabulary:
    @pytest.mark.parametrize("report", [("coverage",), ("gaps",)])
    def test_tables_say_confirmed_not_committed(self, scenario: Scenario, cli: Cli, report: tuple[str, ...]) -> None:
        table = cli("report", *report).stdout
        assert "confirmed" in table and "committed" not in table.split("\n\n")[0].splitlines()[1]

    def test_coverage_json_keeps_the_legacy_keys_beside_the_new(self, scenario: Scenario, cli: Cli) -> None:
        r1 = json.loads(cli("report", "coverage", "-f", "json").stdout)["rows"][0]
        assert r1["committed"] == r1["confirmed"] and r1["allocated"] == r1["pending"] + r1["confirmed"]
        assert Decimal(r1["needed_eur"]) == r1["needed"] * Decimal(r1["unit_value_eur"])
