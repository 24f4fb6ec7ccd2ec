"""The public release: what it shows, that it shows nothing else, and that each format is what its readers expect.

One release of the demo (with planted non-public offers, values, a consent and a user, each carrying a unique
marker) is written once per module; the checks read its files as an outsider would."""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import hxl
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from typer.testing import CliRunner

from contactgroup.api.app import create_app
from contactgroup.cli.main import app
from contactgroup.domain.errors import NotFound, ValidationFailed
from contactgroup.domain.model import (
    Gdp,
    IatiOrganisation,
    Offer,
    OfferStatus,
    Role,
    Source,
    User,
    ValuationBasis,
    Visibility,
)
from contactgroup.domain.workflow import ConsentAction
from contactgroup.encoding.canonical import canonical_bytes
from contactgroup.io import kiel
from contactgroup.ledger.leaf import actor_commitment
from contactgroup.ledger.note import parse_verifier_key
from contactgroup.services import checkpoints, key_files, log_keys
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.services.demo import build_demo
from contactgroup.services.imports import import_kiel
from contactgroup.services.publish import EVIDENCE_FILE, IATI_FILE, Published, publish
from contactgroup.services.release_check import check_release
from contactgroup.services.setup import init_coordination
from contactgroup.storage import database
from contactgroup.storage.database import Database
from tests.conftest import KIEL_R29, SHARED
from tests.factories import World, enter_offer

pytestmark = pytest.mark.xdist_group("publish")
runner = CliRunner()
CLOCK = FixedClock(datetime(2026, 4, 20, 9, 0, tzinfo=UTC))
IATI_IDS = {"USA": "US-GOV-1", "NLD": "XM-DAC-7", "JPN": "XM-DAC-701-8", "DEU": "XM-DAC-5-7"}
# What must never be published: each appears once, in something non-public.
SECRETS = {
    "member-only offer's end use": "mbr-enduse-7q4zx",
    "member-only offer's reference": "mbr-ref-9k2wd",
    "member-only offer's value": "918273.64",
    "coalition-only offer's end use": "coa-enduse-3v8pm",
    "coalition-only offer's reference": "coa-ref-5t1yr",
    "coalition-only offer's value": "736251.49",
    "consent's reason": "consent-reason-6h0qa",
    "a user's personal name": "hanna.zettergren",
}
# Put in a public offer: the search must find these, or it proves nothing.
PUBLIC = {"public offer's end use": "pub-enduse-2m7ks", "public offer's value": "555111.22"}


@dataclass
class Release:
    db: Database
    directory: Path
    tmp: Path
    log_key: str  # verifier key text
    published: Published


def _offer(member: str, item: str, visibility: Visibility, value: str, end_use: str, ref: str = "",
           consent_from: str | None = None) -> Offer:
    return Offer(id="", member=member, item=item, quantity=7, available_from=date(2026, 4, 20), depot=member,
                   source=Source.STOCKS, status=OfferStatus.DRAFT, visibility=visibility, value=Decimal(value),
                   currency="EUR", basis=ValuationBasis.BOOK, consent_from=consent_from, end_use=end_use, ref=ref)


def _plant(db: Database) -> None:
    """Non-public things with markers, a public control offer, IATI identifiers, and GDP for the Kiel year."""
    with db.transaction() as uow:
        admin = svc.Caller("admin", CLOCK)
        item = sorted(uow.state.items)[0]
        svc.register_user(uow, admin, User(SECRETS["a user's personal name"], "DEU", Role.DESK_OFFICER))
        person = svc.Caller(SECRETS["a user's personal name"], CLOCK)
        hidden = svc.enter_offer(uow, person, _offer(
            "DEU", item, Visibility.MEMBER, SECRETS["member-only offer's value"],
            SECRETS["member-only offer's end use"], SECRETS["member-only offer's reference"], consent_from="USA"),
            status=OfferStatus.COMMITTED)
        svc.enter_offer(uow, person, _offer(
            "DEU", item, Visibility.COALITION, SECRETS["coalition-only offer's value"],
            SECRETS["coalition-only offer's end use"], SECRETS["coalition-only offer's reference"]),
            status=OfferStatus.COMMITTED)
        consent = svc.request_consent(uow, person, hidden.id)
        svc.decide_consent(uow, svc.Caller("usa-desk", CLOCK), consent.id, ConsentAction.REFUSE,
                           SECRETS["consent's reason"])
        svc.enter_offer(uow, person, _offer(  # a public offer a person recorded: the release must not name them
            "DEU", item, Visibility.PUBLIC, PUBLIC["public offer's value"], PUBLIC["public offer's end use"]),
            status=OfferStatus.COMMITTED)
        for member, identifier in IATI_IDS.items():
            svc.record_iati_identifier(uow, admin, IatiOrganisation(member, identifier))
        svc.record_gdp(uow, admin, Gdp("DEU", 2021, Decimal("3617450000000"), "EUR", "test"))
        svc.record_gdp(uow, admin, Gdp("USA", 2021, Decimal("23315080000000"), "USD", "test"))


