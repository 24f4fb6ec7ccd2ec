"""`contactgroup publish`: a public transparency release of the record as it stood at its newest witnessed checkpoint.

The release is computed from the log replayed up to that checkpoint, so every figure it shows is of one signed tree;
what it shows is `reports.public` (the public part), written as the Kiel tracker's layout, HXL-tagged CSV, IATI
activity XML, a JSON file of evidence (each event in its leaf form, which names no account; inclusion proofs; the
signed checkpoint) and static HTML pages.
The directory is written whole or not at all.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from contactgroup.domain import codes
from contactgroup.domain.errors import IntegrityError, NotFound, Problem, ValidationFailed
from contactgroup.domain.state import State
from contactgroup.encoding.canonical import plain
from contactgroup.io import hxl, iati, kiel, pages
from contactgroup.io.chart_svg import chart_svg
from contactgroup.io.hxl import Column
from contactgroup.ledger import merkle
from contactgroup.ledger.leaf import ACTOR_COMMITTED, body_version, event_leaf_hash, leaf_data
from contactgroup.reports import charts
from contactgroup.reports.burden import BurdenRow
from contactgroup.reports.facts import SYNTHETIC_CAPTION, current_tracked_aid, is_synthetic
from contactgroup.reports.public import COMMITTED, PublicPart, public_burden, public_part
from contactgroup.services.checkpoints import latest_witnessed
from contactgroup.services.clock import Clock
from contactgroup.services.witness_policy import log_info
from contactgroup.storage.database import Database, TreeNodes, decode, read_events, replay_log

RELEASE_FORMAT = "contactgroup-release/1"
EVIDENCE_FILE = "release.json"
KIEL_DIR = "kiel"
IATI_FILE = "iati-activities.xml"
MAX_RELEASE_NUMBER = 9999  # the tracker's layout numbers releases with at most four digits
IATI_SECTORS = {"humanitarian": "72010", "financial": "51010"}  # DAC: material relief; budget support
# Event types behind each kind of published record: the entity's own events (never an allocation's or a
# shipment's, which carry single dates and destinations).
OFFER_EVENTS = frozenset({"OfferDrafted", "OfferMade", "OfferCommitted", "OfferWithdrawn", "OfferAmended"})
RECORD_OF_EVENT: Mapping[str, str] = {"ContributionPledged": "pledge", "GdpRecorded": "gdp",
                                      "IatiIdentifierRecorded": "iati", "AidTracked": "aid",
                                      **dict.fromkeys(OFFER_EVENTS, "offer")}
# Record kind -> (table, fields published and checked against the events).
RECORD_FIELDS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "offer": ("offers", ("member", "item", "quantity", "value", "currency", "visibility")),
    "pledge": ("contributions", ("member", "fund", "amount", "currency", "pledged_on")),
    "gdp": ("gdp", ("member", "year", "amount", "currency")),
    "iati": ("iati_organisations", ("member", "identifier")),
    "aid": ("tracked_aid", ("member", "month", "category", "allocated_eur", "committed_eur")),
}


@dataclass(frozen=True, slots=True)
class Published:
    directory: Path
    tree_size: int
    files: tuple[str, ...]
    records: int
    not_in_iati: tuple[str, ...]  # members with humanitarian or financial figures and no IATI identifier
    not_in_kiel: tuple[str, ...]  # donors whose code the tracker's layout cannot carry
    actors: tuple[str, ...]  # the accounts the evidence's older events (body version < 3) name (docs/publish.md)


@dataclass(frozen=True, slots=True)
class _Release:
    size: int
    note: str
    origin: str
    state: State
    bodies: tuple[bytes, ...]
    proofs: Mapping[int, tuple[bytes, ...]]
    evidence: Mapping[str, tuple[int, ...]]


# Record kind -> the field of its entity (and of its events' data) that names it; GDP is named by member and year.
RECORD_KEY: Mapping[str, str] = {"offer": "id", "pledge": "id", "iati": "member", "aid": "key"}


def _record_id(kind: str, fields: Mapping[str, Any]) -> str:
    if kind == "gdp":
        return f"gdp/{fields['member']}/{fields['year']}"
    return f"{kind}/{fields[RECORD_KEY[kind]]}"


def record_key(kind: str, entity: Any) -> str:
    """A published record's id: its kind and the entity's key ("offer/O-00012", "gdp/DEU/2021")."""
    names = ("member", "year") if kind == "gdp" else (RECORD_KEY[kind],)
    return _record_id(kind, {name: getattr(entity, name) for name in names})


def _event_record(type_: str, data: Mapping[str, Any]) -> str | None:
    """The record an event is behind, if it is behind one kind of published record."""
    kind = RECORD_OF_EVENT.get(type_)
    return None if kind is None else _record_id(kind, data)


def _published_keys(state: State, part: PublicPart) -> set[str]:
    keys = {record_key("offer", o) for o in part.offers} | {record_key("pledge", p) for p in part.pledges}
    keys |= {record_key("gdp", g) for g in part.gdp}
    keys |= {record_key("iati", o) for o in state.iati_organisations.values()}
    keys |= {record_key("aid", a) for a in current_tracked_aid(state)}
    return keys


def _evidence(bodies: Sequence[bytes], wanted: set[str]) -> dict[str, tuple[int, ...]]:
    """Record id -> the indices of the events behind it, in log order."""
    found: dict[str, list[int]] = defaultdict(list)
    for index, body in enumerate(bodies):
        event = decode(body)
        record = _event_record(event.type, event.data)
        if record in wanted:
            found[record].append(index)
    return {k: tuple(v) for k, v in found.items()}


def _matches(body: bytes, leaf: bytes) -> bool:
    try:
        return event_leaf_hash(body) == leaf
    except ValueError:
        return False


def _at_checkpoint(db: Database) -> tuple[_Release, PublicPart]:
    with db.reader() as conn:
        info = log_info(conn)
        found = latest_witnessed(conn, info)
        if found is None:
            raise NotFound("no signed checkpoint yet: a release shows the record at a signed checkpoint",
                           code="no-checkpoint")
        size, note = found
        rows = list(read_events(conn, 0, size))
        bodies = tuple(body for _, body, _ in rows)
        altered = next((seq for seq, body, leaf in rows if not _matches(body, leaf)), None)
        if altered is not None:
            raise IntegrityError(f"event {altered} does not match its leaf hash", code="tree-mismatch")
        state = replay_log(bodies)
        part = public_part(state)
        evidence = _evidence(bodies, _published_keys(state, part))
        store = TreeNodes(conn)
        proofs = {i: tuple(merkle.inclusion_proof_from_store(store, i, size))
                  for indices in evidence.values() for i in indices}
    return _Release(size, note, info.origin, state, bodies, proofs, evidence), part


# --- the files -----------------------------------------------------------------------------------------------------

def _kiel_rows(part: PublicPart) -> tuple[list[kiel.KielRow], list[str]]:
    donors = {d.code: d for d in part.donors}
    sums: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for f in part.months:
        row = sums[(f.donor, f.month)]
        row["commitments"] += f.committed_eur
        if f.category != COMMITTED:
            row[f.category] += f.allocated_eur
    rows: list[kiel.KielRow] = []
    left_out: set[str] = set()
    for (code, month), row in sorted(sums.items()):
        if not any(row.values()):
            continue
        if not kiel.is_donor_code(code):
            left_out.add(code)
            continue
        donor = donors[code]
        money = {c: kiel.billions(row[c]) for c in (*kiel.CATEGORIES, "commitments")}
        rows.append(kiel.KielRow(
            row=len(rows) + 2, country=donor.name, iso=code, year=int(month[:4]), month=int(month[5:]),
            total=sum((money[c] for c in kiel.CATEGORIES), Decimal(0)),
            gdp=kiel.billions(donor.gdp_eur) if donor.gdp_eur else Decimal(0), **money))
    return rows, sorted(left_out)


def _kiel_files(part: PublicPart, release: _Release, today: date, number: int) -> tuple[dict[str, str], list[str]]:
    rows, left_out = _kiel_rows(part)
    label = f"contactgroup public release {number} of {release.origin} at tree size {release.size}"
    info = kiel.release_info_csv(str(number), today.strftime("%m/%Y"), today.isoformat(), label)
    files = {f"{KIEL_DIR}/{kiel.DATA_FILE}": kiel.data_explorer_csv(rows), f"{KIEL_DIR}/{kiel.INFO_FILE}": info}
    return files, left_out


HXL_FILES: Mapping[str, tuple[Column, ...]] = {
    "hxl/burden.csv": (
        Column("donor", "#org+donor+code"), Column("name", "#org+donor+name"),
        Column("committed EUR", "#value+committed+eur"), Column("allocated EUR", "#value+allocated+eur"),
        Column("delivered EUR", "#value+delivered+eur"), Column("share of allocated", "#indicator+share"),
        Column("GDP EUR", "#value+gdp+eur"), Column("allocated % of GDP", "#indicator+allocated+pct_gdp")),
    "hxl/monthly.csv": (
        Column("donor", "#org+donor+code"), Column("month", "#date+month"), Column("category", "#sector+category"),
        Column("committed EUR", "#value+committed+eur"), Column("allocated EUR", "#value+allocated+eur"),
        Column("delivered EUR", "#value+delivered+eur")),
    "hxl/offers.csv": (
        Column("offer", "#activity+id+offer"), Column("donor", "#org+donor+code"), Column("item", "#item+code"),
        Column("item name", "#item+name"), Column("category", "#sector+category"),
        Column("quantity", "#output+quantity"), Column("unit", "#meta+unit"), Column("status", "#status+offer"),
        Column("value EUR", "#value+eur")),
    "hxl/pledges.csv": (
        Column("pledge", "#activity+id+pledge"), Column("donor", "#org+donor+code"), Column("fund", "#org+fund+code"),
        Column("fund name", "#org+fund+name"), Column("amount", "#value+pledged"), Column("currency", "#currency"),
        Column("amount EUR", "#value+pledged+eur")),
    "hxl/requirements.csv": (
        Column("area", "#sector+area+code"), Column("area name", "#sector+area+name"),
        Column("priority tier", "#meta+tier"), Column("requirements", "#indicator+requirements+num"),
        Column("met", "#indicator+met+num")),
}


def _table_rows(part: PublicPart, burden: Sequence[BurdenRow]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each subject, shared by the HXL files and the pages."""
    return {
        "hxl/burden.csv": [(r.member, r.name, r.committed_eur, r.allocated_eur, r.delivered_eur, r.share_of_total,
                            r.gdp_eur, r.allocated_pct_gdp) for r in burden],
        "hxl/monthly.csv": [(f.donor, f.month, f.category, f.committed_eur, f.allocated_eur, f.delivered_eur)
                            for f in part.months],
        "hxl/offers.csv": [(o.id, o.member, o.item, o.item_name, o.category, o.quantity, o.unit, o.status,
                            o.value_eur) for o in part.offers],
        "hxl/pledges.csv": [(p.id, p.member, p.fund, p.fund_name, p.amount, p.currency, p.amount_eur)
                            for p in part.pledges],
        "hxl/requirements.csv": [(r.area, r.area_name, r.tier, r.requirements, r.met) for r in part.requirements],
    }


