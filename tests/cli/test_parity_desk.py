"""Parity beyond the loop: what desk officers and the coordinator do besides it — reference lists, the catalogue,
members, funds and pledges, users, imports (with their row-by-row refusals), amendments, priorities, hand-made
proposals, the inbox, moves selected with --awaiting-me and --member, histories — run on a local database and
against a real server print the same and record the same events."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from contactgroup.cli import remote
from contactgroup.cli.main import app
from contactgroup.services import tokens
from contactgroup.services.clock import SystemClock
from contactgroup.storage.database import Database
from tests.cli.test_parity import USERS, Run, _against, _event_types, _locally, _ok, _refused, env, two  # noqa: F401
from tests.conftest import KIEL_R29
from tests.ledger_integration.conftest import serving


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the commands reach the same services either way, on both engines (the loop's parity runs on
    both); one engine keeps this test inside the suite's time."""
    return f"sqlite:///{tmp_path / 'contactgroup.db'}"


def _files(tmp: Path) -> dict[str, Path]:
    files = {
        "requirements.csv": "item_class,quantity,priority,needed_by,destination,ref\n"
                            "155mm,400,3,2031-05-01,LVIV-HP,UA-1\nfpv,20,4,2031-04-01,UKR-West,UA-2\n",
        "bad-requirements.csv": "item_class,quantity,priority,needed_by,destination\n"
                                "nope,1,1,2031-05-01,UKR\n155mm,-3,1,2031-05-01,UKR\n",
        "offers.csv": "member,item,quantity,available_from,depot,ref\nDEU,155-b,250,2031-02-01,RZE-HUB,DE-1\n",
        # a network of two places: a hub in Poland, a day's road from the Lviv hand-over point (Ukraine clears it)
        "legs.csv": "origin,to,mode,transit_days\nRZE-HUB,LVIV-HP,road,1\n",
        "rules.csv": "country,mode,since,permission,lead_days\nUKR,road,2022-01-01,yes,2\n",
        "transit.csv": "origin,destination,days\nPOL,UKR,2\nDEU,UKR-West,5\n",
        "rates.csv": "currency,date,per_eur\nUAH,2024-06-03,43.5\n",
    }
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    return {name: tmp / name for name in files}


def _without(text: str, *fields: str) -> Any:
    """A JSON list with the fields that differ between two runs by nature (times, sources) left out."""
    return [{k: v for k, v in row.items() if k not in fields} for row in json.loads(text)]


