"""`contactgroup mobility ...`: what a mobility zone would save the open shipments, and a map of the network; and
`delivery plan|reached|permission`. Each runs on the local state as `--as`, or against the server (`cli/seam.py`),
formatting the same records (`services/movement_view.py`) either way."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from contactgroup.cli import seam
from contactgroup.cli.common import (
    AsOption,
    DbOption,
    Format,
    FormatOption,
    emit,
    fail,
    handles_errors,
    out,
)
from contactgroup.domain.model import MovementPermission, ShipmentPosition
from contactgroup.domain.text import day
from contactgroup.mobility import summary
from contactgroup.reports.charts import Chart
from contactgroup.reports.facts import is_synthetic
from contactgroup.services import movement, movement_view
from contactgroup.services.clock import SystemClock
from contactgroup.services.mobility import network_of
from contactgroup.services.movement_view import planning_day

app = typer.Typer(help="Military mobility: what a mobility zone saves, and a map of the transport network.",
                  no_args_is_help=True)

SHIPMENT_COLUMNS = ("shipment", "member", "priority", "units", "needed_by", "eta_without", "eta_with", "days_saved",
                    "late_without", "late_with", "waited_without", "waited_with", "note")
TALLY_COLUMNS = ("shipments", "compared", "days_saved", "late_days_without", "late_days_with", "late_days_change",
                 "units_on_time_without", "units_on_time_with", "units_on_time_change")
STAGE_COLUMNS = ("objective", "status", "value", "bound", "gap_percent", "time_limit")
COLUMNS = ("level", "key", *SHIPMENT_COLUMNS[1:], *TALLY_COLUMNS, *STAGE_COLUMNS)
HEADINGS = {"eta_without": "ETA w/o", "eta_with": "ETA with", "days_saved": "saved", "late_without": "late w/o",
            "late_with": "late with", "late_days_without": "late w/o", "late_days_with": "late with",
            "late_days_change": "Δ late", "units_on_time_without": "on time w/o",
            "units_on_time_with": "on time with", "units_on_time_change": "Δ on time", "priority": "prio",
            "needed_by": "needed by", "waited_without": "waited w/o", "waited_with": "waited with"}


PlanningOption = Annotated[date | None, typer.Option(
    "--from", parser=planning_day, metavar="DATE",
    help="Plan as of DATE (default: today): shipments not yet dispatched leave no earlier, every permission is "
         "requested on it and the border rules are those in force on it; a shipment under way is planned from "
         "where it is.")]


def _planned_on(from_: date | None) -> date:
    return from_ or SystemClock().now().date()


# Scheduling thousands of open shipments under capacity takes minutes (docs/performance.md), for a comparison and
# for one shipment's plan alike: the server is given that long to answer.
SCHEDULING_SECONDS = 900.0

CHART = Chart("Days late without and with the zone, per member", ("key",),
              (("late_days_without", "without the zone"), ("late_days_with", "with the zone")), "days late")


def schedule_caption(records: Sequence[Mapping[str, Any]]) -> str:
    """How far each side's schedule is from proved optimal, from its stage rows: "schedule without the zone:
    optimal; with: priority stages optimal, days late within 3.9% (time limit 5 s)"."""
    sides = movement.stages_of(records)
    words = [summary(stages) if stages else "nothing to schedule" for stages in sides.values()]
    limits = {str(r["time_limit"]) for r in records if r["level"] == "stage" and r["status"] != "optimal"}
    cut = f" (time limit {', '.join(sorted(limits))} s of CP-SAT's deterministic time)" if limits else ""
    return f"schedule without the zone: {words[0]}; with: {words[1]}{cut}"


def _table(title: str, records: Sequence[Mapping[str, Any]], columns: Sequence[str], caption: str = "") -> None:
    shown = [{HEADINGS.get(k, k): r.get(k) for k in columns} for r in records]
    emit(shown, Format.TABLE, title=title, columns=[HEADINGS.get(k, k) for k in columns], caption=caption)


def _planned_on_server(from_: date | None) -> dict[str, str]:
    """The planning day as the server takes it; without --from, the server plans as of its own today."""
    return {"from": from_.isoformat()} if from_ is not None else {}


