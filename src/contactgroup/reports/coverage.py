"""Coverage: per requirement, priority tier and capability area — needed, allocated, committed, delivered, missing.

allocated = units in allocations that are not declined; committed = units in confirmed allocations;
delivered = units received in received shipments; missing = needed − committed (never below zero) + the committed
units owed after a short receipt (short, damaged or wrong, not yet replaced or released).
Only requirements the coordination has validated count (validated, open, partially met, met, closed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from contactgroup.domain import model as m
from contactgroup.domain.state import State
from contactgroup.reports.facts import counted_requirements, received_by_allocation
from contactgroup.reports.scope import EVERYTHING, Scope

Grouping = Literal["requirement", "tier", "area"]
GROUPINGS: tuple[Grouping, ...] = ("requirement", "tier", "area")


@dataclass(frozen=True, slots=True)
class CoverageRow:
    grouping: Grouping  # which rollup this row is
    key: str  # the requirement id, the priority (as text) or the area code
    name: str  # the item class's name, "priority N", or the capability coalition's name
    priority: int | None  # the requirement's or tier's priority; None for an area
    area: str | None
    status: str | None  # a requirement's status; None for rollups
    requirements: int
    needed: int
    allocated: int
    committed: int
    delivered: int
    missing: int

    @property
    def committed_share(self) -> float:
        return self.committed / self.needed if self.needed else 0.0


@dataclass(frozen=True, slots=True)
class _Counts:
    needed: int
    allocated: int
    committed: int
    delivered: int
    owed: int = 0


def _per_requirement(state: State, scope: Scope) -> dict[str, _Counts]:
    """Allocated and committed units of the offers in scope pledged in the window; delivered units received in it."""
    received = received_by_allocation(state, scope)
    allocated: dict[str, int] = defaultdict(int)
    committed: dict[str, int] = defaultdict(int)
    delivered: dict[str, int] = defaultdict(int)
    for a in state.allocations.values():
        offer = state.offers[a.offer]
        if a.status is m.AllocationStatus.DECLINED or not scope.offer(state, offer):
            continue
        if a.status is m.AllocationStatus.CONFIRMED:
            delivered[a.requirement] += received.get(a.id, 0)
        if not scope.within(offer.committed_on):
            continue
        allocated[a.requirement] += a.quantity
        if a.status is m.AllocationStatus.CONFIRMED:
            committed[a.requirement] += a.quantity
    return {
        r.id: _Counts(r.quantity, allocated[r.id], committed[r.id], delivered[r.id], state.owed_after_receipt(r.id))
        for r in counted_requirements(state) if scope.requirement(state, r)
    }


def _row(grouping: Grouping, key: str, name: str, priority: int | None, area: str | None, status: str | None,
         counts: Iterable[_Counts]) -> CoverageRow:
    cs = list(counts)
    needed = sum(c.needed for c in cs)
    committed = sum(c.committed for c in cs)
    return CoverageRow(
        grouping=grouping, key=key, name=name, priority=priority, area=area, status=status,
        requirements=len(cs), needed=needed, allocated=sum(c.allocated for c in cs), committed=committed,
        delivered=sum(c.delivered for c in cs),
        # Summed per requirement so that one over-covered requirement cannot hide another's shortfall.
        missing=sum(max(c.needed - c.committed, 0) + c.owed for c in cs),
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
