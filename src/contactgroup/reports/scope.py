"""What a report counts: a window of effective dates, and the capability area, member and kind of aid it is
narrowed to. Which effective date each report reads is in docs/reports.md ("Time, filters and stamps").

The window is of effective dates (the day a pledge was committed, goods were received), not of record time:
record time is the snapshot a report is computed on (`--as-of`), chosen before any of this applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from contactgroup.domain.errors import Problem
from contactgroup.domain.model import Category, Contribution, Offer, Requirement, TrackedAid
from contactgroup.domain.state import State


@dataclass(frozen=True, slots=True)
class Scope:
    start: date | None = None  # first effective day counted (inclusive)
    end: date | None = None  # last effective day counted (inclusive)
    area: str | None = None
    member: str | None = None
    kind: Category | None = None

    @property
    def dated(self) -> bool:
        return self.start is not None or self.end is not None

    def within(self, day: date | None) -> bool:
        """Whether an effective date falls in the window; with a window, a fact without a date is left out."""
        if not self.dated:
            return True
        if day is None:
            return False
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def month_within(self, month: str) -> bool:
        """Whether a tracker's month (YYYY-MM) overlaps the window."""
        first = date.fromisoformat(f"{month}-01")
        last = date(first.year + first.month // 12, first.month % 12 + 1, 1)  # the next month's first day
        return (self.end is None or first <= self.end) and (self.start is None or last > self.start)

    def item(self, state: State, code: str) -> bool:
        """The kind and area filters on an item: its category, and whether an item class of the area lists it."""
        if self.kind is not None:
            item = state.items.get(code)
            if item is None or item.category is not self.kind:
                return False
        if self.area is not None:
            return any(cls.area == self.area and code in cls.items for cls in state.item_classes.values())
        return True

    def offer(self, state: State, offer: Offer, *, by_member: bool = True) -> bool:
        """The member, kind and area filters on an offer (not its date: each report says which date it reads)."""
        if by_member and self.member is not None and offer.member != self.member:
            return False
        return self.item(state, offer.item)

    def requirement(self, state: State, req: Requirement) -> bool:
        """The area and kind filters on a requirement: its area, and an item of its class of that kind."""
        if self.area is not None and req.area != self.area:
            return False
        if self.kind is None:
            return True
        cls = state.item_classes.get(req.item_class)
        return cls is not None and any(
            (item := state.items.get(code)) is not None and item.category is self.kind for code in cls.items)

    def contribution(self, state: State, c: Contribution) -> bool:
        """Money pledged to a fund has no item, so no kind: it counts only when no --kind is asked for."""
        fund = state.funds.get(c.fund)
        return (self.kind is None and self.within(c.pledged_on)
                and (self.area is None or (fund is not None and fund.area == self.area)))

    def tracked(self, aid: TrackedAid) -> bool:
        """A tracker's entry: its category and month; it names no area, so none counts under an area."""
        return (self.area is None and (self.kind is None or aid.category == self.kind.value)
                and self.month_within(aid.month))

    def parameters(self) -> dict[str, Any]:
        return {"from": self.start, "to": self.end, "area": self.area, "member": self.member, "kind": self.kind}


EVERYTHING = Scope()


def scope_problems(state: State, scope: Scope) -> list[Problem]:
    """What makes a scope unusable on this record: an unknown area or member, a window that ends before it starts.
    Members, donors, funds and coalitions are public, so naming an unknown one reveals nothing."""
    problems = []
    if scope.start is not None and scope.end is not None and scope.start > scope.end:
        problems.append(Problem("from", f"{scope.start.isoformat()} is after the end of the window "
                                        f"({scope.end.isoformat()})"))
    if scope.area is not None and scope.area not in state.coalitions:
        problems.append(Problem("area", f"no capability area {scope.area!r}"))
    if scope.member is not None and not (scope.member in state.members or scope.member in state.funds
                                         or scope.member in state.tracked_donors):
        problems.append(Problem("member", f"no member, fund or tracked donor {scope.member!r}"))
    return problems
