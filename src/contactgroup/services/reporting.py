"""Reports as a reader receives them: computed on the record as it stood at one log size, stamped with that size,
its Merkle root and the first signed checkpoint that covers it — so that anyone holding the record can compute
them again (`check_report`) and anyone holding the log key can tie them to what the witnesses saw.

Record time (`as_of`) picks the log size: the events recorded before the end of the day (UTC). Event times never
go backwards in the log (the writer stamps them, see storage/database.py), so those events are a prefix of it and
replaying them gives the record exactly as it stood then.
"""

from __future__ import annotations

import base64
import binascii
import csv
import dataclasses
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from contactgroup.domain.errors import ContactGroupError, IntegrityError, Problem, ValidationFailed
from contactgroup.domain.model import FIRST_DAY, LAST_DAY, Category
from contactgroup.domain.state import State
from contactgroup.domain.text import day
from contactgroup.encoding.canonical import plain
from contactgroup.io.report_xlsx import read_report_xlsx
from contactgroup.io.spreadsheet import csv_unquote
from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import Checkpoint, open_checkpoint
from contactgroup.ledger.note import Verifier
from contactgroup.reports.burden import burden, gdp_note
from contactgroup.reports.coverage import GROUPINGS, Grouping, coverage
from contactgroup.reports.facts import is_synthetic
from contactgroup.reports.fields import kept
from contactgroup.reports.gaps import DEFAULT_LIMIT, GapRow, gaps
from contactgroup.reports.lag import lag
from contactgroup.reports.public import public_burden, public_part
from contactgroup.reports.scope import EVERYTHING, Scope, scope_problems
from contactgroup.reports.valuation import Valuer
from contactgroup.services import movement
from contactgroup.services.checkpoints import with_cosignatures
from contactgroup.services.clock import Clock
from contactgroup.services.log_keys import log_keys
from contactgroup.services.proofs import b64
from contactgroup.storage import log_tables
from contactgroup.storage.database import Connection, Database, TreeNodes, load_state, read_events, replay_log

REPORT_FORMAT = "contactgroup-report/1"
_NUMBER = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,60})?(E[+-]?[0-9]{1,4})?")
REPORTS = ("coverage", "burden", "lag", "gaps")
MAX_REPORT_BYTES = 32 * 1024 * 1024  # a report file `report check` reads: far above any coordination's report
# The options a report takes besides the scope's, and those of the scope it does not (a gap names no donor).
_OWN = {"coverage": ("by", "keep_all"), "burden": ("gdp_year", "public", "keep_all"), "lag": (),
        "gaps": ("limit",)}
_NOT_SCOPED = {"gaps": ("member",)}
_FLAGS = ("public", "keep_all")  # named in a stamp only when set
# The columns that name a row in a finding ("row 3 (DEU)").
_ROW_NAMES = {"coverage": ("key",), "burden": ("member",), "lag": ("member", "category"), "gaps": ("requirement",)}


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """Which report, narrowed how, as of which day (None: the record as it is)."""

    report: str
    scope: Scope = EVERYTHING
    as_of: date | None = None
    by: Grouping = "requirement"
    gdp_year: int | None = None
    limit: int = DEFAULT_LIMIT
    public: bool = False  # burden from the public part only (what `publish` releases), % of the tracker's GDP year
    keep_all: bool = False  # keep the rows whose every figure is zero (coverage and burden leave them out)

    def parameters(self) -> dict[str, Any]:
        """What a reader needs to compute the same report again, as JSON-ready values."""
        scoped = {k: v for k, v in self.scope.parameters().items() if k not in _NOT_SCOPED.get(self.report, ())}
        own = {k: getattr(self, k) for k in _OWN[self.report] if k not in _FLAGS or getattr(self, k)}
        params: dict[str, Any] = plain({"as_of": self.as_of, **scoped, **own})
        return params


