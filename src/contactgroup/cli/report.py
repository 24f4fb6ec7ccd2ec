"""`contactgroup report ...`: coverage, burden sharing, pledge-to-delivery lag and gaps, as a table, CSV, JSON, XLSX
or PDF; and `report check`, which computes a report file again from the record (or from a public release).

Reports are aggregates and visible to every role. Tables and PDF pages round money to the euro and shares to two
decimals, and say so; CSV, JSON and XLSX keep every value exact (a workbook shows it rounded by number format).
Every report is stamped (services/reporting.py): its record time, log size, root and covering checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import io
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from contactgroup.cli import seam
from contactgroup.cli.common import (
    Column,
    DbOption,
    Format,
    database,
    emit,
    err,
    fail,
    fit_table,
    handles_errors,
    out,
    whole_number,
    whole_number_in,
)
from contactgroup.cli.ledger import release_key
from contactgroup.domain.model import Category
from contactgroup.domain.text import day
from contactgroup.io.report_pdf import report_pdf
from contactgroup.io.report_xlsx import report_xlsx
from contactgroup.ledger.note import VerifierKey
from contactgroup.reports import charts
from contactgroup.reports.document import ROUNDING_NOTE, Kind, Report, shown
from contactgroup.reports.facts import SYNTHETIC_CAPTION
from contactgroup.reports.fields import BURDEN_FIELDS, GAPS_FIELDS, LAG_FIELDS, coverage_fields
from contactgroup.reports.gaps import DEFAULT_LIMIT, REASONS
from contactgroup.reports.public import GDP_YEAR as PUBLIC_GDP_YEAR
from contactgroup.reports.scope import Scope
from contactgroup.services import report_release, reporting
from contactgroup.services.clock import SystemClock
from contactgroup.services.proofs import b64
from contactgroup.services.reporting import Computed, ReportRequest

app = typer.Typer(help="Reports: coverage of requirements, burden sharing, delivery lag, gaps.",
                  no_args_is_help=True)


class By(enum.StrEnum):
    REQUIREMENT = "requirement"
    CLASS = "class"
    TIER = "tier"
    AREA = "area"


class ReportFormat(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"


BINARY = frozenset({ReportFormat.XLSX, ReportFormat.PDF})
ReportFormatOption = Annotated[ReportFormat, typer.Option(
    "--format", "-f", help="Output: a table, CSV, JSON (exact values), an XLSX workbook or a PDF (written to "
                           "--output FILE, or to standard output when it is not a terminal).")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", dir_okay=False, help="Write the report to this file instead of standard output.")]
AllOption = Annotated[bool, typer.Option("--all", help="Keep the rows whose every figure is zero.")]


@dataclasses.dataclass(frozen=True, slots=True)
class Destination:
    """Where a report goes, checked before anything is computed: a workbook or a PDF is never shown on a
    terminal, and a table is never written to a file."""

    fmt: ReportFormat
    output: Path | None

    def __post_init__(self) -> None:
        if self.fmt is ReportFormat.TABLE and self.output is not None:
            raise fail("--output takes --format csv, json, xlsx or pdf; a table is for the terminal", 2)
        if self.fmt in BINARY and self.output is None and sys.stdout.isatty():
            raise fail(f"--format {self.fmt.value} writes a file: pass --output FILE "
                       f"(or redirect: > report.{self.fmt.value})", 2)


PROSE = frozenset({"name", "detail", "reasons"})


def _table(report: Report) -> None:
    cols = []
    for f in report.fields:
        numeric = f.kind not in (Kind.TEXT, Kind.DATE)
        # Numbers, dates and codes never wrap nor are cut; only prose may fold onto several lines.
        short = f.kind is not Kind.TEXT or f.key not in PROSE
        cols.append(Column(f.key, f.heading, [shown(f.kind, r.get(f.key)) for r in report.rows],
                           numeric=numeric, short=short))
    out.print(fit_table(cols, title=report.title, caption=report.caption, width=out.width, drop=report.drop))
    if not report.rows:
        out.print("(nothing to report)")


def _write(data: bytes, where: Destination) -> None:
    """All of it or nothing: the file is written once the whole report is rendered."""
    if where.output is not None:
        try:
            where.output.write_bytes(data)
        except OSError as exc:
            raise fail(f"--output {where.output}: cannot write it ({exc.strerror or exc})", 2) from None
        err.print(f"wrote {escape(str(where.output))} ({len(data):,} bytes)", highlight=False)
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _show(result: Computed, report: Report, where: Destination,
          records: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Print or write one stamped report: a Rich table (its caption names the record time, size, root and
    checkpoint), every field as JSON (an envelope: report, stamp, rows) or CSV (the stamp as `# label: value` lines
    first) of `records` (default its rows), or an XLSX workbook or PDF of its shown fields with the stamp in the
    caption.

    On a demo database every form says so: the title and caption, a `synthetic` field, a line on stderr.
    """
    request, stamp, synthetic = result.request, result.stamp, result.synthetic
    caption = f"{report.caption}. {_stamp_caption(stamp)}"
    if synthetic:
        report = dataclasses.replace(report, title=f"{report.title} — {SYNTHETIC_CAPTION}",
                                     caption=f"{SYNTHETIC_CAPTION}. {caption}")
    else:
        report = dataclasses.replace(report, caption=caption)
    report = dataclasses.replace(report, stamp=tuple(reporting.header_lines(request, stamp)))
    fmt = where.fmt
    if fmt is ReportFormat.TABLE:
        _table(dataclasses.replace(_typed(report), caption=f"{report.caption}. {ROUNDING_NOTE}"))
        return
    if synthetic:
        err.print(f"[bold yellow]{SYNTHETIC_CAPTION}[/]: generated, not real", highlight=False)
    if fmt in BINARY:
        _write((report_xlsx if fmt is ReportFormat.XLSX else report_pdf)(_typed(report)), where)
        return
    rows = list(report.rows if records is None else records)
    if fmt is ReportFormat.JSON:
        text = json.dumps(reporting.envelope(request, stamp, rows), indent=2, ensure_ascii=False) + "\n"
    else:
        fields = list(rows[0].keys()) if rows else [*(f.key for f in report.fields),
                                                    *(["synthetic"] if synthetic else [])]
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            emit(rows, Format.CSV, columns=fields)
        text = "".join(f"# {label}: {value}\n" for label, value in report.stamp) + buffer.getvalue()
    if where.output is None:
        sys.stdout.write(text)
    else:
        _write(text.encode("utf-8"), where)


