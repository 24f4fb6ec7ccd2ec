"""What a zone saves, with every figure worked out by hand from the corridor of test_route.py; and that a zone
never makes a shipment later, on random networks."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactgroup.mobility import Consignment, Mode, Network, Route, Router, Shipment, Zone, compare
from tests.mobility.test_route import CALENDAR, CORRIDOR, MONDAY, NL_DE_PL, cases

ZONE = Zone("NL-DE-PL", "North Sea–eastern flank corridor", NL_DE_PL, date(2026, 3, 4))


def consignment(ident: str, member: str, priority: int, units: int, needed_by: date, *, origin: str = "RTM",
                dangerous: bool = False) -> Consignment:
    return Consignment(Shipment(ident, origin, "RZE-HUB", MONDAY, member, dangerous), member, priority, units,
                       needed_by)


CONSIGNMENTS = [
    # Without the zone: DEU road ready Thu 5 March, then round through Czechia → RZE-HUB Thu 12 March (see
    # test_route). With it: into Germany on Wed 4 March, rail through Świecko free → Mon 9 March. Saves 3 days.
    consignment("NL-AMMO", "NLD", 1, 100, date(2026, 3, 10), dangerous=True),
    consignment("NL-FUEL", "NLD", 2, 40, date(2026, 3, 12)),
    # A German consignment from Duisburg needs no German permission. Without the zone, by road via Czechia: CZE
    # ready Wed 4 March, 3 days → CZ-HUB Sat 7, POL road ready (Fri 6) → Tue 10 March. With it, by rail from Mon 2:
    # FFO Wed 4, the crossing free (the zone has started) → Fri 6 March. Saves 4 days.
    consignment("DE-SPARES", "DEU", 2, 10, date(2026, 3, 5), origin="DUI"),
]


def test_the_zone_saves_days_per_shipment_tier_and_member() -> None:
    found = compare(CORRIDOR, CONSIGNMENTS, ZONE, calendar=CALENDAR)
    # NL-AMMO without: DEU road for UN class 1 is 3 + 5 = 8 working days → Thu 12 March; DUI Fri 13, FFO Sun 15,
    # POL rail ready Mon 16 → RZE-HUB Wed 18 March (via Czechia: Thu 19). With: as NL-FUEL, Mon 9 March — the zone
    # waives the permission, dangerous goods' extra days with it.
    assert [(s.id, s.eta_without, s.eta_with, s.days_saved) for s in found.savings] == [
        ("NL-AMMO", date(2026, 3, 18), date(2026, 3, 9), 9),
        ("NL-FUEL", date(2026, 3, 12), date(2026, 3, 9), 3),
        ("DE-SPARES", date(2026, 3, 10), date(2026, 3, 6), 4)]
    # Priority 1: NL-AMMO's 100 units were 8 days late (18 vs 10 March) and are now on time.
    one = found.tiers[1]
    assert (one.days_saved, one.late_days_without, one.late_days_with) == (9, 8, 0)
    assert (one.units_on_time_without, one.units_on_time_with) == (0, 100)
    # Priority 2: NL-FUEL on time both ways (40 units); DE-SPARES 5 days late (10 vs 5 March), then 1 day late.
    two = found.tiers[2]
    assert (two.days_saved, two.late_days_without, two.late_days_with, two.late_days_change) == (7, 5, 1, -4)
    assert (two.units_on_time_without, two.units_on_time_with) == (40, 40)
    assert found.members["NLD"].days_saved == 12 and found.members["DEU"].days_saved == 4
    assert (found.total.days_saved, found.total.late_days_change, found.total.units_on_time_change) == (16, -12, 100)


def test_a_zone_that_starts_after_the_shipments_have_crossed_saves_nothing() -> None:
    late_zone = Zone("NL-DE-PL", "corridor", NL_DE_PL, date(2026, 6, 1))
    found = compare(CORRIDOR, CONSIGNMENTS, late_zone, calendar=CALENDAR)
    assert [s.days_saved for s in found.savings] == [0, 0, 0]
    assert found.total.units_on_time_change == 0


def test_a_refusal_waits_without_the_zone_and_the_zone_lets_it_through() -> None:
    found = compare(CORRIDOR, CONSIGNMENTS[:1], ZONE, refused=[("DEU", Mode.ROAD, date(2026, 3, 6))],
                    calendar=CALENDAR)
    # German road permission refused on Fri 6 March: every way enters Germany by road, so without the zone it is
    # asked again that day, 8 working days for UN class 1 → Wed 18 March; DUI Thu 19, FFO Sat 21, POL rail ready
    # since Mon 16 → RZE-HUB Mon 23 March (via Czechia: CZ-HUB Sun 22, RZE-HUB Wed 25). With the zone, Germany lets
    # the corridor's road in free from Wed 4 March: Mon 9 March, as unrefused. 14 days saved.
    (saving,) = found.savings
    assert (saving.eta_without, saving.eta_with, saving.days_saved) == (date(2026, 3, 23), date(2026, 3, 9), 14)
    assert (found.total.units_on_time_without, found.total.units_on_time_with) == (0, 100)


def test_a_shipment_without_a_route_either_way_is_counted_but_not_compared() -> None:
    backwards = Consignment(Shipment("BACK", "RZE-HUB", "RTM", MONDAY, "POL"), "POL", 1, 7, date(2026, 3, 10))
    found = compare(CORRIDOR, [backwards], ZONE, calendar=CALENDAR)
    (saving,) = found.savings
    assert saving.eta_without is None and saving.eta_with is None and saving.days_saved is None
    assert (found.total.consignments, found.total.compared, found.total.days_saved) == (1, 0, 0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.sampled_from([None, 0, 2]), st.integers(-5, 10))
def test_a_zone_never_makes_a_shipment_later(case: tuple[Network, Shipment, dict[tuple[str, Mode], date]],
                                               lead: int | None, starts: int) -> None:
    network, shipment, refused_on = case
    refused = [(country, mode, day) for (country, mode), day in refused_on.items()]
    without = Router(network, CALENDAR).route(shipment, refused)
    if isinstance(without, Route) and without.renewals():
        # Waiting for a refused permission asked again is the last resort, taken where no route goes round; a zone
        # may open a way round that arrives after the wait would have ended: re-routing is the rule, not speed.
        return
    zone = Zone("NEW", "new zone", frozenset({"NLD", "DEU", "POL", "UKR"}), shipment.leaves + timedelta(starts), lead)
    found = compare(network, [Consignment(shipment, "NLD", 1, 5, shipment.leaves)], zone, refused=refused,
                    calendar=CALENDAR)
    (saving,) = found.savings
    assert saving.eta_without is None or (saving.days_saved is not None and saving.days_saved >= 0)
    assert found.total.units_on_time_change >= 0 and found.total.late_days_change <= 0
