"""A small hand-built coordination with exact expected figures, shared by the report and CLI tests.

Requirements (needed by 2024-09-01): R1 155mm ×1000 p1, R2 155mm ×500 p2, R3 fpv ×200 p1, R4 tents ×10 p3.
Offers (committed 2024-07-01): O1 DEU 155-a ×600 (catalogue 3,000 €/unit), O2 FRA 155-b ×400 declared
1,000,000 EUR, O3 fund AMMO 155-a ×100 (AMMO: DEU 300,000 €, USA 700,000 €), O4 USA 155-b ×100 needing DEU's
re-export consent, O5 USA fpv ×50. Confirmed: O1→R1 600, O2→R1 300, O3→R2 100. Pending: O2→R2 50,
O4→R2 20. Received: 390 of 400 (10 short) on 07-31 and 200 on 08-20 of O1→R1; 100 of O3→R2 on 08-15.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from contactgroup.domain.model import Category, Coalition, Fund, Item, ItemClass, ValuationBasis
from contactgroup.services import coordination as svc
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


@dataclass(frozen=True)
class Scenario:
    world: World
    r1: str
    r2: str
    r3: str
    r4: str
    offers: tuple[str, ...]


def build_scenario(w: World) -> Scenario:
    with w.db.transaction() as uow:
        admin = w.caller("admin")
        svc.form_coalition(uow, admin, Coalition("winter", "Winter equipment", ("NOR",)))
        svc.catalogue_item(uow, admin, Item("tent", "Winter tent", Category.HUMANITARIAN, "each", None,
                                              Decimal("800")))
        svc.define_item_class(uow, admin, ItemClass("tents", "Winter tents", "winter", ("tent",)))
        svc.create_fund(uow, admin, Fund("AMMO", "Ammunition initiative", "DEU", "artillery"))
        svc.contribute(uow, admin, fund="AMMO", member="DEU", amount=Decimal("300000"), currency="EUR",
                       pledged_on=date(2024, 6, 1))
        svc.contribute(uow, admin, fund="AMMO", member="USA", amount=Decimal("700000"), currency="EUR",
                       pledged_on=date(2024, 6, 3))
    r1 = open_requirement(w, 1000, 1)
    r2 = open_requirement(w, 500, 2)
    r3 = open_requirement(w, 200, 1, item_class="fpv")
    r4 = open_requirement(w, 10, 3, item_class="tents")
    o1 = enter_offer(w, "deu")
    o2 = enter_offer(w, "fra", member="FRA", item="155-b", quantity=400, value=Decimal("1000000"), currency="EUR",
                     basis=ValuationBasis.MARKET)
    o3 = enter_offer(w, "deu", member="AMMO", quantity=100)
    o4 = enter_offer(w, "usa", member="USA", item="155-b", quantity=100, consent_from="DEU")
    o5 = enter_offer(w, "usa", member="USA", item="fpv", quantity=50)
    a1 = confirmed_allocation(w, o1, r1, 600)
    confirmed_allocation(w, o2, r1, 300, donor="fra")
    a3 = confirmed_allocation(w, o3, r2, 100)
    w.clock.at = w.clock.at.replace(month=9)  # shipments are recorded after they happened (July and August)
    with w.db.transaction() as uow:
        admin = w.caller("admin")
        svc.propose_allocation(uow, admin, offer=o2, requirement=r2, quantity=50)
        svc.propose_allocation(uow, admin, offer=o4, requirement=r2, quantity=20)
        for alloc, quantity, sent, got, short in ((a1, 400, date(2024, 7, 10), date(2024, 7, 31), 10),
                                                  (a1, 200, date(2024, 7, 20), date(2024, 8, 20), 0),
                                                  (a3, 100, date(2024, 8, 1), date(2024, 8, 15), 0)):
            d = svc.dispatch(uow, w.caller("deu"), allocation=alloc, quantity=quantity, dispatched_on=sent)
            svc.receive(uow, w.caller("ukr"), d.id, received_on=got, short=short)
    return Scenario(w, r1, r2, r3, r4, (o1, o2, o3, o4, o5))
