"""Reports narrowed by effective dates, area, member and kind; stamped with the record they were computed on; and
`report check`, which computes a report file again from the record (on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from openpyxl import load_workbook

from contactgroup.io.report_xlsx import HEADER_ROW
from contactgroup.ledger import merkle
from contactgroup.ledger.leaf import event_leaf_hash
from contactgroup.services import reporting
from contactgroup.storage.database import read_events
from tests.cli.conftest import Cli
from tests.cli.test_report import mark_synthetic, rows_of, without_stamp
from tests.reports.scenario import Scenario


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(r[key]): r for r in rows}


class TestFilters:
    """The scenario's pledges were committed on 2024-07-01; goods arrived 07-31 and 08-20 (O1, DEU) and 08-15 (O3,
    the fund AMMO: DEU 30 %, USA 70 %), all 155mm at 3,000 €/unit."""

    def test_a_window_counts_pledges_by_commitment_date_and_deliveries_by_receipt(self, scenario: Scenario,
                                                                                   cli: Cli) -> None:
        rows = by(rows_of(cli("report", "burden", "--from", "2024-08-01", "-f", "json")), "member")
        assert Decimal(rows["DEU"]["committed_eur"]) == 0 and Decimal(rows["DEU"]["allocated_eur"]) == 0
        assert Decimal(rows["DEU"]["delivered_eur"]) == 200 * 3000 + Decimal("0.3") * 100 * 3000
        assert Decimal(rows["USA"]["delivered_eur"]) == Decimal("0.7") * 100 * 3000
        whole = by(rows_of(cli("report", "burden", "--to", "2024-12-31", "-f", "json")), "member")
        assert whole == by(rows_of(cli("report", "burden", "-f", "json")), "member")

    def test_lag_counts_the_shipments_received_in_the_window(self, scenario: Scenario, cli: Cli) -> None:
        rows = rows_of(cli("report", "lag", "--from", "2024-08-01", "--to", "2024-08-31", "-f", "json"))
        deu = next(r for r in rows if r["member"] == "DEU")
        assert (deu["shipments"], deu["units"], deu["min_days"]) == (1, 200, 50)

    def test_member_narrows_coverage_to_its_offers_and_burden_to_its_row(self, scenario: Scenario, cli: Cli) -> None:
        cover = by(rows_of(cli("report", "coverage", "--member", "FRA", "-f", "json")), "key")
        assert (cover[scenario.r1]["committed"], cover[scenario.r2]["allocated"], cover[scenario.r2]["committed"]) == (
            300, 50, 0)
        burden = rows_of(cli("report", "burden", "--member", "DEU", "-f", "json"))
        everyone = by(rows_of(cli("report", "burden", "-f", "json")), "member")
        assert burden == [everyone["DEU"]]

    def test_kind_and_area_narrow_requirements(self, scenario: Scenario, cli: Cli) -> None:
        humanitarian = rows_of(cli("report", "coverage", "--kind", "humanitarian", "-f", "json"))
        assert [r["key"] for r in humanitarian] == [scenario.r4]
        winter = rows_of(cli("report", "gaps", "--area", "winter", "-f", "json"))
        assert [r["requirement"] for r in winter] == [scenario.r4]
        military = rows_of(cli("report", "gaps", "--kind", "military", "--limit", "100", "-f", "json"))
        assert scenario.r4 not in {r["requirement"] for r in military} and military

    def test_gaps_by_needed_by_date(self, scenario: Scenario, cli: Cli) -> None:
        assert rows_of(cli("report", "gaps", "--to", "2024-08-31", "-f", "json")) == []
        assert rows_of(cli("report", "gaps", "--from", "2024-09-01", "-f", "json"))


class TestBadInput:
    @pytest.mark.parametrize(("args", "says"), [
        (("burden", "--member", "XYZ"), "--member: no member, fund or tracked donor 'XYZ'"),
        (("coverage", "--area", "nowhere"), "--area: no capability area 'nowhere'"),
        (("lag", "--from", "2024-09-01", "--to", "2024-08-01"), "--from: 2024-09-01 is after the end of the window"),
        (("lag", "--as-of", "2024-02-30"), "Invalid value for '--as-of'"),
        (("gaps", "--from", "01/08/2024"), "Invalid value for '--from'"),
        (("coverage", "--to", "yesterday"), "Invalid value for '--to'"),
        (("burden", "--kind", "tanks"), "Invalid value for '--kind'"),
        (("gaps", "--member", "DEU"), "No such option: --member"),
    ])
    def test_is_refused_naming_the_option(self, scenario: Scenario, cli: Cli, args: tuple[str, ...],
                                          says: str) -> None:
        result = cli("report", *args, "-f", "json")
        assert result.exit_code == 2 and says in " ".join(result.output.split()), result.output
        assert result.stdout == ""


def written(tmp_path: Path, result: Result, name: str = "report.json") -> Path:
    assert result.exit_code == 0, result.output
    path = tmp_path / name
    path.write_text(result.stdout, encoding="utf-8")
    return path


def edited(path: Path, change: Any) -> Path:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


class TestStamp:
    def test_json_carries_size_root_and_parameters(self, scenario: Scenario, cli: Cli) -> None:
        document = json.loads(cli("report", "coverage", "--by", "tier", "--kind", "military", "-f", "json").stdout)
        stamp = document["stamp"]
        with cli.db.reader() as conn:
            leaves = [event_leaf_hash(body) for _, body, _ in read_events(conn)]
        assert document["report"] == "coverage" and stamp["log_size"] == len(leaves) == cli.events()
        assert stamp["root"] == merkle_b64(merkle.root_hash(leaves))
        assert stamp["parameters"] == {"as_of": None, "from": None, "to": None, "area": None, "member": None,
                                       "kind": "military", "by": "tier"}
        assert stamp["checkpoint"] is None and stamp["as_of_date"] is None

    def test_csv_starts_with_the_stamp_that_a_reader_skips(self, scenario: Scenario, cli: Cli) -> None:
        text = cli("report", "burden", "--as-of", "2024-07-01", "-f", "csv").stdout
        header = dict(line[2:].split(": ", 1) for line in text.splitlines() if line.startswith("# "))
        assert header["as_of"] == "2024-07-02T00:00:00.000000Z" and int(header["log_size"]) > 0
        assert header["parameters"] == "as_of=2024-07-01"
        rows = list(csv.DictReader(io.StringIO(without_stamp(text))))
        assert rows and all(Decimal(r["delivered_eur"]) == 0 for r in rows)  # nothing had arrived by then

    def test_the_table_names_the_record_it_was_computed_on(self, scenario: Scenario, cli: Cli) -> None:
        shown = " ".join(cli("report", "lag", "--as-of", "2024-07-01").stdout.split())
        assert "Record as of the end of 2024-07-01:" in shown and "no checkpoint yet" in shown


def merkle_b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")


class TestCheck:
    @pytest.mark.parametrize("report", [("coverage", "--by", "area"), ("burden", "--gdp-year", "2023"), ("lag",),
                                        ("gaps", "--kind", "military")])
    def test_a_fresh_report_matches_and_the_record_has_not_grown(self, scenario: Scenario, cli: Cli, tmp_path: Path,
                                                                 report: tuple[str, ...]) -> None:
        path = written(tmp_path, cli("report", *report, "-f", "json"))
        result = cli("report", "check", str(path))
        assert result.exit_code == 0, result.output
        assert " 0 differ, 0 cannot be checked" in result.stdout and "has not grown since" in result.stdout

    def test_one_event_later_it_still_matches_and_says_the_record_grew(self, scenario: Scenario, cli: Cli,
                                                                       tmp_path: Path) -> None:
        path = written(tmp_path, cli("report", "burden", "-f", "json"))
        mark_synthetic(scenario.world)  # one event, which would change every row were it counted
        result = cli("report", "check", str(path))
        assert result.exit_code == 0, result.output
        assert "the record has grown since: 1 events recorded after it" in result.stdout
        assert " 0 differ" in result.stdout

    def test_a_changed_number_fails_naming_the_figure(self, scenario: Scenario, cli: Cli, tmp_path: Path) -> None:
        path = written(tmp_path, cli("report", "burden", "-f", "json"))
        rows = json.loads(path.read_text())["rows"]
        row = next(i for i, r in enumerate(rows) if r["member"] == "DEU")

        def change(document: dict[str, Any]) -> None:
            document["rows"][row]["allocated_eur"] = "1890001"

        result = cli("report", "check", str(edited(path, change)))
        assert result.exit_code == 6, result.output
        assert "1 figure differs" in result.stderr
        assert (f'row {row + 1} (DEU), allocated_eur: the file says "1890001", the record gives "1890000.0"'
                in " ".join(result.stderr.split()))

    def test_a_report_as_of_a_past_day_is_checked_at_its_size(self, scenario: Scenario, cli: Cli,
                                                              tmp_path: Path) -> None:
        path = written(tmp_path, cli("report", "coverage", "--as-of", "2024-07-01", "-f", "json"))
        size = json.loads(path.read_text())["stamp"]["log_size"]
        assert 0 < size < cli.events()
        result = cli("report", "check", str(path))
        assert result.exit_code == 0 and f"{cli.events() - size:,} events recorded after it" in result.stdout

    def test_a_figure_the_checker_does_not_compute_cannot_be_checked(self, scenario: Scenario, cli: Cli,
                                                                     tmp_path: Path) -> None:
        path = written(tmp_path, cli("report", "lag", "-f", "json"))

        def add(document: dict[str, Any]) -> None:
            document["rows"][0]["hidden_units"] = 12

        result = cli("report", "check", str(edited(path, add)))
        assert result.exit_code == 0, result.output
        assert "cannot check: row 1 (AMMO/military), hidden_units" in result.stdout
        assert "0 differ, 1 cannot be checked" in result.stdout

    def test_a_report_of_another_record_is_refused(self, scenario: Scenario, cli: Cli, tmp_path: Path) -> None:
        path = written(tmp_path, cli("report", "lag", "-f", "json"))

        def other(document: dict[str, Any]) -> None:
            document["stamp"]["root"] = merkle_b64(bytes(32))

        result = cli("report", "check", str(edited(path, other)))
        assert result.exit_code == 6 and "it was not computed from this record" in result.stderr

    def test_a_report_as_of_a_day_must_be_at_the_size_the_record_had_then(self, scenario: Scenario, cli: Cli,
                                                                          tmp_path: Path) -> None:
        path = written(tmp_path, cli("report", "lag", "--as-of", "2024-07-01", "-f", "json"))

        def later(document: dict[str, Any]) -> None:
            document["stamp"]["log_size"] += 1

        result = cli("report", "check", str(edited(path, later)))
        assert result.exit_code == 6 and "events at the end of 2024-07-01" in " ".join(result.stderr.split())

    @pytest.mark.parametrize(("change", "says"), [
        (lambda d: d.pop("stamp"), "report file: not a stamped report"),
        (lambda d: d["stamp"].update(log_size=-1), "stamp.log_size: -1 is not a whole number"),
        (lambda d: d["stamp"]["parameters"].update(member="XYZ"), "stamp.parameters.member: no member"),
        (lambda d: d["stamp"]["parameters"].update(to="tomorrow"), "stamp.parameters.to: 'tomorrow' is not a date"),
        (lambda d: d.update(report="rumours"), "report: 'rumours' is not one of"),
    ])
    def test_a_malformed_report_file_is_refused(self, scenario: Scenario, cli: Cli, tmp_path: Path,
                                                change: Any, says: str) -> None:
        path = written(tmp_path, cli("report", "burden", "-f", "json"))
        result = cli("report", "check", str(edited(path, change)))
        assert result.exit_code == 2 and says in " ".join(result.stderr.split()), result.output

    @pytest.mark.parametrize("text", ["member,committed_eur\nDEU,1\n", "[" * 200_000])
    def test_not_json_is_refused(self, cli: Cli, tmp_path: Path, text: str) -> None:
        path = tmp_path / "report.json"
        path.write_text(text)
        result = cli("report", "check", str(path))
        assert result.exit_code == 2 and "report file: not JSON" in result.stderr


class TestCheckpoint:
    def test_the_covering_checkpoint_verifies_and_a_forged_proof_fails(self, scenario: Scenario, cli: Cli,
                                                                      tmp_path: Path) -> None:
        path = written(tmp_path, cli("report", "gaps", "--as-of", "2024-07-01", "-f", "json"))
        key: tuple[str, ...] = ()  # on SQLite the founded coordination's key is beside its file
        if not cli.db.is_sqlite:  # on PostgreSQL it was founded without one
            key = ("--log-key", str(tmp_path / "log.key"))
            assert cli("ledger", "init-key", *key, user="admin").exit_code == 0
        assert cli("ledger", "checkpoint", *key).exit_code == 0
        later = written(tmp_path, cli("report", "gaps", "--as-of", "2024-07-01", "-f", "json"), "later.json")
        checkpoint = json.loads(later.read_text())["stamp"]["checkpoint"]
        assert checkpoint["size"] == cli.events() and checkpoint["consistency_proof"]
        verified = cli("report", "check", str(later))
        assert verified.exit_code == 0 and "signature and consistency proof verified" in verified.stdout
        # A report made before the checkpoint was signed: the record's checkpoint covers it now.
        older = cli("report", "check", str(path))
        assert older.exit_code == 0 and "the record's checkpoint of size" in older.stdout

        def forged(document: dict[str, Any]) -> None:
            document["stamp"]["checkpoint"]["consistency_proof"][0] = merkle_b64(bytes(32))

        result = cli("report", "check", str(edited(later, forged)))
        assert result.exit_code == 6 and "the consistency proof does not verify" in result.stderr

        def unsigned(document: dict[str, Any]) -> None:
            note = document["stamp"]["checkpoint"]["note"]
            document["stamp"]["checkpoint"]["note"] = note.replace(note.split("\n")[1], str(cli.events() + 1), 1)

        result = cli("report", "check", str(edited(later, unsigned)))
        assert result.exit_code == 6 and "does not verify with the log key the record publishes" in result.stderr


def signed(cli: Cli, tmp_path: Path) -> None:
    """A checkpoint of the record as it is (on PostgreSQL the coordination was founded without a log key)."""
    key: tuple[str, ...] = ()
    if not cli.db.is_sqlite:
        key = ("--log-key", str(tmp_path / "log.key"))
        assert cli("ledger", "init-key", *key, user="admin").exit_code == 0
    assert cli("ledger", "checkpoint", *key).exit_code == 0


def saved(tmp_path: Path, cli: Cli, name: str, *args: str) -> Path:
    path = tmp_path / name
    result = cli(*args, "--output", str(path))
    assert result.exit_code == 0, result.output
    return path


class TestFiles:
    """The stamp as a header block — `# key: value` lines in CSV, a "Stamp" sheet in a workbook — and `report check`
    reading a CSV or XLSX report back like the JSON envelope."""

    def test_the_workbooks_stamp_block_is_the_json_envelopes_stamp(self, scenario: Scenario, cli: Cli,
                                                                   tmp_path: Path) -> None:
        report = ("report", "gaps", "--as-of", "2024-07-01")
        signed(cli, tmp_path)
        stamp = json.loads(cli(*report, "-f", "json").stdout)["stamp"]
        book = load_workbook(saved(tmp_path, cli, "gaps.xlsx", *report, "-f", "xlsx"))
        assert book.sheetnames[:2] == ["Report", "Stamp"]
        block = [tuple(c.value for c in row) for row in book["Stamp"].iter_rows(min_row=2)]
        assert ("Log size: events the report was computed on", stamp["log_size"], "log_size") in block
        assert ("Root of the log's Merkle tree at that size", stamp["root"], "root") in block
        read = reporting.read_report_file((tmp_path / "gaps.xlsx").read_bytes()).document["stamp"]
        assert read["checkpoint"] and read["checkpoint"]["consistency_proof"]
        given = {k: v for k, v in stamp["parameters"].items() if v is not None}  # the block names what is set
        assert {**read, "generated_at": None} == {**stamp, "generated_at": None, "parameters": given}  # computed
        # twice, a moment apart

    @pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # files, not engines: JSON is checked on both
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    @pytest.mark.parametrize("report", [("burden",), ("coverage", "--by", "requirement"), ("lag",), ("gaps",)])
    def test_a_csv_or_xlsx_report_is_checked_like_json(self, scenario: Scenario, cli: Cli, tmp_path: Path,
                                                        fmt: str, report: tuple[str, ...]) -> None:
        path = saved(tmp_path, cli, f"report.{fmt}", "report", *report, "-f", fmt)
        result = cli("report", "check", str(path))
        assert result.exit_code == 0, result.output
        assert " 0 differ, 0 cannot be checked" in result.stdout and "has not grown since" in result.stdout

    def test_a_changed_cell_fails_naming_the_figure(self, scenario: Scenario, cli: Cli, tmp_path: Path) -> None:
        path = saved(tmp_path, cli, "burden.xlsx", "report", "burden", "-f", "xlsx")
        book = load_workbook(path)
        sheet = book["Report"]
        header = [c.value for c in sheet[HEADER_ROW]]
        row = next(r for r in range(HEADER_ROW + 1, sheet.max_row + 1) if sheet.cell(r, 1).value == "DEU")
        sheet.cell(row, header.index("allocated_eur") + 1).value = 1890001
        book.save(path)
        result = cli("report", "check", str(path))
        assert result.exit_code == 6, result.output
        assert (f'row {row - HEADER_ROW} (DEU), allocated_eur: the file says 1890001, the record gives "1890000.0"'
                in " ".join(result.stderr.split()))
        csv_path = saved(tmp_path, cli, "burden.csv", "report", "burden", "-f", "csv")
        csv_path.write_text(csv_path.read_text().replace(",1890000.0,", ",1890001,", 1))
        result = cli("report", "check", str(csv_path))
        assert result.exit_code == 6 and "(DEU), allocated_eur: the file says \"1890001\"" in result.stderr

    @pytest.mark.parametrize(("text", "says"), [
        ("# report: burden\n# log_size\nmember\nDEU\n", "line 2 is not `# key: value`"),
        ("# report: burden\nmember\nDEU\n", "not a stamped report"),
        ("PK\x03\x04 not a zip", "not a readable XLSX workbook"),
    ])
    def test_a_malformed_csv_or_xlsx_file_is_refused(self, cli: Cli, tmp_path: Path, text: str, says: str) -> None:
        path = tmp_path / "report.csv"
        path.write_text(text)
        result = cli("report", "check", str(path))
        assert result.exit_code == 2 and says in " ".join(result.stderr.split()), result.output

    def test_a_workbook_with_a_dtd_is_refused_before_any_xml_is_parsed(self, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "report.xlsx"
        with zipfile.ZipFile(path, "w") as package:
            package.writestr("xl/workbook.xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
        result = cli("report", "check", str(path))
        assert result.exit_code == 2 and "declares a DTD or entities" in result.stderr
