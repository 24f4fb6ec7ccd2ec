"""Consistency checks of an allocation problem, returned as findings that name the offending field."""

from __future__ import annotations

from collections import Counter
from datetime import date

from contactgroup.allocation.problem import AllocationProblem
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.model import FIRST_DAY, LAST_DAY, MAX_TRANSIT_DAYS, MAX_UNITS

# Limits that keep every number the solver forms (units x days, weighted costs, sums of capacities) well
# inside 64-bit integers, the record's own (domain.model); docs/formats/allocation.md states them.
MAX_QUANTITY = MAX_UNITS
MAX_TOTAL = 10**15


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _quantity(value: object, where: str, least: int = 0) -> list[Problem]:
    if not (_is_count(value) and value >= least):  # type: ignore[operator]
        kind = "a non-negative integer" if least == 0 else f"an integer >= {least}"
        return [Problem(where, f"must be {kind}, got {value!r}")]
    if value > MAX_QUANTITY:  # type: ignore[operator]
        return [Problem(where, f"must be at most 10^12 (the documented limit), got {value!r}")]
    return []


def _day(value: date, where: str) -> list[Problem]:
    if FIRST_DAY <= value <= LAST_DAY:
        return []
    return [Problem(where, f"must be between {FIRST_DAY} and {LAST_DAY} (the documented range), got {value}")]


def validate(problem: AllocationProblem) -> list[Problem]:
    """Every inconsistency in `problem`: duplicate or unknown ids, bad quantities, impossible pins."""
    found: list[Problem] = []
    req_at: dict[str, int] = {}
    for i, r in enumerate(problem.requirements):
        where = f"requirements[{i}]"
        if r.id in req_at:
            found.append(Problem(f"{where}.id", f"duplicate id {r.id!r} (also requirements[{req_at[r.id]}])"))
        else:
            req_at[r.id] = i
        found.extend(_quantity(r.quantity, f"{where}.quantity"))
        found.extend(_day(r.needed_by, f"{where}.needed_by"))
        if not (_is_count(r.priority) and r.priority >= 1):
            found.append(Problem(f"{where}.priority", f"must be an integer >= 1, got {r.priority!r}"))
        if r.item_class not in problem.item_classes:
            found.append(Problem(f"{where}.item_class", f"unknown item class {r.item_class!r}"))
    offer_at: dict[str, int] = {}
    for i, o in enumerate(problem.offers):
        where = f"offers[{i}]"
        if o.id in offer_at:
            found.append(Problem(f"{where}.id", f"duplicate id {o.id!r} (also offers[{offer_at[o.id]}])"))
        else:
            offer_at[o.id] = i
        found.extend(_quantity(o.quantity, f"{where}.quantity"))
        found.extend(_day(o.available_from, f"{where}.available_from"))
    for key, values in (("requirements", [r.quantity for r in problem.requirements]),
                        ("offers", [o.quantity for o in problem.offers])):
        if all(_is_count(v) for v in values) and sum(values) > MAX_TOTAL:
            found.append(Problem(key, f"quantities add up to {sum(values)}, more than 10^15 (the documented limit)"))
    for (origin, destination), days in problem.transit_days.items():
        if not (_is_count(days) and days <= MAX_TRANSIT_DAYS):
            found.append(
                Problem(
                    f"transit_days.{origin}.{destination}",
                    f"must be an integer from 0 to {MAX_TRANSIT_DAYS} (days), got {days!r}",
                )
            )
    for (offer, destination), days in problem.route_days.items():
        where = f"route_days.{offer}.{destination}"
        if offer not in offer_at:
            found.append(Problem(where, f"unknown offer {offer!r}"))
        if not (_is_count(days) and days <= MAX_TRANSIT_DAYS):
            found.append(Problem(where, f"must be an integer from 0 to {MAX_TRANSIT_DAYS} (days), got {days!r}"))
    found.extend(_check_references(problem, req_at, offer_at))
    found.extend(_check_pins(problem, req_at, offer_at))
    found.extend(_check_proposed(problem, req_at, offer_at))
    return found


