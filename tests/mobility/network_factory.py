"""Small networks for the mobility tests, written as the places and legs a desk would name."""

from __future__ import annotations

from contactgroup.mobility import Capacity, Leg, Mode, Place, PlaceKind


def place(code: str, country: str, kind: PlaceKind = PlaceKind.DEPOT, capacity: Capacity | None = None) -> Place:
    return Place(code, code.title(), country, kind, 51.0, 10.0, capacity)


def leg(origin: str, to: str, days: int, mode: Mode = Mode.ROAD, capacity: Capacity | None = None) -> Leg:
    return Leg(origin, to, mode, days, capacity)