def _sign(db: Database) -> str:
    path = log_keys.resolve_log_key_path(db, None)
    assert path is not None
    signer = key_files.read_signer_key(path)
    checkpoints.sign_checkpoint(db, signer, CLOCK)
    return signer.verifier.text


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    tmp = tmp_path_factory.mktemp("publish")
    db = Database(f"sqlite:///{tmp / 'demo.db'}")
    build_demo(db)
    _plant(db)
    key = _sign(db)
    published = publish(db, tmp / "release", CLOCK)
    return Release(db, tmp / "release", tmp, key, published)


def _readable_text(path: Path) -> str:
    """A file as a reader could see it: its text, and for the evidence file every event's decoded bytes too."""
    text = path.read_bytes().decode("utf-8")
    if path.name == EVIDENCE_FILE:
        doc = json.loads(text)
        text += "".join(base64.b64decode(e["event"]).decode("utf-8") for r in doc["records"] for e in r["events"])
    return text


class TestZeroLeaks:
    def test_no_marker_of_anything_non_public_is_in_any_file(self, release: Release) -> None:
        files = sorted(p for p in release.directory.rglob("*") if p.is_file())
        assert {p.name for p in files} >= {"index.html", EVIDENCE_FILE, IATI_FILE, "data_explorer.csv"}
        texts = {p.relative_to(release.directory): _readable_text(p) for p in files}
        leaks = [f"{what} ({marker}) in {name}" for name, text in texts.items()
                 for what, marker in SECRETS.items() if marker.lower() in text.lower()]
        assert not leaks

    def test_no_user_name_is_in_any_file(self, release: Release) -> None:
        users = set(release.db.state().users)  # the demo's desks, leads, coordinator, and the planted person
        assert SECRETS["a user's personal name"] in users and "deu-desk" in users and len(users) > 50
        texts = {p.relative_to(release.directory): _readable_text(p).lower()
                 for p in release.directory.rglob("*") if p.is_file()}
        assert not [f"{user} in {name}" for name, text in texts.items() for user in users if user.lower() in text]
        assert release.published.actors == ()  # every event is of body version 3: publish names no account

    def test_the_servers_public_page_shows_the_release_and_nothing_more(self, release: Release) -> None:
        app = create_app(release.db.url)
        page = TestClient(app).get("/public")  # nobody signed in
        app.state.db.engine.dispose()
        assert page.status_code == 200
        assert not [what for what, marker in SECRETS.items() if marker.lower() in page.text.lower()]
        for name in ("index.html", "monthly.html", "offers.html", "pledges.html", "requirements.html"):
            cells = re.findall(r"<td[^>]*>([^<]*)</td>", (release.directory / name).read_text(encoding="utf-8"))
            assert cells and all(f">{cell}</t" in page.text for cell in cells), name
        assert page.text.count("<svg") == 2  # the release's two charts

    def test_no_non_public_offer_is_named(self, release: Release) -> None:
        state = release.db.state()
        hidden = {o.id for o in state.offers.values() if o.visibility is not Visibility.PUBLIC}
        everything = "".join(_readable_text(p) for p in release.directory.rglob("*") if p.is_file())
        named = {f"O-{n}" for n in re.findall(r"O-(\d{5})", everything)}
        assert named and not named & hidden

    def test_the_search_finds_what_is_public(self, release: Release) -> None:
        everything = "".join(_readable_text(p) for p in release.directory.rglob("*") if p.is_file())
        assert all(marker in everything for marker in PUBLIC.values())

    def test_no_consent_event_and_no_single_shipment_is_in_the_evidence(self, release: Release) -> None:
        doc = json.loads((release.directory / EVIDENCE_FILE).read_text())
        types = {json.loads(base64.b64decode(e["event"]))["type"] for r in doc["records"] for e in r["events"]}
        assert types and not any(t.startswith(("Consent", "Shipment", "Allocation", "Requirement", "User"))
                                 for t in types)


