"""What a mobility zone saves: the same shipments routed without and with it, compared per shipment, priority
tier and donor member (days saved, days late, units arriving by their needed-by date)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from contactgroup.mobility.network import Mode, Network, Zone
from contactgroup.mobility.route import Route, Router, Shipment
from contactgroup.mobility.workday import WorkingDays


@dataclass(frozen=True, slots=True)
class Consignment:
    """A shipment and what it is for: `units` for a requirement of `priority` needed by `needed_by`, sent by
    the donor `member`."""

    shipment: Shipment
    member: str
    priority: int
    units: int
    needed_by: date


@dataclass(frozen=True, slots=True)
class Saving:
    """One consignment's ETA without and with the zone (None: no route); days saved and late (None likewise)."""

    id: str
    member: str
    priority: int
    units: int
    eta_without: date | None
    eta_with: date | None
    needed_by: date

    @property
    def days_saved(self) -> int | None:
        return None if self.eta_without is None or self.eta_with is None else (
            self.eta_without - self.eta_with).days

    def late(self, eta: date | None) -> int | None:
        return None if eta is None else max(0, (eta - self.needed_by).days)

    def units_on_time(self, eta: date | None) -> int:
        return self.units if eta is not None and eta <= self.needed_by else 0


@dataclass(frozen=True, slots=True)
class Tally:
    """Totals over a group of consignments. Days saved and late count those routed both ways (`compared`)."""

    consignments: int
    compared: int
    days_saved: int
    late_days_without: int
    late_days_with: int
    units_on_time_without: int
    units_on_time_with: int

    @property
    def late_days_change(self) -> int:
        return self.late_days_with - self.late_days_without

    @property
    def units_on_time_change(self) -> int:
        return self.units_on_time_with - self.units_on_time_without


@dataclass(frozen=True, slots=True)
class Comparison:
    zone: Zone
    savings: tuple[Saving, ...]
    tiers: Mapping[int, Tally]
    members: Mapping[str, Tally]
    total: Tally


def tally(savings: Iterable[Saving]) -> Tally:
    found = list(savings)
    both = [s for s in found if s.days_saved is not None]
    return Tally(len(found), len(both), sum(s.days_saved or 0 for s in both),
                 sum(s.late(s.eta_without) or 0 for s in both), sum(s.late(s.eta_with) or 0 for s in both),
                 sum(s.units_on_time(s.eta_without) for s in found), sum(s.units_on_time(s.eta_with) for s in found))


def _eta(router: Router, shipment: Shipment, refused: frozenset[tuple[str, Mode]]) -> date | None:
    found = router.route(shipment, refused)
    return found.eta if isinstance(found, Route) else None


def compare(network: Network, consignments: Iterable[Consignment], zone: Zone, *,
            refused: Iterable[tuple[str, Mode]] = (), calendar: WorkingDays | None = None) -> Comparison:
    """Route every consignment on `network` without `zone` (and without any zone of the same code) and with it."""
    calendar = calendar or WorkingDays()
    others = tuple(z for z in network.zones if z.code != zone.code)
    without = Router(replace(network, zones=others), calendar)
    with_zone = Router(replace(network, zones=(*others, zone)), calendar)
    refusals = frozenset(refused)
    savings = tuple(Saving(c.shipment.id, c.member, c.priority, c.units, _eta(without, c.shipment, refusals),
                           _eta(with_zone, c.shipment, refusals), c.needed_by) for c in consignments)
    tiers: dict[int, list[Saving]] = defaultdict(list)
    members: dict[str, list[Saving]] = defaultdict(list)
    for s in savings:
        tiers[s.priority].append(s)
        members[s.member].append(s)
    return Comparison(zone, savings, {p: tally(tiers[p]) for p in sorted(tiers)},
                      {m: tally(members[m]) for m in sorted(members)}, tally(savings))
