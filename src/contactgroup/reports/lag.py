"""Pace: days from pledge to delivery, per member and item category.

Each received shipment is one observation (not weighted by its units): the days from its offer's
`committed_on` to the shipment's `received_on`. Offers without a commitment date are left out.
Offers a fund bought appear under the fund's code: the pace is the fund's, not its contributors'.
Median: the middle observation (mean of the two middle ones for an even count); p90: nearest rank
(the smallest observation with at least 90 % of observations at or below it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from contactgroup.domain.model import DeliveryStatus
from contactgroup.domain.state import State
from contactgroup.reports.scope import EVERYTHING, Scope


@dataclass(frozen=True, slots=True)
class LagRow:
    member: str
    category: str
    shipments: int
    units: int  # units received over those shipments
    median_days: Decimal  # exact: a whole number of days or a half
    p90_days: int
    min_days: int
    max_days: int


def median(values: list[int]) -> Decimal:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return Decimal(ordered[mid])
    return Decimal(ordered[mid - 1] + ordered[mid]) / 2


def p90(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)), 1) - 1]


def lag(state: State, scope: Scope = EVERYTHING) -> list[LagRow]:
    """One observation per shipment received in the scope's window, of an offer in scope."""
    days: dict[tuple[str, str], list[int]] = defaultdict(list)
    units: dict[tuple[str, str], int] = defaultdict(int)
    for d in state.deliveries.values():
        if d.status is not DeliveryStatus.RECEIVED or d.received_on is None or not scope.within(d.received_on):
            continue
        offer = state.offers[state.allocations[d.allocation].offer]
        if offer.committed_on is None or not scope.offer(state, offer):
            continue
        item = state.items.get(offer.item)
        key = (offer.member, item.category.value if item else "unknown")
        days[key].append((d.received_on - offer.committed_on).days)
        units[key] += d.received
    return [
        LagRow(member=member, category=category, shipments=len(obs), units=units[(member, category)],
               median_days=median(obs), p90_days=p90(obs), min_days=min(obs), max_days=max(obs))
        for (member, category), obs in sorted(days.items())
    ]
