"""Issue 14's proof on the reference network: an ammunition shipment (UN class 1) from Rotterdam to the Rzeszów hub
near the Polish–Ukrainian border, with and without the NL–DE–PL zone, beside a fuel shipment whose Polish air
clearance was refused, at a hub that is full. Every figure `mobility compare` reports is derived in the comments.

A plain `State` holds the reference network as the demo records it (the package's CSV files, read by the same
reader as `network import`), planned on a fixed day, so that the dates do not depend on when the test runs.
Transit days are the reference legs' (all those used here take 1 day, except the sea legs Rotterdam–Gdańsk 5 and
Hamburg–Gdańsk 3, and the rail leg Gdańsk–Lublin 3). Border rules are the reference's: entering the Netherlands,
Germany or Poland by road or rail takes a permission five working days ahead, five more for UN class 1; a port
call needs none; a Polish air clearance takes three. No public holiday of NLD, DEU or POL falls in these weeks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from contactgroup.domain.model import (
    Allocation,
    AllocationStatus,
    Category,
    Item,
    MovementPermission,
    Offer,
    OfferStatus,
    PermissionStatus,
    Requirement,
    RequirementStatus,
    Role,
    Source,
    User,
    Visibility,
)
from contactgroup.domain.state import State
from contactgroup.io import network as files
from contactgroup.mobility import Route
from contactgroup.reports.gaps import gaps
from contactgroup.services import movement, queries
from contactgroup.services.mobility import network_of
from contactgroup.services.movement_view import rows

MONDAY = date(2026, 3, 9)  # the planning day: every permission is requested on it
MARCH_17 = date(2026, 3, 17)
ANALYST = User("analyst", "EST", Role.ANALYST)


def scenario(hub_capacity: int) -> State:
    s = State()
    read = files.read(files.reference_paths())
    for table in (read.places, read.legs, read.rules, read.zones):
        for _, entity in table:
            s.put(entity)
    # The reference hub takes 12 shipments a day; here it is full after one (a busy week).
    s.put(replace(s.places["RZE-HUB"], capacity=hub_capacity))
    s.put(Item("155-he", "155 mm HE shell", Category.MILITARY, "round", mass_kg=Decimal("43"), hazard_class="1.1"))
    s.put(Item("fuel", "Diesel", Category.MILITARY, "m3", mass_kg=Decimal("840")))
    for ident, member, item, depot, quantity, available in (("O1", "NLD", "155-he", "RTM-PORT", 500, MONDAY),
                                                            ("O2", "DEU", "fuel", "DUI-RAIL", 20, date(2026, 3, 10))):
        s.put(Offer(ident, member, item, quantity, available, depot, Source.STOCKS, OfferStatus.ALLOCATED,
                    Visibility.PUBLIC))  # public, so that the analyst reading the comparison sees both
    # Both are needed at the Rzeszów hub by Tuesday 17 March; the fuel is priority 1, the shells priority 2.
    s.put(Requirement("R1", "ammunition", 1000, 2, MARCH_17, "RZE-HUB", "artillery", RequirementStatus.OPEN))
    s.put(Requirement("R2", "fuel", 1000, 1, MARCH_17, "RZE-HUB", "logistics", RequirementStatus.OPEN))
    s.put(Allocation("A1", "O1", "R1", 500, AllocationStatus.CONFIRMED, MONDAY))
    s.put(Allocation("A2", "O2", "R2", 20, AllocationStatus.CONFIRMED, MONDAY))
    # Poland's desk refused the fuel's air clearance (Ramstein → Rzeszów-Jasionka, its fastest way without the zone).
    s.put(MovementPermission("A2/POL/air", "A2", "POL", "air", PermissionStatus.REFUSED, MONDAY, date(2026, 3, 12),
                             MONDAY, "no slot"))
    return s


def compared(hub_capacity: int) -> dict[tuple[str, str], dict[str, object]]:
    state = scenario(hub_capacity)
    found = movement.compare_zone(state, network_of(state, MONDAY), ANALYST, ("NLD", "DEU", "POL"), MONDAY)
    return {(r["level"], r["key"]): r for r in rows(found)}


def test_what_the_corridor_saves_an_ammunition_shipment_to_a_full_rzeszow_hub() -> None:
    found = compared(hub_capacity=1)
    ammunition, fuel = found[("shipment", "A1")], found[("shipment", "A2")]

    # A1, 500 shells of UN class 1.1 from Rotterdam, leaving Monday 9 March.
    # Without the zone: into Germany by rail or road needs Germany's permission, 5 + 5 working days for class 1:
    # ready Monday 23 March. By sea none is needed: Rotterdam → Gdańsk 5 days (Saturday 14), Gdańsk → Lublin by
    # rail 3 days (Tuesday 17), Lublin → Rzeszów by road 1 day: Wednesday 18 March, 1 day after it was needed.
    assert (ammunition["eta_without"], ammunition["late_without"]) == (date(2026, 3, 18), 1)
    # With the zone, crossings among NLD, DEU and POL need no permission: by rail to Duisburg, then Hannover,
    # Magdeburg, Frankfurt (Oder), Poznań, Wrocław, Kraków and Rzeszów, 8 legs of 1 day, would arrive Tuesday 17 —
    # but the hub takes one shipment a day and the fuel, priority 1, arrives then too (below). The shells leave a
    # day later and arrive Wednesday 18: the zone saves them nothing, and the plan says why.
    assert (ammunition["eta_with"], ammunition["days_saved"], ammunition["late_with"]) == (date(2026, 3, 18), 0, 1)
    assert ammunition["waited_with"] == "Rzeszów logistics hub full 17 March: 1 day"
    assert ammunition["waited_without"] == "" and ammunition["note"] == ""

    # A2, 20 m³ of diesel from Duisburg, available Tuesday 10 March, moved by Germany.
    # Without the zone: the air clearance was refused, so no way by air; by road or rail into Poland the permission
    # of 5 Polish working days is ready Monday 16 March (Frankfurt (Oder) → Poznań then, Rzeszów Friday 20). By sea,
    # which needs none: Duisburg → Hannover by road (11), → Hamburg by rail (12), → Gdańsk by sea 3 days (15),
    # → Lublin by rail 3 days (18), → Rzeszów by road: Thursday 19 March, 2 days late.
    assert (fuel["eta_without"], fuel["late_without"]) == (date(2026, 3, 19), 2)
    # With the zone the refusal does not matter (the zone waives the permission of its crossings): from Duisburg by
    # the ammunition's way, 7 legs of 1 day: Tuesday 17 March, on time, 2 days saved. It has the hub that day.
    assert (fuel["eta_with"], fuel["days_saved"], fuel["late_with"], fuel["waited_with"]) == (MARCH_17, 2, 0, "")

    # Per tier and member (the fuel is tier 1 and Germany's, the shells tier 2 and the Netherlands'): days saved,
    # days late without and with, their change, and units arriving by 17 March without and with.
    tally = ("shipments", "compared", "days_saved", "late_days_without", "late_days_with", "late_days_change",
             "units_on_time_without", "units_on_time_with", "units_on_time_change")
    fuel_figures = (1, 1, 2, 2, 0, -2, 0, 20, 20)  # 20 units on time with the zone only
    shells_figures = (1, 1, 0, 1, 1, 0, 0, 0, 0)  # late a day either way: no unit on time
    for key, figures in ((("tier", "1"), fuel_figures), (("member", "DEU"), fuel_figures),
                         (("tier", "2"), shells_figures), (("member", "NLD"), shells_figures)):
        assert tuple(found[key][c] for c in tally) == figures, key
    # In total: 2 days saved; 3 days late without (1 + 2), 1 with (the shells' day at the full hub).
    assert tuple(found[("total", "all")][c] for c in tally) == (2, 2, 2, 3, 1, -2, 0, 20, 20)


def test_a_hub_with_room_lets_the_zone_save_the_shells_a_day() -> None:
    # The reference's 12 shipments a day: both arrive Tuesday 17 March, the shells on time too.
    ammunition = compared(hub_capacity=12)[("shipment", "A1")]
    assert (ammunition["eta_with"], ammunition["days_saved"], ammunition["waited_with"]) == (MARCH_17, 1, "")


def test_the_shells_plan_waits_a_day_for_room_at_the_hub() -> None:
    # `delivery plan`'s ETA: every open shipment scheduled on the network as recorded (the corridor in force since
    # 2024), so the shells' route is the zone's above, and the fuel, priority 1, has the hub on 17 March.
    state = scenario(hub_capacity=1)
    network = network_of(state, MONDAY)
    [shells] = [s for s in movement.open_shipments(state, MONDAY) if s.id == "A1"]
    timed = movement.scheduled_arrival(state, network, shells, MONDAY)
    assert timed.eta == date(2026, 3, 18) and [str(w) for w in timed.waits] == ["RZE-HUB full 17 March: 1 day"]
    # Routed alone the shells would arrive on the day needed; the full hub makes them a day late, and the gaps and
    # the inbox say so, and why.
    assert isinstance(timed.route, Route) and timed.route.eta == MARCH_17
    [late] = movement.late_shipments(state, network, MONDAY)
    assert (late.shipment.id, late.eta, late.days, late.reason) == (
        "A1", date(2026, 3, 18), 1, "Rzeszów logistics hub full 17 March: 1 day")
    [row] = [r for r in gaps(state, None, late=movement.late_by_requirement(state, network, MONDAY))
             if r.requirement == "R1"]
    assert (row.late, row.eta) == (500, date(2026, 3, 18))
    assert "(latest 2026-03-18: Rzeszów logistics hub full 17 March: 1 day)" in row.detail
    state.put(User("nld", "NLD", Role.DESK_OFFICER))
    entries = queries.inbox(state, state.users["nld"], datetime(2026, 3, 9, 9, 0, tzinfo=UTC)).entries
    [entry] = [e for e in entries if e.id == "A1"]
    assert entry.detail.endswith("; LATE: expected 2026-03-18, 1 day after its needed-by date 2026-03-17 (Rzeszów "
                                 "logistics hub full 17 March: 1 day)")
