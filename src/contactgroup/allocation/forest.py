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

from collections import deque

import numpy as np

from contactgroup.allocation.explanation import sum_by
from contactgroup.allocation.network import Ints, Network

# At most this many node visits per free arc, in total, are spent looking for cycles.
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

    tails: list[int] = []
    heads: list[int] = []
    flows: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    pair_of_arc: list[int] = []

    def arc(tail: int, head: int, units: int, cap: int, cost: int, pair: int) -> None:
        tails.append(tail)
        heads.append(head)
        flows.append(units)
        caps.append(cap)
        costs.append(cost)
        pair_of_arc.append(pair)

    # Source and level arcs first, then pairs by decreasing units: the earlier an arc, the likelier it stays.
    offer_group = np.zeros(n_offers, np.int64)
    offer_group[net.pair_offer[carried]] = group[net.pair_req[carried]]
    partly_used = np.flatnonzero((out > 0) & (out < net.offer_free))
    for o, g, units, cap in zip(
        partly_used.tolist(),
        offer_group[partly_used].tolist(),
        out[partly_used].tolist(),
        net.offer_free[partly_used].tolist(),
        strict=True,
    ):
        arc(first_source + g, o, units, cap, 0, -1)
    partly_met = np.flatnonzero((got > 0) & (got < net.req_need))
    for r, g, k, units, cap in zip(
        partly_met.tolist(),
        group[partly_met].tolist(),
        net.req_level[partly_met].tolist(),
        got[partly_met].tolist(),
        net.req_need[partly_met].tolist(),
        strict=True,
    ):
        arc(n_offers + r, first_level + g * n_levels + k, units, cap, 0, -1)
    order = carried[np.lexsort((carried, -flow[carried]))]
    for p, o, r, units, cap, late in zip(
        order.tolist(),
        net.pair_offer[order].tolist(),
        net.pair_req[order].tolist(),
        flow[order].tolist(),
        np.minimum(net.offer_free[net.pair_offer[order]], net.req_need[net.pair_req[order]]).tolist(),
        net.pair_late[order].tolist(),
        strict=True,
    ):
        arc(o, n_offers + r, units, cap, late, p)

    _cancel_cycles(tails, heads, flows, caps, costs, pair_of_arc)
    result = flow.copy()
    for a, p in enumerate(pair_of_arc):
        if p >= 0:
            result[p] = flows[a]
    return result


def _cancel_cycles(
    tails: list[int], heads: list[int], flows: list[int], caps: list[int], costs: list[int], pair_of_arc: list[int]
) -> None:
    """Add arcs one by one to a forest; an arc that closes a cycle triggers a push around that cycle."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        # A union-find that never splits: it may call two nodes connected after a forest arc was dropped,
        # in which case the search below finds no path and the arc simply joins the forest.
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    forest: dict[int, set[int]] = {}
    budget = WORK_PER_ARC * len(tails)

    def link(a: int) -> None:
        forest.setdefault(tails[a], set()).add(a)
        forest.setdefault(heads[a], set()).add(a)

    def unlink(a: int) -> None:
        forest[tails[a]].discard(a)
        forest[heads[a]].discard(a)

    for a in range(len(tails)):
        u, v = tails[a], heads[a]
        ru, rv = root(u), root(v)
        if ru != rv:
            parent[ru] = rv
            link(a)
            continue
        path, visited = _path(forest, tails, heads, u, v)
        budget -= visited
        if budget < 0:
            return
        if path is None:
            link(a)
            continue
        # The cycle: u → ... → v along the forest, then back from v to u against arc a.
        cycle = [*path, (a, False)]
        if sum(costs[b] if forward else -costs[b] for b, forward in cycle) != 0:
            continue  # cannot happen at an optimum; never trade lateness for fewer pairs
        push, sign = _best_push(cycle, flows, caps, pair_of_arc)
        for b, forward in cycle:
            flows[b] += push if forward == (sign > 0) else -push
        for b, _ in path:
            if flows[b] in (0, caps[b]):
                unlink(b)
        if 0 < flows[a] < caps[a]:
            link(a)


def _path(
    forest: dict[int, set[int]], tails: list[int], heads: list[int], start: int, goal: int
) -> tuple[list[tuple[int, bool]] | None, int]:
    """Forest arcs from `start` to `goal` as (arc, traversed tail-to-head), and the number of nodes seen."""
    came: dict[int, tuple[int, int, bool]] = {start: (-1, -1, True)}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path: list[tuple[int, bool]] = []
            while node != start:
                previous, a, forward = came[node]
                path.append((a, forward))
                node = previous
            path.reverse()
            return path, len(came)
        for a in sorted(forest.get(node, ())):
            forward = tails[a] == node
            nxt = heads[a] if forward else tails[a]
            if nxt not in came:
                came[nxt] = (node, a, forward)
                queue.append(nxt)
    return None, len(came)


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
