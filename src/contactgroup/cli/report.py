"""`contactgroup report ...`: coverage, burden sharing, pledge-to-delivery lag and gaps, as a table, CSV or JSON.

Reports are aggregates and visible to every role. Tables round money for reading; CSV and JSON keep it exact.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
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
from contactgroup.domain.state import State
from contactgroup.reports.burden import burden, gdp_note
from contactgroup.reports.coverage import coverage
from contactgroup.reports.facts import SYNTHETIC_CAPTION, is_synthetic
from contactgroup.reports.gaps import DEFAULT_LIMIT, REASONS, gaps
from contactgroup.reports.lag import lag
from contactgroup.reports.public import GDP_YEAR as PUBLIC_GDP_YEAR
from contactgroup.reports.public import public_burden, public_part
from contactgroup.reports.valuation import Valuer

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


def _show(state: State, records: Sequence[Mapping[str, Any]], fmt: Format, *, title: str, caption: str,
          columns: Mapping[str, tuple[str, Formatter | None]], drop: Sequence[str] = ()) -> None:
    """Print rows: a Rich table of `columns` (key -> (heading, formatter)), or every field as CSV or JSON.

    On a demo database every form says so: the table's caption, a `synthetic` field, a line on stderr.
    """
    synthetic = is_synthetic(state)
    if fmt is not Format.TABLE:
        rows = [{**r, "synthetic": True} for r in records] if synthetic else list(records)
        if synthetic:
            err.print(f"[bold yellow]{SYNTHETIC_CAPTION}[/]: generated, not real", highlight=False)
        fields = list(rows[0].keys()) if rows else [*columns, *(["synthetic"] if synthetic else [])]
        emit(rows, fmt, columns=fields)
        return
    if synthetic:
        title, caption = f"{title} — {SYNTHETIC_CAPTION}", f"{SYNTHETIC_CAPTION}. {caption}"
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


PROSE = frozenset({"name", "detail", "reasons"})


def _records(rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(r) for r in rows]


@app.command("coverage")
@handles_errors
def coverage_cmd(
    by: Annotated[By, typer.Option("--by", help="One row per requirement, per priority tier, or per area.")] = (
        By.REQUIREMENT),
    db: DbOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Needed, allocated (not declined), committed (confirmed), delivered (received) and missing units."""
    state = database(db).state()
    rows = coverage(state, by.value)
    columns: dict[str, tuple[str, Formatter | None]] = {"key": ({"requirement": "requirement", "tier": "priority",
                                                                  "area": "area"}[by.value], None),
                                                         "name": ("item class" if by is By.REQUIREMENT else "name",
                                                                  None)}
    if by is By.REQUIREMENT:
        columns |= {"priority": ("priority", text), "area": ("area", None), "status": ("status", None)}
    else:
        columns |= {"requirements": ("reqs", None)}
    columns |= {k: (k, None) for k in ("needed", "allocated", "committed", "delivered", "missing")}
    _show(state, _records(rows), fmt, title=f"Coverage by {by.value}",
          caption="units; allocated = not declined, committed = confirmed, delivered = received, "
                  "missing = needed − committed",
          columns=columns, drop=("status", "area", "allocated", "name", "priority"))


@app.command("burden")
@handles_errors
def burden_cmd(
    gdp_year: Annotated[int | None, typer.Option("--gdp-year", parser=whole_number,
                                                 help="GDP year for the % of GDP columns "
                                                 "(default: each member's latest).")] = None,
    public: Annotated[bool, typer.Option("--public", help="From the public part only (what `contactgroup publish` "
                                                         "releases): public offers, pledges, tracked aid; % of "
                                                         f"GDP {PUBLIC_GDP_YEAR}.")] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Committed, allocated and delivered value in EUR per member, its share, and % of its GDP."""
    state = database(db).state()
    valuer = Valuer.of(state)
    if public and gdp_year not in (None, PUBLIC_GDP_YEAR):
        raise fail(f"--public takes the GDP year of the Kiel tracker's layout ({PUBLIC_GDP_YEAR}); leave out "
                   f"--gdp-year", 2)
    gdp_year = PUBLIC_GDP_YEAR if public else gdp_year
    rows = public_burden(public_part(state, valuer)) if public else burden(state, gdp_year, valuer=valuer)
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
    _show(state, _records(rows), fmt, title=title,
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
def lag_cmd(db: DbOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """Days from pledge (commitment) to receipt, per member and item category, one observation per shipment."""
    state = database(db).state()
    _show(state, _records(lag(state)), fmt, title="Pledge-to-delivery lag (days)",
          caption="one observation per received shipment: committed_on → received_on",
          columns={"member": ("member", None), "category": ("category", None), "shipments": ("shipments", None),
                   "units": ("units", None), "median_days": ("median", None), "p90_days": ("p90", None),
                   "min_days": ("min", None), "max_days": ("max", None)})


@app.command("gaps")
@handles_errors
def gaps_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", parser=whole_number_in(1),
                                       help="How many requirements to show (1 or more).")] = DEFAULT_LIMIT,
    db: DbOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """The highest-priority open requirements not yet fully met: what is missing and why."""
    state = database(db).state()
    rows = gaps(state, limit)
    records = [{**dataclasses.asdict(r), "breakdown": dict(r.breakdown), "reasons": r.reasons} for r in rows]
    if fmt is Format.CSV:
        for rec in records:
            rec.pop("breakdown")
    _show(state, records, fmt, title=f"Gaps: top {limit} unmet requirements",
          caption=f"reasons: {', '.join(REASONS)}",
          columns={"rank": ("#", None), "requirement": ("requirement", None), "item_class": ("class", None),
                   "priority": ("prio", text), "needed_by": ("needed by", None),
                   "needed": ("needed", None), "committed": ("committed", None), "missing": ("missing", None),
                   "detail": ("why", None)},
          drop=("needed_by", "item_class", "committed", "priority"))
