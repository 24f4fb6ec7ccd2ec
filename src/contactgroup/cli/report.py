"""`contactgroup report ...`: coverage, burden sharing, pledge-to-delivery lag and gaps, as a table, CSV, JSON, XLSX
or PDF.

Reports are aggregates and visible to every role. Tables and PDF pages round money to the euro and shares to two
decimals, and say so; CSV, JSON and XLSX keep every value exact (a workbook shows it rounded by number format).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

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
from contactgroup.domain.state import State
from contactgroup.io.report_pdf import report_pdf
from contactgroup.io.report_xlsx import report_xlsx
from contactgroup.reports import charts
from contactgroup.reports.burden import burden, gdp_note
from contactgroup.reports.coverage import coverage
from contactgroup.reports.document import ROUNDING_NOTE, Field, Kind, Report, shown, without_zero_rows
from contactgroup.reports.facts import SYNTHETIC_CAPTION, is_synthetic
from contactgroup.reports.gaps import DEFAULT_LIMIT, REASONS, gaps
from contactgroup.reports.lag import lag
from contactgroup.reports.valuation import Valuer

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


def _show(state: State, report: Report, where: Destination, records: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Print or write one report: a Rich table, every field as CSV or JSON (`records`, default its rows), or an
    XLSX workbook or PDF of its shown fields.

    On a demo database every form says so: the title and caption, a `synthetic` field, a line on stderr.
    """
    synthetic = is_synthetic(state)
    if synthetic:
        report = dataclasses.replace(report, title=f"{report.title} — {SYNTHETIC_CAPTION}",
                                     caption=f"{SYNTHETIC_CAPTION}. {report.caption}")
    fmt = where.fmt
    if fmt is ReportFormat.TABLE:
        _table(dataclasses.replace(report, caption=f"{report.caption}. {ROUNDING_NOTE}"))
        return
    if synthetic:
        err.print(f"[bold yellow]{SYNTHETIC_CAPTION}[/]: generated, not real", highlight=False)
    if fmt in BINARY:
        _write((report_xlsx if fmt is ReportFormat.XLSX else report_pdf)(report), where)
        return
    rows = list(report.rows if records is None else records)
    rows = [{**r, "synthetic": True} for r in rows] if synthetic else rows
    fields = list(rows[0].keys()) if rows else [*(f.key for f in report.fields), *(["synthetic"] if synthetic else [])]
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        emit(rows, Format(fmt.value), columns=fields)
    if where.output is None:
        sys.stdout.write(text.getvalue())
    else:
        _write(text.getvalue().encode("utf-8"), where)


def _records(rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(r) for r in rows]


def _kept(records: list[dict[str, Any]], fields: Sequence[Field], keep_all: bool) -> tuple[list[dict[str, Any]], str]:
    """The records without all-zero rows (unless --all), and the caption's note on how many were left out."""
    if keep_all:
        return records, ""
    kept = without_zero_rows(records, [f.key for f in fields if f.kind in (Kind.UNITS, Kind.MONEY)])
    gone = len(records) - len(kept)
    return kept, (f"; {gone:,} row{'s' if gone != 1 else ''} with every figure zero left out (--all shows them)"
                  if gone else "")


_COVERAGE_KEY = {"requirement": "requirement", "class": "class", "tier": "priority", "area": "area"}


def coverage_fields(by: By) -> tuple[Field, ...]:
    fields = [Field("key", _COVERAGE_KEY[by.value]),
              Field("name", "item class" if by is By.REQUIREMENT else "name")]
    if by is By.REQUIREMENT:
        fields += [Field("priority", "prio", Kind.NUMBER), Field("area", "area"), Field("status", "status")]
    else:
        fields += [Field("requirements", "reqs", Kind.NUMBER), Field("item_classes", "classes", Kind.NUMBER)]
    fields += [Field(k, h, Kind.UNITS) for k, h in (("needed", "needed"), ("pending", "pending"),
                                                    ("confirmed", "confirmed"), ("delivered", "delivered"),
                                                    ("missing", "missing"))]
    fields += [Field(k, h, Kind.MONEY) for k, h in (("needed_eur", "needed €"), ("confirmed_eur", "confirmed €"),
                                                    ("delivered_eur", "delivered €"), ("missing_eur", "missing €"))]
    fields += [Field("confirmed_share_of_need", "conf. %", Kind.SHARE),
               Field("delivered_share_of_need", "deliv. %", Kind.SHARE)]
    return tuple(fields)


