"""The public part of a coordination: what a transparency release may show, computed from the state alone.

Public means: offers marked public; pledges to funds per member; requirements only as totals by capability area and
priority tier; what donors committed, allocated and delivered only as monthly totals per donor and category (no
single allocation's or shipment's date or destination); never a consent, never a user. Allocations and deliveries
count only for public offers: a member-only offer's shipment is not published even inside a total, because a month
with one shipment would show it whole.

A month is the effective date's: an offer's `committed_on` (else `available_from`), a pledge's `pledged_on`, an
allocation's `proposed_on`, a shipment's `received_on`; tracked aid keeps the tracker's month.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from contactgroup.domain.model import (
    AllocationStatus,
    DeliveryStatus,
    Gdp,
    MemberKind,
    OfferStatus,
    RequirementStatus,
    TrackedAid,
    TrackedDonor,
    Visibility,
)
from contactgroup.domain.state import State
from contactgroup.reports.burden import BurdenRow, burden, fund_shares
from contactgroup.reports.facts import COMMITTED_OFFERS, counted_requirements, current_tracked_aid
from contactgroup.reports.valuation import Valuer

ZERO = Decimal(0)
COMMITTED = "unspecified"  # commitments are not split by category, as in the Kiel tracker
GDP_YEAR = 2021  # the GDP year the Kiel tracker's layout carries
RELEASE_SOURCE = "Kiel UST Release 1"  # how a coordination that imports the release's Kiel files names it


@dataclass(frozen=True, slots=True)
class MonthFigure:
    """One donor's total for one month and category, in EUR (category `unspecified` for commitments)."""

    donor: str
    month: str  # YYYY-MM
    category: str
    committed_eur: Decimal
    allocated_eur: Decimal
    delivered_eur: Decimal


@dataclass(frozen=True, slots=True)
class PublicOffer:
    id: str
    member: str
    item: str
    item_name: str
    category: str
    unit: str
    quantity: int
    status: str
    value_eur: Decimal | None  # None: neither a declared value nor a catalogue value


@dataclass(frozen=True, slots=True)
class Pledge:
    id: str
    member: str
    fund: str
    fund_name: str
    amount: Decimal
    currency: str
    amount_eur: Decimal


@dataclass(frozen=True, slots=True)
class RequirementTotal:
    """Requirements the coordination counts, in one capability area and priority tier."""

    area: str
    area_name: str
    tier: int
    requirements: int
    met: int  # met or closed


@dataclass(frozen=True, slots=True)
class Donor:
    code: str
    name: str
    kind: str
    gdp_eur: Decimal | None  # GDP of GDP_YEAR in EUR


@dataclass(frozen=True, slots=True)
class PublicPart:
    donors: tuple[Donor, ...]
    months: tuple[MonthFigure, ...]
    offers: tuple[PublicOffer, ...]
    pledges: tuple[Pledge, ...]
    requirements: tuple[RequirementTotal, ...]
    gdp: tuple[Gdp, ...]  # the GDP records behind `Donor.gdp_eur`


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class _Months:
    """Sums per (donor, month, category): committed, allocated, delivered."""

    def __init__(self) -> None:
        self.sums: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])

    def add(self, donor: str, day: date | str, category: str, column: int, amount: Decimal) -> None:
        if amount:
            month = day if isinstance(day, str) else _month(day)
            self.sums[(donor, month, category)][column] += amount

    def figures(self) -> tuple[MonthFigure, ...]:
        return tuple(MonthFigure(donor, month, category, *sums)
                     for (donor, month, category), sums in sorted(self.sums.items()))


def _offer_figures(state: State, valuer: Valuer, sums: _Months, values: dict[str, Decimal | None]) -> None:
    """What public offers committed, allocated and delivered; a fund's share goes to its contributors."""
    shares = fund_shares(state, valuer)

    def payers(owner: str) -> list[tuple[str, Decimal]]:
        return shares[owner] if owner in state.funds else [(owner, Decimal(1))]

    for offer in state.offers.values():
        value = values.get(offer.id)
        if value is not None and offer.status in COMMITTED_OFFERS and offer.member not in state.funds:
            sums.add(offer.member, offer.committed_on or offer.available_from, COMMITTED, 0, value)
    for a in state.allocations.values():
        offer = state.offers[a.offer]
        value = values.get(offer.id)
        if a.status is not AllocationStatus.CONFIRMED or value is None:
            continue
        category = state.items[offer.item].category.value
        for member, share in payers(offer.member):
            sums.add(member, a.proposed_on, category, 1, value * a.quantity / offer.quantity * share)
            for d in state.where("deliveries", "allocation", a.id):
                if d.status is DeliveryStatus.RECEIVED and d.received:
                    sums.add(member, d.received_on or d.dispatched_on, category, 2,
                             value * d.received / offer.quantity * share)


