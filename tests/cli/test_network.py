"""`contactgroup network import|export|legs|rules|zones`: the transport network from CSV or XLSX files, all rows or
none, every bad cell named by file, row and column; an export reads back as the same network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from contactgroup.cli import remote
from contactgroup.cli.main import app
from contactgroup.io.spreadsheet import write_workbook
from contactgroup.services import tokens
from contactgroup.services.clock import SystemClock
from tests.cli.conftest import Cli
from tests.ledger_integration.conftest import serving

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the record's engines: test_mobility

PLACES = """code,name,kind,country,lat,lon,capacity,capacity_unit,source
RTM-PORT,Port of Rotterdam,port,NLD,51.95,4.14,,,https://www.portofrotterdam.com
RZE-HUB,Rzeszów logistics hub,logistics hub,POL,50.11,22.02,500,t,
"""
LEGS = """origin,to,mode,transit_days,capacity,capacity_unit,source
RTM-PORT,RZE-HUB,rail,4,10,shipments,DB Cargo
RZE-HUB,RTM-PORT,road,3,,,
"""
RULES = """country,mode,since,permission,lead_days,dangerous_extra_days,preauthorised,source
POL,rail,2020-01-01,yes,10,5,DEU LTU,
NLD,road,2020-01-01,no,,,,
"""
ZONES = """code,name,countries,starts,lead_days,modes
NL-DE-PL,NL–DE–PL corridor,NLD DEU POL,2024-01-31,,road rail
"""


def write(tmp_path: Path, **tables: str) -> list[str]:
    tmp_path.mkdir(exist_ok=True)
    paths = []
    for name, body in tables.items():
        (tmp_path / f"{name}.csv").write_text(body, encoding="utf-8")
        paths.append(str(tmp_path / f"{name}.csv"))
    return paths


def imported(cli: Cli, tmp_path: Path) -> None:
    result = cli("network", "import", *write(tmp_path, places=PLACES, legs=LEGS, rules=RULES, zones=ZONES),
                 user="admin")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("recorded 2 places, 2 legs, 2 rules, 1 zones (0 rows already held")


@pytest.mark.usefixtures("world")
class TestImport:
    def test_a_network_is_recorded_and_listed(self, cli: Cli, tmp_path: Path) -> None:
        imported(cli, tmp_path)
        legs = json.loads(cli("network", "legs", "--format", "json", user="deu").stdout)
        assert legs[0] == {"origin": "RTM-PORT", "to": "RZE-HUB", "mode": "rail", "transit_days": 4,
                           "capacity": "10 shipments/day", "source": "DB Cargo"}
        rules = json.loads(cli("network", "rules", "--format", "json", user="deu").stdout)
        assert [r["preauthorised"] for r in rules] == ["", "DEU LTU"] and rules[0]["permission"] == "no"
        zones = cli("network", "zones", "--format", "csv", user="deu").stdout
        assert "NL-DE-PL,NL–DE–PL corridor,NLD DEU POL,2024-01-31,none,road rail," in zones

    def test_lists_an_import_and_an_export_read_the_same_against_a_server(self, cli: Cli, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
        imported(cli, tmp_path)
        lists = [["network", kind, *fmt] for kind in ("legs", "rules", "zones") for fmt in ([], ["--format", "json"])]
        here = [cli(*args, user="deu").stdout for args in lists]
        legs = write(tmp_path / "again", legs=LEGS)
        here.append(cli("network", "import", *legs, user="admin").stdout)  # held already: nothing recorded
        assert cli("network", "export", str(tmp_path / "here"), user="deu").exit_code == 0
        monkeypatch.setenv(remote.CONFIG_ENV, str(tmp_path / "config"))
        issued = {user: tokens.issue(cli.db, cli.db.state(), user, now=SystemClock().now(), scope=tokens.Scope.WRITE)
                  for user in ("deu", "admin")}
        with serving(cli.db.url, None) as url:
            def there(user: str, *args: str) -> Result:
                remote.save(remote.Login(url, user, issued[user].token, issued[user].row.id))
                return CliRunner().invoke(app, list(args), env={remote.SERVER_ENV: url, "COLUMNS": "200"})

            served = [there("deu", *args).stdout for args in lists]
            served.append(there("admin", "network", "import", *legs).stdout)
            assert there("deu", "network", "export", str(tmp_path / "there")).exit_code == 0
            several = there("admin", "network", "import", *write(tmp_path / "two", legs=LEGS, zones=ZONES))
        assert served == here
        assert here[-1].startswith("recorded 0 places, 0 legs") and "2 rows already held" in here[-1]
        assert several.exit_code == 2 and "takes one file" in several.output
        exported = sorted(p.name for p in (tmp_path / "here").iterdir())
        assert exported == ["legs.csv", "places.csv", "rules.csv", "zones.csv"]
        assert [(tmp_path / "there" / name).read_bytes() for name in exported] == [
            (tmp_path / "here" / name).read_bytes() for name in exported]

    def test_importing_the_same_files_again_records_nothing(self, cli: Cli, tmp_path: Path) -> None:
        imported(cli, tmp_path)
        before = cli.events()
        again = cli("network", "import", *[str(p) for p in sorted(tmp_path.glob("*.csv"))], user="admin")
        assert again.exit_code == 0 and "recorded 0 places, 0 legs, 0 rules, 0 zones (7 rows already held" in \
            again.stdout
        assert cli.events() == before

    @pytest.mark.parametrize(("table", "row", "message"), [
        ("legs", "RTM-PORT,LVIV-HUB,road,2,,,", "legs.csv: row 4, column to: unknown place 'LVIV-HUB'"),
        ("legs", "RZE-HUB,RZE-HUB,road,1,,,", "legs.csv: row 4, column to: a leg cannot lead from 'RZE-HUB' to "
                                              "itself"),
        ("legs", "RZE-HUB,RTM-PORT,rail,2,-5,t,", "legs.csv: row 4, column capacity: must be a whole number, 0 or "
                                                  "more, got -5"),
        ("places", "LVIV,Lviv,airfield,UKR,49.8,23.9,-1,,", "places.csv: row 4, column capacity: must be a whole "
                                                            "number, 0 or more, got -1"),
        ("zones", "EAST,Eastern flank,POL XYZ,2025-01-01,2,", "zones.csv: row 3, column countries: 'XYZ' is not "
                                                              "an ISO 3166 alpha-3 country code"),
        ("rules", "POL,air,2024-01-01,maybe,3,,,", "rules.csv: row 4, column permission: 'maybe' is not yes or no"),
        ("legs", "RTM-PORT,RZE-HUB,rail,5,,,", "legs.csv: row 4, column (row): repeats legs.csv: row 2 (RTM-PORT > "
                                               "RZE-HUB by rail)"),
    ])
    def test_a_bad_row_is_named_by_row_and_column_and_nothing_is_written(
            self, cli: Cli, tmp_path: Path, table: str, row: str, message: str) -> None:
        tables = {"places": PLACES, "legs": LEGS, "rules": RULES, "zones": ZONES}
        tables[table] += row + "\n"
        before = cli.events()
        result = cli("network", "import", *write(tmp_path, **tables), user="admin")
        assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
        assert cli.events() == before

    def test_a_workbooks_bad_cell_is_named_by_sheet_row_and_column(self, cli: Cli, tmp_path: Path) -> None:
        book = tmp_path / "network.xlsx"
        sheets = [(name, body.splitlines()[0].split(","), [line.split(",") for line in body.splitlines()[1:]])
                  for name, body in (("places", PLACES), ("legs", LEGS + "RZE-HUB,RZE-HUB,road,1,,,\n"))]
        write_workbook(book, sheets)
        before = cli.events()
        result = cli("network", "import", str(book), user="admin")
        assert result.exit_code == 2
        assert "network.xlsx [legs]: row 4, column to: a leg cannot lead from 'RZE-HUB' to itself" in \
            " ".join(result.output.split())
        assert cli.events() == before

    def test_a_file_that_is_no_network_table_is_named(self, cli: Cli, tmp_path: Path) -> None:
        result = cli("network", "import", *write(tmp_path, other="a,b\n1,2\n"), user="admin")
        assert result.exit_code == 2 and "other.csv: header: is none of the network's tables" in result.output

    def test_only_a_coordinator_imports(self, cli: Cli, tmp_path: Path) -> None:
        result = cli("network", "import", *write(tmp_path, places=PLACES), user="deu")
        assert result.exit_code == 4 and "place:define" in result.output


@pytest.mark.usefixtures("world")
class TestExport:
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_an_export_reads_back_as_the_same_network(self, cli: Cli, tmp_path: Path, fmt: str) -> None:
        """Every row of the export is one the record holds exactly as it is: importing it records nothing."""
        imported(cli, tmp_path / "in")
        target = tmp_path / ("out" if fmt == "csv" else "network.xlsx")
        result = cli("network", "export", str(target), "--format", fmt, user="analyst")
        assert result.exit_code == 0, result.output
        files = sorted(str(p) for p in target.glob("*.csv")) if fmt == "csv" else [str(target)]
        assert len(files) == (4 if fmt == "csv" else 1)
        before = cli.events()
        again = cli("network", "import", *files, user="admin")
        assert again.exit_code == 0, again.output
        assert "recorded 0 places, 0 legs, 0 rules, 0 zones (7 rows already held" in again.stdout
        assert cli.events() == before

    def test_a_path_it_cannot_write_is_one_clear_line(self, cli: Cli, tmp_path: Path) -> None:
        (tmp_path / "taken").write_text("a file, not a directory")
        result = cli("network", "export", str(tmp_path / "taken"), "--format", "csv", user="analyst")
        assert result.exit_code == 1 and "cannot write" in result.output and "Traceback" not in result.output