def _burden_json(db_url: str, *options: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["report", "burden", "--format", "json", "--db", db_url, *options])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)["rows"]
    return rows


class TestKielLayout:
    def test_the_columns_are_release_29s(self, release: Release) -> None:
        with (KIEL_R29 / kiel.DATA_FILE).open(encoding="utf-8-sig", newline="") as f:
            r29 = next(csv.reader(f))
        with (release.directory / "kiel" / kiel.DATA_FILE).open(encoding="utf-8", newline="") as f:
            ours = next(csv.reader(f))
        assert ours == r29

    def test_importing_the_release_reproduces_the_public_burden_exactly(self, release: Release) -> None:
        fresh = Database(f"sqlite:///{release.tmp / 'imported.db'}")
        init_coordination(fresh, CLOCK, with_members=False, log_key=str(release.tmp / "imported.logkey"))
        with fresh.transaction() as uow:
            import_kiel(uow, svc.Caller("admin", CLOCK), release.directory / "kiel")
        public = _burden_json(str(release.db.url), "--public")
        imported = _burden_json(str(fresh.url))
        compared = ("member", "name", "kind", "committed_eur", "allocated_eur", "share_of_total", "gdp_year",
                    "gdp_eur", "allocated_pct_gdp", "committed_pct_gdp")
        with_figures = [{k: r[k] for k in compared} for r in public if r["committed_eur"] != "0"
                        or r["allocated_eur"] != "0"]
        assert [{k: r[k] for k in compared} for r in imported] == with_figures
        assert any(r["allocated_pct_gdp"] for r in with_figures)  # GDP made the trip, in EUR
        assert len(with_figures) > 20

    def test_a_coordination_holding_release_29_gives_its_figures_back(self, tmp_path: Path) -> None:
        """Kiel's own figures (the EU among the donors, GDP 2021 in EUR) go out in the layout and come back whole."""
        db = Database(f"sqlite:///{tmp_path / 'r29.db'}")
        init_coordination(db, CLOCK)
        with db.transaction() as uow:
            import_kiel(uow, svc.Caller("admin", CLOCK), KIEL_R29)
        key = _sign(db)
        publish(db, tmp_path / "release", CLOCK)
        fresh = Database(f"sqlite:///{tmp_path / 'imported.db'}")
        init_coordination(fresh, CLOCK, with_members=False, log_key=str(tmp_path / "imported.logkey"))
        with fresh.transaction() as uow:
            import_kiel(uow, svc.Caller("admin", CLOCK), tmp_path / "release" / "kiel")
        compared = ("member", "committed_eur", "allocated_eur", "share_of_total", "gdp_eur", "allocated_pct_gdp")
        public = [{k: r[k] for k in compared} for r in _burden_json(str(db.url), "--public")
                  if r["committed_eur"] != "0" or r["allocated_eur"] != "0"]
        assert public == [{k: r[k] for k in compared} for r in _burden_json(str(fresh.url))]
        r29 = kiel.read_release(KIEL_R29)
        assert sum(Decimal(r["allocated_eur"]) for r in public) == sum(a.allocated_eur for a in r29.tracked_aid())
        assert "EU" in {r["member"] for r in public}
        assert check_release(tmp_path / "release", _verifier_of(key)).ok

    def test_the_release_number_is_the_trackers_and_must_fit_its_four_digits(self, release: Release) -> None:
        out = release.tmp / "release-12"
        result = runner.invoke(app, ["publish", str(out), "--release", "12", "--db", str(release.db.url)])
        assert result.exit_code == 0, result.output
        info = list(csv.DictReader((out / "kiel" / kiel.INFO_FILE).open(encoding="utf-8")))
        assert [row["release"] for row in info] == ["12"]
        assert kiel.read_release(out / "kiel").source == "Kiel UST Release 12"
        refused = runner.invoke(app, ["publish", str(release.tmp / "r0"), "--release", "10000", "--db",
                                      str(release.db.url)])
        assert refused.exit_code == 2 and not (release.tmp / "r0").exists()

    def test_public_takes_only_the_trackers_gdp_year(self, release: Release) -> None:
        result = runner.invoke(app, ["report", "burden", "--public", "--gdp-year", "2023", "--db",
                                     str(release.db.url)])
        assert result.exit_code == 2
        assert "--public takes the GDP year" in result.output


