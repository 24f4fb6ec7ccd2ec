"""The scenario of the authorization matrix and of schemathesis: a coordination holding an object of every kind
for each of four offers — of the desk officer's own member, of another member, one its coalition may see, a public
one — built once per engine and session, copied fresh for each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest

from contactgroup.domain.model import Fund, OfferStatus, Role, User, ValuationBasis, Visibility
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database
from tests.conftest import DatabaseCopies
from tests.factories import OFFER, World, build_world, open_requirement

# role -> the user who plays it (in `tests.factories.build_world`, plus a lead of another area and an auditor)
ROLES = {"coordinator": "admin", "desk_owner": "deu", "desk_other": "usa", "lead_in": "fra-lead",
         "lead_out": "gbr-lead", "recipient": "ukr", "analyst": "analyst", "auditor": "auditor"}
# object -> (its offer's member, its visibility). desk_owner's member owns all but `other`, which desk_other's does.
OBJECTS = {"own": ("DEU", Visibility.MEMBER), "other": ("USA", Visibility.MEMBER),
           "coalition": ("DEU", Visibility.COALITION), "public": ("DEU", Visibility.PUBLIC)}


def secret(obj: str) -> str:
    """A reference only the offer itself carries: seen in a response, the offer was seen."""
    return f"SECRET-REF-{obj.upper()}"


@dataclass
class Scenario:
    """One coordination with the four objects: an offer each (re-export consent asked of the other member and
    granted), a confirmed allocation of it to an open requirement, and a shipment of part of it."""

    world: World
    requirement: str
    offers: dict[str, str]
    allocations: dict[str, str]
    consents: dict[str, str]
    deliveries: dict[str, str]


def build(world: World) -> None:
    with world.db.transaction() as uow:
        admin = world.caller("admin")
        svc.register_user(uow, admin, User("gbr-lead", "GBR", Role.COALITION_LEAD))
        svc.register_user(uow, admin, User("auditor", "EST", Role.AUDITOR))
        svc.register_user(uow, admin, User("spare", "DEU", Role.DESK_OFFICER))
        svc.create_fund(uow, admin, Fund("F1", "Artillery fund", "DEU", "artillery"))
    req = open_requirement(world, quantity=10_000)
    for obj, (member, visibility) in OBJECTS.items():
        desk, origin = ("deu", "USA") if member == "DEU" else ("usa", "DEU")
        with world.db.transaction() as uow:
            offer = svc.enter_offer(uow, world.caller(desk), replace(
                OFFER, member=member, depot=member, visibility=visibility, consent_from=origin, ref=secret(obj),
                value=Decimal("123456.78"), currency="EUR", basis=ValuationBasis.MARKET),
                status=OfferStatus.COMMITTED)
            consent = svc.request_consent(uow, world.caller(desk), offer.id)
            svc.decide_consent(uow, world.caller(origin.lower()), consent.id, "grant")
            a = svc.propose_allocation(uow, world.caller("admin"), offer=offer.id, requirement=req, quantity=100)
            svc.move_allocation(uow, world.caller(desk), a.id, "accept")
            svc.move_allocation(uow, world.caller("ukr"), a.id, "accept")
            svc.move_allocation(uow, world.caller("admin"), a.id, "confirm")
            svc.dispatch(uow, world.caller(desk), allocation=a.id, quantity=10, dispatched_on=world.clock.now().date())


def located(world: World) -> Scenario:
    """The scenario's objects in a copy of it: each offer by its reference, and what hangs from it."""
    state = world.db.state()
    offer_of = {o.ref: o.id for o in state.offers.values()}
    offers = {obj: offer_of[secret(obj)] for obj in OBJECTS}
    alloc_of = {a.offer: a.id for a in state.allocations.values()}
    allocations = {obj: alloc_of[o] for obj, o in offers.items()}
    consent_of = {c.offer: c.id for c in state.consents.values()}
    delivery_of = {d.allocation: d.id for d in state.deliveries.values()}
    (req,) = state.requirements
    return Scenario(world, req, offers, allocations, {obj: consent_of[o] for obj, o in offers.items()},
                    {obj: delivery_of[a] for obj, a in allocations.items()})


@pytest.fixture
def scenario(db_url: str, clock: FixedClock, tmp_path: Path, database_copies: DatabaseCopies) -> Iterator[Scenario]:
    """A fresh copy of the scenario for each test (built once per engine and session)."""

    def make(db: Database, _: Path) -> None:
        init_coordination(db, clock)
        build(build_world(db, clock))

    db = database_copies.copy(db_url, tmp_path, ("authorization-matrix", clock.at), make)
    yield located(World(db, clock))
    db.engine.dispose()
