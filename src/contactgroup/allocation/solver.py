"""The exact optimiser: lexicographic coverage by priority, then least lateness, then fewer pairs.

Two min-cost flows solve the first two objectives exactly, with small integer costs only:

1. Coverage. The vectors of units coverable per priority level form a polymatroid (the set function "most
   units that can reach these levels" is a max-flow value, hence submodular). By Edmonds' greedy theorem, for
   any strictly decreasing positive weights w_1 > ... > w_L the maximum of sum(w_k * covered_k) is attained
   exactly where every prefix of levels is covered as much as possible, i.e. at the lexicographic optimum,
   and every weighted optimum has the same level totals. So weights L, L-1, ..., 1 suffice: no big-M, no
   floating point, and one flow instead of one per level. Coverage ignores lateness, so this flow runs on
   items and (item class, level) groups instead of offers and requirements: a few arcs per class, not one
   per pair.
2. Lateness. A second flow routes exactly those level totals (level nodes with fixed demand) at least
   total units x days late.

Then the support is made a forest (see `forest.py`), which removes redundant offer-requirement pairs
without changing coverage or lateness.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from contactgroup.allocation import forest
from contactgroup.allocation.explanation import explain, sum_by
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
    offer_slot = np.zeros(len(net.offers), np.int64)
    req_slot = np.zeros(len(net.requirements), np.int64)
    for batch in _batches(net):
        part = _Part(net, batch, offer_slot, req_slot)
        flow[batch] = _least_late(net, part, _level_totals(net, part))
    return forest.untangle(net, flow)


class _Part:
    """One batch of usable pairs: the offers and requirements it uses (sorted) and each pair's position in them."""

    def __init__(self, net: Network, batch: Ints, offer_slot: Ints, req_slot: Ints) -> None:
        self.reqs, self.offers = net.pair_req[batch], net.pair_offer[batch]
        self.late = net.pair_late[batch]
        self.used_offers, self.offer_pos = _positions(self.offers, offer_slot)
        self.used_reqs, self.req_pos = _positions(self.reqs, req_slot)


def _positions(values: Ints, slot: Ints) -> tuple[Ints, Ints]:
    """The distinct `values` in increasing order and the position of each value among them.

    `slot` is scratch space as long as the range of values; whatever it holds is overwritten before use.
    """
    if 8 * len(values) < len(slot):
        used = np.unique(values)
    else:
        seen = np.zeros(len(slot), np.bool_)
        seen[values] = True
        used = np.flatnonzero(seen)
    slot[used] = np.arange(len(used))
    return used, slot[values]


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


def _run(tails: Ints, heads: Ints, caps: Ints, costs: Ints, supplies: Ints) -> Ints:
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    flow.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise SolverFailed(f"min-cost flow ended with status {status}")
    return np.asarray(flow.flows(arcs), np.int64)


def _level_totals(net: Network, part: _Part) -> Ints:
    """The lexicographically maximal units per level (pass 1).

    Coverage does not depend on lateness, so offers of one item are interchangeable, and so are the
    requirements of one (item class, level): the flow runs on those aggregates, whose arcs are few. Every
    flow of the pair network maps to one of the aggregate network with the same coverage and back (the
    pair capacities are implied by the offer and requirement capacities), so the optimum is the same.
    """
    n_levels = len(net.levels)
    used_offers, used_reqs = part.used_offers, part.used_reqs
    items, item_of = np.unique(net.offer_item[used_offers], return_inverse=True)
    kinds, kind_of = np.unique(net.req_class[used_reqs] * n_levels + net.req_level[used_reqs], return_inverse=True)
    item_of, kind_of = item_of.ravel(), kind_of.ravel()
    n_i, n_k = len(items), len(kinds)
    item_supply = sum_by(item_of, net.offer_free[used_offers], n_i)
    kind_need = sum_by(kind_of, net.req_need[used_reqs], n_k)
    links = np.unique(item_of[part.offer_pos] * n_k + kind_of[part.req_pos])
    link_item, link_kind = np.divmod(links, n_k)
    sink = 1 + n_i + n_k
    supply = int(item_supply.sum())
    tails = np.concatenate([np.zeros(n_i + 1, np.int64), 1 + link_item, np.arange(1 + n_i, sink)])
    heads = np.concatenate([np.arange(1, n_i + 1), [sink], 1 + n_i + link_kind, np.full(n_k, sink)])
    caps = np.concatenate([item_supply, [supply], item_supply[link_item], kind_need])  # [supply]: the bypass
    kind_level = kinds % n_levels
    costs = np.concatenate([np.zeros(n_i + 1 + len(links), np.int64), kind_level - n_levels])
    supplies = np.zeros(sink + 1, np.int64)
    supplies[0], supplies[sink] = supply, -supply
    flows = _run(tails, heads, caps, costs, supplies)
    into_sink = flows[n_i + 1 + len(links) :]
    return sum_by(kind_level, into_sink, n_levels)


def _least_late(net: Network, part: _Part, totals: Ints) -> Ints:
    """Units per usable pair that cover exactly `totals` per level at least lateness (pass 2)."""
    reqs, offers, used_offers, used_reqs = part.reqs, part.offers, part.used_offers, part.used_reqs
    n_o, n_r = len(used_offers), len(used_reqs)
    offer_node = part.offer_pos + 1
    req_node = part.req_pos + 1 + n_o
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
    costs = np.concatenate([np.zeros(n_o, np.int64), part.late, np.zeros(n_r, np.int64)])
    supplies = np.zeros(first_level + len(net.levels), np.int64)
    supplies[0] = int(totals.sum())
    supplies[first_level:] = -totals
    flows = _run(tails, heads, caps, costs, supplies)
    return flows[n_o : n_o + len(reqs)]
