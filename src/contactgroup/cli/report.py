"""`contactgroup report ...`: coverage, burden sharing, pledge-to-delivery lag and gaps, as a table, CSV or JSON;
and `report check`, which computes a report file again from the record.

Reports are aggregates and visible to every role. Tables round money for reading; CSV and JSON keep it exact.
Every report is stamped (services/reporting.py): its record time, log size, root and covering checkpoint.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from contactgroup.cli.common import (
    Column,
    DbOption,
    Format,
    FormatOption,
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
from contactgroup.domain.model import Category
from contactgroup.domain.text import day
from contactgroup.reports.burden import gdp_note
from contactgroup.reports.facts import SYNTHETIC_CAPTION, is_synthetic
from contactgroup.reports.gaps import DEFAULT_LIMIT, REASONS
from contactgroup.reports.public import GDP_YEAR as PUBLIC_GDP_YEAR
from contactgroup.reports.scope import Scope
from contactgroup.reports.valuation import Valuer
from contactgroup.services import reporting
from contactgroup.services.clock import SystemClock
from contactgroup.services.proofs import b64
from contactgroup.services.reporting import ReportRequest, Snapshot

app = typer.Typer(help="Reports: coverage of requirements, burden sharing, delivery lag, gaps.",
                  no_args_is_help=True)


class By(enum.StrEnum):
    REQUIREMENT = "requirement"
    TIER = "tier"
    AREA = "area"


Formatter = Callable[[Any], str]


def money(value: Any) -> str:
    """EUR in millions, two decimals: wide enough for a €10k offer and a €100bn tracker total."""
    return "" if value is None else f"{value / 1_000_000:,.2f}"


def percent(value: Any) -> str:
    return "" if value is None else f"{value * 100:.2f}%"


def pct3(value: Any) -> str:
    return "" if value is None else f"{value:.3f}"


def text(value: Any) -> str:
    return "" if value is None else str(value)


def plain_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _show(snap: Snapshot, request: ReportRequest, records: Sequence[Mapping[str, Any]], fmt: Format, *, title: str,
          caption: str, columns: Mapping[str, tuple[str, Formatter | None]], drop: Sequence[str] = ()) -> None:
    """Print rows: a Rich table of `columns` (key -> (heading, formatter)), or every field as CSV or JSON, stamped.

    JSON is an envelope (report, stamp, rows); CSV starts with the stamp as `# label: value` lines; a table's caption
    names the record time, log size and root. On a demo database every form says so: the table's caption, a
    `synthetic` field, a line on stderr.
    """
    state, stamp = snap.state, snap.stamp
    synthetic = is_synthetic(state)
    if fmt is not Format.TABLE:
        if synthetic:
            err.print(f"[bold yellow]{SYNTHETIC_CAPTION}[/]: generated, not real", highlight=False)
        if fmt is Format.JSON:
            sys.stdout.write(json.dumps(reporting.envelope(request, stamp, records), indent=2, ensure_ascii=False)
                             + "\n")
            return
        if fmt is Format.CSV:
            sys.stdout.write("".join(f"# {label}: {value}\n" for label, value in stamp.lines()))
        fields = list(records[0].keys()) if records else [*columns, *(["synthetic"] if synthetic else [])]
        emit(records, fmt, columns=fields)
        return
    if synthetic:
        title, caption = f"{title} — {SYNTHETIC_CAPTION}", f"{SYNTHETIC_CAPTION}. {caption}"
    caption = f"{caption}. {_stamp_caption(stamp)}"
    cols = []
    for key, (heading, fmt_) in columns.items():
        sample = next((r.get(key) for r in records if r.get(key) is not None), None)
        numeric = isinstance(sample, int | float | Decimal) and not isinstance(sample, bool)
        # Numbers, dates and codes never wrap nor are cut; only prose may fold onto several lines.
        short = numeric or isinstance(sample, date) or key not in PROSE
        cells = [(fmt_ or plain_cell)(r.get(key)) for r in records]
        cols.append(Column(key, heading, cells, numeric=numeric, short=short))
    out.print(fit_table(cols, title=title, caption=caption, width=out.width, drop=drop))
    if not records:
        out.print("(nothing to report)")


def _stamp_caption(stamp: reporting.Stamp) -> str:
    """Record time, log size and root (and the covering checkpoint) in one line under a table."""
    when = f"as of the end of {stamp.as_of_date.isoformat()}" if stamp.as_of_date else "as of now"
    signed = f", checkpoint {stamp.checkpoint.size:,}" if stamp.checkpoint else ", no checkpoint yet"
    return f"Record {when}: {stamp.log_size:,} events, root {b64(stamp.root)}{signed}"


PROSE = frozenset({"name", "detail", "reasons"})


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


def _run(db: str | None, request: ReportRequest) -> Snapshot:
    return reporting.snapshot(database(db), request, SystemClock())


@app.command("coverage")
@handles_errors
def coverage_cmd(
    by: Annotated[By, typer.Option("--by", help="One row per requirement, per priority tier, or per area.")] = (
        By.REQUIREMENT),
    as_of: AsOfOption = None, from_: FromOption = None, to: ToOption = None, area: AreaOption = None,
    member: MemberOption = None, kind: KindOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Needed, allocated (not declined), committed (confirmed), delivered (received) and missing units."""
    request = ReportRequest("coverage", Scope(from_, to, area, member, kind), as_of, by=by.value)
    snap = _run(db, request)
    records = reporting.records(snap.state, reporting.compute(snap.state, request))
    columns: dict[str, tuple[str, Formatter | None]] = {"key": ({"requirement": "requirement", "tier": "priority",
                                                                  "area": "area"}[by.value], None),
                                                         "name": ("item class" if by is By.REQUIREMENT else "name",
                                                                  None)}
    if by is By.REQUIREMENT:
        columns |= {"priority": ("priority", text), "area": ("area", None), "status": ("status", None)}
    else:
        columns |= {"requirements": ("reqs", None)}
    columns |= {k: (k, None) for k in ("needed", "allocated", "committed", "delivered", "missing")}
    _show(snap, request, records, fmt, title=f"Coverage by {by.value}",
          caption="units; allocated = not declined, committed = confirmed, delivered = received, "
                  "missing = needed − committed",
          columns=columns, drop=("status", "area", "allocated", "name", "priority"))


