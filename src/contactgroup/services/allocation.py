"""Allocating from the record: build the optimiser's problem from the current state, solve it, and record the
difference as proposed allocations. Agreed allocations (confirmed, or accepted by either side) are pinned;
plain proposals are re-planned: kept if the plan repeats them, declined if it does not."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from contactgroup import allocation as opt
from contactgroup.domain import model as m
from contactgroup.domain.state import State
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

OPEN = (m.RequirementStatus.OPEN, m.RequirementStatus.PARTIALLY_MET)
USABLE = (m.OfferStatus.OFFERED, m.OfferStatus.COMMITTED, m.OfferStatus.ALLOCATED, m.OfferStatus.IN_DELIVERY)
AGREED = (m.AllocationStatus.CONFIRMED, m.AllocationStatus.ACCEPTED_BY_DONOR, m.AllocationStatus.ACCEPTED_BY_RECIPIENT)


@dataclass(frozen=True, slots=True)
class Tier:
    priority: int
    needed: int
    before: int
    after: int
    greedy: int


@dataclass(frozen=True, slots=True)
class AllocationRun:
    tiers: tuple[Tier, ...]
    proposed: tuple[str, ...]  # allocation ids recorded now
    kept: int
    declined: int
    plan: opt.Plan
    seconds: float


def problem_from_state(state: State, area: str | None = None) -> opt.Problem:
    """The optimiser's view of the record: open requirements (of one area, if given) and usable offers."""
    reqs = {r.id: r for r in state.requirements.values() if r.status in OPEN and (area is None or r.area == area)}
    held_outside: dict[str, int] = defaultdict(int)
    pinned: dict[tuple[str, str], int] = defaultdict(int)
    for a in state.allocations.values():
        if a.status is m.AllocationStatus.DECLINED:
            continue
        if a.requirement in reqs and a.status in AGREED:
            pinned[(a.offer, a.requirement)] += a.quantity
        elif a.requirement not in reqs:
            held_outside[a.offer] += a.quantity
    pins_of: dict[str, int] = defaultdict(int)
    for (offer, _), q in pinned.items():
        pins_of[offer] += q
    # A usable offer brings what other requirements do not hold; any other offer only its pins.
    available = {o.id: o.quantity - held_outside[o.id] if o.status in USABLE else pins_of[o.id]
                 for o in state.offers.values()}
    offers = tuple(
        opt.Offer(o.id, o.member, o.item, available[o.id], o.available_from, o.depot, o.consent_from)
        for o in sorted(state.offers.values(), key=lambda o: o.id) if available[o.id] > 0
    )
    return opt.Problem(
        requirements=tuple(opt.Requirement(r.id, r.item_class, r.quantity, r.priority, r.needed_by, r.destination)
                           for r in sorted(reqs.values(), key=lambda r: r.id)),
        offers=offers,
        item_classes={c.code: frozenset(c.items) for c in state.item_classes.values()},
        pinned=tuple(opt.Pin(offer, req, q) for (offer, req), q in sorted(pinned.items())),
        consents_granted=frozenset(c.offer for c in state.consents.values()
                                   if c.status is m.ConsentStatus.GRANTED and c.offer in {o.id for o in offers}),
    )


def propose_optimal(uow: UnitOfWork, caller: svc.Caller, area: str | None = None) -> AllocationRun:
    """Solve for the open requirements and record the plan as proposals, in this unit of work."""
    svc.authorized(uow, caller, "allocation:propose", area=area)  # before solving: a refusal costs nothing
    state = uow.state
    problem = problem_from_state(state, area)
    started = time.perf_counter()
    plan = opt.solve(problem)
    seconds = time.perf_counter() - started
    quick = opt.greedy(problem)
    reqs = {r.id for r in problem.requirements}
    before: dict[int, int] = defaultdict(int)
    priority = {r.id: r.priority for r in problem.requirements}
    for a in state.allocations.values():
        if a.requirement in reqs and a.status is not m.AllocationStatus.DECLINED:
            before[priority[a.requirement]] += a.quantity
    wanted = {(a.offer, a.requirement): a.quantity - a.pinned for a in plan.allocations if a.quantity > a.pinned}
    kept = declined = 0
    for a in sorted(state.allocations.values(), key=lambda a: a.id):
        if a.requirement not in reqs or a.status is not m.AllocationStatus.PROPOSED:
            continue
        if wanted.get((a.offer, a.requirement)) == a.quantity:
            del wanted[(a.offer, a.requirement)]
            kept += 1
        else:
            svc.move_allocation(uow, caller, a.id, "decline", "superseded by the optimiser's plan")
            declined += 1
    proposed = tuple(
        svc.propose_allocation(uow, caller, offer=offer, requirement=req, quantity=quantity).id
        for (offer, req), quantity in sorted(wanted.items())
    )
    tiers = tuple(Tier(level.priority, level.needed, min(before[level.priority], level.needed), level.covered,
                       quick.covered(level.priority)) for level in plan.levels)
    return AllocationRun(tiers, proposed, kept, declined, plan, seconds)