def _desk(run_: Run, tmp: Path) -> dict[str, Any]:
    def run(user: str | None, args: list[str]) -> str:
        return _ok(run_(user, args))

    def refused(user: str | None, args: list[str]) -> tuple[int, str]:
        return _refused(run_(user, args))

    files = _files(tmp)
    seen: dict[str, Any] = {}
    # the coordinator's reference data
    seen["add-item"] = run("admin", ["catalogue", "add-item", "fuze", "--name", "Fuze", "--category", "military",
                                     "--unit", "each", "--unit-value-eur", "12.50"])
    seen["add-class"] = run("admin", ["catalogue", "add-class", "fuzes", "--name", "Fuzes", "--area", "artillery",
                                      "--item", "fuze"])
    seen["class-items"] = run("admin", ["catalogue", "class-items", "155mm", "--add", "fuze"])
    seen["coalition"] = run("admin", ["coalition", "add", "naval", "--name", "Naval", "--lead", "NOR"])
    seen["place"] = run("admin", ["place", "add", "LVIV-HP", "--name", "Lviv hand-over", "--country", "UKR",
                                  "--region", "West", "--lat", "49.84", "--lon", "24.03"])
    seen["hub"] = run("admin", ["place", "add", "RZE-HUB", "--name", "Rzeszów hub", "--country", "POL", "--kind",
                                "logistics-hub", "--lat", "50.04", "--lon", "22.00"])
    for table in ("legs", "rules"):
        seen[f"network {table}"] = run("admin", ["network", "import", str(files[f"{table}.csv"])])
    seen["transit"] = run("admin", ["transit", "set", "DEU", "UKR", "4"])
    seen["transit import"] = run("admin", ["transit", "import", str(files["transit.csv"])])
    seen["rates"] = run("admin", ["import", "rates", str(files["rates.csv"])])
    seen["kiel"] = run("admin", ["import", "kiel", str(KIEL_R29)])
    seen["kiel again"] = refused("admin", ["import", "kiel", str(KIEL_R29)])
    seen["kiel elsewhere"] = refused("admin", ["import", "kiel", str(tmp)])
    seen["gdp"] = run("admin", ["member", "gdp", "DEU", "--year", "2023", "--amount", "4100000000000",
                                "--currency", "EUR"])
    seen["iati"] = run("admin", ["member", "iati", "DEU", "--id", "XM-DAC-5-7"])
    seen["fund"] = run("admin", ["fund", "add", "F1", "--name", "Artillery fund", "--manager", "DEU",
                                 "--area", "artillery"])
    seen["pledge"] = run("deu", ["fund", "pledge", "F1", "--member", "DEU", "--amount", "1000000", "--currency",
                                 "EUR", "--on", "2024-06-03"])
    seen["not a member's"] = refused("deu", ["member", "gdp", "FRA", "--year", "2023", "--amount", "1",
                                             "--currency", "EUR"])
    for args in (["member", "list", "--format", "json"], ["user", "list", "--format", "csv"],
                 ["catalogue", "items"], ["catalogue", "classes", "--format", "json"], ["coalition", "list"],
                 ["fund", "list"], ["fund", "show", "F1", "--format", "json"], ["place", "list"],
                 ["transit", "list", "--format", "csv"]):
        seen[" ".join(args)] = run("analyst", args)
    seen["governance list"] = run(None, ["governance", "list"])
    # a member's desk officer manages its own users; the enrolment code differs by nature
    seen["user add"] = run("deu", ["user", "add", "deu-2", "--party", "DEU", "--role", "analyst"]).splitlines()[0]
    seen["user role"] = run("deu", ["user", "role", "deu-2", "desk_officer"])
    seen["user disable"] = run("deu", ["user", "disable", "deu-2"])
    seen["user enable"] = run("deu", ["user", "enable", "deu-2"])
    seen["user reset"] = run("deu", ["user", "reset", "deu-2"]).splitlines()[0]
    seen["other member's user"] = refused("deu", ["user", "disable", "fra"])
    seen["security log"] = _without(run("deu", ["user", "security-log", "--user", "deu-2", "--format", "json"]),
                                    "at", "source", "detail")
    # imports: every bad row named, nothing written; then good files
    seen["bad import"] = refused("ukr", ["import", "requirements", str(files["bad-requirements.csv"])])
    seen["import requirements"] = run("ukr", ["import", "requirements", str(files["requirements.csv"])])
    seen["import offers"] = run("deu", ["import", "offers", str(files["offers.csv"])])
    reqs = [r["id"] for r in json.loads(run("analyst", ["requirement", "list", "--format", "json"]))]
    offers = [o["id"] for o in json.loads(run("deu", ["offer", "list", "--format", "json"]))]
    req, offer = reqs[-1], offers[-1]
    seen["amend requirement"] = run("ukr", ["requirement", "amend", req, "--quantity", "30", "--note", "urgent"])
    seen["prioritise"] = run("ukr", ["requirement", "prioritise", req, "2"])
    seen["amend offer"] = run("deu", ["offer", "amend", offer, "--quantity", "200", "--visibility", "coalition"])
    seen["amend nothing"] = run("deu", ["offer", "amend", offer, "--quantity", "200"])
    seen["amend hidden"] = refused("fra", ["offer", "amend", offer, "--quantity", "1"])
    # moves chosen by filter: the requirements awaiting the coordinator, then an offer's allocations
    seen["submit"] = run("ukr", ["requirement", "move", *reqs, "submit"])
    seen["validate all"] = run("admin", ["requirement", "move", "validate", "--awaiting-me"])
    seen["open all"] = run("admin", ["requirement", "move", "open", "--awaiting-me"])
    seen["commit"] = run("deu", ["offer", "move", "commit", "--member", "DEU"])
    seen["propose"] = run("admin", ["allocation", "propose", "--offer", offer, "--requirement", reqs[0],
                                    "--quantity", "150"])
    alloc = seen["propose"].split()[-1]
    for user in ("deu", "ukr"):
        seen[f"inbox {user}"] = [run(user, ["inbox", *fmt]) for fmt in ([], ["--format", "json"])]
    seen["accept by donor"] = run("deu", ["allocation", "move", "accept", "--member", "DEU"])
    seen["recipient's inbox"] = run("ukr", ["inbox", "--format", "csv"])
    seen["accept by recipient"] = run("ukr", ["allocation", "move", "accept", "--awaiting-me"])
    seen["nothing to confirm"] = run("deu", ["allocation", "move", "confirm", "--awaiting-me"])
    seen["confirm"] = run("admin", ["allocation", "move", "confirm", "--awaiting-me"])
    seen.update(_mobility(run_, tmp, alloc))
    for kind, ident, user in (("requirement", req, "analyst"), ("offer", offer, "deu"), ("allocation", alloc, "ukr")):
        seen[f"{kind} history"] = _without(run(user, [kind, "history", ident, "--format", "json"]), "at")
    seen["hidden history"] = refused("fra", ["offer", "history", offer])
    report = json.loads(run(None, ["report", "coverage", "--format", "json"]))
    (tmp / "coverage.json").write_text(json.dumps(report), encoding="utf-8")
    seen["report check"] = run(None, ["report", "check", str(tmp / "coverage.json")])
    report["rows"][0]["delivered"] += 1
    (tmp / "forged.json").write_text(json.dumps(report), encoding="utf-8")
    seen["report check forged"] = refused(None, ["report", "check", str(tmp / "forged.json")])
    for kind in ("offers", "requirements"):  # drop-downs of the codes the record knows
        book = tmp / f"{kind}-{len(list(tmp.glob('*.xlsx')))}.xlsx"
        run(None, ["template", kind, str(book)])
        seen[f"template {kind}"] = [[c.value for row in sheet.iter_rows() for c in row]
                                    for sheet in load_workbook(book).worksheets]
    return seen