def _iati(part: PublicPart, state: State, generated: datetime) -> tuple[bytes | None, list[str]]:
    by_donor: dict[tuple[str, str], list[iati.Transaction]] = defaultdict(list)
    for f in part.months:
        if f.category not in IATI_SECTORS:
            continue
        day = date(int(f.month[:4]), int(f.month[5:]), 1)
        for kind, value in ((iati.OUTGOING_COMMITMENT, f.allocated_eur), (iati.DISBURSEMENT, f.delivered_eur)):
            if value:
                by_donor[(f.donor, f.category)].append(iati.Transaction(kind, day, value))
    recipient = codes.ALPHA2.get(state.recipient, state.recipient)
    activities, missing = [], set()
    for (code, category), transactions in sorted(by_donor.items()):
        if code not in state.members:
            continue  # a tracked donor: the tracker's figures, which the donor itself publishes, if at all
        org = state.iati_organisations.get(code)
        if org is None:
            missing.add(code)
            continue
        name = state.members[code].name
        activities.append(iati.Activity(
            identifier=f"{org.identifier}-{state.recipient}-{category}", organisation=org.identifier,
            organisation_name=name, title=f"{name}: {category} aid to {state.recipient}",
            description=f"Monthly totals of the {category} aid {name} allocated and delivered to "
                        f"{state.recipient}, as recorded by the coordination {state.setting('origin') or ''}".strip(),
            recipient_country=recipient, sector=IATI_SECTORS[category], humanitarian=category == "humanitarian",
            start=min(t.on for t in transactions), transactions=tuple(transactions)))
    return iati.activities_xml(activities, generated) if activities else None, sorted(missing)


