"""`contactgroup import kiel|rates`: coordinators only, all rows or nothing, clear messages and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli
from tests.conftest import KIEL_R29
from tests.factories import World


class TestKiel:
    def test_imports_then_refuses_the_same_release(self, cli: Cli) -> None:
        first = cli("import", "kiel", str(KIEL_R29), "--as", "admin")
        assert first.exit_code == 0, first.output
        assert "Kiel UST Release 29" in first.stdout and "42 donors" in first.stdout
        assert "tracked donors (not members, not admitted): CHE, CHN, CYP, EU, IND, MLT, TWN" in first.stdout
        before = cli.events()
        again = cli("import", "kiel", str(KIEL_R29), "--as", "admin")
        assert again.exit_code == 5 and "already imported" in again.output
        assert cli.events() == before
        rows = json.loads(cli("report", "burden", "--gdp-year", "2021", "-f", "json").stdout)["rows"]
        est = next(r for r in rows if r["member"] == "EST")
        assert est["gdp_year"] == 2021 and abs(float(est["allocated_pct_gdp"]) - 3.0631409) < 1e-6

    def test_needs_to_know_who_you_are(self, cli: Cli) -> None:
        result = cli("import", "kiel", str(KIEL_R29))
        assert result.exit_code == 2 and "--as" in result.output

    def test_refuses_a_desk_officer(self, world: World, cli: Cli) -> None:
        result = cli("import", "kiel", str(KIEL_R29), "--as", "deu")
        assert result.exit_code == 4 and "import:reference" in result.output

    def test_bad_cell_names_file_row_column_and_changes_nothing(self, cli: Cli, tmp_path: Path) -> None:
        bad = tmp_path / "r29"
        bad.mkdir()
        (bad / "release_info.csv").write_bytes((KIEL_R29 / "release_info.csv").read_bytes())
        lines = (KIEL_R29 / "data_explorer.csv").read_text(encoding="utf-8").splitlines()
        lines[3] = lines[3].replace(",2022,", ",twenty22,", 1)
        (bad / "data_explorer.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        before = cli.events()
        result = cli("import", "kiel", str(bad), "--as", "admin")
        assert result.exit_code == 2
        assert "data_explorer.csv, row 4, column year: 'twenty22' is not a year" in result.output
        assert cli.events() == before


class TestRates:
    def test_imports_rates(self, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "rates.csv"
        path.write_text("currency,date,per_eur\nUAH,2024-01-02,42\n")
        result = cli("import", "rates", str(path), "--as", "admin")
        assert result.exit_code == 0 and "Recorded 1 rates" in result.stdout

    def test_bad_rows_all_reported_and_nothing_recorded(self, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "rates.csv"
        path.write_text("currency,date,per_eur\nUAH,2024-01-02,42\nUAH,2024-01-03,x\nuah,2024-01-04,1\n")
        before = cli.events()
        result = cli("import", "rates", str(path), "--as", "admin")
        assert result.exit_code == 2
        assert "rates.csv, row 3, column per_eur" in result.output
        assert "rates.csv, row 4, column currency" in result.output
        assert cli.events() == before
