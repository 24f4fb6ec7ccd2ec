"""The exact optimiser: lexicographic coverage by priority, then least lateness, then fewer pairs.

Two min-cost flows solve the first two objectives exactly, with small integer costs only:

1. Coverage. The vectors of units coverable per priority level form a polymatroid (the set function "most
   units that can reach these levels" is a max-flow value, hence submodular). By Edmonds' greedy theorem, for
   any strictly decreasing positive weights w_1 > ... > w_L the maximum of sum(w_k * covered_k) is attained
   exactly where every prefix of levels is covered as much as possible, i.e. at the lexicographic optimum,
   and every weighted optimum has the same level totals. So weights L, L-1, ..., 1 suffice: no big-M, no
   floating point, and one flow instead of one per level.
2. Lateness. A second flow routes exactly those level totals (level nodes with fixed demand) at least
   total units x days late.

Then the support is made a forest (see `forest.py`), which removes redundant offer-requirement pairs
without changing coverage or lateness.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from contactgroup.allocation import forest
from contactgroup.allocation.explanation import explain
from contactgroup.allocation.network import Ints, Network, build
from contactgroup.allocation.plan import Plan
from contactgroup.allocation.problem import Problem
from contactgroup.allocation.validation import check
from contactgroup.domain.errors import ContactGroupError


class SolverFailed(ContactGroupError):
    """The flow solver did not report an optimum; a bug, since every instance here is feasible."""

    status = 500
    exit_code = 1


def solve(problem: Problem) -> Plan:
    """The exact plan for `problem` (validated first; raises ValidationFailed on bad input)."""
    check(problem)
    net = build(problem)
    return explain(net, optimal_flow(net), method="exact")


# Independent parts are solved in batches of about this many pairs: flow algorithms grow faster than
# linearly, so many small solves beat one big one, while batching keeps the per-call overhead low.
BATCH_PAIRS = 4_000


def optimal_flow(net: Network) -> Ints:
    """Units per pair (beyond pins) of a lexicographically optimal, least-late plan."""
    flow = np.zeros(len(net.pair_req), np.int64)
    for batch in _batches(net):
        reqs, offers = net.pair_req[batch], net.pair_offer[batch]
        totals = _level_totals(net, reqs, offers)
        flow[batch] = _least_late(net, reqs, offers, net.pair_late[batch], totals)
    return forest.untangle(net, flow)


def _batches(net: Network) -> list[Ints]:
    """Usable pairs split along independent parts (groups), in order of the groups' numbers."""
    usable = np.flatnonzero(net.usable)
    if len(usable) == 0:
        return []
    group = net.req_group[net.pair_req[usable]]
    order = np.argsort(group, kind="stable")
    usable, group = usable[order], group[order]
    starts = np.flatnonzero(np.diff(group)) + 1
    cuts: list[int] = []
    last = 0
    for start in starts.tolist():
        if start - last >= BATCH_PAIRS:
            cuts.append(start)
            last = start
    return np.split(usable, cuts)


def _nodes(net: Network, reqs: Ints, offers: Ints) -> tuple[Ints, Ints, Ints, Ints]:
    """Node numbers: 0 is the source, then used offers, then used requirements."""
    used_offers = np.unique(offers)
    used_reqs = np.unique(reqs)
    offer_node = np.searchsorted(used_offers, offers) + 1
    req_node = np.searchsorted(used_reqs, reqs) + 1 + len(used_offers)
    return used_offers, used_reqs, offer_node, req_node


def _run(tails: Ints, heads: Ints, caps: Ints, costs: Ints, supplies: Ints) -> tuple[Ints, int]:
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    flow.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise SolverFailed(f"min-cost flow ended with status {status}")
    return np.asarray(flow.flows(arcs), np.int64), int(flow.optimal_cost())


def _level_totals(net: Network, reqs: Ints, offers: Ints) -> Ints:
    """The lexicographically maximal units per level (pass 1)."""
    used_offers, used_reqs, offer_node, req_node = _nodes(net, reqs, offers)
    n_o, n_r = len(used_offers), len(used_reqs)
    sink = 1 + n_o + n_r
    supply = int(net.offer_free[used_offers].sum())
    weight = len(net.levels) - net.req_level[used_reqs]
    tails = np.concatenate([np.zeros(n_o + 1, np.int64), offer_node, np.arange(1 + n_o, sink)])
    heads = np.concatenate([np.arange(1, n_o + 1), [sink], req_node, np.full(n_r, sink)])
    caps = np.concatenate(
        [
            net.offer_free[used_offers],
            [supply],  # the bypass: units that stay with their offer
            np.minimum(net.offer_free[offers], net.req_need[reqs]),
            net.req_need[used_reqs],
        ]
    )
    costs = np.concatenate([np.zeros(n_o + 1 + len(reqs), np.int64), -weight])
    supplies = np.zeros(sink + 1, np.int64)
    supplies[0], supplies[sink] = supply, -supply
    flows, _ = _run(tails, heads, caps, costs, supplies)
    into_sink = flows[n_o + 1 + len(reqs) :]
    return np.bincount(net.req_level[used_reqs], weights=into_sink, minlength=len(net.levels)).astype(
        np.int64
    )


def _least_late(net: Network, reqs: Ints, offers: Ints, late: Ints, totals: Ints) -> Ints:
    """Units per usable pair that cover exactly `totals` per level at least lateness (pass 2)."""
    used_offers, used_reqs, offer_node, req_node = _nodes(net, reqs, offers)
    n_o, n_r = len(used_offers), len(used_reqs)
    first_level = 1 + n_o + n_r
    level_node = first_level + net.req_level[used_reqs]
    tails = np.concatenate([np.zeros(n_o, np.int64), offer_node, np.arange(1 + n_o, first_level)])
    heads = np.concatenate([np.arange(1, n_o + 1), req_node, level_node])
    caps = np.concatenate(
        [
            net.offer_free[used_offers],
            np.minimum(net.offer_free[offers], net.req_need[reqs]),
            net.req_need[used_reqs],
        ]
    )
    costs = np.concatenate([np.zeros(n_o, np.int64), late, np.zeros(n_r, np.int64)])
    supplies = np.zeros(first_level + len(net.levels), np.int64)
    supplies[0] = int(totals.sum())
    supplies[first_level:] = -totals
    flows, _ = _run(tails, heads, caps, costs, supplies)
    return flows[n_o : n_o + len(reqs)]