def compute(state: State, request: ReportRequest, *, valuer: Valuer | None = None) -> list[Any]:
    """The report's typed rows on `state`."""
    scope = request.scope
    if request.report == "coverage":
        return coverage(state, request.by, scope)
    if request.report == "burden" and request.public:
        return public_burden(public_part(state, valuer or Valuer.of(state)))
    if request.report == "burden":
        return burden(state, request.gdp_year, valuer=valuer, scope=scope)
    if request.report == "lag":
        return lag(state, scope)
    # ETAs as early as they can be: each shipment leaves when its offer is available (or left when it was
    # dispatched), so that the figures follow from the record alone and `report check` finds them again.
    on = request.as_of or FIRST_DAY
    return gaps(state, request.limit, scope, movement.late_by_requirement(
        state, movement.known_network(state, request.as_of or LAST_DAY), on))


def records(state: State, rows: Sequence[Any], request: ReportRequest) -> tuple[list[dict[str, Any]], int]:
    """The rows as records, every field by name (a gap's breakdown as a mapping and its reasons in words), without
    the all-zero rows the request leaves out; on a demo database each says `synthetic`. And how many were left out."""
    out = []
    for row in rows:
        record = dataclasses.asdict(row)
        if isinstance(row, GapRow):
            record |= {"breakdown": dict(row.breakdown), "reasons": row.reasons}
        out.append(record)
    left, gone = kept(request.report, request.by, out, request.keep_all)
    return ([{**r, "synthetic": True} for r in left] if is_synthetic(state) else [dict(r) for r in left]), gone


# --- the stamp ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoveringCheckpoint:
    """The first signed checkpoint at or after the report's size, and the proof that the report's tree is its
    prefix."""

    size: int
    note: str  # the signed note, with the witnesses' cosignatures
    proof: tuple[bytes, ...]  # RFC 9162 consistency proof from the report's size to `size`

    def as_json(self) -> dict[str, Any]:
        return {"size": self.size, "note": self.note, "consistency_proof": [b64(p) for p in self.proof]}


