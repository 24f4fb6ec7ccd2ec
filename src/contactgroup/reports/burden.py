"""Burden sharing: per member, what it committed, allocated and delivered in EUR, its share, and % of its GDP.

- committed: its offers committed or further along (not withdrawn, not drafts) at their full value, the money
  it pledged to funds, and commitments recorded by an external tracker (the newest release only);
- allocated: the value share of confirmed allocations of its offers (value × allocated units / offer units),
  plus tracked allocations;
- delivered: the value of the units received in received shipments of its offers.
A fund never appears as a donor: what a fund's offers allocate or deliver is attributed to the fund's
contributors pro rata to their contributions in EUR (a fund without contributions: to its manager). The fund's
offers add nothing to anyone's committed money, which its contributions already carry — nothing counts twice.
A donor a tracker names that is not a member (a tracked donor) has a row of its own (`tracked_only`), so the
tracker's figures are reproduced whole; it has no offers or pledges here, only its tracked aid.
`share_of_total` is a fraction (0..1) of the sum of `allocated_eur` over all rows.
GDP in another currency is converted at the annual average of the ECB's daily rates for its year.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from contactgroup.domain.errors import MissingRate
from contactgroup.domain.model import AllocationStatus, Contribution, Gdp, MemberKind, OfferStatus
from contactgroup.domain.state import State
from contactgroup.reports.facts import COMMITTED_OFFERS, current_tracked_aid, received_by_allocation
from contactgroup.reports.scope import EVERYTHING, Scope
from contactgroup.reports.valuation import Valuer

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class BurdenRow:
    member: str
    name: str
    kind: str
    committed_eur: Decimal
    allocated_eur: Decimal
    delivered_eur: Decimal
    share_of_total: Decimal  # fraction of the total allocated_eur, 0..1
    gdp_year: int | None
    gdp_eur: Decimal | None
    allocated_pct_gdp: Decimal | None  # percent: 0.5 means half of one percent of GDP
    committed_pct_gdp: Decimal | None
    unvalued_offers: int = 0  # offers with neither a declared value nor a catalogue unit value (counted as 0)
    tracked_only: bool = False  # a donor known from a tracker's figures only, not a member


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    """part / whole; a plain 0 (not 0E+1) when either is zero."""
    return part / whole if part and whole else ZERO


def _pledge_eur(valuer: Valuer, c: Contribution) -> Decimal:
    try:
        return valuer.to_eur(c.amount, c.currency, c.pledged_on)
    except MissingRate as exc:
        raise exc.concerning(f"contribution {c.id} of {c.member} to fund {c.fund}") from None


def fund_shares(state: State, valuer: Valuer) -> dict[str, list[tuple[str, Decimal]]]:
    """Per fund: (member, share) pro rata to contributions in EUR at each pledge date; shares sum to 1."""
    paid: dict[str, dict[str, Decimal]] = {code: defaultdict(Decimal) for code in state.funds}
    for c in state.contributions.values():
        paid.setdefault(c.fund, defaultdict(Decimal))[c.member] += _pledge_eur(valuer, c)
    shares: dict[str, list[tuple[str, Decimal]]] = {}
    for code, by_member in paid.items():
        total = sum(by_member.values(), ZERO)
        if total > 0:
            shares[code] = [(member, amount / total) for member, amount in sorted(by_member.items())]
        else:
            fund = state.funds.get(code)
            shares[code] = [(fund.manager, Decimal(1))] if fund else []
    return shares


def _gdp(state: State, member: str, year: int | None) -> Gdp | None:
    if year is not None:
        return state.gdp.get((member, year))
    years = [y for (code, y) in state.gdp if code == member]
    return state.gdp[(member, max(years))] if years else None


def gdp_note(state: State, year: int | None) -> str:
    """What a caption must say when the asked GDP year leaves % of GDP empty: no GDP recorded for it (which years
    are), or recorded for only some members; "" when nothing is missing."""
    if year is None:
        return ""
    years = sorted({y for (_, y) in state.gdp})
    donors = _donors(state)
    with_year = sum(1 for code in donors if (code, year) in state.gdp)
    if not with_year:
        available = ", ".join(str(y) for y in years) if years else "none"
        return f"no GDP recorded for {year} (years available: {available}): % of GDP is left empty"
    if with_year < len(donors):
        return (f"GDP {year} recorded for {with_year:,} of {len(donors):,} donors: the others' % of GDP is "
                f"left empty")
    return ""


def _donors(state: State) -> dict[str, tuple[str, MemberKind, bool]]:
    """(name, kind, tracked only) by code: every member, then every tracked donor that is not one."""
    donors = {code: (who.name, who.kind, False) for code, who in state.members.items()}
    for code, donor in state.tracked_donors.items():
        donors.setdefault(code, (donor.name, donor.kind, True))
    return donors


class _Sums:
    """The EUR sums per donor that burden sharing adds up, over what its scope counts."""

    def __init__(self, state: State, valuer: Valuer, scope: Scope) -> None:
        self.state, self.valuer, self.scope = state, valuer, scope
        self.committed: dict[str, Decimal] = defaultdict(Decimal)
        self.allocated: dict[str, Decimal] = defaultdict(Decimal)
        self.delivered: dict[str, Decimal] = defaultdict(Decimal)
        self.unvalued: dict[str, int] = defaultdict(int)
        self.values: dict[str, Decimal | None] = {}
        self.shares = fund_shares(state, valuer)

    def payers(self, owner: str) -> list[tuple[str, Decimal]]:
        return self.shares[owner] if owner in self.state.funds else [(owner, Decimal(1))]

    def add_offers(self) -> None:
        """Committed value: offers, money pledged to funds, a tracker's commitments; unvalued offers counted."""
        state, scope = self.state, self.scope
        for offer in state.offers.values():
            if offer.status in (OfferStatus.DRAFT, OfferStatus.WITHDRAWN) or not scope.offer(state, offer,
                                                                                                 by_member=False):
                continue
            value = self.values[offer.id] = self.valuer.offer_value_eur(offer, state.items)
            if value is None:
                for member, _ in self.payers(offer.member):
                    self.unvalued[member] += 1
            elif (offer.status in COMMITTED_OFFERS and offer.member not in state.funds
                  and scope.within(offer.committed_on)):
                self.committed[offer.member] += value
        for c in state.contributions.values():
            if scope.contribution(state, c):
                self.committed[c.member] += _pledge_eur(self.valuer, c)

    def add_allocations(self) -> None:
        """Allocated and delivered value of confirmed allocations (fund offers' to the contributors), and a
        tracker's commitments and allocations."""
        state, scope = self.state, self.scope
        received = received_by_allocation(state, scope)
        for a in state.allocations.values():
            offer = state.offers[a.offer]
            value = self.values.get(offer.id)
            if a.status is not AllocationStatus.CONFIRMED or value is None:
                continue
            got = received.get(a.id, 0)
            pledged = scope.within(offer.committed_on)
            for member, share in self.payers(offer.member):
                if pledged:
                    self.allocated[member] += value * a.quantity / offer.quantity * share
                if got:
                    self.delivered[member] += value * got / offer.quantity * share
        for aid in current_tracked_aid(state):
            if scope.tracked(aid):
                self.committed[aid.member] += aid.committed_eur
                self.allocated[aid.member] += aid.allocated_eur