class TestHxl:
    def test_every_file_carries_hashtags_libhxl_reads(self, release: Release) -> None:
        expected = {
            "burden.csv": {"#org+code+donor", "#value+committed+eur", "#value+allocated+eur", "#value+delivered+eur"},
            "monthly.csv": {"#org+code+donor", "#date+month", "#sector+category", "#value+allocated+eur"},
            "offers.csv": {"#activity+id+offer", "#item+code", "#output+quantity", "#value+eur"},
            "pledges.csv": {"#org+code+donor", "#org+code+fund", "#value+pledged", "#currency"},
            "requirements.csv": {"#sector+area+code", "#meta+tier", "#indicator+num+requirements"},
        }
        for name, tags in expected.items():
            source = hxl.data(str(release.directory / "hxl" / name), hxl.InputOptions(allow_local=True))
            assert tags <= {c.get_display_tag(sort_attributes=True) for c in source.columns}, name
            assert len(list(source)) > 0, name

    def test_the_offers_file_holds_exactly_the_public_offers(self, release: Release) -> None:
        state = release.db.state()
        public = {o.id for o in state.offers.values()
                  if o.visibility is Visibility.PUBLIC and o.status is not OfferStatus.DRAFT}
        source = hxl.data(str(release.directory / "hxl" / "offers.csv"), hxl.InputOptions(allow_local=True))
        rows = {row.get("#activity+id"): row for row in source}
        assert set(rows) == public
        control = next(o for o in state.offers.values() if o.end_use == PUBLIC["public offer's end use"])
        assert rows[control.id].get("#value") == PUBLIC["public offer's value"]


class TestIati:
    def test_the_file_is_valid_against_the_2_03_schema(self, release: Release) -> None:
        schema = etree.XMLSchema(etree.parse(str(SHARED / "data" / "iati-2.03" / "iati-activities-schema.xsd")))
        document = etree.parse(str(release.directory / IATI_FILE))
        assert schema.validate(document), schema.error_log

    def test_only_members_with_an_identifier_publish_activities(self, release: Release) -> None:
        document = etree.parse(str(release.directory / IATI_FILE))
        reporters = {e.get("ref") for e in document.iter("reporting-org")}
        assert reporters and reporters <= set(IATI_IDS.values())
        assert {e.text for e in document.iter("iati-identifier")} <= {
            f"{org}-UKR-{category}" for org in IATI_IDS.values() for category in ("humanitarian", "financial")}
        assert {e.get("code") for e in document.iter("recipient-country")} == {"UA"}

    def test_members_without_an_identifier_are_named(self, release: Release) -> None:
        out = release.tmp / "again"
        result = runner.invoke(app, ["publish", str(out), "--db", str(release.db.url)])
        assert result.exit_code == 0, result.output
        assert "left out of the IATI file" in result.stderr
        named = result.stderr.split("(`member iati`):", 1)[1]
        assert named.strip() and not set(IATI_IDS) & {n.strip(",") for n in named.splitlines()[0].split()}
        assert "name the accounts" not in result.stderr  # no event of body version 1 or 2 is behind a record


