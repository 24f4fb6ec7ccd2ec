"""A deterministic synthetic coordination for demonstrations and benchmarks (labelled synthetic everywhere).

Real member list and capability coalitions; generic catalogue; requirements, offers, funds, allocations and
deliveries generated month by month over 2022-2026 from a seed, through the same services as real use.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from contactgroup.domain import command
from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.model import (
    Allocation,
    AllocationStatus,
    Category,
    Coalition,
    DeliveryStatus,
    Fund,
    Item,
    ItemClass,
    Offer,
    OfferStatus,
    RequirementStatus,
    Role,
    Source,
    User,
    ValuationBasis,
    Visibility,
)
from contactgroup.domain.workflow import AllocationAction, ConsentAction, OfferAction, RequirementAction
from contactgroup.services import coordination as svc
from contactgroup.services import mobility
from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database, UnitOfWork

# The capability coalitions formed in 2024, with their publicly reported lead nations (product brief).
COALITIONS = (
    ("air_force", "Air Force", ("USA", "DNK", "NLD")),
    ("air_missile_defence", "Air and Missile Defence", ("FRA", "DEU")),
    ("artillery", "Artillery", ("FRA", "USA")),
    ("armour", "Armour", ("POL", "DEU", "ITA")),
    ("maritime", "Maritime", ("GBR", "NOR")),
    ("it", "IT", ("EST", "LUX")),
    ("demining", "Demining", ("LTU", "ISL")),
    ("drones", "Drones", ("LVA", "GBR")),
)
# Humanitarian areas for the demo only; their leads are synthetic.
SYNTHETIC_AREAS = (
    ("medical", "Medical (synthetic area)", ("CAN",)),
    ("energy", "Energy (synthetic area)", ("JPN",)),
    ("winter", "Winter equipment (synthetic area)", ("NOR",)),
)

# class code, name, area, category, unit, items, unit value EUR range, typical requirement size
CLASSES = (
    ("art-155", "155 mm artillery round", "artillery", "military", "round", 6, (2500, 8000), 20000),
    ("art-152", "152 mm artillery round", "artillery", "military", "round", 4, (1500, 4000), 10000),
    ("gun-155", "155 mm howitzer", "artillery", "military", "each", 4, (2_000_000, 6_000_000), 12),
    ("sam-short", "Short-range air defence system", "air_missile_defence", "military", "system", 5,
     (5_000_000, 40_000_000), 4),
    ("sam-msl", "Air defence interceptor", "air_missile_defence", "military", "missile", 5,
     (400_000, 4_000_000), 200),
    ("ifv", "Infantry fighting vehicle", "armour", "military", "each", 5, (1_500_000, 5_000_000), 40),
    ("mbt", "Main battle tank", "armour", "military", "each", 4, (4_000_000, 10_000_000), 20),
    ("uav-recon", "Reconnaissance drone", "drones", "military", "each", 5, (5_000, 120_000), 500),
    ("uav-fpv", "FPV drone kit", "drones", "military", "kit", 4, (300, 900), 20000),
    ("demine", "Demining kit", "demining", "military", "kit", 4, (2_000, 60_000), 300),
    ("it-secure", "Secure communications set", "it", "military", "set", 4, (3_000, 30_000), 400),
    ("boat", "Patrol boat", "maritime", "military", "each", 3, (500_000, 3_000_000), 10),
    ("jet-parts", "Fighter aircraft spare parts package", "air_force", "military", "package", 3,
     (200_000, 2_000_000), 20),
    ("med-kit", "Individual first aid kit", "medical", "humanitarian", "kit", 4, (30, 150), 50000),
    ("generator", "Power generator", "energy", "humanitarian", "each", 4, (5_000, 400_000), 300),
    ("winter-gear", "Winter clothing set", "winter", "humanitarian", "set", 4, (80, 300), 40000),
)
# How some classes ship: UN hazard class (ammunition and missiles are class 1) and a typical mass per unit in kg
# (rounded public figures: a 155 mm round with its packing about 50 kg, a tank about 60 t).
SHIPPING = {
    "art-155": ("1.1", 50), "art-152": ("1.1", 50), "sam-msl": ("1.1", 400), "mbt": ("", 60_000),
    "ifv": ("", 30_000), "gun-155": ("", 20_000), "demine": ("", 25), "med-kit": ("", 1), "generator": ("", 500),
}
FUNDS = (
    ("PURL-1", "Prioritised Ukraine Requirements List package (synthetic)", "NLD", "air_missile_defence",
     ("NLD", "DEU", "NOR", "SWE", "DNK", "CAN")),
    ("AMMO-INIT", "Ammunition initiative (synthetic)", "CZE", "artillery",
     ("CZE", "DNK", "NLD", "BEL", "PRT", "CAN")),
    ("DRONE-FUND", "Drone coalition fund (synthetic)", "LVA", "drones", ("LVA", "GBR", "NOR", "SWE", "EST")),
)
# After this month the cell stops filling by hand: what came since waits for `contactgroup allocate`.
HAND_ALLOCATION_ENDS = date(2025, 10, 1)
# Where requirements are delivered: the handover point of each region (West, North, East, South) on the reference
# network, so that every demo shipment can be routed; in the order the regions were always drawn, so that a seed
# draws the same coordination.
DESTINATIONS = ("LVIV-HP", "KYIV-HP", "DNIPRO-HP", "ODESA-HP")
ORIGIN_OF_DESIGN = ("USA", "DEU", "FRA", "GBR", "SWE")  # members whose re-export consent is often needed


@dataclass
class DemoSummary:
    seed: int
    events: int
    requirements: int
    offers: int
    allocations: int
    deliveries: int


def _nsn(rng: random.Random) -> str:
    digits = (rng.randrange(1000, 9999), rng.randrange(1, 99), rng.randrange(100, 999), rng.randrange(1000, 9999))
    return "{}-{:02d}-{}-{}".format(*digits)


def _months(start: date, end: date) -> list[date]:
    months, d = [], start
    while d <= end:
        months.append(d)
        d = date(d.year + (d.month // 12), d.month % 12 + 1, 1)
    return months


class _Demo:
    def __init__(self, uow: UnitOfWork, clock: FixedClock, seed: int) -> None:
        self.uow, self.clock, self.rng = uow, clock, random.Random(seed)
        self.admin = svc.Caller("admin", clock)
        self.ukr = svc.Caller("ukr-liaison", clock)
        self.members = sorted(uow.state.members)
        gdp = {g.member: float(g.amount) for g in uow.state.gdp.values()}
        self.weights = [max(gdp.get(c, 2e10), 2e10) ** 0.5 for c in self.members]
        self.class_items: dict[str, list[str]] = {}
        self.class_size: dict[str, int] = {}

    def desk(self, member: str) -> svc.Caller:
        fund = self.uow.state.funds.get(member)
        return svc.Caller(f"{(fund.manager if fund else member).lower()}-desk", self.clock)

    def depot(self, member: str) -> str:
        """The member's national depot on the reference network (`DEPOT-NLD`, at its capital); a fund buys and
        ships from Poland's. A country without a depot there ships from the country, as offers may."""
        country = member if member in self.uow.state.members else "POL"
        code = f"DEPOT-{country}"
        return code if code in self.uow.state.places else country

    def at(self, day: date) -> None:
        self.clock.at = datetime(day.year, day.month, day.day, 9, self.rng.randrange(60), tzinfo=UTC)

    def setup(self) -> None:
        uow, admin, rng = self.uow, self.admin, self.rng
        for area, name, leads in COALITIONS + SYNTHETIC_AREAS:
            svc.form_coalition(uow, admin, Coalition(area, name, leads))
        svc.register_user(uow, admin, User("ukr-liaison", "UKR", Role.RECIPIENT_LIAISON))
        svc.register_user(uow, admin, User("idcc-coordinator", "IDCC", Role.COORDINATOR))
        for code in self.members:
            svc.register_user(uow, admin, User(f"{code.lower()}-desk", code, Role.DESK_OFFICER))
        for code in sorted({lead for _, _, leads in COALITIONS + SYNTHETIC_AREAS for lead in leads}):
            svc.register_user(uow, admin, User(f"{code.lower()}-lead", code, Role.COALITION_LEAD))
        svc.register_user(uow, admin, User("est-analyst", "EST", Role.ANALYST))
        svc.register_user(uow, admin, User("pol-auditor", "POL", Role.AUDITOR))
        for code, name, area, category, unit, n, (lo, hi), size in CLASSES:
            items = []
            for i in range(n):
                item = f"{code}-{chr(ord('a') + i)}"
                value = Decimal(rng.randrange(lo, hi)).quantize(Decimal(1))
                hazard, mass = SHIPPING.get(code, ("", None))
                svc.catalogue_item(uow, admin, Item(item, f"{name}, type {chr(ord('A') + i)}",
                                                      Category(category), unit, _nsn(rng), value,
                                                      None if mass is None else Decimal(mass), hazard))
                items.append(item)
            # Interchangeability: most types satisfy the class; the last is a separate variant. Some users
            # field only type A or the variant: their narrower class competes for the same offers.
            svc.define_item_class(uow, admin, ItemClass(code, name, area, tuple(items[:-1] if n > 3 else items)))
            self.class_items[code] = items
            self.class_size[code] = size
            if n > 3:
                narrow = f"{code}-a"
                svc.define_item_class(uow, admin, ItemClass(narrow, f"{name}, type A or variant only", area,
                                                              (items[0], items[-1])))
                self.class_size[narrow] = size
        for code, name, manager, area, _ in FUNDS:
            svc.create_fund(uow, admin, Fund(code, name, manager, area))
        mobility.load_reference(uow, admin)

    def month(self, day: date, last: bool) -> None:
        rng, uow, state = self.rng, self.uow, self.uow.state
        self.at(day)
        for _ in range(rng.randrange(5, 10)):  # requirements
            cls = rng.choice(CLASSES)[0]
            if f"{cls}-a" in self.class_size and rng.random() < 0.3:
                cls = f"{cls}-a"
            size = self.class_size[cls]
            req = svc.draft_requirement(
                uow, self.ukr, item_class=cls, quantity=max(1, int(size * rng.uniform(0.2, 1.5))),
                priority=rng.choices(range(1, 11), weights=range(10, 0, -1))[0],
                needed_by=day + timedelta(days=rng.randrange(30, 240)), destination=rng.choice(DESTINATIONS))
            if rng.random() < 0.05 and last:
                continue  # a few stay drafts
            svc.move_requirement(uow, self.ukr, req.id, RequirementAction.SUBMIT)
            if rng.random() < 0.03:
                svc.move_requirement(uow, self.ukr, req.id, RequirementAction.CANCEL)
                continue
            svc.move_requirement(uow, self.admin, req.id, RequirementAction.VALIDATE)
            svc.move_requirement(uow, self.admin, req.id, RequirementAction.OPEN)
        for _ in range(rng.randrange(38, 50)):  # offers from members
            self.offer(rng.choices(self.members, weights=self.weights)[0], day)
        if day.month in (1, 4, 7, 10):  # funds collect money and buy
            for code, _, _, area, contributors in FUNDS:
                member = rng.choice(contributors)
                currency = state.members[member].currency
                svc.contribute(uow, self.desk(member), fund=code, member=member,
                               amount=Decimal(rng.randrange(20, 400)) * Decimal(1_000_000), currency=currency,
                               pledged_on=day)
                self.offer(code, day, area=area)
        if day < HAND_ALLOCATION_ENDS:
            self.allocate(day)
        self.deliver(day)

    def offer(self, member: str, day: date, area: str | None = None) -> None:
        rng = self.rng
        classes = [c for c in CLASSES if area is None or c[2] == area]
        cls = rng.choice(classes)
        item = rng.choice(self.class_items[cls[0]])
        quantity = max(1, int(self.class_size[cls[0]] * rng.uniform(0.02, 0.3)))
        declared = rng.random() < 0.4 and member in self.uow.state.members
        currency = self.uow.state.members[member].currency if declared else None
        unit_value = self.uow.state.items[item].unit_value_eur or Decimal(1)
        value = (unit_value * quantity * Decimal(str(round(rng.uniform(0.6, 1.4), 2)))).quantize(Decimal(1))
        if declared and currency not in ("EUR", "USD", "GBP", "CAD", "NOK", "SEK", "DKK", "PLN", "CZK", "JPY"):
            currency = "EUR"  # the demo declares values only in ECB currencies; others need a rate table
        offer = Offer(
            id="", member=member, item=item, quantity=quantity,
            available_from=day + timedelta(days=rng.randrange(0, 120)), depot=self.depot(member),
            source=rng.choice(list(Source)), status=OfferStatus.DRAFT,
            visibility=rng.choices(list(Visibility), weights=(3, 2, 4, 1))[0],
            value=value if declared else None, currency=currency,
            basis=rng.choice(list(ValuationBasis)) if declared else None,
            consent_from=rng.choice([c for c in ORIGIN_OF_DESIGN if c != member])
            if rng.random() < 0.08 else None,
        )
        status = rng.choices(["offered", "committed"], weights=(1, 3))[0]
        created = svc.enter_offer(self.uow, self.desk(member), offer, status=OfferStatus(status))
        if rng.random() < 0.03:
            svc.move_offer(self.uow, self.desk(member), created.id, OfferAction.WITHDRAW)
        elif created.consent_from and rng.random() < 0.8:
            consent = svc.request_consent(self.uow, self.desk(member), created.id)
            if rng.random() < 0.85:
                svc.decide_consent(self.uow, self.desk(consent.origin), consent.id,
                                   ConsentAction.GRANT if rng.random() < 0.9 else ConsentAction.REFUSE)

    def allocate(self, day: date) -> None:
        """Fill open requirements top-down by hand, as a cell with a spreadsheet would (the optimiser does better)."""
        uow, state = self.uow, self.uow.state
        free = {o.id: o.quantity - state.allocated_of_offer(o.id) for o in state.offers.values()
                if o.status in (OfferStatus.OFFERED, OfferStatus.COMMITTED, OfferStatus.ALLOCATED)
                and o.available_from <= day + timedelta(days=60)}
        by_item: dict[str, list[str]] = {}
        for oid, q in sorted(free.items()):
            if q > 0:
                by_item.setdefault(state.offers[oid].item, []).append(oid)
        reqs = sorted((r for r in state.requirements.values() if r.status in (RequirementStatus.OPEN,
                       RequirementStatus.PARTIALLY_MET)), key=lambda r: (r.priority, r.id))
        for req in reqs:
            need = req.quantity - state.confirmed_of_requirement(req.id) - state.pending_of_requirement(req.id)
            for item in state.item_classes[req.item_class].items:
                for oid in by_item.get(item, []):
                    if need <= 0 or free[oid] <= 0 or command.declined_pair(state, oid, req.id):
                        continue  # a declined pair is not asked again
                    q = min(need, free[oid])
                    alloc = svc.propose_allocation(uow, self.admin, offer=oid, requirement=req.id, quantity=q)
                    free[oid] -= q
                    need -= q
                    self.settle(alloc)

    def settle(self, alloc: Allocation) -> None:
        uow, rng = self.uow, self.rng
        offer = uow.state.offers[alloc.offer]
        roll = rng.random()
        if roll < 0.05:
            svc.move_allocation(uow, self.desk(offer.member), alloc.id, AllocationAction.DECLINE,
                                "needed at home (synthetic)")
            return
        if roll < 0.12:
            return  # still waiting for the donor
        svc.move_allocation(uow, self.desk(offer.member), alloc.id, AllocationAction.ACCEPT)
        svc.move_allocation(uow, self.ukr, alloc.id, AllocationAction.ACCEPT)
        with contextlib.suppress(ContactGroupError):  # waiting for re-export consent: stays accepted, as in life
            svc.move_allocation(uow, self.admin, alloc.id, AllocationAction.CONFIRM)

    def deliver(self, day: date) -> None:
        uow, state, rng = self.uow, self.uow.state, self.rng
        shipped = {d.allocation for d in state.deliveries.values()}
        for alloc in sorted(state.allocations.values(), key=lambda a: a.id):
            if alloc.status is not AllocationStatus.CONFIRMED or alloc.id in shipped:
                continue
            offer = state.offers[alloc.offer]
            if offer.available_from > day or rng.random() < 0.3:
                continue
            d = svc.dispatch(uow, self.desk(offer.member), allocation=alloc.id, quantity=alloc.quantity,
                             dispatched_on=day)
            if rng.random() < 0.85:
                short = alloc.quantity // 20 if rng.random() < 0.1 else 0
                damaged = alloc.quantity // 50 if rng.random() < 0.05 else 0
                got = day + timedelta(days=rng.randrange(2, 25))
                now = self.clock.at
                self.clock.at = datetime(got.year, got.month, got.day, 9, 0, tzinfo=UTC)  # recorded once it arrived
                svc.receive(uow, self.ukr, d.id, received_on=got, short=short, damaged=damaged)
                self.clock.at = now
        self.close_delivered()

    def close_delivered(self) -> None:
        """The cell closes a met requirement once everything allocated to it has arrived."""
        state = self.uow.state
        for req in sorted(state.requirements.values(), key=lambda r: r.id):
            if req.status is not RequirementStatus.MET:
                continue
            allocs = [a for a in state.allocations_of_requirement(req.id) if a.status is AllocationStatus.CONFIRMED]
            arrived = all(d.status is DeliveryStatus.RECEIVED
                          for a in allocs for d in state.where("deliveries", "allocation", a.id))
            shipped = sum(d.quantity for a in allocs for d in state.where("deliveries", "allocation", a.id))
            if arrived and shipped >= req.quantity:
                svc.move_requirement(self.uow, self.admin, req.id, RequirementAction.CLOSE)


def build_demo(db: Database, seed: int = 2024, progress: Callable[[int, int], None] | None = None,
               log_key: str | None = None) -> DemoSummary:
    """Create a synthetic coordination in an empty database (deterministic for a seed).

    The log signing key goes to `log_key` (default: CONTACTGROUP_LOG_KEY, or `<db file>.logkey`)."""
    clock = FixedClock(datetime(2022, 4, 26, 9, 0, tzinfo=UTC))  # the contact group first met on 2022-04-26
    init_coordination(db, clock, log_key=log_key)
    months = _months(date(2022, 5, 1), date(2026, 4, 1))
    with db.transaction() as uow:
        demo = _Demo(uow, clock, seed)
        svc.record_setting(uow, demo.admin, "synthetic", "yes")
        svc.record_setting(uow, demo.admin, "seed", str(seed))
        demo.setup()
        for i, day in enumerate(months):
            demo.month(day, last=i == len(months) - 1)
            uow.flush()
            if progress:
                progress(i + 1, len(months))
        state = uow.state
        return DemoSummary(seed, uow.next_seq, len(state.requirements), len(state.offers),
                           len(state.allocations), len(state.deliveries))