def burden(state: State, gdp_year: int | None = None, *, valuer: Valuer | None = None,
           scope: Scope = EVERYTHING) -> list[BurdenRow]:
    """One row per member, largest allocated value first. `gdp_year` None: each member's latest GDP year.

    In a window, committed and allocated value count the pledges committed in it (offers by `committed_on`,
    contributions by `pledged_on`, tracker entries by month) and delivered value the goods received in it. A
    member filter keeps that member's row, its share still of everyone's allocated value in scope (what a fund
    buys is its contributors' in proportion, so the offers are not narrowed to the member)."""
    valuer = valuer or Valuer.of(state)
    sums = _Sums(state, valuer, scope)
    sums.add_offers()
    sums.add_allocations()
    committed, allocated, delivered, unvalued = sums.committed, sums.allocated, sums.delivered, sums.unvalued

    donors = _donors(state)
    total = sum((allocated[code] for code in donors), ZERO)
    rows = []
    for code, (name, kind, tracked_only) in donors.items():
        gdp = _gdp(state, code, gdp_year)
        gdp_eur = valuer.gdp_eur(gdp) if gdp is not None else None
        mine_a, mine_c = allocated[code], committed[code]
        rows.append(BurdenRow(
            member=code, name=name, kind=kind.value,
            committed_eur=mine_c, allocated_eur=mine_a, delivered_eur=delivered[code],
            share_of_total=_ratio(mine_a, total),
            gdp_year=gdp.year if gdp else None, gdp_eur=gdp_eur,
            allocated_pct_gdp=_ratio(mine_a, gdp_eur) * HUNDRED if gdp_eur else None,
            committed_pct_gdp=_ratio(mine_c, gdp_eur) * HUNDRED if gdp_eur else None,
            unvalued_offers=unvalued[code], tracked_only=tracked_only,
        ))
    rows.sort(key=lambda r: (-r.allocated_eur, -r.committed_eur, r.member))
    return [r for r in rows if r.member == scope.member] if scope.member is not None else rows