def _shown(tag: str, value: Any) -> str:
    """A cell as the pages show it: EUR to the euro, shares as % with two decimals, % of GDP with three; the CSV
    files keep every value exact."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and tag.startswith("#value"):
        return f"{value.quantize(Decimal(1), ROUND_HALF_EVEN):,}"
    if isinstance(value, Decimal) and tag == "#indicator+share":
        return f"{value * 100:.2f} %"
    if isinstance(value, Decimal):
        return f"{value:.3f} %"
    return f"{value:,}" if isinstance(value, int) else str(value)


PAGES = (  # file, title, intro, the table it shows
    ("index.html", "Burden sharing", "What each donor committed, allocated and delivered, in EUR, from the public "
     "part of the record.", "hxl/burden.csv"),
    ("monthly.html", "Monthly totals", "Per donor, month and category (commitments are not split by category).",
     "hxl/monthly.csv"),
    ("offers.html", "Public offers", "Offers their donors marked public.", "hxl/offers.csv"),
    ("pledges.html", "Pledges to funds", "Money each member pledged to a fund.", "hxl/pledges.csv"),
    ("requirements.html", "Requirements", "Requirements counted, by capability area and priority tier.",
     "hxl/requirements.csv"),
)


@dataclass(frozen=True, slots=True)
class PublicView:
    """What the release's pages show (the static page set, and the server's public page): each subject's table,
    the charts of the index page (title, SVG), the heading and the note on rounding and evidence."""

    site: str
    pages: tuple[pages.Page, ...]
    charts: tuple[tuple[str, str], ...]
    note: str
    size: int


def _view(rows: Mapping[str, list[tuple[Any, ...]]], burden: Sequence[BurdenRow], release: _Release) -> PublicView:
    made = []
    for file, title, intro, source in PAGES:
        columns = HXL_FILES[source]
        cells = tuple(tuple(_shown(c.tag, v) for c, v in zip(columns, row, strict=True)) for row in rows[source])
        numeric = frozenset(i for i, c in enumerate(columns) if c.tag.startswith(("#value", "#indicator", "#output")))
        made.append(pages.Page(file, title, intro, (pages.Table(title, tuple(c.header for c in columns), cells,
                                                                numeric),)))
    note = (f"Record {release.origin} at tree size {release.size}. EUR are rounded to the euro and shares to two "
            f"decimals here; the CSV files (hxl/) keep every value exact. The evidence "
            f"(events, inclusion proofs, the signed checkpoint) is in {EVIDENCE_FILE}: `contactgroup ledger "
            f"check-release` checks it.")
    synthetic = f"{SYNTHETIC_CAPTION}: " if is_synthetic(release.state) else ""
    records = [dataclasses.asdict(r) for r in burden]
    drawn = tuple((chart.heading, chart_svg(chart, records)) for chart in (charts.BURDEN, charts.BURDEN_GDP)
                  if chart.shown_rows(records))
    return PublicView(f"{synthetic}Public release: {release.origin}", tuple(made), drawn, note, release.size)


def public_view(db: Database) -> PublicView:
    """The public release's pages as of the newest witnessed (or signed) checkpoint, without writing a file."""
    release, part = _at_checkpoint(db)
    burden = public_burden(part)
    return _view(_table_rows(part, burden), burden, release)