def _mobility(run_: Run, tmp: Path, alloc: str) -> dict[str, Any]:
    """A confirmed allocation's plan, its permission requested and granted, what a zone would save, the map; each
    planned as of a given day (`--from`), so that nothing depends on today but the day a permission is asked."""
    def run(user: str | None, args: list[str]) -> str:
        return _ok(run_(user, args))

    def refused(user: str | None, args: list[str]) -> tuple[int, str]:
        return _refused(run_(user, args))

    on = ("--from", "2031-01-06")
    seen: dict[str, Any] = {"plan": run("deu", ["delivery", "plan", alloc, *on, "--format", "json"])}
    seen["plan hidden"] = refused("fra", ["delivery", "plan", alloc, *on])
    seen["permission request"] = run("deu", ["delivery", "permission", "request", alloc])
    seen["permission grant"] = run("ukr", ["delivery", "permission", "grant", f"{alloc}/UKR/road"])
    seen["permission list"] = run("deu", ["delivery", "permission", "list", "--format", "json"])
    seen["planned"] = [run("deu", ["delivery", "plan", alloc, *on, *fmt]) for fmt in ([], ["--format", "csv"])]
    seen["not under way"] = refused("deu", ["delivery", "reached", alloc, "NOWHERE", "--on", "2031-01-06"])
    chart = tmp / "zone.svg"
    seen["compare"] = [run("deu", ["mobility", "compare", "--zone", "POL,UKR", *on, *fmt])
                       for fmt in ([], ["--format", "csv", "--chart", str(chart)])]
    seen["chart"] = chart.read_text(encoding="utf-8")
    seen["bad zone"] = refused("deu", ["mobility", "compare", "--zone", "POL,XYZ,1", *on])
    drawn = tmp / "route.svg"
    seen["map"] = (run("deu", ["mobility", "map", "--shipment", alloc, *on, "-o", str(drawn)]),
                   drawn.read_text(encoding="utf-8"), run("analyst", ["mobility", "map", *on]))
    return seen


