"""Events: the only way state changes. `evolve(state, event)` applies one; the catalogue is `docs/events.md`.

An event names what happened (past tense), carries plain JSON data, and says who did it, for whom,
under which coordinating authority and when.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from contactgroup.domain import workflow
from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import (
    WITNESSES,
    Allocation,
    AllocationStatus,
    Approval,
    Authority,
    BorderRule,
    Coalition,
    Consent,
    ConsentStatus,
    Contribution,
    Delivery,
    DeliveryStatus,
    Fund,
    Gdp,
    IatiOrganisation,
    Item,
    ItemClass,
    KeyStatus,
    Leg,
    Member,
    MemberKey,
    MovementPermission,
    Offer,
    OfferStatus,
    Place,
    Proposal,
    ProposalStatus,
    QuorumRule,
    Rate,
    Requirement,
    RequirementStatus,
    Setting,
    ShipmentPosition,
    TrackedAid,
    TrackedDonor,
    TransitTime,
    User,
    Witness,
    Zone,
)
from contactgroup.domain.state import State, as_data, from_data


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: Mapping[str, Any]
    actor: str
    party: str  # the member, recipient or authority the actor acted for
    authority: str  # the coordinating authority in office when it happened
    at: datetime

    def envelope(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "data": dict(self.data),
            "actor": self.actor,
            "party": self.party,
            "authority": self.authority,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True)
class Context:
    """Who acts, for whom, under which authority, and when: stamped on every event a command produces."""

    actor: str
    party: str
    authority: str
    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("Context.at must be an aware datetime")

    @property
    def today(self) -> date:
        return self.at.astimezone(UTC).date()

    def event(self, type_: str, data: Mapping[str, Any]) -> Event:
        if type_ not in HANDLERS:
            raise KeyError(f"unknown event type {type_}")
        return Event(type_, data, self.actor, self.party, self.authority, self.at)


# Entity-creating events: their data is the whole entity.
CREATES: Mapping[str, type[Any]] = {
    "MemberAdmitted": Member,
    "GdpRecorded": Gdp,
    "UserRegistered": User,
    "CoalitionFormed": Coalition,
    "ItemCatalogued": Item,
    "ItemClassDefined": ItemClass,
    "RequirementDrafted": Requirement,
    "OfferDrafted": Offer,
    "FundCreated": Fund,
    "ContributionPledged": Contribution,
    "AllocationProposed": Allocation,
    "ConsentRequested": Consent,
    "ShipmentDispatched": Delivery,
    "AidTracked": TrackedAid,
    "RateRecorded": Rate,
    "SettingChanged": Setting,
    "MemberKeyRegistered": MemberKey,
    "ProposalMade": Proposal,
    "ProposalApproved": Approval,
    "TransitTimeSet": TransitTime,
    "WitnessAdded": Witness,
    "QuorumRuleSet": QuorumRule,
    "PlaceDefined": Place,
    "LegSet": Leg,
    "BorderRuleSet": BorderRule,
    "ZoneDeclared": Zone,
    "DonorTracked": TrackedDonor,
    "IatiIdentifierRecorded": IatiOrganisation,
    # A permission's three events each carry it whole, with its new status (`services/movement.py` checks the move).
    "MovementPermissionRequested": MovementPermission,
    "MovementPermissionGranted": MovementPermission,
    "MovementPermissionRefused": MovementPermission,
    "ShipmentReachedPlace": ShipmentPosition,  # a later one for the same shipment replaces it
}

# Status events: (table, new status); data is {"id": ..., plus fields that change with the status}.
MOVES: Mapping[str, tuple[str, Any]] = {
    "RequirementSubmitted": ("requirements", RequirementStatus.SUBMITTED),
    "RequirementReturned": ("requirements", RequirementStatus.DRAFT),
    "RequirementValidated": ("requirements", RequirementStatus.VALIDATED),
    "RequirementOpened": ("requirements", RequirementStatus.OPEN),
    "RequirementClosed": ("requirements", RequirementStatus.CLOSED),
    "RequirementCancelled": ("requirements", RequirementStatus.CANCELLED),
    "OfferMade": ("offers", OfferStatus.OFFERED),
    "OfferCommitted": ("offers", OfferStatus.COMMITTED),
    "OfferWithdrawn": ("offers", OfferStatus.WITHDRAWN),
    "AllocationAcceptedByDonor": ("allocations", AllocationStatus.ACCEPTED_BY_DONOR),
    "AllocationAcceptedByRecipient": ("allocations", AllocationStatus.ACCEPTED_BY_RECIPIENT),
    "AllocationConfirmed": ("allocations", AllocationStatus.CONFIRMED),
    "AllocationDeclined": ("allocations", AllocationStatus.DECLINED),
    "ConsentGranted": ("consents", ConsentStatus.GRANTED),
    "ConsentRefused": ("consents", ConsentStatus.REFUSED),
    "ShipmentReachedHub": ("deliveries", DeliveryStatus.AT_HUB),
    "ShipmentHandedOver": ("deliveries", DeliveryStatus.HANDED_OVER),
    "ShipmentReceived": ("deliveries", DeliveryStatus.RECEIVED),
    "ProposalWithdrawn": ("proposals", ProposalStatus.WITHDRAWN),
    "ProposalEnacted": ("proposals", ProposalStatus.EFFECTIVE),
}
TABLE_WORKFLOW: Mapping[str, tuple[str, Mapping[Any, frozenset[Any]]]] = {
    "requirements": ("requirement", workflow.REQUIREMENT),
    "offers": ("offer", workflow.OFFER),
    "allocations": ("allocation", workflow.ALLOCATION),
    "consents": ("consent", workflow.CONSENT),
    "deliveries": ("delivery", workflow.DELIVERY),
    "proposals": ("proposal", workflow.PROPOSAL),
}


def _create(state: State, event: Event) -> None:
    state.put(from_data(CREATES[event.type], event.data))


def _move(state: State, event: Event) -> None:
    table, status = MOVES[event.type]
    ident = event.data["id"]
    current = state.tables[table][ident]
    kind, table_rules = TABLE_WORKFLOW[table]
    workflow.check(table_rules, kind, ident, current.status, status)
    changes = {k: v for k, v in event.data.items() if k != "id"}
    merged = {**as_data(current), **changes, "status": status.value}
    state.put(from_data(type(current), merged))
    for follow in FOLLOW_UPS.get(event.type, ()):
        follow(state, event)


def _reprioritised(state: State, event: Event) -> None:
    req = state.requirements[event.data["id"]]
    state.put(dataclasses.replace(req, priority=int(event.data["priority"])))


# Amendments: data {"id" (or "code", "name"), "old": {field: value}, "new": {field: value}}, only the fields that
# changed, so that a reader of the record sees what was there before without replaying it.
def _amended(table: str, key: str) -> Callable[[State, Event], None]:
    def apply(state: State, event: Event) -> None:
        current = state.tables[table][event.data[key]]
        state.put(from_data(type(current), {**as_data(current), **event.data["new"]}))
        settle = SETTLED_AFTER_AMENDMENT.get(table)
        if settle is not None:
            settle(state, event.data[key])

    return apply


def _user_active(active: bool) -> Callable[[State, Event], None]:
    def apply(state: State, event: Event) -> None:
        state.put(dataclasses.replace(state.users[event.data["name"]], active=active))

    return apply


def _key_revoked(state: State, event: Event) -> None:
    key = state.member_keys[event.data["key"]]
    state.put(dataclasses.replace(key, status=KeyStatus.REVOKED, revoked_at=event.at))


def _member_left(state: State, event: Event) -> None:
    state.put(dataclasses.replace(state.members[event.data["code"]], active=False))


def _leads_changed(state: State, event: Event) -> None:
    state.put(dataclasses.replace(state.coalitions[event.data["area"]], leads=tuple(event.data["leads"])))


def _authority_handed_over(state: State, event: Event) -> None:
    current = state.authority
    if current is not None:
        state.put(dataclasses.replace(current, until=event.at))
    state.put(Authority(name=event.data["to"], since=event.at))


def _witness_removed(state: State, event: Event) -> None:
    state.put(dataclasses.replace(state.witnesses[event.data["name"]], active=False))


def _founded(state: State, event: Event) -> None:
    state.put(Setting("recipient", event.data["recipient"]))
    state.put(Setting("origin", event.data["origin"]))
    state.put(Authority(name=event.data["authority"], since=datetime.fromisoformat(event.data["at"])))


# Follow-ups: consequences that a status event has on other entities, derived here so they cannot be forgotten.
def _settle_requirement(state: State, req_id: str) -> None:
    req = state.requirements[req_id]
    if req.status not in (RequirementStatus.OPEN, RequirementStatus.PARTIALLY_MET, RequirementStatus.MET):
        return
    confirmed = state.confirmed_of_requirement(req_id)
    if confirmed >= req.quantity:
        target = RequirementStatus.MET
    elif confirmed > 0:
        target = RequirementStatus.PARTIALLY_MET
    else:
        target = RequirementStatus.OPEN
    if target is not req.status:
        workflow.check(workflow.REQUIREMENT, "requirement", req_id, req.status, target)
        state.put(dataclasses.replace(req, status=target))


def _after_confirmed(state: State, event: Event) -> None:
    alloc = state.allocations[event.data["id"]]
    offer = state.offers[alloc.offer]
    if offer.status is OfferStatus.OFFERED:
        offer = dataclasses.replace(offer, status=OfferStatus.COMMITTED, committed_on=event.at.date())
    if offer.status is OfferStatus.COMMITTED:
        offer = dataclasses.replace(offer, status=OfferStatus.ALLOCATED)
    state.put(offer)
    _settle_requirement(state, alloc.requirement)


def _after_dispatched(state: State, event: Event) -> None:
    offer = state.offers[state.allocations[event.data["allocation"]].offer]
    if offer.status is OfferStatus.ALLOCATED:
        state.put(dataclasses.replace(offer, status=OfferStatus.IN_DELIVERY))


def _settle_offer(state: State, offer_id: str) -> None:
    """Delivered once every confirmed unit arrived in good order (none owed: units short, damaged or of the wrong
    item stay owed until replaced or released) and the confirmed units (with those released) are all it offers —
    after a receipt, a release, or an amendment down to what was received. A proposal still pending keeps it in
    delivery: once confirmed, its units will be owed."""
    confirmed = [a for a in state.allocations_of_offer(offer_id) if a.status is AllocationStatus.CONFIRMED]
    offer = state.offers[offer_id]
    if (
        offer.status is OfferStatus.IN_DELIVERY
        and all(state.shipped(a.id).received >= a.quantity for a in confirmed)
        and sum(a.quantity + a.released for a in confirmed) >= offer.quantity
    ):
        state.put(dataclasses.replace(offer, status=OfferStatus.DELIVERED))


def _after_received(state: State, event: Event) -> None:
    _settle_offer(state, state.allocations[state.deliveries[event.data["id"]].allocation].offer)


def _after_declined(state: State, event: Event) -> None:
    alloc = state.allocations[event.data["id"]]
    state.put(dataclasses.replace(alloc, declined_on=event.at.astimezone(UTC).date(), declined_by=event.party))


def _reopened(state: State, event: Event) -> None:
    alloc = state.allocations[event.data["id"]]
    if alloc.status is not AllocationStatus.DECLINED or alloc.superseded or alloc.reopened:
        raise ValidationFailed(f"allocation {alloc.id} is not a declined pair to reopen", where="event")
    state.put(dataclasses.replace(alloc, reopened=True))


def _owed_released(state: State, event: Event) -> None:
    alloc = state.allocations[event.data["id"]]
    units = int(event.data["units"])
    if alloc.status is not AllocationStatus.CONFIRMED or not 0 < units <= state.shipped(alloc.id).owed:
        raise ValidationFailed(f"allocation {alloc.id} does not owe {units} units", where="event")
    state.put(dataclasses.replace(alloc, quantity=alloc.quantity - units, released=alloc.released + units))
    _settle_requirement(state, alloc.requirement)
    _settle_offer(state, alloc.offer)


# An amendment of a quantity settles what the quantity decides: a requirement met or not, an offer delivered.
SETTLED_AFTER_AMENDMENT: Mapping[str, Callable[[State, str], None]] = {
    "requirements": _settle_requirement,
    "offers": _settle_offer,
}

FOLLOW_UPS: Mapping[str, tuple[Callable[[State, Event], None], ...]] = {
    "AllocationConfirmed": (_after_confirmed,),
    "ShipmentReceived": (_after_received,),
    "AllocationDeclined": (_after_declined,),
}

HANDLERS: dict[str, Callable[[State, Event], None]] = {
    **dict.fromkeys(CREATES, _create),
    **dict.fromkeys(MOVES, _move),
    "CoordinationFounded": _founded,
    "RequirementReprioritised": _reprioritised,
    "MemberKeyRevoked": _key_revoked,
    "MemberLeft": _member_left,
    "CoalitionLeadsChanged": _leads_changed,
    "AuthorityHandedOver": _authority_handed_over,
    "WitnessRemoved": _witness_removed,
    "RequirementAmended": _amended("requirements", "id"),
    "OfferAmended": _amended("offers", "id"),
    "ItemClassChanged": _amended("item_classes", "code"),
    "UserRoleChanged": _amended("users", "name"),
    "UserDisabled": _user_active(False),
    "UserEnabled": _user_active(True),
    "AllocationReopened": _reopened,
    "AllocationOwedReleased": _owed_released,
}


def _dispatched(state: State, event: Event) -> None:
    _create(state, event)
    _after_dispatched(state, event)


HANDLERS["ShipmentDispatched"] = _dispatched


# Settings that were concepts: logs written before transit times, witnesses and quorum rules had events of their
# own recorded them as `SettingChanged` with these names. Their bytes stay as they are (the tree holds them);
# `upcast` reads them as the events that replaced them.
TRANSIT_PREFIX = "transit:"  # transit:ORIGIN:DESTINATION = days
WITNESS_PREFIX = "witness:"  # witness:NAME = key text, "" = removed
WITNESS_QUORUM_SETTING = "witness_quorum"  # = how many witnesses must cosign
QUORUM_PREFIX = "quorum:"  # quorum:KIND = rule


def upcast(event: Event) -> Event:
    """An event as today's catalogue names it: a `SettingChanged` of a transit time, a witness or a quorum rule
    becomes `TransitTimeSet`, `WitnessAdded`/`WitnessRemoved` or `QuorumRuleSet`; every other event is itself."""
    if event.type != "SettingChanged":
        return event
    name, value = str(event.data.get("name", "")), str(event.data.get("value", ""))
    if name.startswith(TRANSIT_PREFIX):
        origin, _, destination = name[len(TRANSIT_PREFIX):].partition(":")
        return dataclasses.replace(event, type="TransitTimeSet",
                                   data={"origin": origin, "destination": destination, "days": int(value)})
    if name.startswith(WITNESS_PREFIX):
        witness = name[len(WITNESS_PREFIX):]
        if not value:
            return dataclasses.replace(event, type="WitnessRemoved", data={"name": witness})
        return dataclasses.replace(event, type="WitnessAdded", data={"name": witness, "key": value})
    if name == WITNESS_QUORUM_SETTING:
        return dataclasses.replace(event, type="QuorumRuleSet", data={"decision": WITNESSES, "rule": value})
    if name.startswith(QUORUM_PREFIX):
        return dataclasses.replace(event, type="QuorumRuleSet",
                                   data={"decision": name[len(QUORUM_PREFIX):], "rule": value})
    return event


def evolve(state: State, event: Event) -> None:
    """Apply one event to the state. Unknown types are an error: a log we cannot read is not silently skipped."""
    event = upcast(event)
    handler = HANDLERS.get(event.type)
    if handler is None:
        raise ValidationFailed(f"unknown event type {event.type!r}", where="event")
    handler(state, event)


def replay(events: Iterable[Event]) -> State:
    """The state that a sequence of events produces from nothing."""
    state = State()
    for event in events:
        evolve(state, event)
    return state
