"""Lifecycles as tables: which status may follow which. An illegal move is an `InvalidTransition`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from contactgroup.domain.errors import InvalidTransition
from contactgroup.domain.model import (
    AllocationStatus as A,
)
from contactgroup.domain.model import (
    ConsentStatus as C,
)
from contactgroup.domain.model import (
    DeliveryStatus as D,
)
from contactgroup.domain.model import (
    OfferStatus as O,
)
from contactgroup.domain.model import (
    ProposalStatus as P,
)
from contactgroup.domain.model import (
    RequirementStatus as R,
)

S = TypeVar("S", bound=enum.Enum)

REQUIREMENT: Mapping[R, frozenset[R]] = {
    R.DRAFT: frozenset({R.SUBMITTED, R.CANCELLED}),
    R.SUBMITTED: frozenset({R.VALIDATED, R.DRAFT, R.CANCELLED}),
    R.VALIDATED: frozenset({R.OPEN, R.CANCELLED}),
    R.OPEN: frozenset({R.PARTIALLY_MET, R.MET, R.CANCELLED}),
    R.PARTIALLY_MET: frozenset({R.OPEN, R.MET, R.CLOSED, R.CANCELLED}),
    R.MET: frozenset({R.PARTIALLY_MET, R.CLOSED}),
    R.CLOSED: frozenset(),
    R.CANCELLED: frozenset(),
}

OFFER: Mapping[O, frozenset[O]] = {
    O.DRAFT: frozenset({O.OFFERED, O.WITHDRAWN}),
    O.OFFERED: frozenset({O.COMMITTED, O.WITHDRAWN}),
    O.COMMITTED: frozenset({O.ALLOCATED, O.WITHDRAWN}),
    O.ALLOCATED: frozenset({O.IN_DELIVERY}),
    O.IN_DELIVERY: frozenset({O.DELIVERED}),
    O.DELIVERED: frozenset(),
    O.WITHDRAWN: frozenset(),
}

ALLOCATION: Mapping[A, frozenset[A]] = {
    A.PROPOSED: frozenset({A.ACCEPTED_BY_DONOR, A.DECLINED}),
    A.ACCEPTED_BY_DONOR: frozenset({A.ACCEPTED_BY_RECIPIENT, A.DECLINED}),
    A.ACCEPTED_BY_RECIPIENT: frozenset({A.CONFIRMED, A.DECLINED}),
    A.CONFIRMED: frozenset(),  # confirmed allocations are pinned
    A.DECLINED: frozenset(),
}

CONSENT: Mapping[C, frozenset[C]] = {
    C.REQUESTED: frozenset({C.GRANTED, C.REFUSED}),
    C.GRANTED: frozenset(),
    C.REFUSED: frozenset(),
}

DELIVERY: Mapping[D, frozenset[D]] = {
    D.DISPATCHED: frozenset({D.AT_HUB, D.HANDED_OVER, D.RECEIVED}),
    D.AT_HUB: frozenset({D.HANDED_OVER, D.RECEIVED}),
    D.HANDED_OVER: frozenset({D.RECEIVED}),
    D.RECEIVED: frozenset(),
}

PROPOSAL: Mapping[P, frozenset[P]] = {
    P.OPEN: frozenset({P.EFFECTIVE, P.WITHDRAWN}),
    P.EFFECTIVE: frozenset(),
    P.WITHDRAWN: frozenset(),
}


def check(table: Mapping[S, frozenset[S]], kind: str, ident: str, current: S, to: S) -> S:
    """Return `to` if the table allows `current -> to`, else raise an error naming the object and both states."""
    if to not in table[current]:
        raise InvalidTransition(kind, ident, str(current.value), str(to.value))
    return to
