"""The command line as a desk officer or a coordination cell would use it: clear output, clear refusals."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.storage.database import SCHEMA_REVISION
from tests.cli.conftest import build_demo_through_cli
from tests.conftest import DatabaseCopies

runner = CliRunner()


def run(db: str, *args: str, user: str | None = None) -> tuple[int, str]:
    env = {"CONTACTGROUP_DB": db, "COLUMNS": "200"}
    if user:
        env["CONTACTGROUP_USER"] = user
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def events(db: str) -> int:
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        n = int(conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one())
    engine.dispose()
    return n


@pytest.fixture
def db(db_url: str, tmp_path: Path, database_copies: DatabaseCopies) -> str:
    """A coordination founded by `contactgroup init` with two users and one item class (built once per session
    through the command line, copied per test)."""
    database_copies.copy(db_url, tmp_path, "cli-init", lambda new, _: init_through_cli(new.url)).engine.dispose()
    return db_url


def init_through_cli(db_url: str) -> None:
    code, output = run(db_url, "init")
    assert code == 0, output
    for args in (
        ("user", "add", "ukr", "--party", "UKR", "--role", "recipient_liaison"),
        ("user", "add", "deu", "--party", "DEU", "--role", "desk_officer"),
        ("coalition", "add", "artillery", "--name", "Artillery", "--lead", "FRA", "--lead", "USA"),
        ("catalogue", "add-item", "155-a", "--name", "155 mm HE", "--category", "military", "--unit", "round",
         "--nsn", "1320-01-234-5678", "--unit-value-eur", "3000"),
        ("catalogue", "add-class", "155mm", "--name", "155 mm round", "--area", "artillery", "--item", "155-a"),
    ):
        code, output = run(db_url, *args, user="admin")
        assert code == 0, output


class TestInit:
    def test_founds_with_the_reference_members(self, db: str) -> None:
        code, output = run(db, "member", "list", "--format", "json")
        members = json.loads(output)
        assert code == 0 and len(members) == 52
        assert {"code": "EST", "name": "Estonia", "kind": "nation", "currency": "EUR", "nato": True, "eu": True,
                "active": True} in members

    def test_refuses_to_found_twice(self, db: str) -> None:
        code, output = run(db, "init")
        assert code == 5 and "already holds a coordination (recipient UKR)" in output

    def test_commands_on_a_missing_database_say_how_to_start(self, tmp_path: Path) -> None:
        code, output = run(str(tmp_path / "none.db"), "requirement", "list")
        assert code == 1 and "run `contactgroup init`" in output
        assert not (tmp_path / "none.db").exists()


    def test_an_old_schema_is_named_and_migrate_brings_it_up(self, db: str) -> None:
        engine = sa.create_engine(db)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0003'"))
            conn.execute(sa.text("DROP TABLE transit_times"))
            conn.execute(sa.text("DROP TABLE witnesses"))
            conn.execute(sa.text("DROP TABLE quorum_rules"))
            conn.execute(sa.text("DROP TABLE places"))
            conn.execute(sa.text("DROP TABLE tracked_donors"))
            for table in ("api_tokens", "security_log",  # 0009_tokens
                          "credentials", "sessions", "sign_in_failures", "passkeys", "webauthn_challenges",  # 0011
                          "iati_organisations",  # 0010_publish
                          "idempotency_keys",  # 0012_api
                          "legs", "border_rules", "zones",  # 0014_network
                          "movement_permissions", "shipment_positions"):  # 0015_mob_plan
                conn.execute(sa.text(f"DROP TABLE {table}"))
            for column in ("mass_kg", "hazard_class"):  # 0014_network (places went with 0008)
                conn.execute(sa.text(f"ALTER TABLE items DROP COLUMN {column}"))
            conn.execute(sa.text("ALTER TABLE users DROP COLUMN active"))  # added by 0006_amend
            conn.execute(sa.text("ALTER TABLE requirements DROP COLUMN entered_on"))
            for column in ("released", "declined_on", "declined_by", "reason", "superseded", "reopened"):  # 0005
                conn.execute(sa.text(f"ALTER TABLE allocations DROP COLUMN {column}"))
            conn.execute(sa.text("ALTER TABLE consents DROP COLUMN reason"))
            for table in ("offers", "requirements"):  # added by 0007_ref
                conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN ref"))
        engine.dispose()
        code, output = run(db, "requirement", "list")
        assert code == 1 and "has schema revision 0003" in output and "run `contactgroup migrate`" in output
        code, output = run(db, "migrate")
        assert code == 0 and f"is at schema revision {SCHEMA_REVISION}" in output
        assert run(db, "verify")[0] == 0

    def test_an_unreachable_database_is_one_clear_line(self) -> None:
        code, output = run("postgresql+psycopg://nobody@127.0.0.1:9/none", "requirement", "list")
        assert code == 1 and "cannot use the database" in output and "check --db / CONTACTGROUP_DB" in output
        assert "Traceback" not in output


class TestFromRequirementToReceipt:
    def test_whole_chain(self, db: str) -> None:
        code, output = run(db, "requirement", "add", "--class", "155mm", "--quantity", "1000", "--priority", "1",
                           "--needed-by", "2024-09-01", "--destination", "UKR-West", "--submit", "--on", "2024-07-01",
                           user="ukr")
        assert code == 0, output
        assert "requirement R-00001 submitted" in output
        for action in ("validate", "open"):
            assert run(db, "requirement", "move", "R-00001", action, user="admin")[0] == 0
        code, output = run(db, "offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "600",
                           "--available-from", "2024-08-01", "--depot", "DEU", "--value", "1800000",
                           "--currency", "EUR", "--basis", "replacement", "--status", "committed", user="deu")
        assert code == 0 and "offer O-00001 committed" in output
        assert run(db, "allocation", "propose", "--offer", "O-00001", "--requirement", "R-00001",
                   "--quantity", "600", user="admin")[0] == 0
        assert run(db, "allocation", "move", "A-00001", "accept", user="deu")[0] == 0
        assert run(db, "allocation", "move", "A-00001", "accept", user="ukr")[0] == 0
        assert run(db, "allocation", "move", "A-00001", "confirm", user="admin")[0] == 0
        today = date.today().isoformat()  # dispatch and receipt: not before the proposal, not in the future
        assert run(db, "delivery", "dispatch", "--allocation", "A-00001", "--quantity", "600", "--on",
                   today, user="deu")[0] == 0
        code, output = run(db, "delivery", "receive", "D-00001", "--on", today, "--short", "5", user="ukr")
        assert code == 0 and "received: 595 of 600 in good order" in output
        code, output = run(db, "requirement", "show", "R-00001", "--format", "json")
        assert json.loads(output)[0]["status"] == "partially_met"
        code, output = run(db, "verify")
        assert code == 0 and "record intact" in output


    def test_allocate_from_the_database(self, db: str) -> None:
        run(db, "requirement", "add", "--class", "155mm", "--quantity", "100", "--priority", "1", "--needed-by",
            "2024-09-01", "--destination", "UKR-West", "--submit", "--on", "2024-07-01", user="ukr")
        run(db, "requirement", "move", "R-00001", "validate", user="admin")
        run(db, "requirement", "move", "R-00001", "open", user="admin")
        run(db, "offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "70", "--available-from",
            "2024-08-01", "--depot", "DEU", user="deu")
        code, output = run(db, "allocate", user="admin")
        assert code == 0, output
        assert "1 allocations proposed, 0 earlier proposals kept, 0 superseded" in output
        code, output = run(db, "allocate", user="deu")
        assert code == 4 and "may not allocation:propose" in output


class TestBadInput:
    @pytest.mark.parametrize(
        ("args", "user", "exit_code", "message"),
        [
            (("requirement", "add", "--class", "155mm", "--quantity", "5", "--priority", "1", "--needed-by",
              "2024-13-01", "--destination", "W"), "ukr", 2, "--needed-by: '2024-13-01' is not a date (YYYY-MM-DD)"),
            (("requirement", "add", "--class", "nope", "--quantity", "5", "--priority", "1", "--needed-by",
              "2024-10-01", "--destination", "W"), "ukr", 3, "no item class 'nope'"),
            (("requirement", "add", "--class", "155mm", "--quantity", "-5", "--priority", "1", "--needed-by",
              "2024-10-01", "--destination", "W"), "ukr", 2, "quantity: must be a positive whole number, got -5"),
            (("offer", "add", "--member", "FRA", "--item", "155-a", "--quantity", "5", "--available-from",
              "2024-10-01", "--depot", "FRA"), "deu", 4,
             "deu is a desk officer for DEU and may not offer:enter for FRA"),
            (("offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "5", "--available-from",
              "2024-10-01", "--depot", "DEU", "--value", "12x"), "deu", 2, "--value: '12x' is not a number"),
            (("offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "5", "--available-from",
              "2024-10-01", "--depot", "DEU", "--value", "100"), "deu", 2,
             "currency: a declared value needs an ISO 4217 currency, got None"),
            (("catalogue", "add-item", "x", "--name", "X", "--category", "military", "--unit", "each", "--nsn",
              "12-34"), "admin", 2, "nsn: '12-34' is not a NATO Stock Number (NNNN-NN-NNN-NNNN)"),
            (("requirement", "move", "R-00009", "open"), "admin", 3, "no requirement 'R-00009'"),
            (("offer", "list"), None, 2, "say who you are: pass --as NAME or set CONTACTGROUP_USER"),
        ],
    )
    def test_says_what_and_where_exits_non_zero_and_writes_nothing(
        self, db: str, args: tuple[str, ...], user: str | None, exit_code: int, message: str
    ) -> None:
        before = events(db)
        code, output = run(db, *args, user=user)
        assert code == exit_code, output
        assert message in " ".join(output.split())
        assert "Traceback" not in output
        assert events(db) == before


def test_verify_fails_on_a_tampered_projection(db: str) -> None:
    engine = sa.create_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE members SET name = 'Ruritania' WHERE code = 'EST'"))
    engine.dispose()
    code, output = run(db, "verify")
    assert code == 6
    assert "members[EST]: differs from the log" in output


@pytest.mark.xdist_group("cli-demo")  # the worker that builds the demo for test_entities and test_report_files
def test_demo_builds_a_labelled_synthetic_coordination_that_verifies(tmp_path: Path,
                                                                     database_copies: DatabaseCopies) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    # `contactgroup demo` into a new file, once per session: the build checks its exit code and what it says.
    database_copies.copy(db, tmp_path, "cli-demo", build_demo_through_cli).engine.dispose()
    assert run(db, "verify")[0] == 0
    code, output = run(db, "demo")
    assert code == 2 and "pass --force" in output


def test_demo_refuses_a_folder_even_with_force(tmp_path: Path) -> None:
    code, output = run(str(tmp_path), "demo", "--force")
    assert code == 2 and "is a folder: name a database file" in output and "Traceback" not in output
    assert list(tmp_path.iterdir()) == []
