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
    code, output = _run(url, "report", "burden", "--format", "json")
    assert code == 0, output
    assert json.loads(output) == json.loads((FIXTURE / "report-burden.json").read_text(encoding="utf-8"))
    code, output = _run(url, "transit", "list")
    assert code == 0, output
    assert output == (FIXTURE / "transit-list.txt").read_text(encoding="utf-8")
    code, output = _run(url, "transit", "list", "--format", "json")
    assert code == 0, output
    assert json.loads(output) == json.loads((FIXTURE / "transit-list.json").read_text(encoding="utf-8"))


def test_the_old_log_holds_every_event_type_and_each_prefixed_setting() -> None:
    import sqlite3

    from contactgroup.domain.event import HANDLERS

    conn = sqlite3.connect(f"file:{FIXTURE / 'old-log.sqlite'}?mode=ro", uri=True)
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
NEW_TYPES = frozenset({"TransitTimeSet", "WitnessAdded", "WitnessRemoved", "QuorumRuleSet"})