@app.command("coverage")
@handles_errors
def coverage_cmd(
    by: Annotated[By, typer.Option("--by", help="One row per requirement, item class, priority tier, or area.")] = (
        By.REQUIREMENT),
    keep_all: AllOption = False,
    db: DbOption = None,
    fmt: ReportFormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """Needed, pending, confirmed, delivered and missing units, their value in EUR and the share of need."""
    where = Destination(fmt, output)
    state = database(db).state()
    fields = coverage_fields(by)
    records, left_out = _kept(_records(coverage(state, by.value)), fields, keep_all)
    mixed = " — rows over several item classes have no unit totals" if by in (By.TIER, By.AREA) else ""
    _show(state, Report(
        "coverage", f"Coverage by {by.value}",
        f"units of each requirement's item class{mixed}; pending = proposed or accepted, confirmed = in confirmed "
        f"allocations, delivered = received, missing = needed − confirmed; € = at the class's reference unit "
        f"value; % = of the value needed{left_out}",
        fields, records, charts.COVERAGE,
        drop=("status", "area", "pending", "priority", "item_classes", "requirements", "delivered_eur",
              "missing_eur", "delivered_share_of_need", "needed_eur", "delivered", "confirmed_eur", "name")), where)


BURDEN_FIELDS = (
    Field("member", "member"), Field("committed_eur", "committed €", Kind.MONEY),
    Field("allocated_eur", "allocated €", Kind.MONEY), Field("delivered_eur", "delivered €", Kind.MONEY),
    Field("share_of_total", "share", Kind.SHARE), Field("gdp_year", "GDP yr"),
    Field("allocated_pct_gdp", "%GDP a", Kind.PERCENT), Field("committed_pct_gdp", "%GDP c", Kind.PERCENT),
)


@app.command("burden")
@handles_errors
def burden_cmd(
    gdp_year: Annotated[int | None, typer.Option("--gdp-year", parser=whole_number,
                                                 help="GDP year for the % of GDP columns "
                                                 "(default: each member's latest).")] = None,
    keep_all: AllOption = False,
    db: DbOption = None,
    fmt: ReportFormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """Committed, allocated and delivered value in EUR per member, its share, and % of its GDP."""
    where = Destination(fmt, output)
    state = database(db).state()
    valuer = Valuer.of(state)
    rows = burden(state, gdp_year, valuer=valuer)
    year = f"GDP {gdp_year}" if gdp_year else "latest GDP year per member"
    missing_gdp = gdp_note(state, gdp_year)
    notes = [missing_gdp] if missing_gdp else []
    if missing_gdp:
        year = f"{year} — {missing_gdp}"
    rate_notes = valuer.notes()
    if fmt is not ReportFormat.TABLE:  # CSV and JSON carry no caption: say it where a reader of the run sees it
        for note in [*notes, *rate_notes]:
            err.print(f"[bold yellow]note[/]: {escape(note)}", highlight=False)
    records, left_out = _kept(_records(rows), BURDEN_FIELDS, keep_all)
    _show(state, Report(
        "burden", "Burden sharing (EUR)",
        f"EUR at the ECB reference rate of the pledge date; funds attributed to contributors pro rata; "
        f"share = of all allocated value; %GDP a / c = allocated / committed as % of {year}"
        f"{_unvalued_note(rows)}{_tracked_note(rows)}{''.join(f'; {n}' for n in rate_notes)}{left_out}",
        BURDEN_FIELDS, records, charts.BURDEN, drop=("gdp_year", "committed_pct_gdp", "delivered_eur")), where)


def _tracked_note(rows: Sequence[Any]) -> str:
    """The burden table's footnote naming the donors known only from a tracker (not members)."""
    tracked = sorted(r.member for r in rows if r.tracked_only)
    return f". Tracked donors, not members (a tracker's figures only): {', '.join(tracked)}" if tracked else ""


def _unvalued_note(rows: Sequence[Any]) -> str:
    """The burden table's footnote for offers that could not be valued (no declared value, no catalogue value)."""
    unvalued = {r.member: r.unvalued_offers for r in rows if getattr(r, "unvalued_offers", 0)}
    if not unvalued:
        return ""
    listed = ", ".join(f"{member} {n}" for member, n in sorted(unvalued.items()))
    return f". Not counted, no value known (offers): {listed}"


LAG_FIELDS = (
    Field("member", "member"), Field("category", "category"), Field("shipments", "shipments", Kind.NUMBER),
    # No `units`: a category's shipments carry different items, whose units do not add up (JSON and CSV keep it).
    Field("median_days", "median", Kind.DAYS),
    Field("p90_days", "p90", Kind.DAYS), Field("min_days", "min", Kind.DAYS), Field("max_days", "max", Kind.DAYS),
)


@app.command("lag")
@handles_errors
def lag_cmd(db: DbOption = None, fmt: ReportFormatOption = ReportFormat.TABLE, output: OutputOption = None) -> None:
    """Days from pledge (commitment) to receipt, per member and item category, one observation per shipment."""
    where = Destination(fmt, output)
    state = database(db).state()
    _show(state, Report("lag", "Pledge-to-delivery lag (days)",
                        "one observation per received shipment: committed_on → received_on",
                        LAG_FIELDS, _records(lag(state)), charts.LAG), where)


GAPS_FIELDS = (
    Field("rank", "#", Kind.NUMBER), Field("requirement", "requirement"), Field("item_class", "class"),
    Field("priority", "prio", Kind.NUMBER), Field("needed_by", "needed by", Kind.DATE),
    Field("needed", "needed", Kind.UNITS), Field("pending", "pending", Kind.UNITS),
    Field("confirmed", "confirmed", Kind.UNITS), Field("missing", "missing", Kind.UNITS),
    Field("reason", "reason"), Field("detail", "why"),
)


@app.command("gaps")
@handles_errors
def gaps_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", parser=whole_number_in(1),
                                       help="How many requirements to show (1 or more).")] = DEFAULT_LIMIT,
    db: DbOption = None,
    fmt: ReportFormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """The highest-priority open requirements not yet fully met: what is missing and why."""
    where = Destination(fmt, output)
    state = database(db).state()
    rows = gaps(state, limit)
    records = [{**dataclasses.asdict(r), "breakdown": dict(r.breakdown), "reasons": r.reasons} for r in rows]
    flat = [{k: v for k, v in rec.items() if k != "breakdown"} for rec in records]
    _show(state, Report("gaps", f"Gaps: top {limit} unmet requirements", f"reasons: {', '.join(REASONS)}",
                        GAPS_FIELDS, flat, charts.GAPS,
                        drop=("needed_by", "item_class", "pending", "reason", "confirmed", "priority")),
          where, records=records if fmt is ReportFormat.JSON else flat)