class TestEvidence:
    def test_every_record_checks_against_the_signed_checkpoint(self, release: Release) -> None:
        result = runner.invoke(app, ["ledger", "check-release", str(release.directory), "--key", release.log_key])
        assert result.exit_code == 0, result.output
        assert "records" in result.stdout and "signed by the log key" in result.stdout
        assert "cannot be checked" in result.stdout

    def test_an_altered_figure_is_refused_naming_its_record(self, release: Release, tmp_path: Path) -> None:
        copy = tmp_path / "altered"
        shutil.copytree(release.directory, copy)
        doc = json.loads((copy / EVIDENCE_FILE).read_text())
        record = next(r for r in doc["records"] if r["id"].startswith("pledge/"))
        record["figures"]["amount"] = str(Decimal(record["figures"]["amount"]) + 1)
        (copy / EVIDENCE_FILE).write_text(json.dumps(doc))
        result = runner.invoke(app, ["ledger", "check-release", str(copy), "--key", release.log_key])
        assert result.exit_code == 6
        assert record["id"] in result.stderr and "differ from the log" in result.stderr

    def test_an_altered_event_is_refused_naming_its_record(self, release: Release, tmp_path: Path) -> None:
        copy = tmp_path / "altered"
        shutil.copytree(release.directory, copy)
        doc = json.loads((copy / EVIDENCE_FILE).read_text())
        record = next(r for r in doc["records"] if r["id"].startswith("offer/"))
        body = base64.b64decode(record["events"][0]["event"]).replace(b'"quantity":', b'"quantity":1')
        record["events"][0]["event"] = base64.b64encode(body).decode()
        (copy / EVIDENCE_FILE).write_text(json.dumps(doc))
        check = check_release(copy, _verifier(release))
        assert not check.ok and any(p.startswith(record["id"] + ":") for p in check.problems)

    def test_the_events_are_shown_in_their_leaf_form_naming_no_account(self, release: Release) -> None:
        doc = json.loads((release.directory / EVIDENCE_FILE).read_text())
        shown = [json.loads(base64.b64decode(e["event"])) for r in doc["records"] for e in r["events"]]
        assert shown and all(set(e) == {"actor_commitment", "at", "authority", "data", "party", "salt", "type", "v"}
                             for e in shown)

    def test_a_leaf_form_committing_to_another_actor_is_refused_naming_its_record(self, release: Release,
                                                                                 tmp_path: Path) -> None:
        copy = tmp_path / "altered"
        shutil.copytree(release.directory, copy)
        doc = json.loads((copy / EVIDENCE_FILE).read_text())
        record = next(r for r in doc["records"] if r["id"].startswith("pledge/"))
        event = json.loads(base64.b64decode(record["events"][0]["event"]))
        event["actor_commitment"] = actor_commitment(bytes(16), "deu-desk")
        record["events"][0]["event"] = base64.b64encode(canonical_bytes(event)).decode()
        (copy / EVIDENCE_FILE).write_text(json.dumps(doc))
        check = check_release(copy, _verifier(release))
        assert check.problems == [f"{record['id']}: event {record['events'][0]['index']} is not in the log at the "
                                  f"checkpoint (altered event or proof)"]

    def test_a_figure_altered_in_a_csv_file_is_refused_naming_its_record(self, release: Release,
                                                                         tmp_path: Path) -> None:
        copy = tmp_path / "altered"
        shutil.copytree(release.directory, copy)
        path = copy / "hxl" / "offers.csv"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        rows[2][5] = str(int(rows[2][5]) + 1)  # the first offer's quantity
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
        check = check_release(copy, _verifier(release))
        assert check.problems == [f"hxl/offers.csv, row 3: offer/{rows[2][0]}: not as in {EVIDENCE_FILE}: quantity"]

    @pytest.mark.parametrize("content", [b"", b"not json", b'{"format": "something else"}', b"[1, 2]"])
    def test_a_directory_that_is_no_release_is_refused_naming_it(self, release: Release, tmp_path: Path,
                                                                content: bytes) -> None:
        (tmp_path / EVIDENCE_FILE).write_bytes(content)
        result = runner.invoke(app, ["ledger", "check-release", str(tmp_path), "--key", release.log_key])
        assert result.exit_code == 2
        assert EVIDENCE_FILE in result.stderr and "Traceback" not in result.output

    def test_members_left_out_are_named_in_the_release(self, release: Release) -> None:
        doc = json.loads((release.directory / EVIDENCE_FILE).read_text())
        assert doc["left_out"]["iati"] and not set(doc["left_out"]["iati"]) & set(IATI_IDS)

    def test_a_checkpoint_not_signed_by_the_log_key_is_refused(self, release: Release, tmp_path: Path) -> None:
        other = init_coordination(Database(f"sqlite:///{tmp_path / 'other.db'}"), CLOCK)
        assert other
        stranger = key_files.read_signer_key(tmp_path / "other.db.logkey").verifier.text
        result = runner.invoke(app, ["ledger", "check-release", str(release.directory), "--key", stranger])
        assert result.exit_code == 6
        assert "not signed by" in result.stderr


def _verifier(release: Release) -> Any:
    return _verifier_of(release.log_key)


def _verifier_of(text: str) -> Any:
    return parse_verifier_key(text)


