"""The allocation problem as arrays: requirements, offers and every compatible pair, with lateness and pins."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contactgroup.allocation.problem import AllocationProblem, Offer, Requirement

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Network:
    """Indexed form of a validated problem.

    Requirements are ordered by (priority, id) and offers by id, so that every later step, and therefore
    the plan, depends only on the problem's content and not on the order of its lists. Pairs are the
    compatible (offer, requirement) combinations ordered by (requirement, offer). `req_group` numbers the
    independent parts of the problem: requirements whose item classes share no item never compete.
    `offer_item`, `req_class` and `req_destination` number items, classes and countries (in sorted order);
    `req_due` is the needed-by day as a proleptic ordinal, like `pair_arrives`. `pair_proposed` holds the
    units of earlier proposals (beyond pins) that the solver prefers to keep among equally good plans;
    `pair_declined` marks the pairs a party declined, which take no new units.
    """

    requirements: tuple[Requirement, ...]
    offers: tuple[Offer, ...]
    levels: tuple[int, ...]
    req_level: Ints
    req_group: Ints
    req_need: Ints
    req_class: Ints
    req_destination: Ints
    req_due: Ints
    offer_item: Ints
    offer_left: Ints
    offer_free: Ints
    offer_blocked: Flags
    pair_req: Ints
    pair_offer: Ints
    pair_arrives: Ints
    pair_late: Ints
    pair_pinned: Ints
    pair_proposed: Ints
    pair_declined: Flags

    @property
    def usable(self) -> Flags:
        """Pairs along which the optimiser may still move units."""
        return (self.offer_free[self.pair_offer] > 0) & (self.req_need[self.pair_req] > 0) & ~self.pair_declined


def build(problem: AllocationProblem) -> Network:
    """Index a problem that `validation.check` accepted."""
    reqs = tuple(sorted(problem.requirements, key=lambda r: (r.priority, r.id)))
    offers = tuple(sorted(problem.offers, key=lambda o: o.id))
    req_index = {r.id: i for i, r in enumerate(reqs)}
    offer_index = {o.id: i for i, o in enumerate(offers)}
    levels = tuple(sorted({r.priority for r in reqs}))
    level_of = {p: k for k, p in enumerate(levels)}
    req_level = np.fromiter((level_of[r.priority] for r in reqs), np.int64, len(reqs))
    req_quantity = np.fromiter((r.quantity for r in reqs), np.int64, len(reqs))
    offer_quantity = np.fromiter((o.quantity for o in offers), np.int64, len(offers))
    offer_blocked = np.fromiter((problem.blocked(o) for o in offers), np.bool_, len(offers))

    pair_req, pair_offer = _pairs(problem, reqs, offers)
    late, arrives, destination, due = _lateness(problem, reqs, offers, pair_req, pair_offer)
    item_code = {item: i for i, item in enumerate(sorted({o.item for o in offers}))}
    class_code = {c: i for i, c in enumerate(sorted({r.item_class for r in reqs}))}

    pair_pinned = np.zeros(len(pair_req), np.int64)
    pair_proposed = np.zeros(len(pair_req), np.int64)
    offer_left = offer_quantity.copy()
    req_need = req_quantity.copy()
    n_offers = max(len(offers), 1)
    keys = pair_req * n_offers + pair_offer
    for pin in problem.pinned:
        r, o = req_index[pin.requirement], offer_index[pin.offer]
        at = int(np.searchsorted(keys, r * n_offers + o))
        pair_pinned[at] += pin.quantity
        offer_left[o] -= pin.quantity
        req_need[r] -= pin.quantity
    for proposal in problem.proposed:
        r, o = req_index[proposal.requirement], offer_index[proposal.offer]
        pair_proposed[int(np.searchsorted(keys, r * n_offers + o))] += proposal.quantity
    pair_declined = np.zeros(len(pair_req), np.bool_)
    for offer_id, req_id in problem.declined:
        r, o = req_index[req_id], offer_index[offer_id]
        at = int(np.searchsorted(keys, r * n_offers + o))
        if at < len(keys) and keys[at] == r * n_offers + o:  # an incompatible pair has nothing to close
            pair_declined[at] = True
    offer_free = np.where(offer_blocked, 0, offer_left)
    return Network(
        requirements=reqs,
        offers=offers,
        levels=levels,
        req_level=req_level,
        req_group=_groups(problem, reqs),
        req_need=req_need,
        req_class=np.fromiter((class_code[r.item_class] for r in reqs), np.int64, len(reqs)),
        req_destination=destination,
        req_due=due,
        offer_item=np.fromiter((item_code[o.item] for o in offers), np.int64, len(offers)),
        offer_left=offer_left,
        offer_free=offer_free,
        offer_blocked=offer_blocked,
        pair_req=pair_req,
        pair_offer=pair_offer,
        pair_arrives=arrives,
        pair_late=late,
        pair_pinned=pair_pinned,
        pair_proposed=pair_proposed,
        pair_declined=pair_declined,
    )


def _groups(problem: AllocationProblem, reqs: tuple[Requirement, ...]) -> Ints:
    """Connected parts of the class-item graph, numbered by their first requirement."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for cls in {r.item_class for r in reqs}:
        top = root("class:" + cls)
        for item in problem.item_classes.get(cls, ()):
            other = root("item:" + item)
            if other != top:
                parent[other] = top
    number: dict[str, int] = {}
    return np.fromiter(
        (number.setdefault(root("class:" + r.item_class), len(number)) for r in reqs), np.int64, len(reqs)
    )