@app.command("burden")
@handles_errors
def burden_cmd(
    gdp_year: Annotated[int | None, typer.Option("--gdp-year", parser=whole_number,
                                                 help="GDP year for the % of GDP columns "
                                                 "(default: each member's latest).")] = None,
    as_of: AsOfOption = None, from_: FromOption = None, to: ToOption = None, area: AreaOption = None,
    member: MemberOption = None, kind: KindOption = None,
    public: Annotated[bool, typer.Option("--public", help="From the public part only (what `contactgroup publish` "
                                                         "releases): public offers, pledges, tracked aid; % of "
                                                         f"GDP {PUBLIC_GDP_YEAR}.")] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Committed, allocated and delivered value in EUR per member, its share, and % of its GDP."""
    scope = Scope(from_, to, area, member, kind)
    if public and scope != Scope():
        raise fail("--public is the whole public part: it takes no --from, --to, --area, --member or --kind", 2)
    if public and gdp_year not in (None, PUBLIC_GDP_YEAR):
        raise fail(f"--public takes the GDP year of the Kiel tracker's layout ({PUBLIC_GDP_YEAR}); leave out "
                   f"--gdp-year", 2)
    gdp_year = PUBLIC_GDP_YEAR if public else gdp_year
    request = ReportRequest("burden", scope, as_of, gdp_year=gdp_year, public=public)
    snap = _run(db, request)
    state = snap.state
    valuer = Valuer.of(state)
    rows = reporting.compute(state, request, valuer=valuer)
    year = f"GDP {gdp_year}" if gdp_year else "latest GDP year per member"
    missing_gdp = gdp_note(state, gdp_year)
    if missing_gdp:
        year = f"{year} — {missing_gdp}"
        if fmt is not Format.TABLE:  # CSV and JSON carry no caption: say it where a reader of the run sees it
            err.print(f"[bold yellow]note[/]: {escape(missing_gdp)}", highlight=False)
    rate_notes = valuer.notes()
    if fmt is not Format.TABLE:
        for note in rate_notes:
            err.print(f"[bold yellow]note[/]: {escape(note)}", highlight=False)
    title = "Burden sharing, public part (€ million)" if public else "Burden sharing (€ million)"
    _show(snap, request, reporting.records(state, rows), fmt, title=title,
          caption=f"EUR at the ECB reference rate of the pledge date; funds attributed to contributors pro rata; "
                  f"share = of all allocated value; %GDP a / c = allocated / committed as % of {year}"
                  f"{_unvalued_note(rows)}{_tracked_note(rows)}{''.join(f'; {n}' for n in rate_notes)}",
          columns={
              "member": ("member", None),
              "committed_eur": ("committed", money), "allocated_eur": ("allocated", money),
              "delivered_eur": ("delivered", money), "share_of_total": ("share", percent),
              "gdp_year": ("GDP yr", text), "allocated_pct_gdp": ("%GDP a", pct3),
              "committed_pct_gdp": ("%GDP c", pct3),
          }, drop=("gdp_year", "committed_pct_gdp", "delivered_eur"))


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


@app.command("lag")
@handles_errors
def lag_cmd(as_of: AsOfOption = None, from_: FromOption = None, to: ToOption = None, area: AreaOption = None,
            member: MemberOption = None, kind: KindOption = None,
            db: DbOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """Days from pledge (commitment) to receipt, per member and item category, one observation per shipment."""
    request = ReportRequest("lag", Scope(from_, to, area, member, kind), as_of)
    snap = _run(db, request)
    records = reporting.records(snap.state, reporting.compute(snap.state, request))
    _show(snap, request, records, fmt, title="Pledge-to-delivery lag (days)",
          caption="one observation per received shipment: committed_on → received_on",
          columns={"member": ("member", None), "category": ("category", None), "shipments": ("shipments", None),
                   "units": ("units", None), "median_days": ("median", None), "p90_days": ("p90", None),
                   "min_days": ("min", None), "max_days": ("max", None)})


@app.command("gaps")
@handles_errors
def gaps_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", parser=whole_number_in(1),
                                       help="How many requirements to show (1 or more).")] = DEFAULT_LIMIT,
    as_of: AsOfOption = None, from_: FromOption = None, to: ToOption = None, area: AreaOption = None,
    kind: KindOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """The highest-priority open requirements not yet fully met: what is missing and why."""
    request = ReportRequest("gaps", Scope(from_, to, area, None, kind), as_of, limit=limit)
    snap = _run(db, request)
    records = reporting.records(snap.state, reporting.compute(snap.state, request))
    if fmt is Format.CSV:
        for rec in records:
            rec.pop("breakdown")
    _show(snap, request, records, fmt, title=f"Gaps: top {limit} unmet requirements",
          caption=f"reasons: {', '.join(REASONS)}",
          columns={"rank": ("#", None), "requirement": ("requirement", None), "item_class": ("class", None),
                   "priority": ("prio", text), "needed_by": ("needed by", None),
                   "needed": ("needed", None), "committed": ("committed", None), "missing": ("missing", None),
                   "detail": ("why", None)},
          drop=("needed_by", "item_class", "committed", "priority"))


@app.command("check")
@handles_errors
def check_cmd(
    report_file: Annotated[Path, typer.Argument(metavar="REPORT.json", exists=True, dir_okay=False,
                                                help="A report written by `report ... --format json`.")],
    db: DbOption = None,
) -> None:
    """Compute a report file again from the record at its log size: does every figure match, has the record grown.

    Exit 6 when a figure differs (each is named: row and column), when the record's root at that size is not the
    report's, or when its checkpoint does not verify with the log key the record publishes."""
    with report_file.open("rb") as f:  # no more than the checker reads: a larger file is refused, not loaded
        data = f.read(reporting.MAX_REPORT_BYTES + 1)
    result = reporting.check_report(database(db), data)
    for figure in result.mismatches:
        err.print(f"[bold red]differs:[/] {escape(str(figure))}", highlight=False)
    for figure in result.cannot_check:
        out.print(f"cannot check: row {figure.row} ({figure.name}), {figure.column}: not a figure this record "
                  f"computes", highlight=False, markup=False)
    out.print(f"report {result.report} at log size {result.log_size:,}: {result.matched:,} figures match, "
              f"{len(result.mismatches):,} differ, {len(result.cannot_check):,} cannot be checked",
              highlight=False, markup=False)
    out.print(f"checkpoint: {result.checkpoint}", highlight=False, markup=False)
    grown = (f"the record has grown since: {result.grown:,} events recorded after it ({result.current_size:,} now)"
             if result.grown else "the record has not grown since")
    out.print(grown, highlight=False, markup=False)
    if result.mismatches:
        n = len(result.mismatches)
        raise fail(f"{n:,} {'figure differs' if n == 1 else 'figures differ'} from the record", 6)
