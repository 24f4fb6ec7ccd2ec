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
2. Lateness, then proposals, then pairs. A second flow routes exactly those level totals (level nodes with
   fixed demand). Its integer costs are `late x K2 - kept x K1 + spread` per unit: `kept` is 1 on the units
   of an earlier proposal (`AllocationProblem.proposed`), `spread` is scale // (the pair's capacity), the linear
   relaxation of "one charge per pair used", which favours pairs that can carry a whole requirement.
   K1 exceeds any total `spread` and K2 any total `kept x K1`, so the flow has the least lateness, then
   keeps the most proposed units, then spreads least; all exactly, in integers. The scale shrinks where
   the weights would not fit in 64 bits with margin; if even without `spread` they would not, `kept` is
   dropped (lateness stays exact), and a proposal that is itself optimal is still kept as it is.

Then the support is made a forest (see `forest.py`), which removes redundant offer-requirement pairs
without changing any of these values. Each part of the problem that shares no item with the rest (a
connected part of the class-item graph) is solved on its own, with its own numbering, levels and weights,
so that a change in one part can never alter another part's plan.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from contactgroup.allocation import forest
from contactgroup.allocation.explanation import explain, sum_by
from contactgroup.allocation.network import Flags, Ints, Network, build
from contactgroup.allocation.plan import Plan
from contactgroup.allocation.problem import AllocationProblem
from contactgroup.allocation.validation import check
from contactgroup.domain.errors import ContactGroupError


class SolverFailed(ContactGroupError):
    """The flow solver did not report an optimum; a bug, since every instance here is feasible."""

    status = 500
    exit_code = 1


class CostRange(SolverFailed):
    """OR-Tools refused the costs as too large for 64-bit arithmetic."""


def solve(problem: AllocationProblem) -> Plan:
    """The exact plan for `problem` (validated first; raises ValidationFailed on bad input)."""
    check(problem)
    net = build(problem)
    return explain(net, optimal_flow(net), method="exact")


# The per-unit "spread" cost of a pair is at most PAIR_SCALE x (the part's largest capacity) // its capacity.
PAIR_SCALE = 1024
# OR-Tools scales costs by the node count, in 64 bits; path-length bounds times (nodes + 1) stay below this.
COST_LIMIT = 2**60


def optimal_flow(net: Network) -> Ints:
    """Units per pair (beyond pins) of a lexicographically optimal, least-late plan."""
    flow = np.zeros(len(net.pair_req), np.int64)
    for pairs in _parts(net):
        part = _Part(net, pairs)
        flow[pairs] = _least_late(net, part, _level_totals(net, part))
    return flow


class _Part:
    """The usable pairs of one independent part: the offers, requirements and levels they use (sorted),
    and each pair's position among them. Nothing here depends on the rest of the problem."""

    def __init__(self, net: Network, pairs: Ints) -> None:
        self.pairs = pairs
        self.reqs, self.offers = net.pair_req[pairs], net.pair_offer[pairs]
        self.late = net.pair_late[pairs]
        self.used_offers, offer_pos = np.unique(self.offers, return_inverse=True)
        self.used_reqs, req_pos = np.unique(self.reqs, return_inverse=True)
        self.offer_pos, self.req_pos = offer_pos.ravel(), req_pos.ravel()
        self.levels, level_pos = np.unique(net.req_level[self.used_reqs], return_inverse=True)
        self.req_level = level_pos.ravel()  # local level of each used requirement


def _parts(net: Network) -> list[Ints]:
    """Usable pairs split into independent parts (groups), each in (requirement, offer) order."""
    usable = np.flatnonzero(net.usable)
    if len(usable) == 0:
        return []
    group = net.req_group[net.pair_req[usable]]
    order = np.argsort(group, kind="stable")
    usable, group = usable[order], group[order]
    return np.split(usable, np.flatnonzero(np.diff(group)) + 1)


def _run(tails: Ints, heads: Ints, caps: Ints, costs: Ints, supplies: Ints) -> Ints:
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    flow.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = flow.solve()
    if status == flow.BAD_COST_RANGE:
        raise CostRange(f"min-cost flow ended with status {status}")
    if status != flow.OPTIMAL:
        raise SolverFailed(f"min-cost flow ended with status {status}")
    return np.asarray(flow.flows(arcs), np.int64)


def _level_totals(net: Network, part: _Part) -> Ints:
    """The lexicographically maximal units per level of the part (pass 1).

    Coverage does not depend on lateness, so offers of one item are interchangeable, and so are the
    requirements of one (item class, level): the flow runs on those aggregates, whose arcs are few. Every
    flow of the pair network maps to one of the aggregate network with the same coverage and back (the
    pair capacities are implied by the offer and requirement capacities), so the optimum is the same.
    """
    n_levels = len(part.levels)
    used_offers, used_reqs = part.used_offers, part.used_reqs
    items, item_of = np.unique(net.offer_item[used_offers], return_inverse=True)
    kinds, kind_of = np.unique(net.req_class[used_reqs] * n_levels + part.req_level, return_inverse=True)
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