class TestPages:
    @pytest.mark.slow
    def test_the_pages_open_from_the_file_system_with_nothing_fetched(self, release: Release) -> None:
        playwright = pytest.importorskip("playwright.sync_api")
        chromium = Path("/usr/bin/chromium")
        if not chromium.exists():
            pytest.fail("Chromium is expected at /usr/bin/chromium")
        rows = list(csv.reader((release.directory / "hxl" / "offers.csv").open(encoding="utf-8")))[2:]
        burden = list(csv.reader((release.directory / "hxl" / "burden.csv").open(encoding="utf-8")))[2:]
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium))
            page = browser.new_page()
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto((release.directory / "index.html").as_uri())
            assert page.locator("h1").inner_text() == "Burden sharing"
            charts = page.locator("#charts figure svg")
            assert charts.count() == 2  # committed, allocated, delivered in EUR; and as % of GDP
            assert burden[0][0] in (charts.first.text_content() or "")  # the first donor's bar, labelled as text
            assert page.locator("table").evaluate("t => getComputedStyle(t).borderCollapse") == "collapse"
            first = page.locator("tbody tr").first.locator("td")
            assert first.nth(0).inner_text() == burden[0][0]
            assert first.nth(3).inner_text() == f"{Decimal(burden[0][3]).quantize(Decimal(1)):,}"  # to the euro
            page.get_by_role("link", name="Public offers").click()
            page.wait_for_url("**/offers.html")
            assert page.locator("tbody tr").count() == len(rows)
            assert page.locator("tbody tr").first.locator("td").first.inner_text() == rows[0][0]
            browser.close()
        assert requests and all(url.startswith("file://") for url in requests)
        assert not errors


def _world_signer(world: World, tmp_path: Path) -> Any:
    """The log key beside an SQLite world; a new one for a PostgreSQL world (founded without a key file)."""
    path = log_keys.resolve_log_key_path(world.db, None)
    if path is not None and path.exists():
        return key_files.read_signer_key(path)
    signer, _ = log_keys.create_log_key(world.db, world.caller("admin"), tmp_path / "log.key")
    return signer


class TestAccountNames:
    def test_older_events_behind_a_record_name_their_account_and_publish_says_so(
            self, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(database, "BODY_VERSION", 2)  # as a log written before body version 3
        older = enter_offer(world, "deu", visibility=Visibility.PUBLIC)
        monkeypatch.undo()
        newer = enter_offer(world, "fra", member="FRA", depot="FRA", visibility=Visibility.PUBLIC)
        signer = _world_signer(world, tmp_path)
        checkpoints.sign_checkpoint(world.db, signer, CLOCK)
        done = publish(world.db, tmp_path / "out", CLOCK)
        assert done.actors == ("deu",)
        doc = json.loads((tmp_path / "out" / EVIDENCE_FILE).read_text())
        shown = {r["id"]: [json.loads(base64.b64decode(e["event"])) for e in r["events"]] for r in doc["records"]}
        assert shown[f"offer/{older}"] and all(e["actor"] == "deu" for e in shown[f"offer/{older}"])
        assert shown[f"offer/{newer}"] and not any("actor" in e for e in shown[f"offer/{newer}"])
        assert check_release(tmp_path / "out", signer.verifier).ok


class TestRefusals:
    def test_no_checkpoint_no_release_and_nothing_written(self, world: World, tmp_path: Path) -> None:
        with pytest.raises(NotFound, match="no signed checkpoint"):
            publish(world.db, tmp_path / "out", CLOCK)
        assert not (tmp_path / "out").exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []

    def test_a_directory_with_files_is_refused_and_left_alone(self, world: World, tmp_path: Path) -> None:
        signer = _world_signer(world, tmp_path)
        checkpoints.sign_checkpoint(world.db, signer, CLOCK)
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "mine.txt").write_text("keep")
        with pytest.raises(ValidationFailed, match="not an empty directory"):
            publish(world.db, tmp_path / "out", CLOCK)
        assert [p.name for p in (tmp_path / "out").iterdir()] == ["mine.txt"]
        publish(world.db, tmp_path / "new", CLOCK)
        assert check_release(tmp_path / "new", signer.verifier).ok

    def test_a_malformed_iati_identifier_is_refused(self, world: World) -> None:
        with world.db.transaction() as uow, pytest.raises(ValidationFailed, match="not an IATI organisation"):
            svc.record_iati_identifier(uow, world.caller("admin"), IatiOrganisation("DEU", "DE/1 <x>"))

    def test_only_the_coordinator_records_an_identifier(self, world: World) -> None:
        from contactgroup.domain.errors import Forbidden
        with world.db.transaction() as uow, pytest.raises(Forbidden):
            svc.record_iati_identifier(uow, world.caller("deu"), IatiOrganisation("DEU", "XM-DAC-5-7"))


