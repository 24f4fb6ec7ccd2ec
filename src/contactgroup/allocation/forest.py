"""Removes redundant offer-requirement pairs from an optimal flow without changing any objective value.

In the flow network (source → offer → requirement → level), call an arc free when its flow is strictly
between zero and its capacity. Flow can be pushed either way around a cycle of free arcs, so at an optimum
every such cycle costs nothing, and pushing around it until one arc empties or fills changes neither the
units per level nor the lateness. Doing so until the free arcs form a forest (a basic solution) leaves a
plan where no requirement draws from two offers that could be swapped for one. Exact minimisation of pairs
is a fixed-charge problem (NP-hard); this is the tie-break the brief asks for, made deterministic by a fixed
arc order, and bounded in work so that a pathological instance cannot make it slow.
"""

from __future__ import annotations

import numpy as np

from contactgroup.allocation.explanation import sum_by
from contactgroup.allocation.network import Ints

# At most this many steps through the forest per free arc, in total, are spent looking for cycles.
WORK_PER_ARC = 16


def untangle(
    arc_offer: Ints, arc_req: Ints, flow: Ints, caps: Ints, costs: Ints, offer_cap: Ints, req_cap: Ints, req_level: Ints
) -> Ints:
    """`flow` on the arcs of one part with cycles of free arcs cancelled, preferring to empty arcs.

    Offers, requirements and levels are numbered within the part (`arc_offer`, `arc_req` index `offer_cap`,
    `req_cap` and `req_level`); `costs` are the costs the flow is optimal for, so that every cycle of free
    arcs costs nothing and cancelling it keeps every objective value. The work is bounded per part, so that
    one part's size never changes how another is untangled.
    """
    carried = np.flatnonzero(flow > 0)
    if len(carried) < 2:
        return flow
    n_offers, n_reqs = len(offer_cap), len(req_cap)
    out = sum_by(arc_offer, flow, n_offers)
    got = sum_by(arc_req, flow, n_reqs)
    source = n_offers + n_reqs
    # Source and level arcs first, then arcs by decreasing units: the earlier an arc, the likelier it stays.
    partly_used = np.flatnonzero((out > 0) & (out < offer_cap))
    partly_met = np.flatnonzero((got > 0) & (got < req_cap))
    order = carried[np.lexsort((carried, -flow[carried]))]
    n_hub = len(partly_used) + len(partly_met)
    tails = np.concatenate([np.full(len(partly_used), source, np.int64), n_offers + partly_met, arc_offer[order]])
    heads = np.concatenate([partly_used, source + 1 + req_level[partly_met], n_offers + arc_req[order]])
    flows = np.concatenate([out[partly_used], got[partly_met], flow[order]])
    all_caps = np.concatenate([offer_cap[partly_used], req_cap[partly_met], caps[order]])
    all_costs = np.concatenate([np.zeros(n_hub, np.int64), costs[order]])
    is_pair = np.concatenate([np.zeros(n_hub, np.bool_), np.ones(len(order), np.bool_)])

    new_flows = flows.tolist()
    _cancel_cycles(tails.tolist(), heads.tolist(), new_flows, all_caps.tolist(), all_costs.tolist(), is_pair.tolist())
    result = flow.copy()
    result[order] = new_flows[n_hub:]
    return result


def _cancel_cycles(
    tails: list[int], heads: list[int], flows: list[int], caps: list[int], costs: list[int], is_pair: list[bool]
) -> None:
    """Add arcs one by one to a forest; an arc that closes a cycle triggers a push around that cycle.

    The forest is kept as rooted trees (each node's arc towards its root), so that the path between two
    nodes is found by climbing from both to where they meet, and dropping an arc just cuts the tree there.
    Paths in a forest are unique, so the result does not depend on how the trees happen to be rooted.
    """
    up: dict[int, int] = {}  # node -> the forest arc towards its root; roots are absent
    par: dict[int, int] = {}  # node -> the node at the other end of that arc
    budget = WORK_PER_ARC * len(tails)

    def climb(node: int) -> list[int]:
        """The nodes from `node` up to its root, both included."""
        nodes = [node]
        while (node := par.get(node, -1)) >= 0:
            nodes.append(node)
        return nodes

    def hang(a: int, nodes: list[int], above: int) -> None:
        """Make nodes[0] the root of its tree (turning the arcs on the way up), then hang it from `above`."""
        for i in range(len(nodes) - 1, 0, -1):
            up[nodes[i]] = up.pop(nodes[i - 1])
            par[nodes[i]] = nodes[i - 1]
        up[nodes[0]] = a
        par[nodes[0]] = above

    def cut(a: int) -> None:
        below = tails[a] if up.get(tails[a]) == a else heads[a]
        del up[below], par[below]

    def join(a: int, from_u: list[int], from_v: list[int]) -> None:
        """Link arc a between two trees, re-rooting the side with the shorter way up."""
        if len(from_u) <= len(from_v):
            hang(a, from_u, from_v[0])
        else:
            hang(a, from_v, from_u[0])

    for a in range(len(tails)):
        u, v = tails[a], heads[a]
        from_u, from_v = climb(u), climb(v)
        budget -= len(from_u) + len(from_v)
        if budget < 0:
            return
        if from_u[-1] != from_v[-1]:
            join(a, from_u, from_v)
            continue
        # Both in one tree: the forest path u -> meet -> v, as (arc, traversed tail-to-head).
        on_u = {node: i for i, node in enumerate(from_u)}
        j = 0
        while from_v[j] not in on_u:
            j += 1
        path = [(up[x], tails[up[x]] == x) for x in from_u[: on_u[from_v[j]]]]
        path += [(up[x], tails[up[x]] != x) for x in reversed(from_v[:j])]
        # The cycle: u -> ... -> v along the forest, then back from v to u against arc a.
        cycle = [*path, (a, False)]
        if sum(costs[b] if forward else -costs[b] for b, forward in cycle) != 0:
            continue  # cannot happen at an optimum; never trade lateness for fewer pairs
        push, sign = _best_push(cycle, flows, caps, is_pair)
        for b, forward in cycle:
            flows[b] += push if forward == (sign > 0) else -push
        for b, _ in path:
            if flows[b] in (0, caps[b]):
                cut(b)
        if 0 < flows[a] < caps[a]:
            from_u, from_v = climb(u), climb(v)
            budget -= len(from_u) + len(from_v)
            join(a, from_u, from_v)


def _best_push(
    cycle: list[tuple[int, bool]], flows: list[int], caps: list[int], is_pair: list[bool]
) -> tuple[int, int]:
    """Units and direction (+1 along the cycle, -1 against) to push; prefers emptying an offer-requirement pair."""
    options = []
    for sign in (1, -1):
        room = [caps[b] - flows[b] if forward == (sign > 0) else flows[b] for b, forward in cycle]
        push = min(room)
        empties_pair = any(
            r == push and is_pair[b] and forward != (sign > 0)
            for r, (b, forward) in zip(room, cycle, strict=True)
        )
        options.append((not empties_pair, sign == -1, push, sign))
    _, _, push, sign = min(options)
    return push, sign