def _record(kind: str, entity: Any, release: _Release, derived: Mapping[str, Any] | None = None) -> dict[str, Any]:
    rid = record_key(kind, entity)
    fields = RECORD_FIELDS[kind][1]
    doc: dict[str, Any] = {"id": rid, "figures": {f: plain(getattr(entity, f)) for f in fields}}
    if derived:
        doc["derived"] = {k: plain(v) for k, v in derived.items()}
    doc["events"] = [{"index": i, "event": _b64(leaf_data(release.bodies[i])),
                      "proof": [_b64(p) for p in release.proofs[i]]} for i in release.evidence.get(rid, ())]
    return doc


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _evidence_json(part: PublicPart, release: _Release, generated: datetime, left_out: Mapping[str, list[str]]) -> str:
    state = release.state
    records = [_record("offer", state.offers[o.id], release, {"value_eur": o.value_eur}) for o in part.offers]
    records += [_record("pledge", state.contributions[p.id], release, {"amount_eur": p.amount_eur})
                for p in part.pledges]
    records += [_record("gdp", g, release) for g in part.gdp]
    records += [_record("iati", o, release) for o in state.iati_organisations.values()]
    records += [_record("aid", a, release) for a in current_tracked_aid(state)]
    aggregates = [{"id": f"month/{f.donor}/{f.month}/{f.category}",
                   "figures": {"committed_eur": plain(f.committed_eur), "allocated_eur": plain(f.allocated_eur),
                               "delivered_eur": plain(f.delivered_eur)}} for f in part.months]
    aggregates += [{"id": f"requirements/{r.area}/{r.tier}", "figures": {"requirements": r.requirements,
                                                                        "met": r.met}} for r in part.requirements]
    doc = {
        "format": RELEASE_FORMAT, "origin": release.origin, "tree_size": release.size,
        "generated": plain(generated), "synthetic": is_synthetic(state), "checkpoint": release.note,
        "records": records, "left_out": left_out,
        "aggregates": {"why_no_events": "totals of allocations, shipments and requirements, whose single dates "
                                        "and destinations are not public: they cannot be checked from the release",
                       "records": aggregates},
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def write_files(outdir: Path, files: Mapping[str, bytes]) -> None:
    """Write every file into a new directory beside `outdir`, then move it into place: all or nothing."""
    outdir = Path(outdir)
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise ValidationFailed([Problem(str(outdir), "exists and is not an empty directory: a release is written "
                                                     "into a new one")])
    parent = outdir.resolve().parent
    if not parent.is_dir():
        raise ValidationFailed([Problem(str(outdir), f"its parent {parent} is not a directory")])
    scratch = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=parent))
    try:
        for name, data in files.items():
            path = scratch / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        scratch.chmod(0o755)
        if outdir.exists():
            outdir.rmdir()
        os.replace(scratch, outdir)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def publish(db: Database, outdir: Path, clock: Clock, number: int = 1) -> Published:
    """Write the public release of the record at its newest witnessed (or, without witnesses, signed) checkpoint.

    `number` is the release's number in the tracker's layout: an importer refuses a number it already holds."""
    if not 1 <= number <= MAX_RELEASE_NUMBER:
        raise ValidationFailed(f"{number} is not a release number (1-{MAX_RELEASE_NUMBER})", where="release")
    release, part = _at_checkpoint(db)
    now = clock.now()
    burden = public_burden(part)
    rows = _table_rows(part, burden)
    files: dict[str, bytes] = {name: hxl.hxl_csv(HXL_FILES[name], table).encode() for name, table in rows.items()}
    kiel_files, not_in_kiel = _kiel_files(part, release, now.date(), number)
    files |= {name: text.encode() for name, text in kiel_files.items()}
    iati_file, not_in_iati = _iati(part, release.state, now)
    if iati_file is not None:  # the schema wants one activity at least: no file rather than an invalid one
        files[IATI_FILE] = iati_file
    left_out = {"iati": not_in_iati, "kiel": not_in_kiel}
    files[EVIDENCE_FILE] = _evidence_json(part, release, now, left_out).encode()
    view = _view(rows, burden, release)
    files |= {name: text.encode() for name, text in pages.render(view.site, view.pages, view.note,
                                                                 view.charts).items()}
    files[pages.STYLE_SHEET] = pages.style_sheet()
    write_files(outdir, files)
    return Published(Path(outdir), release.size, tuple(sorted(files)), len(release.evidence), tuple(not_in_iati),
                     tuple(not_in_kiel), _actors(release))


def _actors(release: _Release) -> tuple[str, ...]:
    """The evidence shows each event's leaf form: from body version 3 on it commits to the actor without naming it,
    but an older event's leaf is its whole body, actor included. The publisher is told which accounts those name."""
    return tuple(sorted({decode(body).actor for indices in release.evidence.values() for i in indices
                         if body_version(body := release.bodies[i]) < ACTOR_COMMITTED}))
