"""Test data factories: a small coordination with users for every role, built through the real services."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from contactgroup.domain.model import (
    Category,
    Coalition,
    Item,
    ItemClass,
    Offer,
    OfferStatus,
    Role,
    Source,
    User,
    Visibility,
)
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.storage.database import Database


@dataclass
class World:
    db: Database
    clock: FixedClock

    def caller(self, name: str) -> svc.Caller:
        return svc.Caller(name, self.clock)

    def do(self, fn: Any, user: str, *args: Any, **kwargs: Any) -> Any:
        """Run one service call as `user` in its own transaction."""
        with self.db.transaction() as uow:
            return fn(uow, self.caller(user), *args, **kwargs)

    def event_count(self) -> int:
        with self.db.transaction() as uow:
            return uow.next_seq


def build_world(db: Database, clock: FixedClock) -> World:
    """Artillery coalition (FRA, USA), two 155 mm items in one class, users: admin, ukr, deu, fra, usa, lead."""
    w = World(db, clock)
    with db.transaction() as uow:
        admin = w.caller("admin")
        svc.form_coalition(uow, admin, Coalition("artillery", "Artillery", ("FRA", "USA")))
        svc.form_coalition(uow, admin, Coalition("drones", "Drones", ("LVA", "GBR")))
        svc.catalogue_item(uow, admin, Item("155-a", "155 mm HE, type A", Category.MILITARY, "round",
                                              "1320-01-234-5678", Decimal("3000")))
        svc.catalogue_item(uow, admin, Item("155-b", "155 mm HE, type B", Category.MILITARY, "round",
                                              None, Decimal("3500")))
        svc.catalogue_item(uow, admin, Item("fpv", "FPV drone kit", Category.MILITARY, "kit", None,
                                              Decimal("500")))
        svc.define_item_class(uow, admin, ItemClass("155mm", "155 mm round", "artillery", ("155-a", "155-b")))
        svc.define_item_class(uow, admin, ItemClass("fpv", "FPV drones", "drones", ("fpv",)))
        for name, party, role in (
            ("ukr", "UKR", Role.RECIPIENT_LIAISON),
            ("deu", "DEU", Role.DESK_OFFICER),
            ("fra", "FRA", Role.DESK_OFFICER),
            ("usa", "USA", Role.DESK_OFFICER),
            ("fra-lead", "FRA", Role.COALITION_LEAD),
            ("analyst", "EST", Role.ANALYST),
        ):
            svc.register_user(uow, admin, User(name, party, role))
    return w


def open_requirement(w: World, quantity: int = 1000, priority: int = 1, item_class: str = "155mm",
                     destination: str = "UKR-West") -> str:
    with w.db.transaction() as uow:
        req = svc.draft_requirement(uow, w.caller("ukr"), item_class=item_class, quantity=quantity,
                                    priority=priority, needed_by=date(2024, 9, 1), destination=destination)
        svc.move_requirement(uow, w.caller("ukr"), req.id, "submit")
        svc.move_requirement(uow, w.caller("admin"), req.id, "validate")
        svc.move_requirement(uow, w.caller("admin"), req.id, "open")
        return req.id


OFFER = Offer(id="", member="DEU", item="155-a", quantity=600, available_from=date(2024, 8, 1), depot="DEU",
                source=Source.STOCKS, status=OfferStatus.DRAFT, visibility=Visibility.MEMBER)


def enter_offer(w: World, user: str = "deu", status: str = "committed", **changes: Any) -> str:
    with w.db.transaction() as uow:
        return svc.enter_offer(uow, w.caller(user), replace(OFFER, **changes), status=status).id


def confirmed_allocation(w: World, offer: str, requirement: str, quantity: int, donor: str = "deu") -> str:
    with w.db.transaction() as uow:
        a = svc.propose_allocation(uow, w.caller("admin"), offer=offer, requirement=requirement, quantity=quantity)
        svc.move_allocation(uow, w.caller(donor), a.id, "accept")
        svc.move_allocation(uow, w.caller("ukr"), a.id, "accept")
        svc.move_allocation(uow, w.caller("admin"), a.id, "confirm")
        return a.id
