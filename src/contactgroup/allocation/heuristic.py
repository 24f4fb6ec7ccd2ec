"""The spreadsheet way, for comparison: fill requirements top-down, each from its earliest-arriving offers."""

from __future__ import annotations

import numpy as np

from contactgroup.allocation.explanation import explain
from contactgroup.allocation.network import Ints, Network, build
from contactgroup.allocation.plan import Plan
from contactgroup.allocation.problem import AllocationProblem
from contactgroup.allocation.validation import check


def greedy(problem: AllocationProblem) -> Plan:
    """The top-down fill: by priority then id, each requirement takes from its least-late offers first."""
    check(problem)
    net = build(problem)
    return explain(net, greedy_flow(net), method="greedy")


def greedy_flow(net: Network) -> Ints:
    usable = np.flatnonzero(net.usable)
    order = usable[np.lexsort((net.pair_offer[usable], net.pair_late[usable], net.pair_req[usable]))]
    free = net.offer_free.tolist()
    need = net.req_need.tolist()
    flow = np.zeros(len(net.pair_req), np.int64)
    for at, r, o in zip(order.tolist(), net.pair_req[order].tolist(), net.pair_offer[order].tolist(), strict=True):
        wanted = need[r]
        if wanted == 0:
            continue
        units = min(wanted, free[o])
        if units:
            flow[at] = units
            need[r] = wanted - units
            free[o] -= units
    return flow