def _path(*parts: str) -> str:
    return "/api/v1/" + "/".join(quote(p, safe="") for p in parts)


def _write_svg(svg: str, path: Path | None, option: str) -> None:
    """All or nothing: the file is written once the drawing is whole; standard output without a path."""
    if path is None:
        sys.stdout.write(svg)
        return
    try:
        path.write_text(svg, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{option}: cannot write {path} ({exc.strerror})", 2) from None


def _chart(records: Sequence[Mapping[str, Any]], path: Path) -> None:
    from contactgroup.io.chart_svg import chart_svg  # vl-convert loads only when a chart is asked for

    members = [r for r in records if r["level"] == "member"]
    _write_svg(chart_svg(CHART, members), path, "--chart")


@app.command("compare")
@handles_errors
def compare_cmd(
    zone: Annotated[str, typer.Option("--zone", metavar="CODES",
                                      help="The zone's countries, ISO 3166 alpha-3, comma-separated: NLD,DEU,POL. "
                                           "The network's own zone of exactly these countries if it has one, "
                                           "else a zone that waives every permission among them.")],
    from_: PlanningOption = None,
    starts: Annotated[date | None, typer.Option(
        "--zone-starts", parser=planning_day, metavar="DATE",
        help="The day the zone takes effect (default: the network's zone's own start, else the planning day).")
    ] = None,
    chart: Annotated[Path | None, typer.Option(
        "--chart", dir_okay=False, metavar="FILE.svg",
        help="Also draw the days late per member, without and with the zone, as an SVG chart.")] = None,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Re-plan every open shipment (confirmed and not dispatched, or under way) without and with a mobility zone:
    days saved per shipment, priority tier and member, the change in days late and in units arriving by their
    needed-by date.

    Shipments are routed to their earliest arrival, every permission requested on the planning day, round the
    crossings refused to them (or, where no way goes round, waiting for the permission asked again on the day it
    was refused); then, each way, their departure days are scheduled under the daily capacities of places and legs
    (priorities first, then least lateness), and a shipment that waits for room says where and when. A shipment
    whose depot or destination is not a place of the network is listed with the reason, not routed. Scheduling is
    `delivery plan`'s (deterministic: the same record prints the same); how far each side's schedule is from
    proved optimal is in the last table's caption, and in rows of level "stage" in CSV and JSON."""
    countries = movement.zone_countries(zone)
    view = seam.read_as(db, as_, lambda state, who: movement_view.zone_view(
        state, who, countries, _planned_on(from_), starts=starts, synthetic=is_synthetic(state)), seam.Remote(
        "GET", "/api/v1/mobility/compare", seam.typed(movement_view.ZoneView), params={
            "zone": ",".join(countries), **_planned_on_server(from_),
            **({"zone_starts": starts.isoformat()} if starts is not None else {})}, timeout=SCHEDULING_SECONDS))
    records = view.rows
    if chart is not None:
        _chart(records, chart)
    if fmt is not Format.TABLE:
        emit(records, fmt, columns=COLUMNS, synthetic=view.synthetic)
        return
    lead = ("no per-movement permission" if view.lead_days is None
            else f"permissions within {view.lead_days} working days")
    title = f"Zone {', '.join(view.countries)} ({lead}, from {view.starts}), planned on {view.on}"
    hidden = f"; {view.hidden:,} shipments you may not see are counted in the totals" if view.hidden else ""
    _table(f"{title}: per shipment", [r for r in records if r["level"] == "shipment"], SHIPMENT_COLUMNS,
           caption=f"days late and saved are calendar days; ETAs after waiting for room where it is full{hidden}")
    for level, name in (("tier", "priority tier"), ("member", "member"), ("total", "all shipments")):
        _table(f"per {name}" if level != "total" else "in total",
               [{**r, "shipments": r["shipments"], level: r["key"]} for r in records if r["level"] == level],
               (level, *TALLY_COLUMNS), caption=schedule_caption(records) if level == "total" else "")
    if chart is not None:
        out.print(f"chart written to {chart}", highlight=False, markup=False)


@app.command("map")
@handles_errors
def map_cmd(
    shipment: Annotated[str | None, typer.Option(
        "--shipment", metavar="ID",
        help="Draw this open shipment's earliest-arrival route over the network: an allocation's id (not yet "
             "dispatched) or a delivery's (under way).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, metavar="FILE.svg",
        help="Write the SVG to this file (default: standard output).")] = None,
    from_: PlanningOption = None,
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Draw the transport network as an SVG map from its places' coordinates (no map tiles, works offline): legs
    by mode, places by kind; with --shipment, its route, its days and the permissions it needs."""
    svg = seam.read_as(db, as_, lambda state, who: movement_view.map_svg(state, who, shipment, _planned_on(from_)),
                       seam.Remote("GET", "/api/v1/mobility/map", str, text=True, params={
                           **_planned_on_server(from_), **({"shipment": shipment} if shipment is not None else {})}))
    _write_svg(svg, output, "--output")
    if output is not None:
        out.print(f"map written to {output}", highlight=False, markup=False)


PLAN_COLUMNS = ("leg", "mode", "reached", "departs", "arrives", "waited", "permission", "ready", "status")


@handles_errors
def plan_cmd(
    shipment: Annotated[str, typer.Argument(
        metavar="ID", help="A confirmed allocation's id (its units not yet dispatched) or a delivery's (under way).")],
    from_: PlanningOption = None,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """The plan of one open shipment: its earliest-arrival route on the transport network, leg by leg, the
    permission each border needs (requested on the planning day, ready after the granting country's working
    days) and the ETA.

    A shipment under way is planned from the last place it reached (`delivery reached`), else from its depot and
    the day it left. A refused permission's crossing is avoided where another way exists; else the shipment waits
    at the last place before that border for the permission asked again on the day it was refused, and the caption
    says so ("waits at Medyka for a new POL permission: refused 12 March, new request ready 19 March"). The ETA is
    after every open shipment is scheduled under the daily capacities of places and legs: where this one must wait
    for room, the caption says where and when ("Rzeszów logistics hub full 17 March: 1 day")."""
    plan = seam.read_as(db, as_, lambda state, who: movement_view.shipment_plan(
        state, who, shipment, _planned_on(from_), synthetic=is_synthetic(state)), seam.Remote(
        "GET", _path("shipments", shipment, "plan"), seam.typed(movement_view.ShipmentPlan),
        params=_planned_on_server(from_), timeout=SCHEDULING_SECONDS))
    found = plan.shipment
    if plan.no_route or plan.eta is None:
        raise fail(f"{found.id}: no route on the network: {plan.no_route}", 1)
    rows = [dataclasses.asdict(step) for step in plan.steps]
    eta, room, renewed = plan.eta, plan.waited_for_room, plan.waits_for_permission
    late = (eta - found.needed_by).days
    verdict = f"{late:,} days late" if late > 0 else "on time"
    if fmt is not Format.TABLE:
        emit([{"shipment": found.id, "eta": eta, "needed_by": found.needed_by, "waited_for_room": room,
               "waits_for_permission": renewed, **r} for r in rows], fmt,
             columns=("shipment", *PLAN_COLUMNS, "eta", "needed_by", "waited_for_room", "waits_for_permission"),
             synthetic=plan.synthetic)
        return
    _table(f"{found.id}: {found.units:,} units {found.origin} → {found.destination}, leaving {found.leaves}; "
           f"ETA {eta}, needed by {found.needed_by}: {verdict}", rows, PLAN_COLUMNS,
           caption=f"permissions requested on {plan.requested}; days waited are for a permission or a "
                   "zone's start" + (f"; it {renewed}" if renewed else "") +
                   (f"; then it waits for room: {room}" if room else "; no place or leg on the way is full"))


permission_app = typer.Typer(help="Movement permissions a shipment's route needs at each border: requested by the "
                                  "donor's desk, granted or refused by the granting member's desk.",
                             no_args_is_help=True)


def _permission_row(p: MovementPermission) -> dict[str, Any]:
    return {"key": p.key, "shipment": p.shipment, "country": p.country, "mode": p.mode, "status": p.status.value,
            "requested_on": p.requested_on, "ready": p.ready, "decided_on": p.decided_on, "reason": p.reason}


PERMISSION_COLUMNS = ("key", "shipment", "country", "mode", "status", "requested_on", "ready", "decided_on", "reason")


@permission_app.command("request")
@handles_errors
def permission_request(
    shipment: Annotated[str, typer.Argument(metavar="ID", help="An open shipment: allocation or delivery id.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Request every permission the shipment's plan needs and has not got (the donor's desk)."""
    asked = seam.change(db, as_, lambda uow, who: movement.request_permissions(
        uow, who, shipment, network_of(uow.state, who.clock.now().date())), seam.Remote(
        "POST", _path("shipments", shipment, "permissions"), seam.typed(list[MovementPermission])))
    if not asked:
        out.print(f"{shipment}: no permission to request", highlight=False, markup=False)
    for p in asked:
        out.print(f"requested {p.key}: expected ready {p.ready}", highlight=False, markup=False)


def _decide(key: str, grant: bool, reason: str, db: str | None, as_: str | None) -> None:
    p = seam.change(db, as_, lambda uow, who: movement.decide_permission(uow, who, key, grant, reason), seam.Remote(
        "POST", f"/api/v1/movement-permissions/actions/{'grant' if grant else 'refuse'}",
        seam.typed(MovementPermission), json={"key": key, "reason": reason}))
    out.print(f"permission {p.key} {p.status.value}", highlight=False, markup=False)


@permission_app.command("grant")
@handles_errors
def permission_grant(
    key: Annotated[str, typer.Argument(metavar="KEY", help="SHIPMENT/COUNTRY/MODE, as `permission list` shows.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Grant a requested permission (the desk of the member whose country the shipment enters; for the recipient
    itself, its liaison)."""
    _decide(key, True, "", db, as_)


@permission_app.command("refuse")
@handles_errors
def permission_refuse(
    key: Annotated[str, typer.Argument(metavar="KEY", help="SHIPMENT/COUNTRY/MODE, as `permission list` shows.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the donor's desk (at most 500 characters).")] = "",
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Refuse a requested permission (the granting member's desk, or the recipient's liaison for the recipient): the
    shipment's plan then goes round that crossing where another way exists, else it waits."""
    _decide(key, False, reason, db, as_)


@permission_app.command("list")
@handles_errors
def permission_list(
    shipment: Annotated[str | None, typer.Option("--shipment", metavar="ID", help="Only this shipment's.")] = None,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Movement permissions of the shipments you may see, or that enter your member's country."""
    found = seam.listing(db, as_, lambda state, who: [p for p in movement.visible_permissions(state, who)
                                                     if shipment is None or p.shipment == shipment],
                         seam.Remote("GET", "/api/v1/movement-permissions", seam.typed(MovementPermission),
                                     params={"shipment": shipment} if shipment is not None else {}))
    rows = [_permission_row(p) for p in sorted(found.rows, key=lambda p: p.key)]  # by key, as the server lists them
    emit(rows, fmt, title="Movement permissions", columns=PERMISSION_COLUMNS, synthetic=found.synthetic)


@handles_errors
def reached_cmd(
    shipment: Annotated[str, typer.Argument(metavar="ID", help="A delivery under way.")],
    place: Annotated[str, typer.Argument(metavar="PLACE", help="The code of the place of the network it reached.")],
    on: Annotated[date, typer.Option("--on", parser=day, metavar="DATE", help="The day it reached it.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Record that a shipment under way reached a place (the donor's desk): its plan continues from there."""
    at = seam.change(db, as_, lambda uow, who: movement.record_position(
        uow, who, shipment, place, on, network_of(uow.state, on)), seam.Remote(
        "POST", _path("shipments", shipment, "positions"), seam.typed(ShipmentPosition),
        json={"place": place, "on": on.isoformat()}))
    out.print(f"{at.shipment} reached {at.place} on {at.on}", highlight=False, markup=False)
