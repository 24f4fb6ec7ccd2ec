"""The entities of a coordination: members, catalogue, requirements, offers, funds, allocations, deliveries.

Every entity is an immutable value; the state is changed only by applying events (see `event.py`).
Money is a Decimal amount beside an ISO 4217 currency; quantities are integers; times are aware UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# Upper bounds on what a command accepts, so that a typo (a pasted phone number, a stray digit) is refused with a
# message instead of overflowing a 64-bit column. Quantities and priorities: at most 10^12 units (the
# allocation optimiser's limit); money: below 10^18 units of its currency, at most 40 characters written out.
MAX_UNITS = 10**12
# Dates the record takes: anything outside is a typing slip, not a plan. With MAX_UNITS and MAX_TRANSIT_DAYS they
# are also the allocation optimiser's limits, which keep every cost it forms inside 64-bit integers.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
MAX_TRANSIT_DAYS = 3650
MAX_AMOUNT = Decimal(10) ** 18
MAX_AMOUNT_CHARS = 40


class MemberKind(enum.StrEnum):
    NATION = "nation"
    ORGANISATION = "organisation"


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    DESK_OFFICER = "desk_officer"
    RECIPIENT_LIAISON = "recipient_liaison"
    COALITION_LEAD = "coalition_lead"
    ANALYST = "analyst"
    AUDITOR = "auditor"


class Category(enum.StrEnum):
    """The assistance categories the Kiel tracker uses."""

    MILITARY = "military"
    HUMANITARIAN = "humanitarian"
    FINANCIAL = "financial"


class RequirementStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    OPEN = "open"
    PARTIALLY_MET = "partially_met"
    MET = "met"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class OfferStatus(enum.StrEnum):
    DRAFT = "draft"
    OFFERED = "offered"
    COMMITTED = "committed"
    ALLOCATED = "allocated"
    IN_DELIVERY = "in_delivery"
    DELIVERED = "delivered"
    WITHDRAWN = "withdrawn"


class AllocationStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED_BY_DONOR = "accepted_by_donor"
    ACCEPTED_BY_RECIPIENT = "accepted_by_recipient"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class ConsentStatus(enum.StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


class DeliveryStatus(enum.StrEnum):
    DISPATCHED = "dispatched"
    AT_HUB = "at_hub"
    HANDED_OVER = "handed_over"
    RECEIVED = "received"


class Visibility(enum.StrEnum):
    """Who may see an offer besides its member and the coordinating authority."""

    MEMBER = "member"
    COALITION = "coalition"
    RECIPIENT = "recipient"
    PUBLIC = "public"


class ValuationBasis(enum.StrEnum):
    MARKET = "market"
    REPLACEMENT = "replacement"
    BOOK = "book"


class Source(enum.StrEnum):
    STOCKS = "stocks"
    PROCUREMENT = "procurement"


@dataclass(frozen=True, slots=True)
class Member:
    code: str  # ISO 3166 alpha-3 for a nation, a short code for an organisation (EU, NATO)
    name: str
    kind: MemberKind
    currency: str
    nato: bool = False
    eu: bool = False
    active: bool = True


@dataclass(frozen=True, slots=True)
class Gdp:
    member: str
    year: int
    amount: Decimal
    currency: str
    source: str


@dataclass(frozen=True, slots=True)
class IatiOrganisation:
    """A member's IATI organisation identifier (`XM-DAC-5-7`): what its activities are published under."""

    member: str
    identifier: str


@dataclass(frozen=True, slots=True)
class Authority:
    """A coordinating authority's term: `until` is None for the one that chairs now."""

    name: str
    since: datetime
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class User:
    name: str
    party: str  # the member, recipient or authority the user acts for
    role: Role
    active: bool = True  # a disabled user can do nothing, from its next command on


@dataclass(frozen=True, slots=True)
class Coalition:
    """A capability coalition: an area (air defence, drones, ...) steered by lead members."""

    area: str
    name: str
    leads: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    name: str
    category: Category
    unit: str
    nsn: str | None = None  # NATO Stock Number NNNN-NN-NNN-NNNN
    unit_value_eur: Decimal | None = None
    mass_kg: Decimal | None = None  # mass of one unit as shipped, for capacities counted in tonnes
    hazard_class: str = ""  # UN dangerous goods class or division (1.1, 2.3, 8); "" = not dangerous goods

    @property
    def explosive(self) -> bool:
        """UN class 1 (ammunition, explosives): border rules add lead time for it."""
        return self.hazard_class.split(".")[0] == "1"


