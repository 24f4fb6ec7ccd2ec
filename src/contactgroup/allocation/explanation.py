"""Turns units per pair into a Plan: allocations, coverage per requirement and level, and reasons for gaps."""

from __future__ import annotations

from datetime import date

import numpy as np

from contactgroup.allocation.network import Flags, Ints, Network
from contactgroup.allocation.plan import Allocation, Coverage, LevelCoverage, Plan, Reason


def sum_by(index: Ints, values: Ints, size: int) -> Ints:
    """Integer sums of `values` grouped by `index`, exactly."""
    if len(values) == 0 or int(np.abs(values).sum()) < 2**53:
        # Every partial sum is an integer below 2^53, so the float sums of bincount are exact (and fast).
        return np.bincount(index, weights=values, minlength=size).astype(np.int64)
    out = np.zeros(size, np.int64)
    np.add.at(out, index, values)
    return out


def explain(net: Network, flow: Ints, method: str) -> Plan:
    """The plan in which each pair carries its pins plus `flow` units."""
    units = flow + net.pair_pinned
    n_reqs = len(net.requirements)
    quantity = net.req_need + sum_by(net.pair_req, net.pair_pinned, n_reqs)
    covered = sum_by(net.pair_req, units, n_reqs)
    on_time = sum_by(net.pair_req, np.where(net.pair_late == 0, units, 0), n_reqs)
    reasons = _reasons(net, units, quantity, covered)

    taken = np.flatnonzero(units > 0)
    allocations = tuple(
        Allocation(
            offer=net.offers[o].id,
            requirement=net.requirements[r].id,
            quantity=q,
            pinned=p,
            arrives=date.fromordinal(a),
            late_days=d,
        )
        for r, o, q, p, a, d in zip(
            net.pair_req[taken].tolist(),
            net.pair_offer[taken].tolist(),
            units[taken].tolist(),
            net.pair_pinned[taken].tolist(),
            net.pair_arrives[taken].tolist(),
            net.pair_late[taken].tolist(),
            strict=True,
        )
    )
    coverage = tuple(
        Coverage(
            id=req.id,
            priority=req.priority,
            quantity=q,
            covered=c,
            on_time=t,
            shortfall=q - c,
            reasons=reasons.get(i, ()),
        )
        for i, (req, q, c, t) in enumerate(
            zip(net.requirements, quantity.tolist(), covered.tolist(), on_time.tolist(), strict=True)
        )
    )
    n_levels = len(net.levels)
    needed_by_level = sum_by(net.req_level, quantity, n_levels).tolist()
    covered_by_level = sum_by(net.req_level, covered, n_levels).tolist()
    levels = tuple(
        LevelCoverage(priority=p, needed=n, covered=c)
        for p, n, c in zip(net.levels, needed_by_level, covered_by_level, strict=True)
    )
    return Plan(
        allocations=allocations,
        requirements=coverage,
        levels=levels,
        # Each product fits in 64 bits (validation's limits); their sum may not, so it is a Python int.
        total_lateness=sum((units * net.pair_late).tolist()),
        pairs=len(taken),
        method=method,
    )


def _reasons(net: Network, units: Ints, quantity: Ints, covered: Ints) -> dict[int, tuple[Reason, ...]]:
    """Reasons for every requirement not fully covered, keyed by requirement index."""
    short = covered < quantity
    if not short.any():
        return {}
    n_reqs, n_offers = len(net.requirements), len(net.offers)
    offer_quantity = net.offer_left + sum_by(net.pair_offer, net.pair_pinned, n_offers)
    compatible = np.bincount(net.pair_req, minlength=n_reqs)
    offered = sum_by(net.pair_req, offer_quantity[net.pair_offer], n_reqs)

    level = net.req_level[net.pair_req]
    used = units > 0
    # Best (smallest) level each offer serves, worst level it is pinned to, and how many requirements of
    # each level it serves: enough to tell, per pair, who else takes the offer.
    best_used = np.full(n_offers, len(net.levels), np.int64)
    np.minimum.at(best_used, net.pair_offer[used], level[used])
    pinned = net.pair_pinned > 0
    worst_pinned = np.full(n_offers, -1, np.int64)
    np.maximum.at(worst_pinned, net.pair_offer[pinned], level[pinned])
    key = net.pair_offer * len(net.levels) + level
    used_keys, used_counts = np.unique(key[used], return_counts=True)

    at = np.flatnonzero(short[net.pair_req])
    pair_offer, pair_level = net.pair_offer[at], level[at]
    higher = best_used[pair_offer] < pair_level
    lower_pin = worst_pinned[pair_offer] > pair_level
    # Sentinel past every key, so that a missed lookup lands on a zero count.
    used_keys = np.append(used_keys, np.iinfo(np.int64).max)
    used_counts = np.append(used_counts, 0)
    slot = np.searchsorted(used_keys, key[at])
    same_level = np.where(used_keys[slot] == key[at], used_counts[slot], 0) - used[at]
    waiting = net.offer_blocked[pair_offer] & (net.offer_left[pair_offer] > 0)
    declined = net.pair_declined[at] & (net.offer_left[pair_offer] > 0)

    def any_by_req(flags: Flags) -> Flags:
        return np.bincount(net.pair_req[at], weights=flags, minlength=n_reqs) > 0

    per_reason = [
        (Reason.NO_COMPATIBLE_OFFER, compatible == 0),
        (Reason.TAKEN_BY_HIGHER_PRIORITY, any_by_req(higher)),
        (Reason.TAKEN_BY_EQUAL_PRIORITY, any_by_req(same_level > 0)),
        (Reason.TAKEN_BY_PINNED_ALLOCATION, any_by_req(lower_pin)),
        (Reason.WAITING_FOR_CONSENT, any_by_req(waiting)),
        (Reason.INSUFFICIENT_QUANTITY, (compatible > 0) & (offered < quantity)),
        (Reason.DECLINED, any_by_req(declined)),
    ]
    return {
        int(i): tuple(reason for reason, flags in per_reason if flags[i])
        for i in np.flatnonzero(short)
    }
