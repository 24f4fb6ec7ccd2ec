"""A log written before transit times, witnesses and quorum rules had events of their own (tests/fixtures/old-log,
made by tests/fixtures/make_old_log.py with the code of its day) still migrates, replays, verifies, and answers
what it answered then."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from contactgroup.cli.main import app

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "old-log"


def _run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"CONTACTGROUP_DB": url, "COLUMNS": "100"})
    return result.exit_code, result.stdout


def test_an_old_log_migrates_verifies_and_reports_as_before(tmp_path: Path) -> None:
    copy = tmp_path / "old-log.sqlite"
    shutil.copyfile(FIXTURE / "old-log.sqlite", copy)
    url = f"sqlite:///{copy}"
    code, output = _run(url, "migrate")
    assert code == 0, output
    code, output = _run(url, "verify")
    assert code == 0, output
    assert "record intact: 143 events replayed" in output
    assert "2 checkpoint(s), 2 witness cosignature(s) checked" in output
    # --all: the fixture has a donor with nothing yet, which reports now leave out unless asked
    code, output = _run(url, "report", "burden", "--all", "--format", "json")
    assert code == 0, output
    rows = json.loads(output)["rows"]
    assert not any(r.pop("tracked_only") for r in rows)  # a column added since: no donor is only tracked there
    assert rows == json.loads((FIXTURE / "report-burden.json").read_text(encoding="utf-8"))
    # Where the owed-units rule (migration 0005_owed) changes the answer, and only there: D-00001 arrived with 2 of
    # its 600 rounds damaged, so they are owed — R-00001 misses them and offer O-00001 stays in delivery.
    code, output = _run(url, "report", "gaps", "--format", "json")
    assert code == 0, output
    first = json.loads(output)["rows"][0]
    assert (first["requirement"], first["owed"], first["missing"], first["detail"]) == (
        "R-00001", 2, 2, "2 units owed after a short receipt")
    code, output = _run(url, "offer", "list", "--format", "json", "--as", "nsatu-admin")
    assert code == 0, output
    assert {o["id"]: o["status"] for o in json.loads(output)}["O-00001"] == "in_delivery"
    code, output = _run(url, "transit", "list")
    assert code == 0, output
    assert output == (FIXTURE / "transit-list.txt").read_text(encoding="utf-8")
    code, output = _run(url, "transit", "list", "--format", "json")
    assert code == 0, output
    assert json.loads(output) == json.loads((FIXTURE / "transit-list.json").read_text(encoding="utf-8"))


def test_the_old_log_holds_every_event_type_and_each_prefixed_setting(tmp_path: Path) -> None:
    import sqlite3

    from contactgroup.domain.event import HANDLERS

    copy = tmp_path / "old-log.sqlite"  # opening a WAL database writes beside it: never beside the fixture
    shutil.copyfile(FIXTURE / "old-log.sqlite", copy)
    conn = sqlite3.connect(copy)
    try:
        types = {row[0] for row in conn.execute("SELECT type FROM events")}
        names = [json.loads(row[0])["data"]["name"] for row in
                 conn.execute("SELECT body FROM events WHERE type = 'SettingChanged'")]
    finally:
        conn.close()
    old_types = {t for t in HANDLERS if t not in NEW_TYPES}
    assert old_types <= types, f"not in the fixture: {sorted(old_types - types)}"
    for prefix in ("transit:", "witness:", "witness_quorum", "quorum:", "log_verifier_key"):
        assert any(n.startswith(prefix) for n in names), prefix


# Event types added after the fixture was written: an old log cannot hold them.
NEW_TYPES = frozenset({"TransitTimeSet", "WitnessAdded", "WitnessRemoved", "QuorumRuleSet", "PlaceDefined",
                       "DonorTracked", "RequirementAmended", "OfferAmended", "ItemClassChanged", "UserRoleChanged",
                       "UserDisabled", "UserEnabled", "AllocationReopened", "AllocationOwedReleased",
                       "IatiIdentifierRecorded", "LegSet", "BorderRuleSet", "ZoneDeclared",  # 0014_network
                       "MovementPermissionRequested", "MovementPermissionGranted", "MovementPermissionRefused",
                       "ShipmentReachedPlace"})  # 0015_mob_plan


def test_the_old_log_in_postgresql_migrates_and_verifies(tmp_path: Path) -> None:
    """The same log, copied row by row into a PostgreSQL database at the schema it was written with (0003), then
    migrated: migration 0004 moves the settings on PostgreSQL too."""
    import sqlalchemy as sa
    from alembic import command

    from contactgroup.services.verify import verify
    from contactgroup.storage import database, schema
    from tests.conftest import postgres_schema

    copy = tmp_path / "old-log.sqlite"
    shutil.copyfile(FIXTURE / "old-log.sqlite", copy)
    source = sa.create_engine(f"sqlite:///{copy}")
    present = set(sa.inspect(source).get_table_names()) - {"alembic_version"}
    with postgres_schema() as url:
        db = database.Database(url)
        config = database._alembic_config()
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
        with source.connect() as read, db.engine.begin() as write:
            for table in schema.metadata.sorted_tables:
                if table.name in present:  # the columns the log's day had (later migrations add others)
                    had = {c["name"] for c in sa.inspect(source).get_columns(table.name)}
                    columns = [c for c in table.c if c.name in had]
                    rows = [dict(r) for r in read.execute(sa.select(*columns)).mappings()]
                    if rows:
                        write.execute(table.insert(), rows)
        db.migrate()
        report = verify(db)
        db.engine.dispose()
    source.dispose()
    assert report.ok, [str(f) for f in report.findings]
    assert (report.events, report.checkpoints, report.cosignatures) == (143, 2, 2)
