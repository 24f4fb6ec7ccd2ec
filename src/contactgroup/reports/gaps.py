"""Gaps: the highest-priority open requirements that are not fully met, with what is missing and why.

Each missing unit gets one reason, in this order:
- `waiting_for_consent`: held by a pending allocation whose offer still needs a re-export consent;
- `not_yet_confirmed`: held by an allocation pending acceptance or confirmation;
- `no_compatible_offer`: no open offer (offered, committed, allocated, in delivery) of a satisfying item;
- `not_yet_allocated`: compatible units are free — an allocation run would cover them;
- `taken_by_higher_priority`: compatible units exist but are held by higher-priority requirements;
- `insufficient_quantity`: compatible offers simply do not add up to the need.
A row's `reason` is the one covering the most units. No offer id is ever named: offers may be confidential.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from contactgroup.domain import model as m
from contactgroup.domain.command import ALLOCATABLE_OFFER, consent_pending
from contactgroup.domain.state import State

REASONS = ("waiting_for_consent", "not_yet_confirmed", "no_compatible_offer", "not_yet_allocated",
           "taken_by_higher_priority", "insufficient_quantity")
OPEN = (m.RequirementStatus.OPEN, m.RequirementStatus.PARTIALLY_MET)
DEFAULT_LIMIT = 20


@dataclass(frozen=True, slots=True)
class GapRow:
    rank: int
    requirement: str
    item_class: str
    item_class_name: str
    area: str
    priority: int
    needed_by: date
    status: str
    needed: int
    committed: int
    pending: int
    missing: int
    reason: str
    breakdown: tuple[tuple[str, int], ...]  # (reason, units), in the order of REASONS
    detail: str

    @property
    def reasons(self) -> str:
        return "; ".join(f"{reason}={units}" for reason, units in self.breakdown)


# reason -> (one unit, several units): the detail a reader sees, with thousands separators.
_DETAIL = {
    "waiting_for_consent": ("{n} allocated unit awaits a re-export consent",
                            "{n} allocated units await a re-export consent"),
    "not_yet_confirmed": ("{n} allocated unit awaits acceptance or confirmation",
                          "{n} allocated units await acceptance or confirmation"),
    "no_compatible_offer": ("no open offer of an item in this class for {n} unit",
                            "no open offer of an item in this class for {n} units"),
    "not_yet_allocated": ("{n} compatible offered unit is free to allocate",
                          "{n} compatible offered units are free to allocate"),
    "taken_by_higher_priority": ("{n} compatible unit is held by higher-priority requirements",
                                 "{n} compatible units are held by higher-priority requirements"),
    "insufficient_quantity": ("compatible offers fall {n} unit short", "compatible offers fall {n} units short"),
}


def detail(reason: str, n: int) -> str:
    one, several = _DETAIL[reason]
    return (one if n == 1 else several).format(n=f"{n:,}")


def gaps(state: State, limit: int | None = DEFAULT_LIMIT) -> list[GapRow]:
    """The first `limit` unmet open requirements by priority (then needed-by date, then id)."""
    held: dict[str, int] = defaultdict(int)  # offer -> units in allocations that are not declined
    confirmed: dict[str, int] = defaultdict(int)
    live: dict[str, list[m.Allocation]] = defaultdict(list)  # requirement -> pending allocations
    for a in state.allocations.values():
        if a.status is m.AllocationStatus.DECLINED:
            continue
        held[a.offer] += a.quantity
        if a.status is m.AllocationStatus.CONFIRMED:
            confirmed[a.requirement] += a.quantity
        else:
            live[a.requirement].append(a)
    by_item: dict[str, list[m.Offer]] = defaultdict(list)
    for o in state.offers.values():
        if o.status in ALLOCATABLE_OFFER:
            by_item[o.item].append(o)

    candidates = sorted(
        (r for r in state.requirements.values() if r.status in OPEN and r.quantity > confirmed[r.id]),
        key=lambda r: (r.priority, r.needed_by, r.id),
    )
    if limit is not None:
        candidates = candidates[: max(limit, 0)]
    rows = []
    for rank, req in enumerate(candidates, start=1):
        missing = req.quantity - confirmed[req.id]
        units: dict[str, int] = defaultdict(int)
        left = missing
        for a in live[req.id]:
            take = min(a.quantity, left)
            reason = "waiting_for_consent" if consent_pending(state, state.offers[a.offer]) else "not_yet_confirmed"
            units[reason] += take
            left -= take
        cls = state.item_classes.get(req.item_class)
        compatible = [o for item in (cls.items if cls else ()) for o in by_item.get(item, [])]
        if left and not compatible:
            units["no_compatible_offer"] += left
            left = 0
        if left:
            free = sum(max(o.quantity - held[o.id], 0) for o in compatible)
            take = min(free, left)
            units["not_yet_allocated"] += take
            left -= take
        if left:
            ids = {o.id for o in compatible}
            higher = sum(
                a.quantity for a in state.allocations.values()
                if a.offer in ids and a.status is not m.AllocationStatus.DECLINED
                and a.requirement != req.id and state.requirements[a.requirement].priority < req.priority
            )
            take = min(higher, left)
            units["taken_by_higher_priority"] += take
            left -= take
        if left:
            units["insufficient_quantity"] += left
        breakdown = tuple((r, units[r]) for r in REASONS if units[r])
        main = max(breakdown, key=lambda ru: (ru[1], -REASONS.index(ru[0])))[0]
        rows.append(GapRow(
            rank=rank, requirement=req.id, item_class=req.item_class, item_class_name=cls.name if cls else "",
            area=req.area, priority=req.priority, needed_by=req.needed_by, status=req.status.value,
            needed=req.quantity, committed=confirmed[req.id], pending=sum(a.quantity for a in live[req.id]),
            missing=missing, reason=main, breakdown=breakdown,
            detail="; ".join(detail(r, n) for r, n in breakdown),
        ))
    return rows