def _pairs(
    problem: AllocationProblem, reqs: tuple[Requirement, ...], offers: tuple[Offer, ...]
) -> tuple[Ints, Ints]:
    """All compatible pairs in (requirement, offer) order, built with array operations (the bulk of the work)."""
    by_item: defaultdict[str, list[int]] = defaultdict(list)
    for i, o in enumerate(offers):
        by_item[o.item].append(i)
    classes = sorted({r.item_class for r in reqs})
    class_offers: list[Ints] = []
    for cls in classes:
        members: list[int] = []
        for item in problem.item_classes.get(cls, ()):
            members.extend(by_item.get(item, ()))
        class_offers.append(np.array(sorted(members), np.int64))
    # Each requirement takes its class's offers (sorted) in turn: offsets into the classes' concatenation.
    sizes = np.fromiter((len(c) for c in class_offers), np.int64, len(classes))
    starts = np.cumsum(sizes) - sizes
    class_code = {c: i for i, c in enumerate(classes)}
    req_class = np.fromiter((class_code[r.item_class] for r in reqs), np.int64, len(reqs))
    counts = sizes[req_class]
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pair_req = np.repeat(np.arange(len(reqs), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    at = np.arange(total, dtype=np.int64) + np.repeat(starts[req_class] - first, counts)
    return pair_req, np.concatenate(class_offers)[at]


def _lateness(
    problem: AllocationProblem,
    reqs: tuple[Requirement, ...],
    offers: tuple[Offer, ...],
    pair_req: Ints,
    pair_offer: Ints,
) -> tuple[Ints, Ints, Ints, Ints]:
    """Days late and arrival day (proleptic ordinal) of each pair; destination code and due day per requirement."""
    countries = sorted({o.origin for o in offers} | {r.destination for r in reqs})
    code = {c: i for i, c in enumerate(countries)}
    transit = np.zeros((max(len(countries), 1), max(len(countries), 1)), np.int64)
    for (source, target), days in problem.transit_days.items():
        if source in code and target in code:
            transit[code[source], code[target]] = days
    origin = np.fromiter((code[o.origin] for o in offers), np.int64, len(offers))
    ready = np.fromiter((o.available_from.toordinal() for o in offers), np.int64, len(offers))
    destination = np.fromiter((code[r.destination] for r in reqs), np.int64, len(reqs))
    due = np.fromiter((r.needed_by.toordinal() for r in reqs), np.int64, len(reqs))
    arrives = ready[pair_offer] + transit[origin[pair_offer], destination[pair_req]]
    if problem.route_days:  # a routed pair arrives when its route says; the flat table answers for the others
        offer_ids = [o.id for o in offers]
        places = [r.destination for r in reqs]
        routed = np.fromiter((problem.route_days.get((offer_ids[o], places[r]), -1)
                              for o, r in zip(pair_offer.tolist(), pair_req.tolist(), strict=True)),
                             np.int64, len(pair_offer))
        arrives = np.where(routed >= 0, ready[pair_offer] + routed, arrives)
    late = np.maximum(arrives - due[pair_req], 0)
    return late, arrives, destination, due