FIGURES = frozenset({Kind.NUMBER, Kind.UNITS, Kind.MONEY, Kind.SHARE, Kind.PERCENT, Kind.DAYS})


def _typed(report: Report) -> Report:
    """The rows with their figures and dates typed again where they came as JSON text (a server's report), so that a
    table rounds them and a workbook types its cells exactly as for a report computed here."""

    def value(kind: Kind, v: Any) -> Any:
        if not isinstance(v, str) or kind not in FIGURES | {Kind.DATE}:
            return v
        try:
            return Decimal(v) if kind in FIGURES else date.fromisoformat(v)
        except (ArithmeticError, ValueError):  # text in a figure's column (a note): shown as it is
            return v

    fields = [(f.key, f.kind) for f in report.fields]
    rows = [{**r, **{k: value(kind, r[k]) for k, kind in fields if k in r}} for r in report.rows]
    return dataclasses.replace(report, rows=rows)


def _stamp_caption(stamp: reporting.Stamp) -> str:
    """Record time, log size and root (and the covering checkpoint) in one line under a table."""
    when = f"as of the end of {stamp.as_of_date.isoformat()}" if stamp.as_of_date else "as of now"
    signed = f", checkpoint {stamp.checkpoint.size:,}" if stamp.checkpoint else ", no checkpoint yet"
    return f"Record {when}: {stamp.log_size:,} events, root {b64(stamp.root)}{signed}"


AsOfOption = Annotated[date | None, typer.Option(
    "--as-of", parser=day, metavar="DATE",
    help="Record time: the record as it stood at the end of DATE (UTC), replayed from the log.")]
FromOption = Annotated[date | None, typer.Option(
    "--from", parser=day, metavar="DATE", help="Count only what took effect on or after DATE (see docs/reports.md).")]
ToOption = Annotated[date | None, typer.Option(
    "--to", parser=day, metavar="DATE", help="Count only what took effect on or before DATE.")]
AreaOption = Annotated[str | None, typer.Option("--area", help="Only this capability area (`coalition list`).")]
MemberOption = Annotated[str | None, typer.Option("--member", help="Only this member, fund or tracked donor.")]
KindOption = Annotated[Category | None, typer.Option("--kind", help="Only this kind of aid.")]


