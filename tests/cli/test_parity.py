"""Parity: the coordination loop (requirement → offer → allocate → accept by donor and recipient → confirm →
dispatch → receive → reports) run by the command line on a local database, and by the same commands against a real
server on another database founded the same way, prints the same lists and reports and records the same events."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from openpyxl import load_workbook
from typer.testing import CliRunner

from contactgroup.cli import remote
from contactgroup.cli.main import app
from contactgroup.domain.errors import NotSignedIn
from contactgroup.services import tokens
from contactgroup.services.clock import FixedClock, SystemClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database, read_events
from tests.conftest import DatabaseCopies, postgres_schema
from tests.factories import build_world
from tests.ledger_integration.conftest import serving

USERS = ("admin", "ukr", "deu", "usa", "analyst")
Run = Callable[[str | None, list[str]], Result]  # (acting user or None, command) -> what the command did


def _found(db: Database, directory: Path, clock: FixedClock) -> None:
    init_coordination(db, clock)
    build_world(db, clock)


@pytest.fixture
def two(db_url: str, clock: FixedClock, tmp_path: Path, database_copies: DatabaseCopies) -> Iterator[
        tuple[Database, Database]]:
    """Two databases founded the same way, with the same users: one for the local run, one behind the server."""
    def build(db: Database, directory: Path) -> None:
        _found(db, directory, clock)

    key = ("parity", clock.at)
    local = database_copies.copy(db_url, tmp_path, key, build)
    if db_url.startswith("sqlite"):
        (tmp_path / "served").mkdir()
        served = database_copies.copy(f"sqlite:///{tmp_path / 'served' / 'contactgroup.db'}", tmp_path / "served",
                                      key, build)
        yield local, served
    else:
        with postgres_schema() as url:
            served = database_copies.copy(url, tmp_path / "served", key, build)
            yield local, served
            served.engine.dispose()
    local.engine.dispose()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv(remote.CONFIG_ENV, str(tmp_path / "config"))
    for name in (remote.SERVER_ENV, "CONTACTGROUP_USER", "CONTACTGROUP_DB"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _invoke(args: list[str]) -> Result:
    return CliRunner().invoke(app, args)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def _refused(result: Result) -> tuple[int, str]:
    """A refusal's exit code and its whole output, its lines joined (the terminal's width folds them)."""
    assert result.exit_code != 0, result.output
    return result.exit_code, " ".join(result.output.split())


# Refusals the loop meets on the way: each must exit and read the same locally and against the server.
REFUSED = [
    ("ukr", ["requirement", "add", "--class", "nope", "--quantity", "1", "--priority", "1", "--needed-by",
             "2031-06-01", "--destination", "UKR"]),
    ("deu", ["offer", "add", "--member", "FRA", "--item", "155-a", "--quantity", "1", "--available-from",
             "2031-01-01", "--depot", "FRA"]),  # another member's offer
    ("deu", ["allocation", "move", "A-99999", "accept"]),
    ("ukr", ["delivery", "receive", "D-99999", "--on", "2030-01-01"]),
    ("admin", ["requirement", "move", "R-99998", "R-99999", "cancel"]),  # all or none: every refusal named
    ("deu", ["offer", "show", "O-99999"]),
]


def _locally(db: Database) -> Run:
    def run(user: str | None, args: list[str]) -> str:
        return _invoke([*args, "--db", db.url, *(["--as", user] if user else [])])

    return run


def _against(url: str, logins: dict[str, remote.Login]) -> Run:
    """Commands against the server, each as the user `contactgroup login` signed in (its kept token)."""
    def run(user: str | None, args: list[str]) -> str:
        remote.save(logins[user or "analyst"])
        return _invoke(args)

    return run


def _loop(run_: Run, tmp: Path) -> dict[str, Any]:
    """The loop through the command line; what it printed that must be the same either way."""

    def run(user: str | None, args: list[str]) -> str:
        return _ok(run_(user, args))

    today = datetime.now(UTC).date().isoformat()
    req = run("ukr", ["requirement", "add", "--class", "155mm", "--quantity", "1000", "--priority", "1",
                      "--needed-by", "2031-06-01", "--destination", "UKR-West", "--submit"]).split()[-1]
    drones = run("ukr", ["requirement", "add", "--class", "fpv", "--quantity", "50", "--priority", "2",
                         "--needed-by", "2031-03-01", "--destination", "UKR", "--submit"]).split()[-1]
    for verb in ("validate", "open"):  # both at once: all or none
        run("admin", ["requirement", "move", req, drones, verb])
    offer = run("deu", ["offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "600",
                        "--available-from", "2031-01-01", "--depot", "DEU", "--status", "committed"]).split()[-1]
    assert "1 allocations proposed" in run("admin", ["allocate"]).replace("\n", " ")
    (alloc,) = [a["id"] for a in json.loads(run("admin", ["allocation", "list", "--format", "json"]))]
    run("deu", ["allocation", "move", alloc, "accept"])
    run("ukr", ["allocation", "move", alloc, "accept"])
    run("admin", ["allocation", "move", alloc, "confirm"])
    shipped = run("deu", ["delivery", "dispatch", "--allocation", alloc, "--quantity", "600", "--on", today])
    run("ukr", ["delivery", "receive", shipped.split()[-1], "--on", today])
    seen: dict[str, Any] = {"ids": (req, offer, alloc)}
    delivery = shipped.split()[-1]
    for kind, ident, user in (("requirement", req, None), ("offer", offer, "deu"), ("allocation", alloc, "ukr"),
                              ("delivery", delivery, "deu")):
        for fmt in ("table", "json"):
            seen[f"{kind} show {fmt}"] = run(user, [kind, "show", ident, "--format", fmt])
    for user, args in REFUSED:
        refused = run_(user, args)
        seen[" ".join(args)] = (refused.exit_code, " ".join(refused.output.split()))
        assert refused.exit_code != 0
    for listed, user in (("requirement", "analyst"), ("offer", "deu"), ("allocation", "ukr"), ("delivery", "deu")):
        for fmt in ("table", "csv", "json"):
            seen[f"{listed} list {fmt}"] = run(user, [listed, "list", "--format", fmt])
    for name in ("coverage", "burden", "lag", "gaps"):
        document = json.loads(run(None, ["report", name, "--format", "json"]))
        stamp = document["stamp"]
        seen[f"report {name}"] = (document["report"], document["rows"], stamp["parameters"], stamp["log_size"])
        csv_rows = [line for line in run(None, ["report", name, "--format", "csv"]).splitlines()
                    if not line.startswith("#")]
        seen[f"report {name} csv"] = csv_rows
        book = tmp / f"{name}-{len(list(tmp.iterdir()))}.xlsx"
        run(None, ["report", name, "--format", "xlsx", "--output", str(book)])
        seen[f"report {name} xlsx figures"] = [c.value for row in load_workbook(book).active.iter_rows()
                                               for c in row if isinstance(c.value, int | float | Decimal)]
        table = run(None, ["report", name])  # its caption names the record's root, which differs with event times
        seen[f"report {name} table"] = re.sub(r"root \S+", "root …", " ".join(table.split()))
    # after the reports, the other moves the server takes: an offer made, its re-export consent requested and
    # granted, the offer withdrawn; a shipment's step refused
    drafted = run("deu", ["offer", "add", "--member", "DEU", "--item", "fpv", "--quantity", "5", "--available-from",
                          "2031-01-01", "--depot", "DEU", "--status", "draft", "--consent-from", "USA"]).split()[-1]
    seen["offer made"] = run("deu", ["offer", "move", drafted, "make"])
    consent = run("deu", ["consent", "request", drafted]).split()[-1]
    seen["consent list"] = [run(user, ["consent", "list", "--format", fmt]) for user in ("deu", "usa")
                            for fmt in ("table", "json")]
    seen["consent granted"] = run("usa", ["consent", "decide", consent, "grant"])
    seen["offer withdrawn"] = run("deu", ["offer", "move", drafted, "withdraw", "--reason", "not needed"])
    late = run_("deu", ["delivery", "track", delivery, "hub"])  # received already: refused, nothing written
    seen["delivery track"] = (late.exit_code, " ".join(late.output.split()))
    return seen


def _event_types(db: Database) -> list[str]:
    with db.reader() as conn:
        return [json.loads(body)["type"] for _, body, _ in read_events(conn)]


def test_the_loop_gives_the_same_output_locally_and_against_a_server(two: tuple[Database, Database],
                                                                       env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    local, served = two
    (tmp_path / "books").mkdir()
    here = _loop(_locally(local), tmp_path / "books")

    now = SystemClock().now()  # the server checks a token's expiry on its own clock
    with serving(served.url, None) as url:
        issued = {name: tokens.issue(served, served.state(), name, now=now, scope=tokens.Scope.WRITE)
                  for name in USERS}
        logins = {name: remote.Login(url, name, i.token, i.row.id) for name, i in issued.items()}
        env.setenv(remote.SERVER_ENV, url)
        there = _loop(_against(url, logins), tmp_path / "books")

    assert there == here
    assert here["report coverage"][1][0]["delivered"] == 600, "the loop delivered what it shipped"
    types = _event_types(local)
    assert _event_types(served) == types
    assert types[-5:] == ["OfferDrafted", "OfferMade", "ConsentRequested", "ConsentGranted", "OfferWithdrawn"]
    assert types[-22:-5] == ["RequirementDrafted", "RequirementSubmitted", "RequirementDrafted", "RequirementSubmitted",
                           "RequirementValidated", "RequirementValidated", "RequirementOpened", "RequirementOpened",
                           "OfferDrafted", "OfferMade", "OfferCommitted", "AllocationProposed",
                           "AllocationAcceptedByDonor", "AllocationAcceptedByRecipient", "AllocationConfirmed",
                           "ShipmentDispatched", "ShipmentReceived"]


def _unstamped(name: str, data: bytes) -> Any:
    """A release file without the moment it was written (`generated`, the day in kiel/release_info.csv): two runs
    of one release a second apart differ there and only there."""
    if name == "release.json":
        return {k: v for k, v in json.loads(data).items() if k != "generated"}
    if name == "iati-activities.xml":
        return re.sub(rb'generated-datetime="[^"]*"', b"", data)
    if name == "kiel/release_info.csv":
        return [row.split(",")[0] + row.split(",", 3)[3] for row in data.decode().splitlines()]
    return data


def _release(directory: Path) -> dict[str, Any]:
    return {p.relative_to(directory).as_posix(): _unstamped(p.relative_to(directory).as_posix(), p.read_bytes())
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _record(run_: Run, keys: dict[str, str]) -> dict[str, Any]:
    """The coordinator's witness policy, and refusals whose hint names a command or an option: what each printed,
    the refusals' exit codes with their whole output."""
    def run(user: str | None, args: list[str]) -> str:
        return _ok(run_(user, args))

    def refused(user: str | None, args: list[str]) -> tuple[int, str]:
        return _refused(run_(user, args))

    seen: dict[str, Any] = {"policy": run(None, ["ledger", "policy"])}
    seen["add"] = run("admin", ["ledger", "witness-add", "w1", keys["w1"]])
    seen["again"] = run("admin", ["ledger", "witness-add", "w1", keys["w1"]])
    seen["key change"] = refused("admin", ["ledger", "witness-add", "w1", keys["w1 again"]])
    seen["second"] = run("admin", ["ledger", "witness-add", "w2", keys["w2"]])
    seen["quorum"] = run("admin", ["ledger", "policy", "--quorum", "2"])
    seen["tlog"] = run(None, ["ledger", "policy", "--format", "tlog-policy"])
    seen["quorum too high"] = refused("admin", ["ledger", "policy", "--quorum", "3"])
    seen["not the coordinator"] = refused("deu", ["ledger", "witness-add", "w3", keys["w3"]])
    seen["removed"] = run("admin", ["ledger", "witness-remove", "w2"])
    seen["no such witness"] = refused("admin", ["ledger", "witness-remove", "w2"])
    seen["no member"] = refused("admin", ["member", "gdp", "XYZ", "--year", "2023", "--amount", "1", "--currency",
                                          "EUR"])
    seen["past"] = refused("ukr", ["requirement", "add", "--class", "155mm", "--quantity", "1", "--priority", "1",
                                   "--needed-by", "2001-01-01", "--destination", "UKR"])
    return seen


