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
from contactgroup.allocation.network import Flags, Ints

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


def merge_pairs(
    flow: Ints, late: Ints, fixed: Flags, pair_offer: Ints, pair_req: Ints, offer_spare: Ints
) -> Ints:
    """`flow` per pair of one part, with requirements that draw from several offers merged where an exchange
    allows it at the same lateness.

    For a requirement R drawing from offers B and A, B's units on R move to A; A makes room from its spare
    units or by handing as many units of another requirement R' to B. The move is taken only when it keeps
    every requirement's units and the total lateness, and uses fewer pairs. Pairs in `fixed` (earlier
    proposals) are never touched. This finds the exchanges the forest step cannot see, because they pass
    through a pair that carries nothing yet; work is bounded like the forest's.
    """
    carried = np.flatnonzero((flow > 0) & ~fixed)
    per_req = np.bincount(pair_req[carried], minlength=int(pair_req.max()) + 1 if len(pair_req) else 0)
    if len(carried) < 2 or not (per_req > 1).any():
        return flow
    units = flow.tolist()
    lateness, is_fixed = late.tolist(), fixed.tolist()
    offers, reqs = pair_offer.tolist(), pair_req.tolist()
    spare = offer_spare.tolist()
    at = {(o, r): p for p, (o, r) in enumerate(zip(offers, reqs, strict=True))}
    of_req: dict[int, list[int]] = {}
    of_offer: dict[int, list[int]] = {}
    for p in carried.tolist():
        of_req.setdefault(reqs[p], []).append(p)
        of_offer.setdefault(offers[p], []).append(p)
    budget = WORK_PER_ARC * len(units)

    def move(p: int, units_: int) -> None:
        units[p] += units_
        for index, key in ((of_req, reqs[p]), (of_offer, offers[p])):
            listed = index.setdefault(key, [])
            if units[p] == 0:
                listed.remove(p)
            elif p not in listed:
                listed.append(p)

    for r in sorted(k for k, v in of_req.items() if len(v) > 1):
        for e in sorted(of_req[r], key=lambda p: (units[p], p)):
            f = units[e]
            if f == 0 or len(of_req[r]) < 2:
                continue
            b = offers[e]
            for a_pair in sorted(of_req[r]):
                budget -= 1
                if budget < 0:
                    return np.asarray(units, np.int64)
                a = offers[a_pair]
                if a_pair == e or lateness[a_pair] != lateness[e]:
                    continue
                if spare[a] >= f:
                    move(a_pair, f)
                    move(e, -f)
                    spare[a] -= f
                    spare[b] += f
                    break
                need = f - spare[a]
                done = False
                for other in sorted(of_offer.get(a, [])):
                    budget -= 1
                    r2 = reqs[other]
                    swap = at.get((b, r2))
                    if r2 == r or units[other] < need or swap is None or is_fixed[swap]:
                        continue
                    if lateness[swap] != lateness[other]:
                        continue
                    change = -1 + (0 if units[swap] > 0 else 1) - (1 if units[other] == need else 0)
                    if change < 0:
                        for p, delta in ((a_pair, f), (e, -f), (other, -need), (swap, need)):
                            move(p, delta)
                        spare[a] = 0
                        spare[b] += f - need
                        done = True
                        break
                if done:
                    break
    return np.asarray(units, np.int64)