def _run(db: str | None, request: ReportRequest) -> tuple[Computed, list[dict[str, Any]], str]:
    """The stamped report (computed here, or by the server), its records, and the caption's note on the all-zero
    rows left out."""
    asked = seam.given({k: v.value if isinstance(v, enum.Enum) else v for k, v in request.parameters().items()})
    result = seam.fetch(db, lambda: reporting.computed(database(db), request, SystemClock()),
                        seam.Remote("GET", f"/api/v1/reports/{request.report}",
                                    lambda doc: reporting.received(request, doc), params=asked))
    gone = result.left_out
    left_out = (f"; {gone:,} row{'s' if gone != 1 else ''} with every figure zero left out (--all shows them)"
                if gone else "")
    return result, result.records, left_out


@app.command("coverage")
@handles_errors
def coverage_cmd(
    by: Annotated[By, typer.Option("--by", help="One row per requirement, item class, priority tier, or area.")] = (
        By.REQUIREMENT),
    keep_all: AllOption = False,
    as_of: AsOfOption = None, from_: FromOption = None, to: ToOption = None, area: AreaOption = None,
    member: MemberOption = None, kind: KindOption = None,
    db: DbOption = None,
    fmt: ReportFormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """Needed, pending, confirmed, delivered and missing units, their value in EUR and the share of need."""
    where = Destination(fmt, output)
    request = ReportRequest("coverage", Scope(from_, to, area, member, kind), as_of, by=by.value, keep_all=keep_all)
    result, records, left_out = _run(db, request)
    mixed = " — rows over several item classes have no unit totals" if by in (By.TIER, By.AREA) else ""
    _show(result, Report(
        "coverage", f"Coverage by {by.value}",
        f"units of each requirement's item class{mixed}; pending = proposed or accepted, confirmed = in confirmed "
        f"allocations, delivered = received, missing = needed − confirmed; € = at the class's reference unit "
        f"value; % = of the value needed{left_out}",
        coverage_fields(by.value), records, charts.COVERAGE,
        drop=("status", "area", "pending", "priority", "item_classes", "requirements", "delivered_eur",
              "missing_eur", "delivered_share_of_need", "needed_eur", "delivered", "confirmed_eur", "name")), where)


@app.command("burden")
@handles_errors
def burden_cmd(
    gdp_year: Annotated[int | None, typer.Option("--gdp-year", parser=whole_number,
                                                 help="GDP year for the % of GDP columns "
                                                 "(default: each member's latest).")] = None,
    keep_all: AllOption = False,
    as_of: AsOfOption = None, from_: FromOption = None, to: ToOption = None, area: AreaOption = None,
    member: MemberOption = None, kind: KindOption = None,
    public: Annotated[bool, typer.Option("--public", help="From the public part only (what `contactgroup publish` "
                                                         "releases): public offers, pledges, tracked aid; % of "
                                                         f"GDP {PUBLIC_GDP_YEAR}.")] = False,
    db: DbOption = None,
    fmt: ReportFormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """Committed, allocated and delivered value in EUR per member, its share, and % of its GDP."""
    where = Destination(fmt, output)
    scope = Scope(from_, to, area, member, kind)
    if public and scope != Scope():
        raise fail("--public is the whole public part: it takes no --from, --to, --area, --member or --kind", 2)
    if public and gdp_year not in (None, PUBLIC_GDP_YEAR):
        raise fail(f"--public takes the GDP year of the Kiel tracker's layout ({PUBLIC_GDP_YEAR}); leave out "
                   f"--gdp-year", 2)
    gdp_year = PUBLIC_GDP_YEAR if public else gdp_year
    request = ReportRequest("burden", scope, as_of, gdp_year=gdp_year, public=public, keep_all=keep_all)
    result, records, left_out = _run(db, request)
    year = f"GDP {gdp_year}" if gdp_year else "latest GDP year per member"
    missing_gdp = result.gdp_note
    notes = [missing_gdp] if missing_gdp else []
    if missing_gdp:
        year = f"{year} — {missing_gdp}"
    rate_notes = list(result.rate_notes)
    if fmt is not ReportFormat.TABLE:  # CSV and JSON carry no caption: say it where a reader of the run sees it
        for note in [*notes, *rate_notes]:
            err.print(f"[bold yellow]note[/]: {escape(note)}", highlight=False)
    title = "Burden sharing, public part (EUR)" if public else "Burden sharing (EUR)"
    _show(result, Report(
        "burden", title,
        f"EUR at the ECB reference rate of the pledge date; funds attributed to contributors pro rata; "
        f"share = of all allocated value; %GDP a / c = allocated / committed as % of {year}"
        f"{_unvalued_note(records)}{_tracked_note(records)}{''.join(f'; {n}' for n in rate_notes)}{left_out}",
        BURDEN_FIELDS, records, charts.BURDEN, drop=("gdp_year", "committed_pct_gdp", "delivered_eur")), where)


def _tracked_note(records: Sequence[Mapping[str, Any]]) -> str:
    """The burden table's footnote naming the donors known only from a tracker (not members)."""
    tracked = sorted(r["member"] for r in records if r.get("tracked_only"))
    return f". Tracked donors, not members (a tracker's figures only): {', '.join(tracked)}" if tracked else ""


def _unvalued_note(records: Sequence[Mapping[str, Any]]) -> str:
    """The burden table's footnote for offers that could not be valued (no declared value, no catalogue value)."""
    unvalued = {r["member"]: r["unvalued_offers"] for r in records if r.get("unvalued_offers")}
    if not unvalued:
        return ""
    listed = ", ".join(f"{member} {n}" for member, n in sorted(unvalued.items()))
    return f". Not counted, no value known (offers): {listed}"


@app.command("lag")
@handles_errors
def lag_cmd(as_of: AsOfOption = None, from_: FromOption = None, to: ToOption = None, area: AreaOption = None,
            member: MemberOption = None, kind: KindOption = None,
            db: DbOption = None, fmt: ReportFormatOption = ReportFormat.TABLE, output: OutputOption = None) -> None:
    """Days from pledge (commitment) to receipt, per member and item category, one observation per shipment."""
    where = Destination(fmt, output)
    request = ReportRequest("lag", Scope(from_, to, area, member, kind), as_of)
    result, records, _ = _run(db, request)
    _show(result, Report("lag", "Pledge-to-delivery lag (days)",
                                "one observation per received shipment: committed_on → received_on",
                                LAG_FIELDS, records, charts.LAG), where)


@app.command("gaps")
@handles_errors
def gaps_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", parser=whole_number_in(1),
                                       help="How many requirements to show (1 or more).")] = DEFAULT_LIMIT,
    as_of: AsOfOption = None, from_: FromOption = None, to: ToOption = None, area: AreaOption = None,
    kind: KindOption = None,
    db: DbOption = None,
    fmt: ReportFormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """The highest-priority open requirements not yet fully met: what is missing and why."""
    where = Destination(fmt, output)
    request = ReportRequest("gaps", Scope(from_, to, area, None, kind), as_of, limit=limit)
    result, records, _ = _run(db, request)
    flat = [{k: v for k, v in rec.items() if k != "breakdown"} for rec in records]
    _show(result, Report("gaps", f"Gaps: top {limit} unmet requirements", f"reasons: {', '.join(REASONS)}",
                                GAPS_FIELDS, flat, charts.GAPS,
                                drop=("needed_by", "item_class", "pending", "reason", "confirmed", "priority")),
          where, records=records if fmt is ReportFormat.JSON else flat)