def _report(release: Release, directory: Path, *options: str, db: str | None = None) -> Path:
    """A report of the record written to a file, as a ministry would hand it on."""
    path = directory / f"report-{len(list(directory.glob('report-*')))}.json"
    result = runner.invoke(app, ["report", *options, "--format", "json", "--db", db or str(release.db.url),
                                 "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _check(release: Release, report: Path, *options: str) -> Any:
    return runner.invoke(app, ["report", "check", str(report), "--release", str(release.directory),
                               "--key", release.log_key, *options])


def _edited(path: Path, change: Any) -> Path:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


class TestReportCheckAgainstTheRelease:
    """`report check REPORT --release OUTDIR`: what someone outside the cell, holding only the release and the
    log's verifier key, can check of a report."""

    def test_the_public_burden_made_from_the_record_matches_the_release(self, release: Release,
                                                                         tmp_path: Path) -> None:
        report = _report(release, tmp_path, "burden", "--public")
        rows = json.loads(report.read_text())["rows"]
        result = _check(release, report)
        assert result.exit_code == 0, result.output
        shown = " ".join(result.stdout.split())
        assert f"cannot check: kind in {len(rows)} rows: the release does not publish it" in shown
        figures = sum(len(r) for r in rows)
        assert f"{figures - len(rows):,} figures match the release, 0 differ, {len(rows)} cannot be checked" in shown
        assert "the release's checkpoint is at the report's log size" in shown and "same root" in shown
        assert "signed by the log key" in shown

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_a_csv_or_xlsx_report_is_checked_on_the_fields_it_holds(self, release: Release, tmp_path: Path,
                                                                     fmt: str) -> None:
        path = tmp_path / f"burden.{fmt}"
        made = runner.invoke(app, ["report", "burden", "--public", "--format", fmt, "--db", str(release.db.url),
                                   "--output", str(path)])
        assert made.exit_code == 0, made.output
        result = _check(release, path)
        assert result.exit_code == 0, result.output
        shown = " ".join(result.stdout.split())
        assert " 0 differ" in shown and ("cannot check: kind" in shown) == (fmt == "csv")  # a sheet shows no kind

    def test_a_changed_number_fails_naming_the_figure(self, release: Release, tmp_path: Path) -> None:
        report = _report(release, tmp_path, "burden", "--public")
        rows = json.loads(report.read_text())["rows"]
        row = next(i for i, r in enumerate(rows) if r["member"] == "DEU")
        was = rows[row]["allocated_eur"]

        def change(document: dict[str, Any]) -> None:
            document["rows"][row]["allocated_eur"] = str(Decimal(was) + 1)

        result = _check(release, _edited(report, change))
        assert result.exit_code == 6, result.output
        assert (f'row {row + 1} (DEU), allocated_eur: the file says "{Decimal(was) + 1}", the release gives '
                f'"{was}"') in " ".join(result.stderr.split())
        assert "1 figure differs from the release" in result.stderr

    def test_a_report_the_release_cannot_reproduce_is_all_cannot_check(self, release: Release,
                                                                        tmp_path: Path) -> None:
        report = _report(release, tmp_path, "coverage", "--by", "area")
        rows = json.loads(report.read_text())["rows"]
        result = _check(release, report)
        assert result.exit_code == 0, result.output
        shown = " ".join(result.stdout.split())
        assert f"0 figures match the release, 0 differ, {sum(len(r) for r in rows):,} cannot be checked" in shown
        assert "not the figures of this report (coverage)" in shown

    def test_a_report_of_another_tree_is_refused(self, release: Release, tmp_path: Path) -> None:
        report = _report(release, tmp_path, "burden", "--public")
        result = _check(release, _edited(report, lambda d: d["stamp"].update(root=base64.b64encode(bytes(32))
                                                                               .decode())))
        assert result.exit_code == 6
        assert "it was not computed from the record this release was published from" in " ".join(
            result.stderr.split())

    def test_a_report_made_after_the_release_says_so(self, release: Release, tmp_path: Path) -> None:
        with sqlite3.connect(release.tmp / "demo.db") as source, sqlite3.connect(tmp_path / "later.db") as copy:
            source.backup(copy)  # with what the write-ahead log holds
        shutil.copy(release.tmp / "demo.db.logkey", tmp_path / "later.db.logkey")
        later = Database(f"sqlite:///{tmp_path / 'later.db'}")
        with later.transaction() as uow:  # one event the public part does not show
            svc.record_gdp(uow, svc.Caller("admin", CLOCK), Gdp("FRA", 2019, Decimal("2400000000000"), "EUR", "t"))
        later.engine.dispose()
        result = _check(release, _report(release, tmp_path, "burden", "--public", db=str(tmp_path / "later.db")))
        assert result.exit_code == 0, result.output
        shown = " ".join(result.stdout.split())
        assert "the report was made at a larger log size than the release: the release's checkpoint is 1 events " \
               "before it" in shown and " 0 differ" in shown

    def test_a_report_made_before_the_release_says_the_record_has_grown(self, release: Release,
                                                                         tmp_path: Path) -> None:
        report = _report(release, tmp_path, "burden", "--public", "--as-of", "2026-04-19")
        result = _check(release, report)
        shown = " ".join(result.stdout.split())
        assert "the record has grown since: the release's checkpoint is" in shown, result.output
        assert "a figure that differs may have changed in between" in shown
        # The planted offers and GDP came after that day: their figures differ, each named, and the check fails.
        assert result.exit_code == 6 and "(DEU), gdp_eur: the file says nothing" in " ".join(result.stderr.split())

    @pytest.mark.parametrize(("where", "code", "says"), [
        ("missing", 2, "Invalid value for '--release'"),
        ("empty", 2, f"no {EVIDENCE_FILE} here: not a release directory"),
        ("tampered", 6, "release refused"),
    ])
    def test_a_bad_release_is_refused_in_one_line(self, release: Release, tmp_path: Path, where: str, code: int,
                                                  says: str) -> None:
        report = _report(release, tmp_path, "burden", "--public")
        directory = tmp_path / where
        if where == "empty":
            directory.mkdir()
        elif where == "tampered":
            shutil.copytree(release.directory, directory)
            doc = json.loads((directory / EVIDENCE_FILE).read_text())
            record = next(r for r in doc["records"] if r["id"].startswith("pledge/"))
            record["figures"]["amount"] = str(Decimal(record["figures"]["amount"]) + 1)
            (directory / EVIDENCE_FILE).write_text(json.dumps(doc))
        result = runner.invoke(app, ["report", "check", str(report), "--release", str(directory), "--key",
                                     release.log_key])
        assert result.exit_code == code and says in " ".join(result.stderr.split()), result.output
        assert "Traceback" not in result.output

    def test_monthly_totals_changed_in_the_csv_file_alone_are_refused(self, release: Release,
                                                                      tmp_path: Path) -> None:
        report = _report(release, tmp_path, "burden", "--public")
        copy = tmp_path / "altered"
        shutil.copytree(release.directory, copy)
        path = copy / "hxl" / "monthly.csv"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        rows[2][4] = str(Decimal(rows[2][4]) + 1)  # the first total's allocated EUR
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
        result = runner.invoke(app, ["report", "check", str(report), "--release", str(copy), "--key",
                                     release.log_key])
        assert result.exit_code == 6, result.output
        assert (f"hxl/monthly.csv says otherwise than its {EVIDENCE_FILE} of month/{rows[2][0]}/{rows[2][1]}/"
                f"{rows[2][2]}") in " ".join(result.stderr.split())

    def test_a_report_file_that_is_not_json_is_refused(self, release: Release, tmp_path: Path) -> None:
        path = tmp_path / "report.json"
        path.write_text("member,committed_eur\nDEU,1\n")
        result = _check(release, path)
        assert result.exit_code == 2 and "report file: not JSON" in result.stderr

    def test_the_key_goes_with_a_release(self, release: Release, tmp_path: Path) -> None:
        report = _report(release, tmp_path, "burden", "--public")
        result = runner.invoke(app, ["report", "check", str(report), "--key", release.log_key, "--db",
                                     str(release.db.url)])
        assert result.exit_code == 2 and "--key goes with --release" in result.stderr
