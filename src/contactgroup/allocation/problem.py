"""The allocation problem as plain values: requirements, offers, compatibility, transit, pins, consents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Requirement:
    """What the recipient asks for: `quantity` of any item of `item_class` at `destination` by `needed_by`.

    `priority` 1 is the most important; several requirements may share a priority (a level).
    """

    id: str
    item_class: str
    quantity: int
    priority: int
    needed_by: date
    destination: str


@dataclass(frozen=True, slots=True)
class Offer:
    """What a member offers: `quantity` of `item`, ready at `origin` from `available_from`.

    `consent_from` names the member whose re-export consent is needed, or None when none is.
    """

    id: str
    member: str
    item: str
    quantity: int
    available_from: date
    origin: str
    consent_from: str | None = None


@dataclass(frozen=True, slots=True)
class Pin:
    """An allocation already confirmed: it is kept as is and consumes both sides' quantity."""

    offer: str
    requirement: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Proposal:
    """An allocation proposed earlier and not yet agreed: the optimiser keeps it when no better plan differs.

    Unlike a pin it binds nothing; among equally good plans the one closest to the proposals wins.
    `quantity` counts units beyond any pin on the same pair.
    """

    offer: str
    requirement: str
    quantity: int


@dataclass(frozen=True, slots=True)
class AllocationProblem:
    """Everything the optimiser needs, built from plain values (a JSON file or the database state).

    `item_classes` maps a class to the items that satisfy it; `transit_days` maps (origin, destination) to
    days, 0 where absent; `consents_granted` holds the ids of offers whose needed consent was given;
    `proposed` lists earlier proposals to prefer in ties; `declined` holds the (offer, requirement) pairs a party
    declined, along which nothing new is planned (their pins stay). `route_days` maps (offer id, destination) to
    the days from the offer's `available_from` to its earliest arrival along the transport network (border
    permissions counted); it takes the place of `transit_days` for that pair, which stays the answer where no
    route is known. The mappings are treated as read-only.
    """

    requirements: tuple[Requirement, ...]
    offers: tuple[Offer, ...]
    item_classes: Mapping[str, frozenset[str]]
    transit_days: Mapping[tuple[str, str], int] = field(default_factory=dict)
    pinned: tuple[Pin, ...] = ()
    consents_granted: frozenset[str] = frozenset()
    proposed: tuple[Proposal, ...] = ()
    declined: frozenset[tuple[str, str]] = frozenset()
    route_days: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def transit(self, origin: str, destination: str) -> int:
        return self.transit_days.get((origin, destination), 0)

    def blocked(self, offer: Offer) -> bool:
        """Whether the offer waits for a consent, so only its pins may use it."""
        return offer.consent_from is not None and offer.id not in self.consents_granted
