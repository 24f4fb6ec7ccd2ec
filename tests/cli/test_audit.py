"""Findings of the coordination-core audit: each refusal is one clear line, an exit code, and nothing written."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.storage.database import Database
from tests.cli.conftest import build_demo_through_cli
from tests.cli.test_commands import db, events, init_through_cli, run
from tests.conftest import DatabaseCopies

__all__ = ["db"]


def _open_requirement(db: str, quantity: str = "100") -> None:
    code, output = run(db, "requirement", "add", "--class", "155mm", "--quantity", quantity, "--priority", "1",
                       "--needed-by", "2024-09-01", "--destination", "UKR-West", "--submit", "--on", "2024-07-01",
                       user="ukr")
    assert code == 0, output
    rid = output.split()[-1]
    for action in ("validate", "open"):
        assert run(db, "requirement", "move", rid, action, user="admin")[0] == 0


def _offer(db: str, *extra: str, quantity: str = "600") -> str:
    code, output = run(db, "offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", quantity,
                       "--available-from", "2024-08-01", "--depot", "DEU", *extra, user="deu")
    assert code == 0, output
    return output.split()[-1]


class TestUnknownArea:
    def test_add_class_refuses_an_unknown_area_and_offer_lists_still_work(self, db: str) -> None:
        before = events(db)
        code, output = run(db, "catalogue", "add-class", "c2", "--name", "x", "--area", "nosuch", "--item", "155-a",
                           user="admin")
        assert code == 3 and "no capability area 'nosuch'" in output
        assert events(db) == before
        assert run(db, "user", "add", "fra-lead", "--party", "FRA", "--role", "coalition_lead", user="admin")[0] == 0
        _offer(db, "--visibility", "coalition")
        code, output = run(db, "offer", "list", "--format", "json", user="fra-lead")
        assert code == 0 and [o["id"] for o in json.loads(output)] == ["O-00001"]


class TestHugeNumbersAndBrokenFiles:
    @pytest.mark.parametrize(
        ("args", "user", "message"),
        [
            (("requirement", "add", "--class", "155mm", "--quantity", "99999999999999999999999", "--priority", "1",
              "--needed-by", "2024-10-01", "--destination", "W"), "ukr",
             "quantity: must be at most 1,000,000,000,000 (10^12), got 99999999999999999999999"),
            (("offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "99999999999999999999",
              "--available-from", "2024-10-01", "--depot", "DEU"), "deu", "quantity: must be at most"),
            (("requirement", "add", "--class", "155mm", "--quantity", "5", "--priority", "99999999999999999999",
              "--needed-by", "2024-10-01", "--destination", "W"), "ukr", "priority: must be at most"),
            (("offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "5", "--value", "1" + "0" * 30,
              "--currency", "EUR", "--basis", "book", "--available-from", "2024-10-01", "--depot", "DEU"), "deu",
             "value: must be below 10^18"),
        ],
    )
    def test_a_number_too_large_is_named_with_exit_2(
        self, db: str, args: tuple[str, ...], user: str, message: str
    ) -> None:
        before = events(db)
        code, output = run(db, *args, user=user)
        assert code == 2, output
        assert message in output and "Traceback" not in output
        assert events(db) == before

    def test_prioritise_refuses_a_huge_priority(self, db: str) -> None:
        _open_requirement(db)
        before = events(db)
        code, output = run(db, "requirement", "prioritise", "R-00001", "99999999999999999999", user="ukr")
        assert code == 2 and "priority: must be at most" in output
        assert events(db) == before

    def test_a_corrupt_spreadsheet_is_one_line(self, db: str, tmp_path: Path) -> None:
        junk = tmp_path / "junk.xlsx"
        junk.write_bytes(bytes(range(256)) + b"not a zip")
        code, output = run(db, "import", "offers", str(junk), user="deu")
        assert code == 2 and "junk.xlsx: cannot be read as an XLSX workbook" in output

    def test_a_directory_is_not_called_missing(self, db: str, tmp_path: Path) -> None:
        code, output = run(db, "import", "offers", str(tmp_path), user="deu")
        assert code == 2 and "is a directory" in output

    def test_a_row_longer_than_the_header_is_named_with_its_file_row(self, db: str, tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_text("member,item,quantity,available_from,depot\n\n"
                        "DEU,155-a,5,2024-10-01,DEU,extra\n\nDEU,155-a,0,2024-10-01,DEU\n", encoding="utf-8")
        code, output = run(db, "import", "offers", str(path), user="deu")
        assert code == 2, output
        assert "offers.csv: row 3, column (row): more cells than columns in the header" in output
        assert "offers.csv: row 5, column quantity: must be positive, got 0" in output

    def test_xlsx_rows_are_numbered_as_the_sheet_shows_them(self, db: str, tmp_path: Path) -> None:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append(["member", "item", "quantity", "available_from", "depot"])
        ws.append([])
        ws.append(["DEU", "155-a", 5, "2024-10-01", "DEU"])
        ws.append(["DEU", "155-a", "x", "2024-10-01", "DEU"])
        wb.save(tmp_path / "offers.xlsx")
        code, output = run(db, "import", "offers", str(tmp_path / "offers.xlsx"), user="deu")
        assert code == 2 and "offers.xlsx: row 4, column quantity: 'x' is not a whole number" in output

    def test_permission_and_format_problems_come_in_one_pass(self, db: str, tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_text("member,item,quantity,available_from,depot\nFRA,155-a,5,2024-10-01,FRA\n"
                        "DEU,155-a,-1,2024-10-01,DEU\nDEU,nope,5,2024-10-01,ZZZ\n", encoding="utf-8")
        code, output = run(db, "import", "offers", str(path), user="deu")
        assert code == 2
        assert "row 2: deu is a desk officer for DEU and may not offer:enter for FRA" in output
        assert "row 3, column quantity: must be positive" in output
        assert "row 4, column item: no item 'nope'" in output

    @pytest.mark.parametrize("url", ["mysql://x/y", "postgresql://127.0.0.1/test"])
    def test_an_unsupported_database_url_says_what_is_supported(self, url: str) -> None:
        code, output = run(url, "init")
        assert code == 2 and "not supported" in output and "postgresql+psycopg://" in output
        assert "Traceback" not in output


class TestMalformedValues:
    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (("--value", "100", "--currency", "XYZ", "--basis", "book"), "currency: 'XYZ' is not an ISO 4217"),
            (("--currency", "EUR"), "currency: a currency needs a declared value"),
            (("--depot", "ZZZ"), "depot: 'ZZZ' is neither an ISO 3166 alpha-3 country code nor the code of a place"),
        ],
    )
    def test_offer_add_refuses(self, db: str, extra: tuple[str, ...], message: str) -> None:
        args = ["offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "5",
                "--available-from", "2024-10-01"]
        if "--depot" not in extra:
            args += ["--depot", "DEU"]
        before = events(db)
        code, output = run(db, *args, *extra, user="deu")
        assert code == 2 and message in output, output
        assert events(db) == before

    def test_member_add_refuses_an_unreal_currency(self, db: str) -> None:
        code, output = run(db, "member", "add", "CHE", "--name", "Switzerland", "--currency", "XYZ", user="admin")
        assert code == 2 and "'XYZ' is not an ISO 4217 currency code" in output

    def test_member_add_refuses_the_recipient(self, db: str) -> None:
        code, output = run(db, "member", "add", "UKR", "--name", "Ukraine", "--currency", "UAH", user="admin")
        assert code == 5 and "the recipient is not a donor member" in output

    def test_requirement_needs_a_destination(self, db: str) -> None:
        code, output = run(db, "requirement", "add", "--class", "155mm", "--quantity", "5", "--priority", "1",
                           "--needed-by", "2024-10-01", "--on", "2024-07-01", "--destination", " ", user="ukr")
        assert code == 2 and "destination: must not be empty" in output

    def test_rates_refuse_an_unreal_currency_with_its_row(self, db: str, tmp_path: Path) -> None:
        path = tmp_path / "rates.csv"
        path.write_text("currency,date,per_eur\n\nUAH,2024-01-02,41.5\nXYZ,2024-01-02,3\n", encoding="utf-8")
        code, output = run(db, "import", "rates", str(path), user="admin")
        assert code == 2 and "rates.csv, row 4, column currency: 'XYZ' is not an ISO 4217" in output


class TestInit:
    @pytest.mark.parametrize(("args", "message"), [
        (("--recipient", "ZZ"), "recipient: must be an ISO 3166 alpha-3 country code, got 'ZZ'"),
        (("--no-members", "--admin", ""), "admin: '' is not a user name"),
        (("--authority", " "), "authority: must not be empty"),
    ])
    def test_a_refused_init_creates_no_file(self, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
        code, output = run(str(tmp_path / "x.db"), "init", *args)
        assert code == 2 and message in output
        assert list(tmp_path.iterdir()) == []

    def test_the_recipient_is_not_admitted_as_a_member(self, tmp_path: Path) -> None:
        db = str(tmp_path / "x.db")
        code, output = run(db, "init", "--recipient", "DEU")
        assert code == 0 and "51 members admitted" in output
        members = json.loads(run(db, "member", "list", "--format", "json")[1])
        assert "DEU" not in {m["code"] for m in members}


class TestActingOnHiddenOffers:
    def test_a_lead_cannot_propose_an_offer_it_may_not_see_nor_learn_its_size(self, db: str) -> None:
        assert run(db, "user", "add", "fra-lead", "--party", "FRA", "--role", "coalition_lead", user="admin")[0] == 0
        _open_requirement(db, "1000")
        _offer(db, quantity="600")  # visibility member: DEU and the authority only
        before = events(db)
        code, output = run(db, "allocation", "propose", "--offer", "O-00001", "--requirement", "R-00001",
                           "--quantity", "900", user="fra-lead")
        assert code == 3 and "no offer 'O-00001' that fra-lead may see" in output and "600" not in output
        assert events(db) == before
        _offer(db, "--visibility", "coalition", quantity="50")
        assert run(db, "allocation", "propose", "--offer", "O-00002", "--requirement", "R-00001",
                   "--quantity", "50", user="fra-lead")[0] == 0
        rows = json.loads(run(db, "allocation", "list", "--format", "json", user="fra-lead")[1])
        assert [a["id"] for a in rows] == ["A-00001"]

    def test_consent_list_shows_only_what_the_user_may_see(self, db: str) -> None:
        assert run(db, "user", "add", "fra", "--party", "FRA", "--role", "desk_officer", user="admin")[0] == 0
        assert run(db, "user", "add", "est", "--party", "EST", "--role", "desk_officer", user="admin")[0] == 0
        _offer(db, "--consent-from", "FRA")
        assert run(db, "consent", "request", "O-00001", user="deu")[0] == 0
        for user, seen in (("deu", ["K-00001"]), ("fra", ["K-00001"]), ("est", []), ("admin", ["K-00001"])):
            code, output = run(db, "consent", "list", "--format", "json", user=user)
            assert code == 0 and [c["id"] for c in json.loads(output)] == seen, user


def test_verify_names_the_key_of_every_table(db: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE name = 'ukr'"))
        conn.execute(sa.text("DELETE FROM items WHERE code = '155-a'"))
    engine.dispose()
    code, output = run(db, "verify")
    assert code == 6
    assert "users[ukr]: the log creates this row" in output and "items[155-a]: the log creates" in output


def _chain(db: str) -> None:
    """A requirement met by a confirmed allocation, shipped and received."""
    _open_requirement(db, "1000")
    _offer(db, "--value", "1800000", "--currency", "EUR", "--basis", "replacement", "--status", "committed",
           "--consent-from", "FRA", "--end-use", "territory of the recipient only, no transfer to third parties")
    assert run(db, "user", "add", "fra", "--party", "FRA", "--role", "desk_officer", user="admin")[0] == 0
    assert run(db, "consent", "request", "O-00001", user="deu")[0] == 0
    assert run(db, "consent", "decide", "K-00001", "grant", user="fra")[0] == 0
    assert run(db, "allocation", "propose", "--offer", "O-00001", "--requirement", "R-00001", "--quantity", "600",
               user="admin")[0] == 0
    for user, action in (("deu", "accept"), ("ukr", "accept"), ("admin", "confirm")):
        assert run(db, "allocation", "move", "A-00001", action, user=user)[0] == 0, action
    today = date.today().isoformat()
    assert run(db, "delivery", "dispatch", "--allocation", "A-00001", "--quantity", "600", "--on", today,
               user="deu")[0] == 0
    assert run(db, "delivery", "receive", "D-00001", "--on", today, "--short", "5", user="ukr")[0] == 0


@pytest.fixture
def chained(db_url: str, tmp_path: Path, database_copies: DatabaseCopies) -> str:
    """`db` with `_chain` run on it (built once per session through the command line, copied per test)."""

    def build(new: Database, _directory: Path) -> None:
        init_through_cli(new.url)
        _chain(new.url)

    database_copies.copy(db_url, tmp_path, "cli-init-chain", build).engine.dispose()
    return db_url


def run80(db: str, *args: str, user: str | None = None) -> str:
    env = {"CONTACTGROUP_DB": db, "COLUMNS": "80"}
    if user:
        env["CONTACTGROUP_USER"] = user
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


NARROW = [
    (("offer", "list"), ("id", "quantity", "status")),
    (("delivery", "list"), ("id", "allocation", "quantity", "received", "short")),
    (("allocation", "list"), ("id", "offer", "requirement", "quantity")),
    (("requirement", "list"), ("id", "priority", "quantity", "needed_by")),
    (("consent", "list"), ("id", "offer", "origin")),
    (("member", "list"), ("code", "currency")),
    (("report", "coverage"), ("key", "needed", "confirmed", "missing")),
    (("report", "coverage", "--by", "tier"), ("key", "needed", "confirmed", "missing")),
    (("report", "gaps"), ("requirement", "needed", "missing")),
    (("report", "lag"), ("member", "shipments", "median_days")),
]


@pytest.mark.xdist_group("cli-init-chain")  # one worker builds the chain (through the command line), not each
@pytest.mark.parametrize(("args", "fields"), NARROW)
def test_at_80_columns_every_id_and_number_is_intact(chained: str, args: tuple[str, ...],
                                                     fields: tuple[str, ...]) -> None:
    db = chained
    if args[0] == "report" and args[1] == "gaps":
        _open_requirement(db, "50")
    table = run80(db, *args, user="admin")
    assert all(len(line) <= 80 for line in table.splitlines() if "─" in line), table
    words = set(table.split())
    found = json.loads(run(db, *args, "--format", "json", user="admin")[1])
    records = found["rows"] if args[0] == "report" else found
    assert records, args
    for record in records:
        for field in fields:
            value = record[field]
            shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
            assert shown in words or str(value) in words, (field, shown, table)


@pytest.mark.xdist_group("cli-init-chain")  # one worker builds the chain (through the command line), not each
def test_burden_table_keeps_money_intact_and_names_unvalued_offers(chained: str) -> None:
    db = chained
    assert run(db, "catalogue", "add-item", "tent", "--name", "Tent", "--category", "humanitarian", "--unit", "each",
               user="admin")[0] == 0
    code, output = run(db, "offer", "add", "--member", "DEU", "--item", "tent", "--quantity", "5",
                       "--available-from", "2024-06-01", "--depot", "DEU", "--status", "committed", user="deu")
    assert code == 0, output
    table = run80(db, "report", "burden")
    assert "1,800,000" in table.split() and "Not counted, no value known (offers): DEU 1" in " ".join(table.split())


class TestLifecycleAndDates:
    def _confirmed(self, db: str, *offer_args: str) -> None:
        _open_requirement(db, "1000")
        _offer(db, *offer_args)
        assert run(db, "allocation", "propose", "--offer", "O-00001", "--requirement", "R-00001", "--quantity",
                   "600", user="admin")[0] == 0
        for user, action in (("deu", "accept"), ("ukr", "accept"), ("admin", "confirm")):
            assert run(db, "allocation", "move", "A-00001", action, user=user)[0] == 0, action

    def test_confirming_an_offered_offer_records_its_commitment_first(self, db: str) -> None:
        self._confirmed(db)
        engine = sa.create_engine(db)
        with engine.connect() as conn:
            types = [r[0] for r in conn.execute(sa.text("SELECT type FROM events ORDER BY seq DESC LIMIT 2"))]
        engine.dispose()
        assert types == ["AllocationConfirmed", "OfferCommitted"]
        offer = json.loads(run(db, "offer", "show", "O-00001", "--format", "json", user="admin")[1])[0]
        assert offer["status"] == "allocated" and offer["committed_on"]

    def test_a_past_commitment_date_is_kept(self, db: str) -> None:
        _offer(db, "--status", "committed", "--committed-on", "2023-03-01")
        offer = json.loads(run(db, "offer", "show", "O-00001", "--format", "json", user="deu")[1])[0]
        assert offer["committed_on"] == "2023-03-01"
        code, output = run(db, "offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "5",
                           "--available-from", "2024-08-01", "--depot", "DEU", "--committed-on", "2023-03-01",
                           user="deu")
        assert code == 2 and "needs --status committed" in output

    @pytest.mark.parametrize(("on", "message"), [
        ("2000-01-01", "is before allocation A-00001 was proposed"),
        ("2999-01-01", "is in the future"),
    ])
    def test_dispatch_dates_are_checked(self, db: str, on: str, message: str) -> None:
        self._confirmed(db)
        before = events(db)
        code, output = run(db, "delivery", "dispatch", "--allocation", "A-00001", "--quantity", "10", "--on", on,
                           user="deu")
        assert code == 2 and message in output
        assert events(db) == before

    def test_a_requirement_with_received_units_cannot_be_cancelled(self, db: str) -> None:
        self._confirmed(db)
        today = date.today().isoformat()
        assert run(db, "delivery", "dispatch", "--allocation", "A-00001", "--quantity", "10", "--on", today,
                   user="deu")[0] == 0
        assert run(db, "delivery", "receive", "D-00001", "--on", today, user="ukr")[0] == 0
        before = events(db)
        code, output = run(db, "requirement", "move", "R-00001", "cancel", user="ukr")
        assert code == 5 and "10 unit(s) were already received" in output and "close it instead" in output
        assert events(db) == before


class TestShow:
    @pytest.mark.xdist_group("cli-init-chain")  # one worker builds the chain (through the command line), not each
    def test_allocation_and_delivery_show_to_who_may_see_them(self, chained: str) -> None:
        db = chained
        shown = json.loads(run(db, "allocation", "show", "A-00001", "--format", "json", user="deu")[1])[0]
        assert (shown["offer"], shown["member"], shown["shipments"], shown["received"]) == ("O-00001", "DEU",
                                                                                          "D-00001", 595)
        shown = json.loads(run(db, "delivery", "show", "D-00001", "--format", "json", user="admin")[1])[0]
        assert (shown["allocation"], shown["requirement"], shown["short"]) == ("A-00001", "R-00001", 5)
        assert run(db, "user", "add", "est", "--party", "EST", "--role", "desk_officer", user="admin")[0] == 0
        code, output = run(db, "allocation", "show", "A-00001", user="est")
        assert code == 3 and "no allocation 'A-00001' that est may see" in output
        code, output = run(db, "delivery", "show", "D-00001", user="est")
        assert code == 3 and "no delivery 'D-00001' that est may see" in output

    def test_fund_show_lists_pledges_in_eur_with_shares_and_what_it_bought(self, db: str) -> None:
        assert run(db, "fund", "add", "AMMO", "--name", "Ammunition", "--manager", "DEU", "--area", "artillery",
                   user="admin")[0] == 0
        for member, amount in (("DEU", "300000"), ("DEU", "100000"), ("NLD", "600000")):
            assert run(db, "fund", "pledge", "AMMO", "--member", member, "--amount", amount, "--currency", "EUR",
                       "--on", "2024-06-01", user="admin")[0] == 0
        code, output = run(db, "offer", "add", "--member", "AMMO", "--item", "155-a", "--quantity", "100",
                           "--available-from", "2024-08-01", "--depot", "CZE", user="deu")
        assert code == 0, output
        shown = json.loads(run(db, "fund", "show", "AMMO", "--format", "json", user="deu")[1])[0]
        assert [(c["member"], c["eur"], c["member_share"]) for c in shown["contributions"]] == [
            ("DEU", "300000.00", "40.00"), ("DEU", "100000.00", "40.00"), ("NLD", "600000.00", "60.00")]
        assert [(o["offer"], o["quantity"], o["value_eur"]) for o in shown["offers"]] == [("O-00001", 100,
                                                                                           "300000.00")]
        # Whoever may not see the fund's offer (here: a reader who names nobody) sees it only in a total.
        anyone = json.loads(run(db, "fund", "show", "AMMO", "--format", "json")[1])[0]
        assert (anyone["offers"], anyone["offers_not_shown"], anyone["offers_not_shown_eur"]) == ([], 1, "300000.00")
        code, output = run(db, "fund", "show", "NOPE")
        assert code == 3 and "no fund 'NOPE'" in output


@pytest.mark.xdist_group("cli-demo")  # the worker that built the demo for test_entities copies it
def test_lists_on_a_demo_database_are_labelled_synthetic(tmp_path: Path, database_copies: DatabaseCopies) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    database_copies.copy(db, tmp_path, "cli-demo", build_demo_through_cli).engine.dispose()  # `contactgroup demo`
    for args in (("offer", "list"), ("requirement", "list"), ("allocation", "list"), ("delivery", "list"),
                 ("member", "list"), ("user", "list"), ("consent", "list"), ("catalogue", "items")):
        code, output = run(db, *args, user="admin")
        assert code == 0 and "SYNTHETIC DEMO DATA" in output, args
        code, output = run(db, *args, "--format", "csv", user="admin")
        header, first = output.splitlines()[:2]
        assert header.endswith(",synthetic") and first.endswith(",true"), args
        rows = json.loads(run(db, *args, "--format", "json", user="admin")[1])
        assert all(r["synthetic"] is True for r in rows), args
    code, output = run(db, "verify")
    assert code == 0 and "SYNTHETIC DEMO DATA" in output


def test_empty_lists_say_none(db: str) -> None:
    code, output = run(db, "delivery", "list", user="admin")
    assert code == 0 and "Deliveries: none" in output


class TestPolish:
    @pytest.mark.parametrize(("party", "message"), [("UKR", "is the recipient"),
                                                    ("IDCC", "is the coordinating authority")])
    def test_odd_roles_are_refused(self, db: str, party: str, message: str) -> None:
        code, output = run(db, "user", "add", "x", "--party", party, "--role", "desk_officer", user="admin")
        assert code == 2 and "desk officers act for a member" in output and message in output

    @pytest.mark.xdist_group("cli-init-chain")  # one worker builds the chain (through the command line), not each
    def test_refusals_name_the_action_tried(self, chained: str) -> None:
        db = chained
        code, output = run(db, "delivery", "track", "D-00001", "hub", user="ukr")
        assert code == 4 and "may not delivery:track" in output
        _offer(db, "--visibility", "recipient", quantity="5")
        code, output = run(db, "offer", "move", "O-00002", "commit", user="ukr")
        assert code == 4 and "may not offer:commit" in output
        _offer(db, quantity="5")  # an offer ukr may not see: as if it did not exist
        code, output = run(db, "offer", "move", "O-00003", "commit", user="ukr")
        assert code == 3 and "no offer 'O-00003' that ukr may see" in output and "DEU" not in output

    def test_version_and_a_file_that_is_not_a_database(self, tmp_path: Path) -> None:
        code, output = run("x.db", "--version")
        assert code == 0 and output.startswith("contactgroup ")
        bad = tmp_path / "notdb.db"
        bad.write_text("not a database\n" * 100)
        code, output = run(str(bad), "report", "burden")
        assert code == 1 and "not a contactgroup database" in output and "refused the change" not in output