def _timeless(text: str) -> str:
    """Output with its times (a proposal's, an approval's) left out: two runs make them seconds apart."""
    return " ".join(re.sub(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(Z|\+00:00)?", "…", text).split())


def _governance(run_: Run, tmp: Path, keys: dict[str, str]) -> dict[str, Any]:
    """A member's desk proposes, every member signs offline (`governance sign` is local by nature), one hands in
    its approval; the status and the list are read; a second proposal is withdrawn."""
    def run(user: str | None, args: list[str]) -> str:
        return _timeless(_ok(run_(user, args)))

    seen: dict[str, Any] = {}
    # the record's proofs, over the first events (the same in both databases: copies of one founding)
    for args in (["ledger", "leaves", "--end", "5"], ["ledger", "prove", "--index", "1", "--size", "5"],
                 ["ledger", "consistency", "--old", "2", "--new", "5", "--format", "json"], ["ledger", "public-key"]):
        seen[" ".join(args)] = run(None, args)
    # no checkpoint yet (no log key here): refused alike; locally with the hint to sign one, which a server does
    # by itself
    refused = run_("deu", ["ledger", "receipt", "--index", "1"])
    seen["receipt"] = (refused.exit_code, refused.output.split(": sign one")[0].strip())
    seen["first key"] = run("deu", ["keys", "register", keys["DEU-1"], "--member", "DEU"])
    # governance is in force: the coordinator's refusal names the proposal to make instead (the server says
    # "a governance proposal"; the command line, either way, the command)
    governed = run_("admin", ["coalition", "add", "air", "--name", "Air", "--lead", "NOR"])
    seen["governed"] = (governed.exit_code, " ".join(governed.output.split()))
    seen["proposal"] = run("deu", ["governance", "propose", "admit-member", "--code", "OSCE", "--name", "OSCE",
                                  "--currency", "EUR", "--organisation"])
    text = _ok(run_(None, ["governance", "show", "P-00001", "--text"]))
    (tmp / "p.txt").write_text(text, encoding="utf-8")
    note = _ok(CliRunner().invoke(app, ["governance", "sign", str(tmp / "p.txt"), "--key", str(tmp / "DEU-1.key")]))
    (tmp / "p.note").write_text(note, encoding="utf-8")
    seen["approve"] = run("deu", ["governance", "approve", "P-00001", str(tmp / "p.note")])
    seen["twice"] = " ".join(run_("deu", ["governance", "approve", "P-00001", str(tmp / "p.note")]).output.split())
    seen["show"] = run(None, ["governance", "show", "P-00001"])
    seen["status"] = [run(None, ["governance", "status", "P-00001", *fmt]) for fmt in ([], ["--format", "json"])]
    seen["second"] = run("deu", ["governance", "propose", "remove-member", "--code", "ARG"])
    seen["withdraw"] = run("deu", ["governance", "withdraw", "P-00002"])
    seen["not theirs"] = " ".join(run_("usa", ["governance", "withdraw", "P-00001"]).output.split())
    seen["list"] = run(None, ["governance", "list"])
    spare = keys["DEU-2"]
    seen["register"] = run("deu", ["keys", "register", spare, "--member", "DEU"])
    seen["revoke"] = run("deu", ["keys", "revoke", "+".join(spare.split("+")[:2])])  # its name+id
    seen["not its member's"] = " ".join(run_("usa", ["keys", "register", spare, "--member", "DEU"]).output.split())
    seen["keys"] = [run(None, ["keys", "list", *fmt]) for fmt in ([], ["--format", "json"])]
    seen["export"] = run(None, ["keys", "export"])
    seen["authority"] = run(None, ["authority"])
    return seen


def test_the_desks_commands_give_the_same_output_locally_and_against_a_server(
        two: tuple[Database, Database], env: pytest.MonkeyPatch, tmp_path: Path) -> None:  # noqa: F811
    """The desk's commands, then governance (once member keys exist the coordinator no longer admits members or
    forms coalitions by itself), each way."""
    local, served = two
    keys = {name: _ok(CliRunner().invoke(app, ["keys", "generate", name, "--out", str(tmp_path / f"{name}.key")]))
            .strip() for name in ("DEU-1", "DEU-2")}
    here = {**_desk(_locally(local), tmp_path), **_governance(_locally(local), tmp_path, keys)}

    now = SystemClock().now()
    with serving(served.url, None) as url:
        issued = {name: tokens.issue(served, served.state(), name, now=now, scope=tokens.Scope.WRITE)
                  for name in (*USERS, "fra")}
        logins = {name: remote.Login(url, name, i.token, i.row.id) for name, i in issued.items()}
        env.setenv(remote.SERVER_ENV, url)
        there = {**_desk(_against(url, logins), tmp_path), **_governance(_against(url, logins), tmp_path, keys)}

    assert {k: (v, here[k]) for k, v in there.items() if v != here[k]} == {}
    assert "2 problems" in here["bad import"][1], "every bad row named"
    assert here["report check forged"][0] == 6 and "1 figure differs" in here["report check forged"][1]
    assert "no allocation that deu may confirm now: nothing changed" in here["nothing to confirm"]
    assert here["bad zone"][0] == 2 and "2 problems" in here["bad zone"][1], "a bad zone: each code named"
    assert "RZE-HUB → LVIV-HP" in here["plan"] and "UKR 2 working days" in here["plan"]
    assert ",granted," in here["planned"][1].splitlines()[1], "the permission granted, shown either way"
    assert here["confirm"].startswith("✓ allocation A-00001 is confirmed")
    assert here["governed"][0] == 4 and "(`contactgroup governance propose change-lead" in here["governed"][1]
    assert "approval counted: 1 of" in here["approve"] and "P-00002 withdrawn" in here["withdraw"]
    assert _event_types(served)[-60:] == _event_types(local)[-60:]
