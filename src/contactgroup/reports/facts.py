"""Derived facts several reports share: which requirements count, units received, the tracker data in force."""

from __future__ import annotations

import re
from collections import defaultdict

from contactgroup.domain.model import DeliveryStatus, OfferStatus, Requirement, RequirementStatus, TrackedAid
from contactgroup.domain.state import State
from contactgroup.reports.scope import EVERYTHING, Scope

# Requirements the coordination has accepted as real needs (drafts, submissions and cancellations are not).
COUNTED_REQUIREMENTS = frozenset({
    RequirementStatus.VALIDATED, RequirementStatus.OPEN, RequirementStatus.PARTIALLY_MET,
    RequirementStatus.MET, RequirementStatus.CLOSED,
})
# Offers a member has formally pledged (committed or further along, not withdrawn).
COMMITTED_OFFERS = frozenset({
    OfferStatus.COMMITTED, OfferStatus.ALLOCATED, OfferStatus.IN_DELIVERY, OfferStatus.DELIVERED,
})
SYNTHETIC_CAPTION = "SYNTHETIC DEMO DATA"

_RELEASE = re.compile(r"^(?P<family>.*?)\s+Release\s+(?P<number>\d+)$")


def is_synthetic(state: State) -> bool:
    return state.setting("synthetic") == "yes"


def counted_requirements(state: State) -> list[Requirement]:
    return [r for r in state.requirements.values() if r.status in COUNTED_REQUIREMENTS]


def received_by_allocation(state: State, scope: Scope = EVERYTHING) -> dict[str, int]:
    """Units received (net of short, damaged and wrong items) per allocation, over received shipments (received
    in the scope's window, if it has one)."""
    out: dict[str, int] = defaultdict(int)
    for d in state.deliveries.values():
        if d.status is DeliveryStatus.RECEIVED and scope.within(d.received_on):
            out[d.allocation] += d.received
    return dict(out)


def current_tracked_aid(state: State) -> list[TrackedAid]:
    """Tracker entries of the newest release of each tracker (a new release revises, not adds to, the old one).

    A source named "<tracker> Release <n>" belongs to the tracker family "<tracker>"; any other source is its
    own family.
    """
    newest: dict[str, int] = {}
    for source in {a.source for a in state.tracked_aid.values()}:
        match = _RELEASE.match(source)
        if match:
            family, number = match["family"], int(match["number"])
            newest[family] = max(newest.get(family, number), number)

    def in_force(source: str) -> bool:
        match = _RELEASE.match(source)
        return match is None or newest[match["family"]] == int(match["number"])

    return [a for a in state.tracked_aid.values() if in_force(a.source)]
