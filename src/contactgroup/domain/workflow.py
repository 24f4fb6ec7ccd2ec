"""Lifecycles as tables: which status may follow which (an illegal move is an `InvalidTransition`), and which
verbs a user may say to move an object (verb -> event -> permission -> status), so that the services, the CLI's
choices and the web's buttons read one table."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from contactgroup.domain.errors import InvalidTransition, ValidationFailed
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


# --- the verbs of each lifecycle ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Action:
    """What a verb does: the event it records, the permission it needs (see `services.access.POLICY`), the status
    it moves to, and the name a refusal gives it (`offer:commit` is checked as `offer:enter`). A verb that `stays`
    moves nothing: it applies to objects already in status `to`."""

    event: str
    permission: str
    to: enum.Enum
    named: str
    stays: bool = False

    def applies(self, table: Mapping[Any, frozenset[Any]], current: enum.Enum) -> bool:
        """Whether the lifecycle `table` lets this verb be said to an object in status `current`."""
        return current is self.to if self.stays else self.to in table[current]


class RequirementAction(enum.StrEnum):
    SUBMIT = "submit"
    RETURN = "return"
    VALIDATE = "validate"
    OPEN = "open"
    CLOSE = "close"
    CANCEL = "cancel"


class OfferAction(enum.StrEnum):
    MAKE = "make"
    COMMIT = "commit"
    WITHDRAW = "withdraw"


class AllocationAction(enum.StrEnum):
    ACCEPT = "accept"
    CONFIRM = "confirm"
    DECLINE = "decline"
    REOPEN = "reopen"
    RELEASE_OWED = "release-owed"


class ConsentAction(enum.StrEnum):
    GRANT = "grant"
    REFUSE = "refuse"


class ShipmentAction(enum.StrEnum):
    """Tracking steps of a shipment; its receipt is a command of its own (it carries the discrepancies)."""

    HUB = "hub"
    HANDOVER = "handover"


def _req(event: str, verb: str, to: R) -> Action:
    return Action(event, f"requirement:{verb}", to, f"requirement:{verb}")


REQUIREMENT_ACTIONS: Mapping[RequirementAction, Action] = {
    RequirementAction.SUBMIT: _req("RequirementSubmitted", "submit", R.SUBMITTED),
    RequirementAction.RETURN: _req("RequirementReturned", "return", R.DRAFT),
    RequirementAction.VALIDATE: _req("RequirementValidated", "validate", R.VALIDATED),
    RequirementAction.OPEN: _req("RequirementOpened", "open", R.OPEN),
    RequirementAction.CLOSE: _req("RequirementClosed", "close", R.CLOSED),
    RequirementAction.CANCEL: _req("RequirementCancelled", "cancel", R.CANCELLED),
}

# A desk enters, makes, commits and withdraws its member's offers under one permission.
OFFER_ACTIONS: Mapping[OfferAction, Action] = {
    OfferAction.MAKE: Action("OfferMade", "offer:enter", O.OFFERED, "offer:make"),
    OfferAction.COMMIT: Action("OfferCommitted", "offer:enter", O.COMMITTED, "offer:commit"),
    OfferAction.WITHDRAW: Action("OfferWithdrawn", "offer:enter", O.WITHDRAWN, "offer:withdraw"),
}

# `accept` is the donor's desk's step, then the recipient liaison's: `RECIPIENT_ACCEPTANCE` is the second.
ALLOCATION_ACTIONS: Mapping[AllocationAction, Action] = {
    AllocationAction.ACCEPT: Action("AllocationAcceptedByDonor", "allocation:accept-donor", A.ACCEPTED_BY_DONOR,
                                    "allocation:accept-donor"),
    AllocationAction.CONFIRM: Action("AllocationConfirmed", "allocation:confirm", A.CONFIRMED,
                                     "allocation:confirm"),
    AllocationAction.DECLINE: Action("AllocationDeclined", "allocation:decline", A.DECLINED, "allocation:decline"),
    # Neither moves the status: a reopened pair stays declined (a new plan may propose it again), and releasing
    # owed units leaves the allocation confirmed for fewer units.
    AllocationAction.REOPEN: Action("AllocationReopened", "allocation:reopen", A.DECLINED, "allocation:reopen",
                                    stays=True),
    AllocationAction.RELEASE_OWED: Action("AllocationOwedReleased", "allocation:release-owed", A.CONFIRMED,
                                          "allocation:release-owed", stays=True),
}
RECIPIENT_ACCEPTANCE = Action("AllocationAcceptedByRecipient", "allocation:accept-recipient",
                              A.ACCEPTED_BY_RECIPIENT, "allocation:accept-recipient")

CONSENT_ACTIONS: Mapping[ConsentAction, Action] = {
    ConsentAction.GRANT: Action("ConsentGranted", "consent:decide", C.GRANTED, "consent:decide"),
    ConsentAction.REFUSE: Action("ConsentRefused", "consent:decide", C.REFUSED, "consent:decide"),
}

SHIPMENT_ACTIONS: Mapping[ShipmentAction, Action] = {
    ShipmentAction.HUB: Action("ShipmentReachedHub", "delivery:ship", D.AT_HUB, "delivery:track"),
    ShipmentAction.HANDOVER: Action("ShipmentHandedOver", "delivery:ship", D.HANDED_OVER, "delivery:track"),
}

E = TypeVar("E", bound=enum.StrEnum)


def choices(verbs: type[enum.StrEnum]) -> str:
    """The verbs as a person reads them: `make, commit or withdraw`."""
    words = [v.value for v in verbs]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def parse_action(verbs: type[E], text: str, *, what: str = "action") -> E:
    """The verb `text` names; an unknown one is refused as bad input (never a KeyError)."""
    try:
        return verbs(text)
    except ValueError:
        raise ValidationFailed(f"unknown {what} {text!r}: use {choices(verbs)}", code="unknown-action",
                               action=text, choices=tuple(v.value for v in verbs)) from None