def _weights(
    late: Ints, kept_units: int, kept_arcs: int, n_arcs: int, n_nodes: int, max_cap: int
) -> tuple[int, int, int]:
    """(K2, K1, scale) for costs `late x K2 - kept x K1 + scale // capacity`: the finest that fit in 64 bits.

    K1 = scale x arcs + 1 exceeds any total spread (each arc's units x (scale // capacity) <= scale), and
    K2 = (kept units + 1) x K1 any total of kept x K1. OR-Tools refuses costs whose path lengths could
    overflow once scaled by the node count, so min(sum |cost|, (nodes - 1) x max |cost|) x (nodes + 1) must
    stay below COST_LIMIT; both bounds are linear in the scale, which is the largest that fits. If even scale
    0 does not fit, proposals are dropped from the costs (lateness stays exact).
    """
    room = COST_LIMIT // (n_nodes + 1)
    late_sum, max_late = int(late.sum()), int(late.max())
    for keep in (True, False):
        mult, kept = (kept_units + 1, kept_arcs) if keep else (1, 0)
        # Each bound is a x K1 + b x scale, i.e. a + (a x arcs + b) x scale.
        bounds = ((mult * late_sum + kept, n_arcs), ((n_nodes - 1) * (mult * max_late + 1), n_nodes - 1))
        fits = [(room - a) // (a * n_arcs + b) for a, b in bounds if a < room and a * n_arcs + b > 0]
        if fits or keep is False:
            scale = min([PAIR_SCALE * max_cap, *fits]) if fits else 0
            k1 = scale * n_arcs + 1
            return mult * k1, (k1 if keep else 0), scale
    raise AssertionError("unreachable")


def _least_late(net: Network, part: _Part, totals: Ints) -> Ints:
    """Units per usable pair of the part covering exactly `totals` per level: least lateness, then the most
    proposed units kept, then the least spread (pass 2), with cycles of free arcs cancelled."""
    used_offers, used_reqs = part.used_offers, part.used_reqs
    n_o, n_r, n_p = len(used_offers), len(used_reqs), len(part.pairs)
    cap = np.minimum(net.offer_free[part.offers], net.req_need[part.reqs])
    wish = np.minimum(net.pair_proposed[part.pairs], cap)
    has_wish = wish > 0
    rest = cap - wish
    # A pair with a proposal is two parallel arcs: the proposed units (cheaper by K1) and the rest.
    arc_pair = np.concatenate([np.flatnonzero(rest > 0), np.flatnonzero(has_wish)])
    arc_cap = np.concatenate([rest[rest > 0], wish[has_wish]])
    arc_kept: Flags = np.arange(len(arc_pair)) >= int((rest > 0).sum())
    n_nodes = 1 + n_o + n_r + len(totals)
    kept_units = min(int(wish.sum()), int(totals.sum()))
    k2, k1, scale = _weights(part.late[arc_pair], kept_units, int(has_wish.sum()), len(arc_pair), n_nodes,
                             int(cap.max()))

    offer_node = 1 + part.offer_pos[arc_pair]
    req_node = 1 + n_o + part.req_pos[arc_pair]
    first_level = 1 + n_o + n_r
    tails = np.concatenate([np.zeros(n_o, np.int64), offer_node, np.arange(1 + n_o, first_level)])
    heads = np.concatenate([np.arange(1, n_o + 1), req_node, first_level + part.req_level])
    caps = np.concatenate([net.offer_free[used_offers], arc_cap, net.req_need[used_reqs]])
    supplies = np.zeros(n_nodes, np.int64)
    supplies[0] = int(totals.sum())
    supplies[first_level:] = -totals
    while True:
        arc_costs = part.late[arc_pair] * k2 - np.where(arc_kept, k1, 0) + scale // cap[arc_pair]
        costs = np.concatenate([np.zeros(n_o, np.int64), arc_costs, np.zeros(n_r, np.int64)])
        try:
            arc_flow = _run(tails, heads, caps, costs, supplies)[n_o : n_o + len(arc_pair)]
            break
        except CostRange:
            if (k2, k1, scale) == (1, 0, 0):
                raise
            k2, k1, scale = 1, 0, 0  # OR-Tools judged the weights too large after all: lateness alone
    if k1 == 0 and has_wish.any() and _is_as_good(net, part, totals, wish, sum_by(arc_pair, arc_flow, n_p)):
        return wish  # the weights did not fit, but the proposals themselves are optimal: keep them
    arc_flow = forest.untangle(
        part.offer_pos[arc_pair], part.req_pos[arc_pair], arc_flow, arc_cap, arc_costs,
        net.offer_free[used_offers], net.req_need[used_reqs], part.req_level,
    )
    flow = sum_by(arc_pair, arc_flow, n_p)
    spare = net.offer_free[used_offers] - sum_by(part.offer_pos, flow, n_o)
    return forest.merge_pairs(flow, part.late, has_wish, part.offer_pos, part.req_pos, spare)


def _is_as_good(net: Network, part: _Part, totals: Ints, wish: Ints, flow: Ints) -> bool:
    """Whether units `wish` per pair are feasible and as good as the optimal `flow` in coverage and lateness."""
    n_o, n_r = len(part.used_offers), len(part.used_reqs)
    got = sum_by(part.req_pos, wish, n_r)
    return bool(
        (sum_by(part.offer_pos, wish, n_o) <= net.offer_free[part.used_offers]).all()
        and (got <= net.req_need[part.used_reqs]).all()
        and (sum_by(part.req_level, got, len(totals)) == totals).all()
        and sum((wish * part.late).tolist()) == sum((flow * part.late).tolist())
    )
