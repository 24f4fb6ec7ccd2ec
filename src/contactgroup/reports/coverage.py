"""Coverage: per requirement, item class, priority tier and capability area — needed, pending, confirmed,
delivered, missing, in units and in value (EUR) with the share of need covered.

pending = units in allocations proposed or accepted; confirmed = units in confirmed allocations (what burden calls
allocated, seen from the recipient); delivered = units received in received shipments; missing = needed − confirmed
(never below zero) + the confirmed units owed after a short receipt (short, damaged or wrong, not yet replaced or
released). The legacy fields keep their old meaning for existing readers: `allocated` = pending + confirmed,
`committed` = confirmed. Units of different item classes are never added: a rollup over several classes has no
unit totals (None), only value. Value is at the class's reference unit value (the mean catalogue unit value of its
items that have one, to the cent), one yardstick for what is needed and what covers it.
Only requirements the coordination has validated count (validated, open, partially met, met, closed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from contactgroup.domain.model import AllocationStatus
from contactgroup.domain.state import State
from contactgroup.reports.facts import counted_requirements, received_by_allocation
from contactgroup.reports.scope import EVERYTHING, Scope

Grouping = Literal["requirement", "class", "tier", "area"]
GROUPINGS: tuple[Grouping, ...] = ("requirement", "class", "tier", "area")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CoverageRow:
    grouping: Grouping  # which rollup this row is
    key: str  # the requirement id, the item class code, the priority (as text) or the area code
    name: str  # the item class's name, "priority N", or the capability coalition's name
    priority: int | None  # the requirement's or tier's priority; None for an area
    area: str | None
    status: str | None  # a requirement's status; None for rollups
    requirements: int
    # Units: None in a rollup over several item classes (units of unlike things are not added).
    needed: int | None
    allocated: int | None  # legacy: pending + confirmed
    committed: int | None  # legacy: = confirmed
    delivered: int | None
    missing: int | None
    item_classes: int
    pending: int | None
    confirmed: int | None
    unit_value_eur: Decimal | None  # one class only; None in a rollup over several or without a catalogue value
    needed_eur: Decimal | None  # None when some requirement's class has no reference value
    confirmed_eur: Decimal | None
    delivered_eur: Decimal | None
    missing_eur: Decimal | None
    confirmed_share_of_need: Decimal | None
    delivered_share_of_need: Decimal | None


@dataclass(frozen=True, slots=True)
class _Counts:
    item_class: str
    unit_value: Decimal | None
    needed: int
    pending: int
    confirmed: int
    delivered: int
    owed: int = 0

    @property
    def missing(self) -> int:
        return max(self.needed - self.confirmed, 0) + self.owed


def reference_unit_values(state: State) -> dict[str, Decimal]:
    """Per item class: the mean catalogue unit value (EUR) of its items that have one, to the cent (half to even);
    classes without one are left out. Rounded once, here, by definition: the values built on it stay exact."""
    values: dict[str, Decimal] = {}
    for code, cls in state.item_classes.items():
        known = [v for i in cls.items if (item := state.items.get(i)) and (v := item.unit_value_eur) is not None]
        if known:
            values[code] = (sum(known, Decimal(0)) / len(known)).quantize(CENT, ROUND_HALF_EVEN)
    return values


def _per_requirement(state: State, scope: Scope) -> dict[str, _Counts]:
    """Pending and confirmed units of the offers in scope pledged in the window; delivered units received in it."""
    received = received_by_allocation(state, scope)
    pending: dict[str, int] = defaultdict(int)
    confirmed: dict[str, int] = defaultdict(int)
    delivered: dict[str, int] = defaultdict(int)
    for a in state.allocations.values():
        offer = state.offers[a.offer]
        if a.status is AllocationStatus.DECLINED or not scope.offer(state, offer):
            continue
        if a.status is AllocationStatus.CONFIRMED:
            delivered[a.requirement] += received.get(a.id, 0)
        if not scope.within(offer.committed_on):
            continue
        if a.status is AllocationStatus.CONFIRMED:
            confirmed[a.requirement] += a.quantity
        else:
            pending[a.requirement] += a.quantity
    unit_values = reference_unit_values(state)
    return {
        r.id: _Counts(r.item_class, unit_values.get(r.item_class), r.quantity, pending[r.id], confirmed[r.id],
                      delivered[r.id], state.owed_after_receipt(r.id))
        for r in counted_requirements(state) if scope.requirement(state, r)
    }


def _value(cs: list[_Counts], units: str) -> Decimal | None:
    """The value of `units` (a _Counts field) over the requirements; None if one has no reference value."""
    if any(c.unit_value is None for c in cs):
        return None
    return sum((Decimal(getattr(c, units)) * c.unit_value for c in cs if c.unit_value is not None), Decimal(0))


def _share(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return part / whole if part else Decimal(0)


def _row(grouping: Grouping, key: str, name: str, priority: int | None, area: str | None, status: str | None,
         counts: Iterable[_Counts]) -> CoverageRow:
    cs = list(counts)
    classes = {c.item_class for c in cs}
    alike = len(classes) <= 1

    def units(name: str) -> int | None:
        return sum(getattr(c, name) for c in cs) if alike else None

    confirmed, needed_eur = units("confirmed"), _value(cs, "needed")
    confirmed_eur, delivered_eur = _value(cs, "confirmed"), _value(cs, "delivered")
    return CoverageRow(
        grouping=grouping, key=key, name=name, priority=priority, area=area, status=status,
        requirements=len(cs), needed=units("needed"),
        allocated=sum(c.pending + c.confirmed for c in cs) if alike else None, committed=confirmed,
        delivered=units("delivered"),
        # Summed per requirement so that one over-covered requirement cannot hide another's shortfall.
        missing=units("missing"),
        item_classes=len(classes), pending=units("pending"), confirmed=confirmed,
        unit_value_eur=cs[0].unit_value if alike and cs else None,
        needed_eur=needed_eur, confirmed_eur=confirmed_eur, delivered_eur=delivered_eur,
        missing_eur=_value(cs, "missing"),
        confirmed_share_of_need=_share(confirmed_eur, needed_eur),
        delivered_share_of_need=_share(delivered_eur, needed_eur),
    )


def coverage(state: State, by: Grouping | Iterable[Grouping] = GROUPINGS,
             scope: Scope = EVERYTHING) -> list[CoverageRow]:
    """Coverage rows, for each grouping asked for in the order given; rows by priority, then key."""
    groupings: list[Grouping] = [by] if isinstance(by, str) else list(by)
    counts = _per_requirement(state, scope)
    reqs = sorted((state.requirements[rid] for rid in counts), key=lambda r: (r.priority, r.needed_by, r.id))
    rows: list[CoverageRow] = []
    for grouping in groupings:
        if grouping == "requirement":
            for r in reqs:
                cls = state.item_classes.get(r.item_class)
                rows.append(_row("requirement", r.id, cls.name if cls else r.item_class, r.priority, r.area,
                                 r.status.value, [counts[r.id]]))
        elif grouping == "class":
            classes: dict[str, list[_Counts]] = defaultdict(list)
            for r in reqs:
                classes[r.item_class].append(counts[r.id])
            for code in sorted(classes):
                cls = state.item_classes.get(code)
                rows.append(_row("class", code, cls.name if cls else code, None, cls.area if cls else None, None,
                                 classes[code]))
        elif grouping == "tier":
            tiers: dict[int, list[_Counts]] = defaultdict(list)
            for r in reqs:
                tiers[r.priority].append(counts[r.id])
            for priority in sorted(tiers):
                rows.append(_row("tier", str(priority), f"priority {priority}", priority, None, None,
                                 tiers[priority]))
        elif grouping == "area":
            areas: dict[str, list[_Counts]] = defaultdict(list)
            for r in reqs:
                areas[r.area].append(counts[r.id])
            for area in sorted(areas):
                coalition = state.coalitions.get(area)
                rows.append(_row("area", area, coalition.name if coalition else area, None, area, None,
                                 areas[area]))
        else:
            raise ValueError(f"unknown grouping {grouping!r}; use one of {', '.join(GROUPINGS)}")
    return rows