@dataclass(frozen=True, slots=True)
class Stamp:
    origin: str
    as_of: datetime  # record time: the end of the day asked for, or when the report was computed
    as_of_date: date | None
    log_size: int
    root: bytes
    last_event_at: datetime | None
    generated_at: datetime
    parameters: dict[str, Any]
    checkpoint: CoveringCheckpoint | None

    def as_json(self) -> dict[str, Any]:
        return {"format": REPORT_FORMAT, "origin": self.origin, "as_of": plain(self.as_of),
                "as_of_date": plain(self.as_of_date), "log_size": self.log_size, "root": b64(self.root),
                "last_event_at": plain(self.last_event_at), "generated_at": plain(self.generated_at),
                "parameters": self.parameters,
                "checkpoint": self.checkpoint.as_json() if self.checkpoint else None}

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) lines for a header block (CSV `# label: value`, a workbook's first rows): one line each,
        the signed note in base64 since it spans lines."""
        parameters = ", ".join(f"{k}={v}" for k, v in self.parameters.items() if v is not None) or "none"
        lines = [("format", REPORT_FORMAT), ("origin", self.origin), ("as_of", plain(self.as_of)),
                 ("log_size", str(self.log_size)), ("root", b64(self.root)),
                 ("last_event_at", plain(self.last_event_at) or "none"), ("generated_at", plain(self.generated_at)),
                 ("parameters", parameters)]
        cp = self.checkpoint
        if cp is None:
            return [*lines, ("checkpoint", "none yet: none signed at or after this size")]
        return [*lines, ("checkpoint_size", str(cp.size)),
                ("checkpoint_note_base64", b64(cp.note.encode("utf-8"))),
                ("consistency_proof", " ".join(b64(p) for p in cp.proof) or "none (same size)")]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The record a report is computed on, and its stamp."""

    state: State
    stamp: Stamp


def end_of_day(on: date) -> datetime:
    """The first instant after `on` (UTC): events before it are the record as it stood at the end of that day."""
    return datetime.combine(on + timedelta(days=1), time(0), UTC)


def snapshot(db: Database, request: ReportRequest, clock: Clock) -> Snapshot:
    """The record at the request's record time (one read snapshot: state, size and root agree), stamped; the
    request's filters are checked against it."""
    now = clock.now()
    with db.reader() as conn:
        if request.as_of is None:
            state, size, cutoff = load_state(conn)[0], log_tables.tree_size(conn), now
        else:
            cutoff = end_of_day(request.as_of)
            size = log_tables.size_before(conn, cutoff)
            state = replay_log([body for _, body, _ in read_events(conn, 0, size)])
        stamp = Stamp(origin=state.setting("origin"), as_of=cutoff, as_of_date=request.as_of, log_size=size,
                      root=merkle.root_from_store(TreeNodes(conn), size),
                      last_event_at=log_tables.time_of(conn, size - 1), generated_at=now,
                      parameters=request.parameters(), checkpoint=covering_checkpoint(conn, size))
    refuse_bad_scope(state, request.scope)
    return Snapshot(state, stamp)


def refuse_bad_scope(state: State, scope: Scope) -> None:
    """Every problem of the scope at once (each names its filter: `where`), before anything is printed."""
    problems = scope_problems(state, scope)
    if problems:
        raise ValidationFailed(problems, code="report-filter")


def covering_checkpoint(conn: Connection, size: int) -> CoveringCheckpoint | None:
    """The smallest signed checkpoint of `size` or more leaves, with a consistency proof from `size` to it."""
    found = log_tables.first_checkpoint_from(conn, size)
    if found is None:
        return None
    signed_size, note = found
    proof = merkle.consistency_proof_from_store(TreeNodes(conn), size, signed_size) if size else []
    return CoveringCheckpoint(signed_size, with_cosignatures(note, log_tables.cosignature_lines(conn, signed_size)),
                              tuple(proof))


def header_lines(request: ReportRequest, stamp: Stamp) -> list[tuple[str, str]]:
    """The header block of a CSV file (`# key: value`) and of a workbook's "Stamp" sheet: which report, and its
    stamp; `report check` reads it back (`stamp_from_lines`)."""
    return [("report", request.report), *stamp.lines()]


def envelope(request: ReportRequest, stamp: Stamp, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The JSON a report is handed on as: which report, its stamp, its rows (each as before stamps existed)."""
    return {"report": request.report, "stamp": stamp.as_json(), "rows": [plain(dict(r)) for r in rows]}


@dataclass(frozen=True, slots=True)
class Computed:
    """A stamped report as every front door hands it on (the command line, the API, the command line against a
    server): its records, how many all-zero rows were left out, whether the data is a demo's, and the notes on
    GDP and exchange rates its caption carries (burden only)."""

    request: ReportRequest
    stamp: Stamp
    records: list[dict[str, Any]]
    left_out: int
    synthetic: bool
    gdp_note: str | None = None
    rate_notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The envelope, and what a reader of the rows needs to caption them."""
        return {**envelope(self.request, self.stamp, self.records), "left_out": self.left_out,
                "synthetic": self.synthetic, "gdp_note": self.gdp_note, "rate_notes": list(self.rate_notes)}


def computed(db: Database, request: ReportRequest, clock: Clock) -> Computed:
    """The report `request` asks for, on one stamped snapshot of the record."""
    snap = snapshot(db, request, clock)
    state = snap.state
    rows, gone = records(state, compute(state, request), request)
    notes: tuple[str | None, tuple[str, ...]] = (None, ())
    if request.report == "burden":
        notes = (gdp_note(state, request.gdp_year), tuple(Valuer.of(state).notes()))
    return Computed(request, snap.stamp, rows, gone, is_synthetic(state), *notes)


def received(request: ReportRequest, document: Mapping[str, Any]) -> Computed:
    """A report as a server's `/api/v1/reports/...` answered it (`Computed.as_json`), for the request sent."""
    return Computed(request, stamp_from_json(document["stamp"]), [dict(r) for r in document["rows"]],
                    int(document["left_out"]), bool(document["synthetic"]), document.get("gdp_note"),
                    tuple(document.get("rate_notes") or ()))


def stamp_from_json(data: Mapping[str, Any]) -> Stamp:
    """A stamp read back from its JSON (`Stamp.as_json`)."""
    cp = data.get("checkpoint")
    checkpoint = (CoveringCheckpoint(int(cp["size"]), str(cp["note"]),
                                     tuple(base64.b64decode(p) for p in cp["consistency_proof"])) if cp else None)

    def moment(key: str) -> datetime | None:
        return datetime.fromisoformat(data[key]) if data.get(key) else None

    as_of, generated = moment("as_of"), moment("generated_at")
    if as_of is None or generated is None:
        raise ValidationFailed("a stamp names its as_of and generated_at times", where="stamp")
    return Stamp(origin=str(data["origin"]), as_of=as_of,
                 as_of_date=day(data["as_of_date"]) if data.get("as_of_date") else None,
                 log_size=int(data["log_size"]), root=base64.b64decode(data["root"]),
                 last_event_at=moment("last_event_at"), generated_at=generated,
                 parameters=dict(data["parameters"]), checkpoint=checkpoint)


# --- checking a report against the record ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    """One value of a report file that the record gives otherwise (or does not give at all)."""

    row: int  # 1-based, as a reader counts the rows
    name: str  # what names the row: a requirement, a member
    column: str
    in_file: Any
    in_record: Any
    source: str = "record"  # what gives `in_record`: the record, or a public release

    def __str__(self) -> str:
        return (f"row {self.row} ({self.name}), {self.column}: the file says {_shown(self.in_file)}, "
                f"the {self.source} gives {_shown(self.in_record)}")


@dataclass(frozen=True, slots=True)
class ReportCheck:
    report: str
    log_size: int
    current_size: int
    matched: int  # figures equal in the file and the record
    mismatches: tuple[Figure, ...]
    cannot_check: tuple[Figure, ...]  # values of the file the checker cannot compute (their `in_record` is None)
    checkpoint: str  # what the check of the signed checkpoint found, in words

    @property
    def grown(self) -> int:
        """Events recorded since the report was computed."""
        return self.current_size - self.log_size


def _shown(value: Any) -> str:
    return "nothing" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def check_report(db: Database, data: bytes) -> ReportCheck:
    """Compute the report of a report file again at its log size and compare it figure by figure.

    A root that differs from the record's at that size, or a checkpoint whose signature or consistency proof does
    not verify with the log key the record publishes, is an `IntegrityError`; a malformed file a
    `ValidationFailed`. Differing figures are the result's `mismatches` (the caller decides the exit)."""
    file = read_report_file(data)
    document = file.document
    request, stamp, rows = report_request(document), document["stamp"], document["rows"]
    size = whole_field(stamp, "log_size")
    with db.reader() as conn:
        current = log_tables.tree_size(conn)
        if size > current:
            raise IntegrityError(f"the report was computed at log size {size:,}, but the record holds only "
                                 f"{current:,} events", code="report-beyond-record")
        if request.as_of is not None and (then := log_tables.size_before(conn, end_of_day(request.as_of))) != size:
            raise IntegrityError(f"the record held {then:,} events at the end of {request.as_of.isoformat()}, the "
                                 f"report says it was computed as of then at log size {size:,}",
                                 code="report-size-differs")
        root = merkle.root_from_store(TreeNodes(conn), size)
        if stamp.get("root") != b64(root):
            raise IntegrityError(f"the record's root at size {size:,} is {b64(root)}, the report says "
                                 f"{stamp.get('root')!r}: it was not computed from this record",
                                 code="report-root-differs")
        verdict = _check_checkpoint(conn, size, root, stamp.get("checkpoint"))
        state = replay_log([body for _, body, _ in read_events(conn, 0, size)])
    problems = scope_problems(state, request.scope)
    if problems:
        raise ValidationFailed([Problem(f"stamp.parameters.{p.where}", p.message) for p in problems])
    expected = file.held([plain(r) for r in records(state, compute(state, request), request)[0]])
    matched, mismatches, unseen = compare_rows(request.report, rows, expected, same=file.same)
    return ReportCheck(request.report, size, current, matched, tuple(mismatches), tuple(unseen), verdict)


def report_document(data: bytes) -> dict[str, Any]:
    """A JSON report file's envelope (report, stamp, rows), checked for its shape."""
    if len(data) > MAX_REPORT_BYTES:
        raise ValidationFailed(f"larger than {MAX_REPORT_BYTES:,} bytes", where="report file")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"not JSON ({exc})", where="report file") from None
    except RecursionError:  # nested deeper than the parser goes: no report is
        raise ValidationFailed("not JSON (nested too deeply)", where="report file") from None
    return _shaped(document)


def _shaped(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict) or not isinstance(document.get("stamp"), dict):
        raise ValidationFailed("not a stamped report (an object with report, stamp and rows: "
                               "`report ... --format json` writes one)", where="report file")
    if document["stamp"].get("format") != REPORT_FORMAT:
        raise ValidationFailed(f"format {document['stamp'].get('format')!r} is not {REPORT_FORMAT}",
                               where="stamp.format")
    rows = document.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValidationFailed("must be a list of objects", where="rows")
    return document


# --- a report file in any of its checkable forms ----------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"  # a workbook is a zip archive
_TYPED_PARAMETERS = {"gdp_year": int, "limit": int, "public": bool, "keep_all": bool}


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A report file read back: its document (report, stamp, rows as the file holds them) and its form — the JSON
    envelope, CSV with its `# key: value` header block, or a workbook with its "Stamp" sheet. CSV and a workbook
    are compared on the fields they hold (a workbook shows only some); CSV as the text of its cells, a workbook's
    numbers to the precision a spreadsheet cell holds (a double: 15 significant digits and more)."""

    document: dict[str, Any]
    form: str = "json"
    columns: tuple[str, ...] = ()

    def held(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The records (JSON values) as this form holds them."""
        if self.form == "json":
            return [dict(r) for r in records]
        kept_columns = [c for c in self.columns if c]
        if self.form == "csv":
            return [{k: _csv_form(r[k]) for k in kept_columns if k in r} for r in records]
        return [{k: r[k] for k in kept_columns if k in r} for r in records]

    def same(self, in_file: Any, in_record: Any) -> bool:
        return _same_cell(in_file, in_record) if self.form == "xlsx" else same_value(in_file, in_record)


def read_report_file(data: bytes) -> ReportFile:
    """A report file as `report ... --format json|csv|xlsx` wrote it, told apart by its first bytes."""
    if len(data) > MAX_REPORT_BYTES:
        raise ValidationFailed(f"larger than {MAX_REPORT_BYTES:,} bytes", where="report file")
    if data.startswith(XLSX_MAGIC):
        block, header, rows = read_report_xlsx(data)
        return ReportFile(_shaped(_from_block(block, rows)), "xlsx", tuple(header))
    if data.startswith(b"# "):
        block, header, text_rows = _csv_file(data)
        return ReportFile(_shaped(_from_block(block, text_rows)), "csv", tuple(header))
    return ReportFile(report_document(data))


def _csv_file(data: bytes) -> tuple[dict[str, str], list[str], list[dict[str, Any]]]:
    """A CSV report's header block ({key: value}), its columns and its rows (each cell's text)."""
    try:
        lines = data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"not UTF-8 text ({exc})", where="report file") from None
    start = next((i for i, line in enumerate(lines) if not line.startswith("# ")), len(lines))
    block: dict[str, str] = {}
    for n, line in enumerate(lines[:start], start=1):
        key, sep, value = line[2:].rstrip("\r\n").partition(": ")
        if not sep:
            raise ValidationFailed(f"line {n} is not `# key: value`", where="report file")
        block[key] = value
    reader = csv.DictReader(io.StringIO("".join(lines[start:])))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ValidationFailed(f"not readable CSV ({exc})", where="report file") from None
    for n, row in enumerate(rows, start=1):
        if None in row or None in row.values():
            raise ValidationFailed(f"row {n} has not one cell per column", where="report file")
    return block, list(reader.fieldnames or []), [{k: csv_unquote(v) for k, v in r.items()} for r in rows]