def _check_references(problem: AllocationProblem, req_at: dict[str, int], offer_at: dict[str, int]) -> list[Problem]:
    """Granted consents and declined pairs name offers and requirements of the problem."""
    found = [Problem("consents_granted", f"unknown offer {offer_id!r}")
             for offer_id in sorted(problem.consents_granted) if offer_id not in offer_at]
    for offer_id, req_id in sorted(problem.declined):
        if offer_id not in offer_at:
            found.append(Problem("declined", f"unknown offer {offer_id!r}"))
        if req_id not in req_at:
            found.append(Problem("declined", f"unknown requirement {req_id!r}"))
    return found


def _check_proposed(problem: AllocationProblem, req_at: dict[str, int], offer_at: dict[str, int]) -> list[Problem]:
    """Proposals bind nothing, so only their ids, quantity and compatibility are checked, not the totals."""
    found: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for i, p in enumerate(problem.proposed):
        where = f"proposed[{i}]"
        bad = _quantity(p.quantity, f"{where}.quantity", least=1)
        found.extend(bad)
        if p.offer not in offer_at:
            found.append(Problem(f"{where}.offer", f"unknown offer {p.offer!r}"))
        if p.requirement not in req_at:
            found.append(Problem(f"{where}.requirement", f"unknown requirement {p.requirement!r}"))
        if bad or p.offer not in offer_at or p.requirement not in req_at:
            continue
        key = (p.offer, p.requirement)
        if key in seen:
            found.append(Problem(where, f"duplicate proposal of offer {p.offer!r} to requirement {p.requirement!r} "
                                        f"(also proposed[{seen[key]}])"))
            continue
        seen[key] = i
        offer, req = problem.offers[offer_at[p.offer]], problem.requirements[req_at[p.requirement]]
        if offer.item not in problem.item_classes.get(req.item_class, frozenset()):
            found.append(Problem(f"{where}.offer", f"offer {offer.id!r} (item {offer.item!r}) is not compatible "
                                                   f"with requirement {req.id!r} (item class {req.item_class!r})"))
    return found


def _check_pins(problem: AllocationProblem, req_at: dict[str, int], offer_at: dict[str, int]) -> list[Problem]:
    found: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    offer_used: Counter[str] = Counter()
    req_used: Counter[str] = Counter()
    for i, pin in enumerate(problem.pinned):
        where = f"pinned[{i}]"
        known = True
        if pin.offer not in offer_at:
            found.append(Problem(f"{where}.offer", f"unknown offer {pin.offer!r}"))
            known = False
        if pin.requirement not in req_at:
            found.append(Problem(f"{where}.requirement", f"unknown requirement {pin.requirement!r}"))
            known = False
        bad = _quantity(pin.quantity, f"{where}.quantity", least=1)
        if bad:
            found.extend(bad)
            continue
        if not known:
            continue
        key = (pin.offer, pin.requirement)
        if key in seen:
            found.append(
                Problem(where, f"duplicate pin of offer {pin.offer!r} to requirement {pin.requirement!r} "
                        f"(also pinned[{seen[key]}])")
            )
            continue
        seen[key] = i
        offer = problem.offers[offer_at[pin.offer]]
        req = problem.requirements[req_at[pin.requirement]]
        items = problem.item_classes.get(req.item_class, frozenset())
        if offer.item not in items:
            found.append(
                Problem(
                    f"{where}.offer",
                    f"offer {offer.id!r} (item {offer.item!r}) is not compatible with requirement "
                    f"{req.id!r} (item class {req.item_class!r})",
                )
            )
            continue
        offer_used[offer.id] += pin.quantity
        req_used[req.id] += pin.quantity
        if _is_count(offer.quantity) and offer_used[offer.id] > offer.quantity:
            found.append(
                Problem(
                    f"{where}.quantity",
                    f"pins of offer {offer.id!r} total {offer_used[offer.id]}, more than its quantity "
                    f"{offer.quantity}",
                )
            )
        if _is_count(req.quantity) and req_used[req.id] > req.quantity:
            found.append(
                Problem(
                    f"{where}.quantity",
                    f"pins to requirement {req.id!r} total {req_used[req.id]}, more than its quantity "
                    f"{req.quantity}",
                )
            )
    return found


def check(problem: AllocationProblem) -> None:
    """Raise ValidationFailed with every finding, if there is any."""
    found = validate(problem)
    if found:
        raise ValidationFailed(found)