@dataclass(frozen=True, slots=True)
class ItemClass:
    """What a requirement asks for; lists the items that satisfy it (interchangeability)."""

    code: str
    name: str
    area: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    item_class: str
    quantity: int
    priority: int  # 1 = most important; requirements of equal priority form one tier
    needed_by: date
    destination: str
    area: str
    status: RequirementStatus
    note: str = ""
    entered_on: date | None = None  # a historical entry: the day it was really raised (the event keeps its time)
    ref: str = ""  # the recipient's own reference (a spreadsheet's `ref` column); "" = none


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    member: str  # a member code, or a fund code for what a fund bought
    item: str
    quantity: int
    available_from: date
    depot: str  # country the offer ships from (ISO alpha-3), or the code of a place of the network
    source: Source
    status: OfferStatus
    visibility: Visibility
    value: Decimal | None = None  # declared total value in `currency`; None = catalogue reference value
    currency: str | None = None
    basis: ValuationBasis | None = None
    consent_from: str | None = None  # member whose re-export consent is needed
    end_use: str = ""
    committed_on: date | None = None
    ref: str = ""  # the desk's own reference (a spreadsheet's `ref` column), unique per member; "" = none


@dataclass(frozen=True, slots=True)
class Fund:
    """A pool of money (a PURL package, an ammunition initiative) that buys items and offers them."""

    code: str
    name: str
    manager: str
    area: str


@dataclass(frozen=True, slots=True)
class Contribution:
    id: str
    fund: str
    member: str
    amount: Decimal
    currency: str
    pledged_on: date


@dataclass(frozen=True, slots=True)
class Allocation:
    id: str
    offer: str
    requirement: str
    quantity: int  # confirmed units, less any owed units the coordinator released
    status: AllocationStatus
    proposed_on: date
    released: int = 0  # owed units released (never to come): still spent from the offer, no longer confirmed
    declined_on: date | None = None
    declined_by: str = ""  # the party that declined: it (or the coordinator) may reopen the pair
    reason: str = ""  # why it was declined
    superseded: bool = False  # declined by a new plan, not by a party: the pair stays open
    reopened: bool = False  # a declined pair that may be proposed again


@dataclass(frozen=True, slots=True)
class Consent:
    id: str
    offer: str
    origin: str  # the member whose consent is needed
    status: ConsentStatus
    requested_on: date
    decided_on: date | None = None
    reason: str = ""  # the origin member's reason for its decision


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    allocation: str
    quantity: int
    status: DeliveryStatus
    dispatched_on: date
    received_on: date | None = None
    received: int = 0
    short: int = 0
    damaged: int = 0
    wrong_item: int = 0


@dataclass(frozen=True, slots=True)
class TrackedAid:
    """Aid recorded from an external tracker (Kiel UST), in EUR, for one donor, month and category."""

    key: str  # source/member/yyyy-mm/category
    source: str
    member: str
    month: str  # YYYY-MM
    category: str  # military, financial, humanitarian
    allocated_eur: Decimal
    committed_eur: Decimal


@dataclass(frozen=True, slots=True)
class Rate:
    """A user-supplied exchange rate: `per_eur` units of `currency` buy one euro on `on`."""

    currency: str
    on: date
    per_eur: Decimal


@dataclass(frozen=True, slots=True)
class Setting:
    """A named fact about the coordination itself (its recipient, its log's origin)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class TransitTime:
    """Whole days an offer needs from its depot country (`origin`) to a requirement's destination (`UKR-West`)."""

    origin: str
    destination: str
    days: int


class PlaceKind(enum.StrEnum):
    """What a place is: a handover point where requirements are delivered, or a place of the transport network."""

    DEPOT = "depot"
    PORT = "port"
    RAIL_TERMINAL = "rail_terminal"
    AIRFIELD = "airfield"
    LOGISTICS_HUB = "logistics_hub"
    BORDER_CROSSING = "border_crossing"
    HANDOVER_POINT = "handover_point"


class Mode(enum.StrEnum):
    ROAD = "road"
    RAIL = "rail"
    SEA = "sea"
    INLAND_WATERWAY = "inland_waterway"
    AIR = "air"


class CapacityUnit(enum.StrEnum):
    """What a daily capacity counts: tonnes of cargo, or shipments whatever their mass."""

    TONNES = "t"
    SHIPMENTS = "shipments"


@dataclass(frozen=True, slots=True)
class Place:
    """A place the record knows by its code: a handover point where requirements may be delivered, or a depot,
    port, rail terminal, airfield, hub or border crossing of the transport network (in `country`, ISO 3166
    alpha-3, optionally in one of its `region`s as destinations write them, `UKR-West`). Transit times to it are
    those recorded for its code, else for its region, else for its country. Coordinates are decimal degrees
    (WGS 84); `capacity` is what may pass it per day, in `capacity_unit`; `source` cites where the facts are from."""

    code: str
    name: str
    country: str
    kind: PlaceKind
    region: str = ""
    lat: Decimal | None = None
    lon: Decimal | None = None
    capacity: int | None = None
    capacity_unit: CapacityUnit = CapacityUnit.SHIPMENTS
    source: str = ""