def public_offers(state: State, valuer: Valuer) -> tuple[PublicOffer, ...]:
    """Offers their member marked public and has made (drafts are nobody's business yet)."""
    out = []
    for o in state.offers.values():
        if o.visibility is not Visibility.PUBLIC or o.status is OfferStatus.DRAFT:
            continue
        item = state.items[o.item]
        out.append(PublicOffer(o.id, o.member, o.item, item.name, item.category.value, item.unit, o.quantity,
                               o.status.value, valuer.offer_value_eur(o, state.items)))
    return tuple(out)


def pledges(state: State, valuer: Valuer) -> tuple[Pledge, ...]:
    return tuple(Pledge(c.id, c.member, c.fund, state.funds[c.fund].name if c.fund in state.funds else c.fund,
                        c.amount, c.currency, valuer.to_eur(c.amount, c.currency, c.pledged_on))
                 for c in state.contributions.values())


def requirement_totals(state: State) -> tuple[RequirementTotal, ...]:
    counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for r in counted_requirements(state):
        got = counts[(r.area, r.priority)]
        got[0] += 1
        got[1] += r.status in (RequirementStatus.MET, RequirementStatus.CLOSED)
    names = {c.area: c.name for c in state.coalitions.values()}
    return tuple(RequirementTotal(area, names.get(area, area), tier, n, met)
                 for (area, tier), (n, met) in sorted(counts.items()))


def _donors(state: State, valuer: Valuer) -> tuple[tuple[Donor, ...], tuple[Gdp, ...]]:
    people = [(c, w.name, w.kind.value) for c, w in state.members.items()]
    people += [(c, d.name, d.kind.value) for c, d in state.tracked_donors.items() if c not in state.members]
    donors, used = [], []
    for code, name, kind in sorted(people):
        gdp = state.gdp.get((code, GDP_YEAR))
        donors.append(Donor(code, name, kind, valuer.gdp_eur(gdp) if gdp else None))
        if gdp:
            used.append(gdp)
    return tuple(donors), tuple(used)


def public_part(state: State, valuer: Valuer | None = None) -> PublicPart:
    """Everything a release publishes, from the state as it stands."""
    valuer = valuer or Valuer.of(state)
    offers = public_offers(state, valuer)
    values = {o.id: o.value_eur for o in offers}
    sums = _Months()
    _offer_figures(state, valuer, sums, values)
    found = pledges(state, valuer)
    for p in found:
        sums.add(p.member, state.contributions[p.id].pledged_on, COMMITTED, 0, p.amount_eur)
    for aid in current_tracked_aid(state):
        sums.add(aid.member, aid.month, COMMITTED, 0, aid.committed_eur)
        sums.add(aid.member, aid.month, aid.category, 1, aid.allocated_eur)
    donors, gdp = _donors(state, valuer)
    return PublicPart(donors, sums.figures(), offers, found, requirement_totals(state), gdp)


def as_tracked_aid(months: Iterable[MonthFigure]) -> list[TrackedAid]:
    """The monthly figures as a tracker's entries (what importing the release's Kiel files records)."""
    out = []
    for f in months:
        for amount, category, allocated in ((f.allocated_eur, f.category, True), (f.committed_eur, COMMITTED, False)):
            if amount:
                out.append(TrackedAid(key=f"{RELEASE_SOURCE}/{f.donor}/{f.month}/{category}",
                                        source=RELEASE_SOURCE, member=f.donor, month=f.month, category=category,
                                        allocated_eur=amount if allocated else ZERO,
                                        committed_eur=ZERO if allocated else amount))
    return out


def public_burden(part: PublicPart) -> list[BurdenRow]:
    """Burden sharing from the public part alone: the burden of a coordination that knows only the release's
    monthly totals (as tracked aid) and its donors' GDP — what importing the release's Kiel files reproduces to the
    last digit — with `delivered_eur` from the published monthly deliveries (a column Kiel's layout lacks)."""
    state = State()
    for d in part.donors:
        state.put(TrackedDonor(d.code, d.name, MemberKind(d.kind), RELEASE_SOURCE))
        if d.gdp_eur is not None:
            state.put(Gdp(d.code, GDP_YEAR, d.gdp_eur, "EUR", RELEASE_SOURCE))
    for aid in as_tracked_aid(part.months):
        state.put(aid)
    state.in_key_order()
    delivered: dict[str, Decimal] = defaultdict(Decimal)
    for f in part.months:
        delivered[f.donor] += f.delivered_eur
    return [dataclasses.replace(row, delivered_eur=delivered[row.member], tracked_only=False)
            for row in burden(state, valuer=Valuer())]