def _checked(doc: Any) -> reporting.ReportCheck:
    """The server's check of a report file, as the local check returns it."""
    figures = seam.typed(tuple[reporting.Figure, ...])
    return reporting.ReportCheck(doc["report"], doc["log_size"], doc["current_size"], doc["matched"],
                                 figures(doc["mismatches"]), figures(doc["cannot_check"]), doc["checkpoint"])


@app.command("check")
@handles_errors
def check_cmd(
    report_file: Annotated[Path, typer.Argument(metavar="REPORT", exists=True, dir_okay=False,
                                                help="A report written by `report ... --format json`, `csv` or "
                                                     "`xlsx`.")],
    release: Annotated[Path | None, typer.Option(
        "--release", metavar="OUTDIR", exists=True, file_okay=False,
        help="Check against this public release (`contactgroup publish OUTDIR`) instead of the record: offline, "
             "with the log's verifier key.")] = None,
    key: Annotated[str | None, typer.Option(
        "--key", help="With --release: the log's verifier key text or @FILE (default: the key recorded in --db, "
                      "if one is there).")] = None,
    db: DbOption = None,
) -> None:
    """Compute a report file again from the record at its log size (or from a public release): does every figure
    match, has the record grown.

    Exit 6 when a figure differs (each is named: row and column), when the record's (or the release's) root at that
    size is not the report's, when its checkpoint does not verify with the log key the record publishes, or when
    the release does not check (`ledger check-release`)."""
    if key is not None and release is None:
        raise fail("--key goes with --release: a check against the record takes the key the record publishes", 2)
    with report_file.open("rb") as f:  # no more than the checker reads: a larger file is refused, not loaded
        data = f.read(reporting.MAX_REPORT_BYTES + 1)
    if release is not None:
        _check_against_release(data, release, release_key(key, db))
        return
    result = seam.fetch(db, lambda: reporting.check_report(database(db), data),
                        seam.Remote("POST", "/api/v1/reports/check", _checked, content=data))
    _print_figures(result.mismatches, result.cannot_check, "not a figure this record computes")
    out.print(f"report {result.report} at log size {result.log_size:,}: {result.matched:,} figures match, "
              f"{len(result.mismatches):,} differ, {len(result.cannot_check):,} cannot be checked",
              highlight=False, markup=False)
    out.print(f"checkpoint: {result.checkpoint}", highlight=False, markup=False)
    grown = (f"the record has grown since: {result.grown:,} events recorded after it ({result.current_size:,} now)"
             if result.grown else "the record has not grown since")
    out.print(grown, highlight=False, markup=False)
    _fail_on(result.mismatches, "the record")