@dataclass(frozen=True, slots=True)
class Leg:
    """A directed leg of the transport network: leaving `origin` on day d by `mode`, a shipment reaches `to` on day
    d + `transit_days`; at most `capacity` (in `capacity_unit`) may leave along it per day."""

    origin: str
    to: str
    mode: Mode
    transit_days: int
    capacity: int | None = None
    capacity_unit: CapacityUnit = CapacityUnit.SHIPMENTS
    source: str = ""


@dataclass(frozen=True, slots=True)
class BorderRule:
    """What entering `country` by `mode` takes from `since` on (until a later rule for the same pair): a
    permission or diplomatic clearance granted `lead_days` working days of that country after the request,
    `dangerous_extra_days` more for UN class 1; none for movements by the nationals of `preauthorised`."""

    country: str
    mode: Mode
    since: date
    permission: bool = True
    lead_days: int = 0
    dangerous_extra_days: int = 0
    preauthorised: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class Zone:
    """A mobility zone (a corridor, an arrangement, a "military Schengen"): crossings among its `countries` by one
    of its `modes`, from `starts` on, need no per-movement permission (`lead_days` None) or one granted within
    `lead_days` working days."""

    code: str
    name: str
    countries: tuple[str, ...]
    starts: date
    lead_days: int | None = None
    modes: tuple[Mode, ...] = tuple(Mode)
    source: str = ""


class PermissionStatus(enum.StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class MovementPermission:
    """A movement permission (or diplomatic clearance) one shipment needs to enter `country` by `mode` (a mode of
    the transport network): requested by the donor's desk on `requested_on`, expected `ready` by the route's plan,
    granted or refused by the desk of the granting member (the country) on `decided_on`."""

    key: str  # shipment/country/mode
    shipment: str  # an allocation's id (not yet dispatched) or a delivery's (under way)
    country: str
    mode: str
    status: PermissionStatus
    requested_on: date
    ready: date
    decided_on: date | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ShipmentPosition:
    """Where a shipment under way was last reported: it reached place `place` on `on`; its plan continues from
    there."""

    shipment: str  # a delivery's id
    place: str
    on: date


@dataclass(frozen=True, slots=True)
class TrackedDonor:
    """A donor an external tracker names that is not a member (Kiel's China, Taiwan, the EU): its tracked aid and GDP
    count in reports, but it has no vote, no users and no offers. Admitting it later makes it a member as well."""

    code: str
    name: str
    kind: MemberKind
    source: str  # the tracker release that first named it: "Kiel UST Release 29"


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness the log names: while `active`, its cosignatures (by `key`, its cosigner key text) count toward the
    witness quorum. A removed witness keeps its row, so its past cosignatures can still be read against its key."""

    name: str
    key: str
    active: bool = True


WITNESSES = "witnesses"  # the decision a witness quorum rule is for: how many witnesses must cosign a checkpoint


@dataclass(frozen=True, slots=True)
class QuorumRule:
    """How many must agree for a decision: for a proposal kind (its value), a rule such as `2/3`, `all` or `leads`;
    for `WITNESSES`, how many of the active witnesses must cosign a checkpoint (`2`)."""

    decision: str
    rule: str


class KeyStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class MemberKey:
    """A member's Ed25519 verifier key (`<name>+<hex id>+<base64>`), used to sign governance approvals."""

    key: str
    member: str
    status: KeyStatus
    registered_at: datetime
    revoked_at: datetime | None = None


class ProposalKind(enum.StrEnum):
    HANDOVER = "handover"
    ADMIT_MEMBER = "admit_member"
    REMOVE_MEMBER = "remove_member"
    CHANGE_LEAD = "change_lead"
    CHANGE_QUORUM = "change_quorum"


class ProposalStatus(enum.StrEnum):
    OPEN = "open"
    EFFECTIVE = "effective"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Proposal:
    """A governance decision awaiting its quorum; `payload` is canonical JSON, `text` is what members sign."""

    id: str
    kind: ProposalKind
    payload: str
    text: str
    proposer: str
    made_at: datetime
    expires_at: datetime
    status: ProposalStatus
    rule: str  # the quorum rule in force when proposed, e.g. "2/3" or "leads"


@dataclass(frozen=True, slots=True)
class Approval:
    key: str  # proposal/member
    proposal: str
    member: str
    signer: str  # the verifier key that signed
    note: str  # the signed note, kept whole so anyone can check it again
    approved_at: datetime
