"""JSON-ready dicts to and from allocation values (docs/formats/allocation.md), with field-level validation."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from contactgroup.allocation.plan import Plan
from contactgroup.allocation.problem import AllocationProblem, Offer, Pin, Proposal, Requirement
from contactgroup.allocation.validation import validate
from contactgroup.domain.errors import Problem, ValidationFailed

T = TypeVar("T")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOP = ("requirements", "offers", "item_classes", "transit_days", "pinned", "consents_granted", "proposed",
        "declined", "route_days")
_REQUIRED_TOP = ("requirements", "offers", "item_classes")


class _Reader:
    """Reads typed fields out of one JSON object, noting a finding for each bad one."""

    def __init__(self, found: list[Problem]) -> None:
        self.found = found

    def fields(self, raw: object, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> (
        dict[str, Any] | None
    ):
        if not isinstance(raw, dict):
            self.found.append(Problem(where, f"must be an object, got {_shown(raw)}"))
            return None
        ok = True
        for key in required:
            if key not in raw:
                self.found.append(Problem(_join(where, key), "missing"))
                ok = False
        for key in raw:
            if key not in required and key not in optional:
                self.found.append(Problem(_join(where, str(key)), "unknown field"))
                ok = False
        return raw if ok else None

    def text(self, value: object, where: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        self.found.append(Problem(where, f"must be a non-empty string, got {_shown(value)}"))
        return None

    def count(self, value: object, where: str, least: int = 0) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= least:
            return value
        kind = "a non-negative integer" if least == 0 else f"an integer >= {least}"
        self.found.append(Problem(where, f"must be {kind}, got {_shown(value)}"))
        return None

    def day(self, value: object, where: str) -> date | None:
        if isinstance(value, str) and _DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.found.append(Problem(where, f"must be a date YYYY-MM-DD, got {_shown(value)}"))
        return None

    def items(self, raw: object, where: str, read: Callable[[object, str], T | None]) -> list[T] | None:
        if not isinstance(raw, list):
            self.found.append(Problem(where, f"must be a list, got {_shown(raw)}"))
            return None
        out = [read(entry, f"{where}[{i}]") for i, entry in enumerate(raw)]
        return [x for x in out if x is not None] if all(x is not None for x in out) else None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _shown(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problem_from_dict(d: object) -> AllocationProblem:
    """Parse and validate a problem; raises ValidationFailed listing every bad field."""
    if not isinstance(d, dict):
        raise ValidationFailed(f"the problem must be a JSON object, got {_shown(d)}")
    found: list[Problem] = []
    read = _Reader(found)
    # Unknown or missing top-level fields are noted; the rest is still read, so one run shows every problem.
    read.fields(d, "", _REQUIRED_TOP, _TOP[3:])
    top: dict[str, Any] = {k: v for k, v in d.items() if k in _TOP}

    def requirement(raw: object, where: str) -> Requirement | None:
        fields = read.fields(raw, where, ("id", "item_class", "quantity", "priority", "needed_by", "destination"))
        if fields is None:
            return None
        id_ = read.text(fields["id"], f"{where}.id")
        cls = read.text(fields["item_class"], f"{where}.item_class")
        quantity = read.count(fields["quantity"], f"{where}.quantity")
        priority = read.count(fields["priority"], f"{where}.priority", least=1)
        due = read.day(fields["needed_by"], f"{where}.needed_by")
        destination = read.text(fields["destination"], f"{where}.destination")
        if id_ is None or cls is None or quantity is None or priority is None or due is None:
            return None
        if destination is None:
            return None
        return Requirement(id_, cls, quantity, priority, due, destination)

    def offer(raw: object, where: str) -> Offer | None:
        fields = read.fields(
            raw, where, ("id", "member", "item", "quantity", "available_from", "origin"), ("consent_from",)
        )
        if fields is None:
            return None
        consent = fields.get("consent_from")
        id_ = read.text(fields["id"], f"{where}.id")
        member = read.text(fields["member"], f"{where}.member")
        item = read.text(fields["item"], f"{where}.item")
        quantity = read.count(fields["quantity"], f"{where}.quantity")
        ready = read.day(fields["available_from"], f"{where}.available_from")
        origin = read.text(fields["origin"], f"{where}.origin")
        consent_from = None if consent is None else read.text(consent, f"{where}.consent_from")
        if id_ is None or member is None or item is None or quantity is None or ready is None:
            return None
        if origin is None or (consent is not None and consent_from is None):
            return None
        return Offer(id_, member, item, quantity, ready, origin, consent_from)

    def pin(raw: object, where: str) -> Pin | None:
        fields = read.fields(raw, where, ("offer", "requirement", "quantity"))
        if fields is None:
            return None
        offer_id = read.text(fields["offer"], f"{where}.offer")
        req_id = read.text(fields["requirement"], f"{where}.requirement")
        quantity = read.count(fields["quantity"], f"{where}.quantity", least=1)
        if offer_id is None or req_id is None or quantity is None:
            return None
        return Pin(offer_id, req_id, quantity)

    def proposal(raw: object, where: str) -> Proposal | None:
        found_pin = pin(raw, where)
        return None if found_pin is None else Proposal(found_pin.offer, found_pin.requirement, found_pin.quantity)

    def name(raw: object, where: str) -> str | None:
        return read.text(raw, where)

    requirements = read.items(top["requirements"], "requirements", requirement) if "requirements" in top else None
    offers = read.items(top["offers"], "offers", offer) if "offers" in top else None
    classes = _item_classes(read, top["item_classes"]) if "item_classes" in top else None
    transit = _transit(read, top.get("transit_days", {}))
    routes = _transit(read, top.get("route_days", {}), "route_days", "offer")
    pinned = read.items(top.get("pinned", []), "pinned", pin)
    granted = read.items(top.get("consents_granted", []), "consents_granted", name)
    proposed = read.items(top.get("proposed", []), "proposed", proposal)
    declined = read.items(top.get("declined", []), "declined", lambda raw, where: _pair(read, raw, where))
    if found:
        raise ValidationFailed(found)
    assert requirements is not None and offers is not None and classes is not None
    assert transit is not None and pinned is not None and granted is not None and proposed is not None
    assert declined is not None and routes is not None
    problem = AllocationProblem(
        requirements=tuple(requirements),
        offers=tuple(offers),
        item_classes=classes,
        transit_days=transit,
        pinned=tuple(pinned),
        consents_granted=frozenset(granted),
        proposed=tuple(proposed),
        declined=frozenset(declined),
        route_days=routes,
    )
    found = validate(problem)
    if found:
        raise ValidationFailed(found)
    return problem


def _pair(read: _Reader, raw: object, where: str) -> tuple[str, str] | None:
    """An (offer, requirement) pair, as `declined` lists them."""
    fields = read.fields(raw, where, ("offer", "requirement"))
    if fields is None:
        return None
    offer_id = read.text(fields["offer"], f"{where}.offer")
    req_id = read.text(fields["requirement"], f"{where}.requirement")
    return None if offer_id is None or req_id is None else (offer_id, req_id)


def _item_classes(read: _Reader, raw: object) -> dict[str, frozenset[str]] | None:
    if not isinstance(raw, dict):
        read.found.append(Problem("item_classes", f"must be an object (class -> list of items), got {_shown(raw)}"))
        return None
    out: dict[str, frozenset[str]] = {}
    for cls, items in raw.items():
        names = read.items(items, f"item_classes.{cls}", read.text)
        if names is not None:
            out[cls] = frozenset(names)
    return out


def _transit(read: _Reader, raw: object, key: str = "transit_days", origin_is: str = "origin"
             ) -> dict[tuple[str, str], int] | None:
    if not isinstance(raw, dict):
        read.found.append(
            Problem(key, f"must be an object ({origin_is} -> destination -> days), got {_shown(raw)}")
        )
        return None
    out: dict[tuple[str, str], int] = {}
    for origin, row in raw.items():
        if not isinstance(row, dict):
            read.found.append(Problem(f"{key}.{origin}", f"must be an object, got {_shown(row)}"))
            continue
        for destination, days in row.items():
            value = read.count(days, f"{key}.{origin}.{destination}")
            if value is not None:
                out[(origin, destination)] = value
    return out


def problem_to_dict(problem: AllocationProblem) -> dict[str, Any]:
    """The JSON-ready form of a problem, the inverse of `problem_from_dict`."""
    transit: dict[str, dict[str, int]] = {}
    for (origin, destination), days in sorted(problem.transit_days.items()):
        transit.setdefault(origin, {})[destination] = days
    out: dict[str, Any] = {
        "requirements": [
            {
                "id": r.id,
                "item_class": r.item_class,
                "quantity": r.quantity,
                "priority": r.priority,
                "needed_by": r.needed_by.isoformat(),
                "destination": r.destination,
            }
            for r in problem.requirements
        ],
        "offers": [
            {
                "id": o.id,
                "member": o.member,
                "item": o.item,
                "quantity": o.quantity,
                "available_from": o.available_from.isoformat(),
                "origin": o.origin,
                "consent_from": o.consent_from,
            }
            for o in problem.offers
        ],
        "item_classes": {cls: sorted(items) for cls, items in sorted(problem.item_classes.items())},
        "transit_days": transit,
        "pinned": [{"offer": p.offer, "requirement": p.requirement, "quantity": p.quantity} for p in problem.pinned],
        "consents_granted": sorted(problem.consents_granted),
    }
    if problem.route_days:  # only when routed: a problem without routes is written as before
        routes: dict[str, dict[str, int]] = {}
        for (offer, destination), days in sorted(problem.route_days.items()):
            routes.setdefault(offer, {})[destination] = days
        out["route_days"] = routes
    if problem.proposed:
        out["proposed"] = [
            {"offer": p.offer, "requirement": p.requirement, "quantity": p.quantity} for p in problem.proposed
        ]
    if problem.declined:
        out["declined"] = [{"offer": o, "requirement": r} for o, r in sorted(problem.declined)]
    return out


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The JSON-ready form of a plan; the same plan always gives the same dict, in the same order."""
    return {
        "method": plan.method,
        "objective": {
            "covered_by_priority": [
                {"priority": lv.priority, "needed": lv.needed, "covered": lv.covered} for lv in plan.levels
            ],
            "total_lateness": plan.total_lateness,
            "pairs": plan.pairs,
        },
        "allocations": [
            {
                "offer": a.offer,
                "requirement": a.requirement,
                "quantity": a.quantity,
                "pinned": a.pinned,
                "arrives": a.arrives.isoformat(),
                "late_days": a.late_days,
            }
            for a in plan.allocations
        ],
        "requirements": [
            {
                "id": c.id,
                "priority": c.priority,
                "quantity": c.quantity,
                "covered": c.covered,
                "on_time": c.on_time,
                "shortfall": c.shortfall,
                "reasons": [str(r) for r in c.reasons],
            }
            for c in plan.requirements
        ],
    }