def _print_figures(mismatches: Sequence[reporting.Figure], cannot_check: Sequence[reporting.Figure],
                   why: str) -> None:
    for figure in mismatches:
        err.print(f"[bold red]differs:[/] {escape(str(figure))}", highlight=False)
    for figure in cannot_check:
        out.print(f"cannot check: row {figure.row} ({figure.name}), {figure.column}: {why}", highlight=False,
                  markup=False)


def _fail_on(mismatches: Sequence[reporting.Figure], source: str) -> None:
    if mismatches:
        n = len(mismatches)
        raise fail(f"{n:,} {'figure differs' if n == 1 else 'figures differ'} from {source}", 6)


def _check_against_release(data: bytes, directory: Path, log_key: VerifierKey) -> None:
    """`report check --release`: the release's evidence first, then the report against what it publishes."""
    result = report_release.check_report_against_release(directory, log_key, data)
    evidence = result.evidence
    if not evidence.ok:
        for problem in evidence.problems:
            err.print(f"[red]✗[/] {escape(problem)}", highlight=False)
        raise fail(f"release refused: {directory} does not check (`contactgroup ledger check-release`), so no "
                   f"figure is compared with it", 6)
    out.print(f"release {evidence.origin} at tree size {evidence.tree_size:,}: {evidence.checked:,} records "
              f"({evidence.events:,} events) check against its checkpoint, signed by the log key", highlight=False,
              markup=False)
    if result.reproducible:
        _print_figures(result.mismatches, [], "")
        for column, rows in _by_column(result.cannot_check).items():
            out.print(f"cannot check: {column} in {rows:,} row{'s' if rows != 1 else ''}: the release does not "
                      f"publish it", highlight=False, markup=False)
    elif result.cannot_check:
        out.print(f"cannot check: a release publishes what `report burden --public` is made of, not the figures "
                  f"of this report ({result.report}{'' if result.report != 'burden' else ' from the whole record'})",
                  highlight=False, markup=False)
    out.print(f"report {result.report} at log size {result.log_size:,}: {result.matched:,} figures match the "
              f"release, {len(result.mismatches):,} differ, {len(result.cannot_check):,} cannot be checked",
              highlight=False, markup=False)
    out.print(result.tree, highlight=False, markup=False)
    _fail_on(result.mismatches, "the release")


def _by_column(figures: Sequence[reporting.Figure]) -> dict[str, int]:
    """How many rows each column's unchecked figures are in (one line per column, not per row)."""
    counts: dict[str, int] = {}
    for figure in figures:
        counts[figure.column] = counts.get(figure.column, 0) + 1
    return counts
