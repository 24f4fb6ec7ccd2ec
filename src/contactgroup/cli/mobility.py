"""`contactgroup mobility ...`: what a mobility zone would save the open shipments, and a map of the network."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from contactgroup.cli.common import (
    AsOption,
    DbOption,
    Format,
    FormatOption,
    caller,
    emit,
    fail,
    handles_errors,
    open_to_all,
    out,
    writer,
)
from contactgroup.domain.model import FIRST_DAY, LAST_DAY, MovementPermission, User
from contactgroup.domain.state import State
from contactgroup.domain.text import day
from contactgroup.mobility import NoRoute, Permission, Saving, Tally, Wait, drawing, summary
from contactgroup.reports.charts import Chart
from contactgroup.reports.facts import is_synthetic
from contactgroup.services import movement, queries
from contactgroup.services.clock import SystemClock
from contactgroup.services.mobility import network_of

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


def planning_day(text: str) -> date:
    """A planning day as `--from` takes it: a date (as every date option reads one) within the record's range."""
    found = day(text)
    if not FIRST_DAY <= found <= LAST_DAY:
        raise ValueError(f"{found} is outside {FIRST_DAY}..{LAST_DAY}")
    return found


PlanningOption = Annotated[date | None, typer.Option(
    "--from", parser=planning_day, metavar="DATE",
    help="Plan as of DATE (default: today): shipments not yet dispatched leave no earlier, every permission is "
         "requested on it and the border rules are those in force on it; a shipment under way is planned from "
         "where it is.")]


def _planned_on(from_: date | None) -> date:
    return from_ or SystemClock().now().date()


CHART = Chart("Days late without and with the zone, per member", ("key",),
              (("late_days_without", "without the zone"), ("late_days_with", "with the zone")), "days late")


def _shipment_row(s: Saving, names: Mapping[str, str]) -> dict[str, Any]:
    def waited(waits: Sequence[Wait]) -> str:
        return "; ".join(w.describe(names.get(w.resource, w.resource)) for w in waits)

    return {"level": "shipment", "key": s.id, "shipment": s.id, "member": s.member, "priority": s.priority,
            "units": s.units, "needed_by": s.needed_by, "eta_without": s.eta_without, "eta_with": s.eta_with,
            "days_saved": s.days_saved, "late_without": s.late(s.eta_without), "late_with": s.late(s.eta_with),
            "waited_without": waited(s.waits_without), "waited_with": waited(s.waits_with),
            "note": s.held or ("" if s.days_saved is not None else
                               "no route " + ("either way" if s.eta_with is None and s.eta_without is None else
                                              "without the zone" if s.eta_without is None else "with the zone"))}


def _tally_row(level: str, key: object, t: Tally) -> dict[str, Any]:
    return {"level": level, "key": str(key), "shipments": t.consignments, "compared": t.compared,
            "days_saved": t.days_saved, "late_days_without": t.late_days_without, "late_days_with": t.late_days_with,
            "late_days_change": t.late_days_change, "units_on_time_without": t.units_on_time_without,
            "units_on_time_with": t.units_on_time_with, "units_on_time_change": t.units_on_time_change}


def rows(found: movement.ZoneComparison) -> list[dict[str, Any]]:
    """The comparison as flat rows, one `level` each: shipment (those the reader may see), tier, member, total."""
    c = found.comparison
    listed = [_shipment_row(s, found.names) for s in c.savings if s.id in found.seen]
    listed += [{"level": "shipment", "key": u.shipment.id, "shipment": u.shipment.id, "member": u.shipment.member,
                "priority": u.shipment.priority, "units": u.shipment.units, "needed_by": u.shipment.needed_by,
                "note": u.reason} for u in found.unplaced if u.shipment.id in found.seen]
    listed += [_tally_row("tier", p, t) for p, t in c.tiers.items()]
    listed += [_tally_row("member", m, t) for m, t in c.members.items()]
    listed.append(_tally_row("total", "all", c.total))
    return listed + movement.stage_rows(c)


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


def _reader(state: State, as_: str | None) -> User:
    who = queries.reader(state, as_)
    if who is None:
        raise fail("say who you are: pass --as NAME or set CONTACTGROUP_USER (see `contactgroup user list`)", 2)
    return who


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
    state = open_to_all(db, as_)
    who = _reader(state, as_)
    on = _planned_on(from_)
    network = network_of(state, on)
    found = movement.compare_zone(state, network, who, countries, on, starts=starts)
    records = rows(found)
    if chart is not None:
        _chart(records, chart)
    z = found.comparison.zone
    if fmt is not Format.TABLE:
        emit(records, fmt, columns=COLUMNS, synthetic=is_synthetic(state))
        return
    lead = "no per-movement permission" if z.lead_days is None else f"permissions within {z.lead_days} working days"
    title = f"Zone {', '.join(sorted(z.countries))} ({lead}, from {z.starts}), planned on {on}"
    hidden = f"; {found.hidden:,} shipments you may not see are counted in the totals" if found.hidden else ""
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
    state = open_to_all(db, as_)
    who = _reader(state, as_)
    on = _planned_on(from_)
    network = network_of(state, on)
    route = None if shipment is None else movement.route_of(state, network, who, shipment, on)
    _write_svg(drawing.draw(network, route), output, "--output")
    if output is not None:
        out.print(f"map written to {output}", highlight=False, markup=False)


