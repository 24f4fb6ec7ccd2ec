"""Governance from the command line, as a ministry would do it: keys made offline, a proposal signed offline,
approvals handed in, the status read, the authority changed."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from contactgroup.cli.main import app

runner = CliRunner()


def run(db: str, *args: str, user: str | None = None) -> tuple[int, str]:
    """Exit code and what the command printed (stdout and stderr together)."""
    result = invoke(db, *args, user=user)
    return result.exit_code, result.output


def stdout(db: str, *args: str) -> str:
    """Only standard output: what a user redirects to a file."""
    result = invoke(db, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def invoke(db: str, *args: str, user: str | None = None) -> Result:
    env = {"CONTACTGROUP_DB": db, "COLUMNS": "200"}
    if user:
        env["CONTACTGROUP_USER"] = user
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gov.db'}"
    assert run(url, "init", "--no-members")[0] == 0
    for code, name in (("DEU", "Germany"), ("FRA", "France"), ("POL", "Poland")):
        assert run(url, "member", "add", code, "--name", name, "--currency", "EUR", user="admin")[0] == 0
        assert run(url, "user", "add", code.lower(), "--party", code, "--role", "desk_officer", user="admin")[0] == 0
    return url


def keys(db: str, tmp_path: Path, code: str) -> Path:
    path = tmp_path / f"{code}.key"
    verifier = stdout(db, "keys", "generate", f"{code}-1", "--out", str(path)).strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert verifier.startswith(f"{code}-1+")
    assert run(db, "keys", "register", verifier, "--member", code, user=code.lower())[0] == 0
    return path


def test_a_handover_signed_offline_by_two_of_three(db: str, tmp_path: Path) -> None:
    key_files = {code: keys(db, tmp_path, code) for code in ("DEU", "FRA", "POL")}
    log_key = stdout(db, "keys", "generate", "contactgroup.example/udcg", "--out", str(tmp_path / "log.key"))
    code, output = run(db, "governance", "propose", "handover", "--to", "NSATU", "--user", "nsatu-admin",
                       "--log-key", log_key.strip(), user="deu")
    assert code == 0, output
    assert "takes effect with 2 of 3 approvals (rule 2/3)" in output
    text = stdout(db, "governance", "show", "P-00001", "--text")
    (tmp_path / "p.txt").write_text(text, encoding="utf-8")
    assert text.startswith("contactgroup governance proposal\norigin contactgroup.example/udcg\nid P-00001\n")
    for member, expect in (("DEU", "1 of 2 needed; P-00001 is still open"), ("POL", "P-00001 is now EFFECTIVE")):
        signed = stdout(db, "governance", "sign", str(tmp_path / "p.txt"), "--key", str(key_files[member]))
        assert f"— {member}-1 " in signed
        (tmp_path / f"{member}.note").write_text(signed, encoding="utf-8")
        code, output = run(db, "governance", "approve", "P-00001", str(tmp_path / f"{member}.note"), user="admin")
        assert code == 0 and expect in output, output
    status = json.loads(stdout(db, "governance", "status", "P-00001", "--format", "json"))
    assert (status["status"], status["approved"], status["missing"]) == ("effective", ["DEU", "POL"], ["FRA"])
    code, output = run(db, "authority")
    assert code == 0 and "NSATU chairs since" in output and "IDCC" in output
    code, output = run(db, "member", "add", "NOR", "--name", "Norway", "--currency", "NOK", user="admin")
    assert code == 4 and "not the coordinating authority (now NSATU)" in output
    assert run(db, "verify")[0] == 0


def test_bad_approvals_say_why_and_change_nothing(db: str, tmp_path: Path) -> None:
    key = keys(db, tmp_path, "DEU")
    stranger = tmp_path / "x.key"
    run(db, "keys", "generate", "DEU-2", "--out", str(stranger))
    log_key = stdout(db, "keys", "generate", "contactgroup.example/udcg", "--out", str(tmp_path / "log.key")).strip()
    assert run(db, "governance", "propose", "handover", "--to", "NSATU", "--user", "n1", "--log-key", log_key,
               user="fra")[0] == 0
    text = stdout(db, "governance", "show", "P-00001", "--text")
    (tmp_path / "p.txt").write_text(text, encoding="utf-8")
    (tmp_path / "forged.note").write_text(stdout(db, "governance", "sign", str(tmp_path / "p.txt"), "--key",
                                                 str(stranger)), encoding="utf-8")
    code, output = run(db, "governance", "approve", "P-00001", str(tmp_path / "forged.note"), user="admin")
    assert code == 4 and "forged, or signed with an unregistered key" in output
    signed = stdout(db, "governance", "sign", str(tmp_path / "p.txt"), "--key", str(key))
    (tmp_path / "altered.note").write_text(signed.replace("NSATU", "EVIL"), encoding="utf-8")
    code, output = run(db, "governance", "approve", "P-00001", str(tmp_path / "altered.note"), user="admin")
    assert code == 2 and "does not sign the text of proposal P-00001" in output
    code, output = run(db, "governance", "approve", "P-00009", str(tmp_path / "forged.note"), user="admin")
    assert code == 3 and "no proposal 'P-00009'" in output
    code, output = run(db, "governance", "sign", str(tmp_path / "p.txt"), "--key", str(tmp_path / "absent.key"))
    assert code == 3 and "no key file at" in output and "absent.key" in output
    code, output = run(db, "keys", "generate", "DEU-1", "--out", str(key))
    assert code == 5 and "already exists: a private key is never overwritten" in output
    status = json.loads(stdout(db, "governance", "status", "P-00001", "--format", "json"))
    assert status["approved"] == [] and status["status"] == "open"


def test_keys_whose_base64_holds_a_plus_are_named_and_revoked_by_name_and_id(db: str, tmp_path: Path) -> None:
    from contactgroup.ledger import note

    signer = next(s for s in (note.generate_key("DEU-7")[0] for _ in range(500))
                  if "+" in s.verifier.text.split("+", 2)[2])
    name_id = f"DEU-7+{signer.key_id.hex()}"
    code, output = run(db, "keys", "register", signer.verifier.text, "--member", "DEU", user="deu")
    assert code == 0 and f"key {name_id} registered for DEU" in output, output
    code, output = run(db, "keys", "revoke", name_id, user="deu")
    assert code == 0 and f"key {name_id} of DEU revoked" in output, output


def test_empty_lists_say_so_and_days_are_bounded(db: str, tmp_path: Path) -> None:
    assert "no member keys registered" in run(db, "keys", "list")[1]
    assert "no proposals yet" in run(db, "governance", "list")[1]
    log_key = stdout(db, "keys", "generate", "contactgroup.example/udcg", "--out", str(tmp_path / "l.key")).strip()
    code, output = run(db, "governance", "propose", "handover", "--to", "NSATU", "--user", "n1", "--log-key",
                       log_key, "--days", "100000000", user="deu")
    assert code == 2 and "less than or equal to 3650" in output and "Traceback" not in output
    code, output = run(db, "governance", "propose", "handover", "--to", "NSATU", "--user", "n1", "--log-key",
                       stdout(db, "keys", "generate", "other.example/log", "--out", str(tmp_path / "o.key")).strip(),
                       user="deu")
    assert code == 2 and "not for the log's origin 'contactgroup.example/udcg'" in output


def test_status_as_csv_a_withdrawn_proposal_and_signing_with_a_public_key(db: str, tmp_path: Path) -> None:
    key = keys(db, tmp_path, "DEU")
    keys(db, tmp_path, "FRA")
    log_key = stdout(db, "keys", "generate", "contactgroup.example/udcg", "--out", str(tmp_path / "l.key")).strip()
    assert run(db, "governance", "propose", "handover", "--to", "NSATU", "--user", "n1", "--log-key", log_key,
               user="deu")[0] == 0
    (tmp_path / "p.txt").write_text(stdout(db, "governance", "show", "P-00001", "--text"), encoding="utf-8")
    (tmp_path / "DEU.pub").write_text(stdout(db, "keys", "list", "--member", "DEU", "-f", "csv").splitlines()[1]
                                      .split(",")[1] + "\n", encoding="utf-8")
    code, output = run(db, "governance", "sign", str(tmp_path / "p.txt"), "--key", str(tmp_path / "DEU.pub"))
    assert code == 2 and "is a verifier (public) key: sign with the private key file" in output, output
    (tmp_path / "d.note").write_text(stdout(db, "governance", "sign", str(tmp_path / "p.txt"), "--key", str(key)),
                                     encoding="utf-8")
    assert run(db, "governance", "approve", "P-00001", str(tmp_path / "d.note"), user="admin")[0] == 0
    csv_lines = stdout(db, "governance", "status", "P-00001", "-f", "csv").splitlines()
    assert csv_lines[0] == "member,approval,at" and csv_lines[1].startswith("DEU,counts,2")
    code, output = run(db, "governance", "withdraw", "P-00001", user="admin")
    assert code == 4 and "only deu's party may withdraw P-00001" in output
    assert run(db, "governance", "withdraw", "P-00001", user="deu")[0] == 0
    code, output = run(db, "governance", "status", "P-00001")
    assert "withdrawn (no longer open)" in output and "open until" not in output
