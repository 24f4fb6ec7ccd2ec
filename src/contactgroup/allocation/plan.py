"""The allocation plan as plain values: what goes where, what each requirement gets, and why not more."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class Reason(enum.StrEnum):
    """Why a requirement is not fully covered; several may apply to one requirement."""

    NO_COMPATIBLE_OFFER = "no_compatible_offer"
    """Nothing of its item class is offered at all."""
    TAKEN_BY_HIGHER_PRIORITY = "taken_by_higher_priority"
    """A compatible offer is used (planned or pinned) by a requirement of higher priority."""
    TAKEN_BY_EQUAL_PRIORITY = "taken_by_equal_priority"
    """A compatible offer is used by another requirement of the same priority."""
    TAKEN_BY_PINNED_ALLOCATION = "taken_by_pinned_allocation"
    """A compatible offer is consumed by a confirmed (pinned) allocation to a lower-priority requirement."""
    WAITING_FOR_CONSENT = "waiting_for_consent"
    """A compatible offer still has quantity but waits for a re-export consent."""
    INSUFFICIENT_QUANTITY = "insufficient_quantity"
    """All compatible offers together hold less than the requirement's quantity."""
    DECLINED = "declined"
    """A compatible offer with units left was declined for this requirement (until the pair is reopened)."""


@dataclass(frozen=True, slots=True)
class Allocation:
    """`quantity` units of one offer to one requirement; `pinned` of them were already confirmed."""

    offer: str
    requirement: str
    quantity: int
    pinned: int
    arrives: date
    late_days: int


@dataclass(frozen=True, slots=True)
class Coverage:
    """What one requirement gets: covered units, those arriving on time, the shortfall and its reasons."""

    id: str
    priority: int
    quantity: int
    covered: int
    on_time: int
    shortfall: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class LevelCoverage:
    """Needed and covered units over all requirements of one priority."""

    priority: int
    needed: int
    covered: int


@dataclass(frozen=True, slots=True)
class Plan:
    """A full plan and its objective values.

    `levels` is the covered quantity per priority level (most important first), `total_lateness` the sum of
    units × days late, `pairs` the number of distinct offer-requirement pairs. `method` is "exact" or "greedy".
    """

    allocations: tuple[Allocation, ...]
    requirements: tuple[Coverage, ...]
    levels: tuple[LevelCoverage, ...]
    total_lateness: int
    pairs: int
    method: str

    def covered(self, priority: int) -> int:
        return sum(level.covered for level in self.levels if level.priority == priority)