PLAN_COLUMNS = ("leg", "mode", "reached", "departs", "arrives", "waited", "permission", "ready", "status")


def _standing(permit: Permission | None, recorded: Mapping[tuple[str, str], MovementPermission]) -> str:
    """Where a needed permission stands in the record: to request, requested, granted (refused ones are avoided)."""
    if permit is None:
        return ""
    found = recorded.get((permit.country, permit.mode.value))
    return found.status.value if found is not None else "to request"


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
    state = open_to_all(db, as_)
    who = _reader(state, as_)
    on = _planned_on(from_)
    network = network_of(state, on)
    found = movement.open_shipment(state, who, shipment, on)
    route = movement.route_of(state, network, who, shipment, on)
    if isinstance(route, NoRoute):
        raise fail(f"{found.id}: no route on the network: {route.reason}", 1)
    permits = {p.leg: p for p in route.permissions}
    recorded = {(p.country, p.mode): p for p in movement.permissions_of(state, found.id)}
    rows = []
    for step in route.steps:
        permit = permits.get(step.leg.key)
        zone = f" (zone {permit.zone})" if permit and permit.zone else ""
        again = f", asked again: refused {permit.refused_on}" if permit and permit.refused_on else ""
        needed = (f"{permit.country} {permit.lead_days} working days{zone}{again}" if permit
                  else f"none: zone {step.zone}" if step.zone else "")
        rows.append({"leg": f"{step.leg.origin} → {step.leg.to}", "mode": step.leg.mode.value,
                     "reached": step.reached, "departs": step.departs, "arrives": step.arrives,
                     "waited": step.waited, "permission": needed, "ready": permit.ready if permit else None,
                     "status": _standing(permit, recorded)})
    timed = movement.scheduled_arrival(state, network, found, on)
    eta = timed.eta or route.eta
    names = {p.code: p.name for p in network.places}
    room = "; ".join(w.describe(names.get(w.resource, w.resource)) for w in timed.waits) or timed.held
    renewed = "; ".join(movement.renewal_waits(route, names))
    late = (eta - found.needed_by).days
    verdict = f"{late:,} days late" if late > 0 else "on time"
    if fmt is not Format.TABLE:
        emit([{"shipment": found.id, "eta": eta, "needed_by": found.needed_by, "waited_for_room": room,
               "waits_for_permission": renewed, **r} for r in rows], fmt,
             columns=("shipment", *PLAN_COLUMNS, "eta", "needed_by", "waited_for_room", "waits_for_permission"),
             synthetic=is_synthetic(state))
        return
    _table(f"{found.id}: {found.units:,} units {found.origin} → {found.destination}, leaving {found.leaves}; "
           f"ETA {eta}, needed by {found.needed_by}: {verdict}", rows, PLAN_COLUMNS,
           caption=f"permissions requested on {route.shipment.requested}; days waited are for a permission or a "
                   "zone's start" + (f"; it {renewed}" if renewed else "") +
                   (f"; then it waits for room: {room}" if room else "; no place or leg on the way is full"))


permission_app = typer.Typer(help="Movement permissions a shipment's route needs at each border: requested by the "
                                  "donor's desk, granted or refused by the granting member's desk.",
                             no_args_is_help=True)


def _permission_row(p: Any) -> dict[str, Any]:
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
    who = caller(as_)
    with writer(db) as uow:
        network = network_of(uow.state, who.clock.now().date())
        asked = movement.request_permissions(uow, who, shipment, network)
    if not asked:
        out.print(f"{shipment}: no permission to request", highlight=False, markup=False)
    for p in asked:
        out.print(f"requested {p.key}: expected ready {p.ready}", highlight=False, markup=False)


def _decide(key: str, grant: bool, reason: str, db: str | None, as_: str | None) -> None:
    who = caller(as_)
    with writer(db) as uow:
        p = movement.decide_permission(uow, who, key, grant, reason)
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
    state = open_to_all(db, as_)
    who = _reader(state, as_)
    rows = [_permission_row(p) for p in movement.visible_permissions(state, who)
            if shipment is None or p.shipment == shipment]
    emit(rows, fmt, title="Movement permissions", columns=PERMISSION_COLUMNS, synthetic=is_synthetic(state))


@handles_errors
def reached_cmd(
    shipment: Annotated[str, typer.Argument(metavar="ID", help="A delivery under way.")],
    place: Annotated[str, typer.Argument(metavar="PLACE", help="The code of the place of the network it reached.")],
    on: Annotated[date, typer.Option("--on", parser=day, metavar="DATE", help="The day it reached it.")],
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Record that a shipment under way reached a place (the donor's desk): its plan continues from there."""
    who = caller(as_)
    with writer(db) as uow:
        network = network_of(uow.state, on)
        at = movement.record_position(uow, who, shipment, place, on, network)
    out.print(f"{at.shipment} reached {at.place} on {at.on}", highlight=False, markup=False)