def _from_block(block: Mapping[str, str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The envelope a header block (`header_lines`) and rows stand for."""
    if "format" not in block:
        raise ValidationFailed("its header block names no format: not a stamped report (`report ... --format "
                               "csv` or `xlsx` writes one)", where="report file")
    size = block.get("log_size", "")
    stamp: dict[str, Any] = {k: block.get(k) for k in ("format", "origin", "as_of", "root", "last_event_at",
                                                       "generated_at")}
    parameters = _parameters(block.get("parameters", "none"))
    stamp |= {"as_of_date": parameters.get("as_of"), "log_size": int(size) if size.isdigit() else size,
              "parameters": parameters, "checkpoint": _checkpoint_block(block)}
    return {"report": block.get("report"), "stamp": stamp, "rows": rows}


def _parameters(text: str) -> dict[str, Any]:
    """`Stamp.lines`' parameters (`k=v, k=v`, or `none`) typed again: whole numbers and flags as such."""
    params: dict[str, Any] = {}
    for item in ([] if text == "none" else text.split(", ")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValidationFailed(f"{item!r} is not key=value", where="stamp.parameters")
        kind = _TYPED_PARAMETERS.get(key)
        params[key] = (value == "True" if kind is bool and value in ("True", "False")
                       else int(value) if kind is int and value.isdigit() else value)
    return params


def _checkpoint_block(block: Mapping[str, str]) -> dict[str, Any] | None:
    if "checkpoint_size" not in block:
        return None
    try:
        note = base64.b64decode(block.get("checkpoint_note_base64", ""), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ValidationFailed("not base64 text", where="stamp.checkpoint_note_base64") from None
    proof = block.get("consistency_proof", "")
    size = block["checkpoint_size"]
    return {"size": int(size) if size.isdigit() else size, "note": note,
            "consistency_proof": [] if proof.startswith("none") else proof.split()}


def _csv_form(value: Any) -> Any:
    """A JSON value as a CSV cell of a report writes it (`cli.common.emit`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _same_cell(cell: Any, value: Any) -> bool:
    """A workbook's cell holds the JSON value: text, whole numbers, flags and dates exactly; a decimal to the
    precision of the double a cell holds (every digit, when it has 15 significant digits or fewer)."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if value is None or isinstance(value, bool) or isinstance(cell, bool):
        return bool(cell is value or (cell == value and type(cell) is type(value)))
    if isinstance(cell, datetime):
        return bool(cell.date().isoformat() == value)
    if isinstance(cell, int | float) and isinstance(value, int | str) and _NUMBER.fullmatch(str(value)):
        exact = Decimal(str(value))
        if isinstance(cell, int) or len(exact.normalize().as_tuple().digits) <= 15:
            return Decimal(repr(cell)) == exact
        return math.isclose(cell, float(exact), rel_tol=1e-15)
    return bool(cell == value)


def whole_field(values: dict[str, Any], key: str, where: str = "stamp") -> int:
    value = values.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationFailed(f"{value!r} is not a whole number of 0 or more", where=f"{where}.{key}")
    return value


def _text(values: dict[str, Any], key: str) -> str | None:
    value = values.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"{value!r} is not text", where=f"stamp.parameters.{key}")
    return value


def _day(values: dict[str, Any], key: str) -> date | None:
    value = _text(values, key)
    try:
        return None if value is None else day(value)
    except ValueError as exc:
        raise ValidationFailed(str(exc), where=f"stamp.parameters.{key}") from None


def report_request(document: dict[str, Any]) -> ReportRequest:
    """The request a report file was computed for, read strictly from its report name and stamp's parameters."""
    name = document.get("report")
    if name not in REPORTS:
        raise ValidationFailed(f"{name!r} is not one of {', '.join(REPORTS)}", where="report")
    params = document["stamp"].get("parameters")
    if not isinstance(params, dict):
        raise ValidationFailed("must be an object", where="stamp.parameters")
    kind = _text(params, "kind")
    if kind is not None and kind not in {c.value for c in Category}:
        raise ValidationFailed(f"{kind!r} is not a kind of aid", where="stamp.parameters.kind")
    scope = Scope(start=_day(params, "from"), end=_day(params, "to"), area=_text(params, "area"),
                  member=_text(params, "member"), kind=Category(kind) if kind else None)
    request = ReportRequest(str(name), scope, _day(params, "as_of"))
    if name == "coverage":
        by = params.get("by")
        if by not in GROUPINGS:
            raise ValidationFailed(f"{by!r} is not one of {', '.join(GROUPINGS)}", where="stamp.parameters.by")
        request = dataclasses.replace(request, by=by, keep_all=_flag(params, "keep_all"))
    elif name == "burden":
        year = None if params.get("gdp_year") is None else whole_field(params, "gdp_year", "stamp.parameters")
        request = dataclasses.replace(request, gdp_year=year, public=_flag(params, "public"),
                                      keep_all=_flag(params, "keep_all"))
    elif name == "gaps":
        limit = whole_field(params, "limit", "stamp.parameters")
        if limit < 1:
            raise ValidationFailed(f"{limit} must be 1 or more", where="stamp.parameters.limit")
        request = dataclasses.replace(request, limit=limit)
    return request


def _flag(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if not isinstance(value, bool):
        raise ValidationFailed("must be true or false", where=f"stamp.parameters.{name}")
    return value


def _check_checkpoint(conn: Connection, size: int, root: bytes, claimed: Any) -> str:
    """Verify the report's checkpoint (or, if it carries none, the record's first at or after its size): its
    signature with a log key the record publishes, and the consistency of the report's tree with it."""
    keys = log_keys(conn)
    if claimed is None:
        found = covering_checkpoint(conn, size)
        if found is None:
            return "none: no checkpoint has been signed at or after this size yet"
        verify_covering(keys, size, root, found.note, found.proof, where="the record's checkpoint")
        return (f"the report carries none; the record's checkpoint of size {found.size:,} covers it "
                f"(signature and consistency proof verified)")
    note, proof = claimed_checkpoint(claimed)
    signed = verify_covering(keys, size, root, note, proof, where="the report's checkpoint")
    return f"checkpoint of size {signed.size:,}: signature and consistency proof verified"


def claimed_checkpoint(claimed: Any) -> tuple[str, tuple[bytes, ...]]:
    """The signed note and consistency proof a stamp's `checkpoint` carries, read strictly."""
    if not isinstance(claimed, dict) or not isinstance(claimed.get("note"), str) or not isinstance(
            claimed.get("consistency_proof"), list):
        raise ValidationFailed("must be an object with note and consistency_proof", where="stamp.checkpoint")
    return claimed["note"], tuple(_bytes(p) for p in claimed["consistency_proof"])


def _bytes(text: Any) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"{text!r} is not base64", where="stamp.checkpoint.consistency_proof") from None


def verify_covering(keys: Sequence[Verifier], size: int, root: bytes, note: str, proof: Sequence[bytes],
                    *, where: str, keys_from: str = "the log key the record publishes") -> Checkpoint:
    """The checkpoint of `note`, once its signature verifies with one of `keys` and `proof` shows the tree of
    `size` leaves and `root` to be its prefix; an `IntegrityError` naming `where` otherwise."""
    try:
        checkpoint = open_checkpoint(note, keys).checkpoint
    except ContactGroupError as exc:
        raise IntegrityError(f"{where} does not verify with {keys_from}: {exc}", code="report-checkpoint") from None
    if checkpoint.size < size or not merkle.verify_consistency(size, checkpoint.size, root, checkpoint.root, proof):
        raise IntegrityError(f"{where} (size {checkpoint.size:,}) is not consistent with the report's tree of size "
                             f"{size:,}: the consistency proof does not verify", code="report-checkpoint")
    return checkpoint


def row_name(report: str, row: dict[str, Any]) -> str:
    return "/".join(str(row.get(k)) for k in _ROW_NAMES[report])


def same_value(in_file: Any, in_record: Any) -> bool:
    """Equal values; exact decimals (written as strings) by their value, so "1890000" is "1890000.0"."""
    if in_file == in_record:
        return True
    if isinstance(in_file, str) and isinstance(in_record, str) and _NUMBER.fullmatch(in_file) \
            and _NUMBER.fullmatch(in_record):
        return Decimal(in_file) == Decimal(in_record)
    return False


def compare_rows(report: str, rows: Sequence[dict[str, Any]], expected: Sequence[dict[str, Any]],
                 source: str = "record", same: Callable[[Any, Any], bool] | None = None,
                 ) -> tuple[int, list[Figure], list[Figure]]:
    """(figures that match, figures that differ, figures the checker cannot compute), row by row in order."""
    matched, differ, unseen = 0, [], []
    for i in range(max(len(rows), len(expected))):
        mine = rows[i] if i < len(rows) else {}
        theirs = expected[i] if i < len(expected) else {}
        name = row_name(report, theirs or mine)
        if not mine or not theirs:
            differ.append(Figure(i + 1, name, "(whole row)", "a row" if mine else None,
                                 "a row" if theirs else None, source))
            continue
        for column in sorted(mine.keys() | theirs.keys()):
            if column not in theirs:
                unseen.append(Figure(i + 1, name, column, mine[column], None, source))
            elif column not in mine or not (same or same_value)(mine[column], theirs[column]):
                differ.append(Figure(i + 1, name, column, mine.get(column), theirs[column], source))
            else:
                matched += 1
    return matched, differ, unseen