def test_the_records_commands_and_refusals_read_the_same_locally_and_against_a_server(
        two: tuple[Database, Database], env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The witness policy changed and shown, and refusals with their hints, alike both ways; `ledger init-key` runs
    on the server's machine even with a server named; `publish` against the server writes the files a local
    `publish` of the same record writes; `token revoke --all` ends every token of the caller, its own included."""
    local, served = two
    keys = {name: _ok(_invoke(["witness", "keygen", name.split()[0], "--out", str(tmp_path / f"{name}.key")])).strip()
            for name in ("w1", "w1 again", "w2", "w3")}
    env.setenv(remote.SERVER_ENV, "https://cell.example.org")
    log_key = tmp_path / "served" / "contactgroup.db.logkey" if served.is_sqlite else tmp_path / "log.key"
    for db in (served, local):  # local by nature: the key is made beside the database, whatever server is named
        made = _invoke(["ledger", "init-key", "--log-key", str(log_key), "--db", db.url, "--as", "admin"])
        assert "works on a local database by nature, not on https://cell.example.org" in made.output
        if db.is_sqlite:  # founded with its key beside the file
            assert made.exit_code == 5 and "already has a verifier key" in made.output, made.output
        else:
            assert made.exit_code == 0 and str(log_key) in made.stdout, made.output
    env.delenv(remote.SERVER_ENV)
    here = _record(_locally(local), keys)

    now = SystemClock().now()
    with serving(served.url, log_key) as url:
        issued = {name: tokens.issue(served, served.state(), name, now=now, scope=tokens.Scope.WRITE)
                  for name in USERS}
        logins = {name: remote.Login(url, name, i.token, i.row.id) for name, i in issued.items()}
        published = _invoke(["publish", str(tmp_path / "published"), "--release", "2", "--db", served.url])
        env.setenv(remote.SERVER_ENV, url)
        remote.save(logins["analyst"])
        fetched = _invoke(["publish", str(tmp_path / "fetched"), "--release", "2"])
        there = _record(_against(url, logins), keys)
        extra = tokens.issue(served, served.state(), "admin", now=now, scope=tokens.Scope.READ)
        remote.save(logins["admin"])
        revoked = _invoke(["token", "revoke", "--all"])
        after = _invoke(["ledger", "policy"])
        assert tokens.authenticate(served, served.state(), issued["deu"].token, now).user.name == "deu"

    assert {k: (v, here[k]) for k, v in there.items() if v != here[k]} == {}
    assert "pass --replace to change its key to" in here["key change"][1]
    assert here["no member"][0] == 3 and "(see `contactgroup member list`)" in here["no member"][1]
    assert here["past"][0] == 2 and "(--on DATE)" in here["past"][1]
    assert _event_types(served)[-4:] == _event_types(local)[-4:] == [
        "WitnessAdded", "WitnessAdded", "QuorumRuleSet", "WitnessRemoved"]

    assert published.exit_code == fetched.exit_code == 0, published.output + fetched.output
    assert fetched.output == published.output.replace(str(tmp_path / "published"), str(tmp_path / "fetched"))
    assert _release(tmp_path / "fetched") == _release(tmp_path / "published")
    assert "release.json" in _release(tmp_path / "fetched")

    assert revoked.exit_code == 0 and revoked.stdout == "2 tokens revoked\n", revoked.output  # the one in use too
    assert url not in remote.saved() and after.exit_code == 4 and "contactgroup login" in after.output
    for token in (issued["admin"].token, extra.token):
        with pytest.raises(NotSignedIn):
            tokens.authenticate(served, served.state(), token, now)
