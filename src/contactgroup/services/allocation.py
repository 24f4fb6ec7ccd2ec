"""Allocating from the record: build the optimiser's problem from the current state, solve it, and record the
difference as proposed allocations. Agreed allocations (confirmed, or accepted by either side) are pinned;
plain proposals are handed to the optimiser as preferred, and kept if the plan repeats them; those it does not
repeat are superseded (recorded as declined, marked `superseded`, by whoever ran the optimiser). A pair a party
declined is not planned again until reopened; offers waiting for a re-export consent are held back, and the run
says which (naming only what its reader may see), and may request the consents not yet requested."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from contactgroup import allocation as opt
from contactgroup.domain import command
from contactgroup.domain.errors import Conflict, NotFound
from contactgroup.domain.model import AllocationStatus, ConsentStatus, OfferStatus, RequirementStatus, User
from contactgroup.domain.state import State
from contactgroup.mobility import Network
from contactgroup.services import access, movement
from contactgroup.services import coordination as svc
from contactgroup.services.transit import origin_country, transit_days
from contactgroup.storage.database import UnitOfWork

OPEN = (RequirementStatus.OPEN, RequirementStatus.PARTIALLY_MET)
USABLE = (OfferStatus.OFFERED, OfferStatus.COMMITTED, OfferStatus.ALLOCATED, OfferStatus.IN_DELIVERY)
AGREED = (AllocationStatus.CONFIRMED, AllocationStatus.ACCEPTED_BY_DONOR, AllocationStatus.ACCEPTED_BY_RECIPIENT)


@dataclass(frozen=True, slots=True)
class Tier:
    priority: int
    needed: int
    before: int
    after: int
    greedy: int


@dataclass(frozen=True, slots=True)
class HeldBack:
    """Offers a run could not use for a short requirement, for one reason ("needs consent (not requested)",
    "declined on DATE: reason"): named where the reader may see them (`offers`, or `offer -> requirement` for a
    declined pair), otherwise only counted (`hidden`); `units` the units they could have brought."""

    reason: str
    offers: tuple[str, ...]
    hidden: int
    units: int


@dataclass(frozen=True, slots=True)
class AllocationRun:
    """What a run did. `Tier.before` counts units of the open requirements' allocations before the run
    (agreed and merely proposed alike, capped at the need); `events` is the range of event indexes
    (first, last) the run recorded, or None when it recorded none."""

    tiers: tuple[Tier, ...]
    proposed: tuple[str, ...]  # allocation ids recorded now
    kept: int
    declined: int
    plan: opt.Plan
    seconds: float
    events: tuple[int, int] | None = None
    held_back: tuple[HeldBack, ...] = ()
    consents_requested: tuple[str, ...] = ()  # consent ids requested by this run


def areas(state: State) -> list[str]:
    """The capability areas that allocation can be limited to."""
    return sorted(state.coalitions)


def check_area(state: State, area: str | None) -> None:
    if area is not None and area not in state.coalitions:
        known = ", ".join(areas(state)) or "none yet"
        raise NotFound(f"area: no capability area {area!r}; known areas: {known}")


def problem_from_state(state: State, area: str | None = None, hidden: frozenset[str] = frozenset(),
                       network: Network | None = None) -> opt.AllocationProblem:
    """The optimiser's view of the record: open requirements (of one area, if given) and usable offers.

    Agreed allocations become pins, plain proposals `proposed` (preferred in ties), and the recorded
    transit days apply from an offer's depot to a requirement's destination. `hidden` offers (ones the caller
    may not see) bring nothing new: what they already hold, proposals included, stays pinned as it is. Units an
    allocation owed and that were released stay spent from their offer. Pairs a party declined and nobody
    reopened are `declined`. With the transport `network`, an offer whose depot is a place of it arrives at a
    destination that is a place when its earliest route says (`movement.route_days`): permissions and waiting at
    borders count; the flat table stays the answer for the other pairs.
    """
    reqs = {r.id: r for r in state.requirements.values() if r.status in OPEN and (area is None or r.area == area)}
    held_outside: dict[str, int] = defaultdict(int)
    pinned: dict[tuple[str, str], int] = defaultdict(int)
    proposals: dict[tuple[str, str], int] = defaultdict(int)
    for a in state.allocations.values():
        if a.status is AllocationStatus.DECLINED:
            continue
        held_outside[a.offer] += a.released
        if a.requirement in reqs and (a.status in AGREED or a.offer in hidden):
            pinned[(a.offer, a.requirement)] += a.quantity
        elif a.requirement in reqs and a.status is AllocationStatus.PROPOSED:
            proposals[(a.offer, a.requirement)] += a.quantity
        elif a.requirement not in reqs:
            held_outside[a.offer] += a.quantity
    pins_of: dict[str, int] = defaultdict(int)
    for (offer, _), q in pinned.items():
        pins_of[offer] += q
    # A usable offer brings what other requirements do not hold; any other offer only its pins.
    available = {o.id: o.quantity - held_outside[o.id] if o.status in USABLE and o.id not in hidden
                 else pins_of[o.id] for o in state.offers.values()}
    offers = tuple(
        opt.Offer(o.id, o.member, o.item, available[o.id], o.available_from, origin_country(state, o.depot),
                  o.consent_from)
        for o in sorted(state.offers.values(), key=lambda o: o.id) if available[o.id] > 0
    )
    classes = {c.code: frozenset(c.items) for c in state.item_classes.values()}
    item_of = {o.id: o.item for o in offers}
    # A proposal counts only while both sides are still in the problem and still fit each other.
    preferred = tuple(
        opt.Proposal(offer, req, q) for (offer, req), q in sorted(proposals.items())
        if offer in item_of and item_of[offer] in classes.get(reqs[req].item_class, frozenset())
    )
    return opt.AllocationProblem(
        requirements=tuple(opt.Requirement(r.id, r.item_class, r.quantity, r.priority, r.needed_by, r.destination)
                           for r in sorted(reqs.values(), key=lambda r: r.id)),
        offers=offers,
        item_classes=classes,
        transit_days=transit_days(state),
        route_days={} if network is None else movement.route_days(state, network, (o.id for o in offers),
                                                                   {r.destination for r in reqs.values()}),
        pinned=tuple(opt.Pin(offer, req, q) for (offer, req), q in sorted(pinned.items())),
        consents_granted=frozenset(c.offer for c in state.consents.values()
                                   if c.status is ConsentStatus.GRANTED and c.offer in item_of),
        proposed=preferred,
        declined=frozenset((a.offer, a.requirement) for a in state.allocations.values()
                           if a.offer in item_of and a.requirement in reqs
                           and command.declined_pair(state, a.offer, a.requirement) is a),
    )


def propose_optimal(uow: UnitOfWork, caller: svc.Caller, area: str | None = None, *,
                    request_consent: bool = False) -> AllocationRun:
    """Solve for the open requirements and record the plan as proposals, in this unit of work.

    Whoever may propose allocations in the area may run this; it supersedes the earlier proposals in the
    area that the plan does not repeat (a coalition lead must name the area it leads). With `request_consent`
    (whoever may request consents: the coordinator), it also requests each consent not yet requested of an
    offer it held back for one.
    """
    check_area(uow.state, area)
    svc.authorized(uow, caller, "allocation:propose", area=area)  # before solving: a refusal costs nothing
    if request_consent:
        svc.authorized(uow, caller, "consent:request")
    state = uow.state
    first_event = uow.next_seq + len(uow.pending)
    user = state.users[caller.user]
    sees = access.offer_sight(state, user)
    hidden = frozenset(o.id for o in state.offers.values() if not sees(o))
    problem = problem_from_state(state, area, hidden, movement.known_network(state, caller.clock.now().date()))
    started = time.perf_counter()
    plan = opt.solve(problem)
    seconds = time.perf_counter() - started
    quick = opt.greedy(problem)
    reqs = {r.id for r in problem.requirements}
    before: dict[int, int] = defaultdict(int)
    priority = {r.id: r.priority for r in problem.requirements}
    for a in state.allocations.values():
        if a.requirement in reqs and a.status is not AllocationStatus.DECLINED:
            before[priority[a.requirement]] += a.quantity
    wanted = {(a.offer, a.requirement): a.quantity - a.pinned for a in plan.allocations if a.quantity > a.pinned}
    kept = declined = 0
    for a in sorted(state.allocations.values(), key=lambda a: a.id):
        if a.requirement not in reqs or a.status is not AllocationStatus.PROPOSED or a.offer in hidden:
            continue
        if wanted.get((a.offer, a.requirement)) == a.quantity:
            del wanted[(a.offer, a.requirement)]
            kept += 1
        else:
            supersede(uow, caller, a.id)
            declined += 1
    proposed = tuple(
        svc.propose_allocation(uow, caller, offer=offer, requirement=req, quantity=quantity).id
        for (offer, req), quantity in sorted(wanted.items())
    )
    tiers = tuple(Tier(level.priority, level.needed, min(before[level.priority], level.needed), level.covered,
                       quick.covered(level.priority)) for level in plan.levels)
    held = held_back(state, problem, plan, user)
    requested = tuple(
        svc.request_consent(uow, caller, offer).id
        for offer in sorted({o for h in held for o in h.offers if h.reason == command.NOT_REQUESTED})
    ) if request_consent else ()
    last_event = uow.next_seq + len(uow.pending) - 1
    events = (first_event, last_event) if last_event >= first_event else None
    return AllocationRun(tiers, proposed, kept, declined, plan, seconds, events, held, requested)


def held_back(state: State, problem: opt.AllocationProblem, plan: opt.Plan, who: User) -> tuple[HeldBack, ...]:
    """The offers the plan could not use for a requirement it left short: waiting for a consent, or declined
    for that requirement; grouped by reason, named only where `who` may see the offer."""
    short = {c.id for c in plan.requirements if c.shortfall}
    reqs = {r.id: r for r in problem.requirements}
    fits = {(o.id, r): o.item in problem.item_classes.get(reqs[r].item_class, frozenset())
            for o in problem.offers for r in short}
    pinned: dict[str, int] = defaultdict(int)
    for pin in problem.pinned:
        pinned[pin.offer] += pin.quantity
    free = {o.id: o.quantity - pinned[o.id] for o in problem.offers}
    groups: dict[str, tuple[list[str], list[int]]] = defaultdict(lambda: ([], [0, 0]))
    for o in problem.offers:
        reason = command.consent_standing(state, state.offers[o.id]) if problem.blocked(o) else None
        if reason is not None and free[o.id] > 0 and any(fits[(o.id, r)] for r in short):
            _count(groups[reason], state, who, o.id, o.id, free[o.id])
    for offer, req in sorted(problem.declined):
        if req in short and free[offer] > 0:
            decline = command.declined_pair(state, offer, req)
            assert decline is not None
            _count(groups[command.declined_words(decline)], state, who, offer, f"{offer} -> {req}", free[offer])
    return tuple(HeldBack(reason, tuple(named), counts[0], counts[1])
                 for reason, (named, counts) in sorted(groups.items()))


def _count(group: tuple[list[str], list[int]], state: State, who: User, offer: str, name: str,
           units: int) -> None:
    named, counts = group
    if access.can_see_offer(state, who, state.offers[offer]):
        named.append(name)
    else:
        counts[0] += 1
    counts[1] += units


def supersede(uow: UnitOfWork, caller: svc.Caller, alloc_id: str) -> None:
    """Set aside a merely proposed allocation that a new plan replaces.

    This is not a donor's or recipient's refusal: it is open to whoever may propose in the requirement's area,
    and the event says so (`superseded: true`); the allocation is declined like any other.
    """
    alloc = uow.state.allocations[alloc_id]
    if alloc.status is not AllocationStatus.PROPOSED:
        raise Conflict(f"allocation {alloc_id} is {alloc.status.value}, not a proposal that a plan can supersede")
    req = uow.state.requirements[alloc.requirement]
    ctx = svc.authorized(uow, caller, "allocation:supersede", area=req.area)
    svc.record_events(uow, command.move(uow.state, ctx, "AllocationDeclined", alloc_id,
                                        reason="superseded by the optimiser's plan", superseded=True))
