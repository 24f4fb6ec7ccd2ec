"""What the mobility commands show, made once for every front door: a shipment's plan leg by leg, and a zone
comparison as flat rows. The command line formats them from the local state or from the server's answer, the API
answers them, so that both print the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import FIRST_DAY, LAST_DAY, MovementPermission, User
from contactgroup.domain.state import State
from contactgroup.domain.text import day
from contactgroup.encoding.canonical import plain
from contactgroup.mobility import NoRoute, Permission, Saving, Tally, Wait, drawing
from contactgroup.services import movement
from contactgroup.services.mobility import network_of


def planning_day(text: str) -> date:
    """A planning day as `--from` (and the API's `from`) takes it: a date, as every date option reads one, within
    the record's range; ValueError says why not."""
    found = day(text)
    if not FIRST_DAY <= found <= LAST_DAY:
        raise ValueError(f"{found} is outside {FIRST_DAY}..{LAST_DAY}")
    return found


def planning_day_at(text: str | None, where: str, default: date) -> date:
    """`planning_day` of a request's parameter `where` (its absence: `default`), refused naming the parameter."""
    if text is None:
        return default
    try:
        return planning_day(text)
    except ValueError as exc:
        raise ValidationFailed(str(exc), where=where) from None


# --- a zone comparison -------------------------------------------------------------------------------------------

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
    """The comparison as flat rows, one `level` each: shipment (those the reader may see), tier, member, total, and
    each side's schedule stages (stage)."""
    c = found.comparison
    listed = [_shipment_row(s, found.names) for s in c.savings if s.id in found.seen]
    listed += [{"level": "shipment", "key": u.shipment.id, "shipment": u.shipment.id, "member": u.shipment.member,
                "priority": u.shipment.priority, "units": u.shipment.units, "needed_by": u.shipment.needed_by,
                "note": u.reason} for u in found.unplaced if u.shipment.id in found.seen]
    listed += [_tally_row("tier", p, t) for p, t in c.tiers.items()]
    listed += [_tally_row("member", m, t) for m, t in c.members.items()]
    listed.append(_tally_row("total", "all", c.total))
    return listed + movement.stage_rows(c)


@dataclass(frozen=True, slots=True)
class ZoneView:
    """A zone comparison as it is shown: the zone compared, the planning day, the rows (dates as ISO text, as in
    JSON) and how many shipments the reader may not see are counted in the tallies only."""

    countries: tuple[str, ...]  # sorted
    lead_days: int | None  # None: no per-movement permission within the zone
    starts: date
    on: date
    hidden: int
    rows: list[dict[str, Any]]
    synthetic: bool


def zone_view(state: State, who: User, countries: Sequence[str], on: date, *, starts: date | None = None,
              synthetic: bool = False) -> ZoneView:
    """`movement.compare_zone` on the record's network as of `on`, as rows."""
    found = movement.compare_zone(state, network_of(state, on), who, countries, on, starts=starts)
    z = found.comparison.zone
    return ZoneView(tuple(sorted(z.countries)), z.lead_days, z.starts, on, found.hidden, plain(rows(found)),
                    synthetic)


# --- a shipment's plan -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlanStep:
    """One leg of a plan: when it is reached, left and arrived at, days waited, the permission its border needs
    and where that stands in the record."""

    leg: str
    mode: str
    reached: date
    departs: date
    arrives: date
    waited: int
    permission: str
    ready: date | None
    status: str


@dataclass(frozen=True, slots=True)
class ShipmentPlan:
    """An open shipment's plan as of a day: its earliest-arrival route, the ETA once every open shipment is
    scheduled under capacity, and why it waits (for room, for a permission asked again). `no_route` says why there
    is no route (then there are no steps)."""

    shipment: movement.OpenShipment
    steps: tuple[PlanStep, ...]
    eta: date | None
    requested: date | None  # the day every permission is requested
    waited_for_room: str
    waits_for_permission: str
    no_route: str
    synthetic: bool


def _standing(permit: Permission | None, recorded: Mapping[tuple[str, str], MovementPermission]) -> str:
    """Where a needed permission stands in the record: to request, requested, granted (refused ones are avoided)."""
    if permit is None:
        return ""
    found = recorded.get((permit.country, permit.mode.value))
    return found.status.value if found is not None else "to request"


def shipment_plan(state: State, who: User, ident: str, on: date, *, synthetic: bool = False) -> ShipmentPlan:
    """The plan of the open shipment `ident` that `who` may see (else not found, whether missing or hidden)."""
    network = network_of(state, on)
    found = movement.open_shipment(state, who, ident, on)
    route = movement.route_of(state, network, who, ident, on)
    if isinstance(route, NoRoute):
        return ShipmentPlan(found, (), None, None, "", "", route.reason, synthetic)
    permits = {p.leg: p for p in route.permissions}
    recorded = {(p.country, p.mode): p for p in movement.permissions_of(state, found.id)}
    steps = []
    for step in route.steps:
        permit = permits.get(step.leg.key)
        zone = f" (zone {permit.zone})" if permit and permit.zone else ""
        again = f", asked again: refused {permit.refused_on}" if permit and permit.refused_on else ""
        needed = (f"{permit.country} {permit.lead_days} working days{zone}{again}" if permit
                  else f"none: zone {step.zone}" if step.zone else "")
        steps.append(PlanStep(f"{step.leg.origin} → {step.leg.to}", step.leg.mode.value, step.reached, step.departs,
                              step.arrives, step.waited, needed, permit.ready if permit else None,
                              _standing(permit, recorded)))
    timed = movement.scheduled_arrival(state, network, found, on)
    names = {p.code: p.name for p in network.places}
    room = "; ".join(w.describe(names.get(w.resource, w.resource)) for w in timed.waits) or timed.held
    renewed = "; ".join(movement.renewal_waits(route, names))
    return ShipmentPlan(found, tuple(steps), timed.eta or route.eta, route.shipment.requested, room, renewed, "",
                        synthetic)


def map_svg(state: State, who: User, shipment: str | None, on: date) -> str:
    """The network as an SVG map on `on`; with `shipment`, that open shipment's route over it (one `who` may see,
    else not found)."""
    network = network_of(state, on)
    route = None if shipment is None else movement.route_of(state, network, who, shipment, on)
    return drawing.draw(network, route)
