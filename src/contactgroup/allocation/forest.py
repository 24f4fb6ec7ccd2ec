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
from contactgroup.allocation.network import Ints, Network

# At most this many steps through the forest per free arc, in total, are spent looking for cycles.
WORK_PER_ARC = 16


def untangle(net: Network, flow: Ints) -> Ints:
    """`flow` with cycles of free arcs cancelled, preferring to empty offer-requirement pairs."""
    carried = np.flatnonzero(flow > 0)
    if len(carried) < 2:
        return flow
    n_offers, n_reqs = len(net.offers), len(net.requirements)
    out = sum_by(net.pair_offer, flow, n_offers)
    got = sum_by(net.pair_req, flow, n_reqs)
    # Each independent part gets its own source and level nodes: a simple cycle cannot leave its part
    # (it would have to pass the shared source twice), so this is exact and keeps searches small.
    group = net.req_group
    first_source = n_offers + n_reqs
    first_level = first_source + (int(group.max()) + 1 if n_reqs else 0)
    n_levels = len(net.levels)

    # Source and level arcs first, then pairs by decreasing units: the earlier an arc, the likelier it stays.
    offer_group = np.zeros(n_offers, np.int64)
    offer_group[net.pair_offer[carried]] = group[net.pair_req[carried]]
    partly_used = np.flatnonzero((out > 0) & (out < net.offer_free))
    partly_met = np.flatnonzero((got > 0) & (got < net.req_need))
    order = carried[np.lexsort((carried, -flow[carried]))]
    pair_offer, pair_req = net.pair_offer[order], net.pair_req[order]
    n_hub = len(partly_used) + len(partly_met)
    tails = np.concatenate([first_source + offer_group[partly_used], n_offers + partly_met, pair_offer])
    heads = np.concatenate(
        [partly_used, first_level + group[partly_met] * n_levels + net.req_level[partly_met], n_offers + pair_req]
    )
    flows = np.concatenate([out[partly_used], got[partly_met], flow[order]])
    caps = np.concatenate(
        [
            net.offer_free[partly_used],
            net.req_need[partly_met],
            np.minimum(net.offer_free[pair_offer], net.req_need[pair_req]),
        ]
    )
    costs = np.concatenate([np.zeros(n_hub, np.int64), net.pair_late[order]])
    pair_of_arc = np.concatenate([np.full(n_hub, -1, np.int64), order])

    new_flows = flows.tolist()
    _cancel_cycles(tails.tolist(), heads.tolist(), new_flows, caps.tolist(), costs.tolist(), pair_of_arc.tolist())
    result = flow.copy()
    result[order] = new_flows[n_hub:]
    return result


def _cancel_cycles(
    tails: list[int], heads: list[int], flows: list[int], caps: list[int], costs: list[int], pair_of_arc: list[int]
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
        push, sign = _best_push(cycle, flows, caps, pair_of_arc)
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
    cycle: list[tuple[int, bool]], flows: list[int], caps: list[int], pair_of_arc: list[int]
) -> tuple[int, int]:
    """Units and direction (+1 along the cycle, -1 against) to push; prefers emptying an offer-requirement pair."""
    options = []
    for sign in (1, -1):
        room = [caps[b] - flows[b] if forward == (sign > 0) else flows[b] for b, forward in cycle]
        push = min(room)
        empties_pair = any(
            r == push and pair_of_arc[b] >= 0 and forward != (sign > 0)
            for r, (b, forward) in zip(room, cycle, strict=True)
        )
        options.append((not empties_pair, sign == -1, push, sign))
    _, _, push, sign = min(options)
    return push, sign
