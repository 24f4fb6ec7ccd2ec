"""Consistency checks of an allocation problem, returned as findings that name the offending field."""

from __future__ import annotations

from collections import Counter

from contactgroup.allocation.problem import Problem
from contactgroup.domain.errors import Problem as Finding
from contactgroup.domain.errors import ValidationFailed


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def validate(problem: Problem) -> list[Finding]:
    """Every inconsistency in `problem`: duplicate or unknown ids, bad quantities, impossible pins."""
    found: list[Finding] = []
    req_at: dict[str, int] = {}
    for i, r in enumerate(problem.requirements):
        where = f"requirements[{i}]"
        if r.id in req_at:
            found.append(Finding(f"{where}.id", f"duplicate id {r.id!r} (also requirements[{req_at[r.id]}])"))
        else:
            req_at[r.id] = i
        if not _is_count(r.quantity):
            found.append(Finding(f"{where}.quantity", f"must be a non-negative integer, got {r.quantity!r}"))
        if not (_is_count(r.priority) and r.priority >= 1):
            found.append(Finding(f"{where}.priority", f"must be an integer >= 1, got {r.priority!r}"))
        if r.item_class not in problem.item_classes:
            found.append(Finding(f"{where}.item_class", f"unknown item class {r.item_class!r}"))
    offer_at: dict[str, int] = {}
    for i, o in enumerate(problem.offers):
        where = f"offers[{i}]"
        if o.id in offer_at:
            found.append(Finding(f"{where}.id", f"duplicate id {o.id!r} (also offers[{offer_at[o.id]}])"))
        else:
            offer_at[o.id] = i
        if not _is_count(o.quantity):
            found.append(Finding(f"{where}.quantity", f"must be a non-negative integer, got {o.quantity!r}"))
    for (origin, destination), days in problem.transit_days.items():
        if not _is_count(days):
            found.append(
                Finding(
                    f"transit_days.{origin}.{destination}", f"must be a non-negative integer, got {days!r}"
                )
            )
    for offer_id in sorted(problem.consents_granted):
        if offer_id not in offer_at:
            found.append(Finding("consents_granted", f"unknown offer {offer_id!r}"))
    found.extend(_check_pins(problem, req_at, offer_at))
    return found


def _check_pins(problem: Problem, req_at: dict[str, int], offer_at: dict[str, int]) -> list[Finding]:
    found: list[Finding] = []
    seen: dict[tuple[str, str], int] = {}
    offer_used: Counter[str] = Counter()
    req_used: Counter[str] = Counter()
    for i, pin in enumerate(problem.pinned):
        where = f"pinned[{i}]"
        known = True
        if pin.offer not in offer_at:
            found.append(Finding(f"{where}.offer", f"unknown offer {pin.offer!r}"))
            known = False
        if pin.requirement not in req_at:
            found.append(Finding(f"{where}.requirement", f"unknown requirement {pin.requirement!r}"))
            known = False
        if not (_is_count(pin.quantity) and pin.quantity > 0):
            found.append(Finding(f"{where}.quantity", f"must be a positive integer, got {pin.quantity!r}"))
            continue
        if not known:
            continue
        key = (pin.offer, pin.requirement)
        if key in seen:
            found.append(
                Finding(where, f"duplicate pin of offer {pin.offer!r} to requirement {pin.requirement!r} "
                        f"(also pinned[{seen[key]}])")
            )
            continue
        seen[key] = i
        offer = problem.offers[offer_at[pin.offer]]
        req = problem.requirements[req_at[pin.requirement]]
        items = problem.item_classes.get(req.item_class, frozenset())
        if offer.item not in items:
            found.append(
                Finding(
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
                Finding(
                    f"{where}.quantity",
                    f"pins of offer {offer.id!r} total {offer_used[offer.id]}, more than its quantity "
                    f"{offer.quantity}",
                )
            )
        if _is_count(req.quantity) and req_used[req.id] > req.quantity:
            found.append(
                Finding(
                    f"{where}.quantity",
                    f"pins to requirement {req.id!r} total {req_used[req.id]}, more than its quantity "
                    f"{req.quantity}",
                )
            )
    return found


def check(problem: Problem) -> None:
    """Raise ValidationFailed with every finding, if there is any."""
    found = validate(problem)
    if found:
        raise ValidationFailed(found)
