"""Military mobility, the pure core: the transport network, border permissions counted on working days,
earliest-arrival routes, departure days under capacity, and what a mobility zone saves (docs/mobility.md)."""

from contactgroup.mobility import drawing
from contactgroup.mobility.capacity import solve
from contactgroup.mobility.compare import Arrival, Comparison, Consignment, Saving, Tally, arrivals, compare
from contactgroup.mobility.network import (
    BorderRule,
    Capacity,
    Leg,
    Mode,
    Network,
    Place,
    PlaceKind,
    Unit,
    Zone,
    check,
    validate,
)
from contactgroup.mobility.route import NoRoute, Permission, Route, Router, Shipment, Step
from contactgroup.mobility.schedule import (
    Departure,
    Movement,
    Schedule,
    ScheduleProblem,
    Stage,
    Use,
    Wait,
    capacities,
    movement,
)
from contactgroup.mobility.workday import WorkingDays

__all__ = [
    "Arrival",
    "BorderRule",
    "Capacity",
    "Comparison",
    "Consignment",
    "Departure",
    "Leg",
    "Mode",
    "Movement",
    "Network",
    "NoRoute",
    "Permission",
    "Place",
    "PlaceKind",
    "Route",
    "Router",
    "Saving",
    "Schedule",
    "ScheduleProblem",
    "Shipment",
    "Stage",
    "Step",
    "Tally",
    "Unit",
    "Use",
    "Wait",
    "WorkingDays",
    "Zone",
    "arrivals",
    "capacities",
    "check",
    "compare",
    "drawing",
    "movement",
    "solve",
    "validate",
]
