"""Places: a requirement's destination is a place the record knows, checked at entry, so transit times apply to it;
old free-text destinations replay unchanged."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from contactgroup.domain.errors import Conflict, Forbidden, ValidationFailed
from contactgroup.domain.event import Context, replay
from contactgroup.domain.model import Place, PlaceKind, Requirement, RequirementStatus
from contactgroup.domain.place import check_destination
from contactgroup.domain.state import State, as_data
from contactgroup.services import coordination as svc
from contactgroup.services import place, transit
from contactgroup.services.allocation import problem_from_state
from contactgroup.services.verify import verify
from contactgroup.storage.database import decode, read_events
from tests.factories import World, enter_offer
from tests.services.test_allocation import run

HUB = Place("RZESZOW-HP", "Rzeszów handover point", "POL", PlaceKind.HANDOVER_POINT)
LVIV = Place("LVIV-HP", "Lviv handover point", "UKR", PlaceKind.HANDOVER_POINT, region="West")


def draft(world: World, destination: str, user: str = "ukr") -> Requirement:
    result: Requirement = world.do(svc.draft_requirement, user, item_class="155mm", quantity=10, priority=1,
                                     needed_by=date(2024, 9, 1), destination=destination)
    return result


def open_at(world: World, destination: str) -> str:
    req = draft(world, destination)
    for user, action in (("ukr", "submit"), ("admin", "validate"), ("admin", "open")):
        world.do(svc.move_requirement, user, req.id, action)
    return req.id


def problems_of(caught: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [str(p) for p in caught.value.problems]


class TestDefine:
    def test_a_coordinator_defines_a_place_that_everyone_lists(self, world: World) -> None:
        world.do(place.define_place, "admin", HUB)
        world.do(place.define_place, "admin", LVIV)
        assert place.listed(world.db.state()) == [LVIV, HUB]

    @pytest.mark.parametrize(("changes", "field", "words"), [
        ({"code": "POL-RZE"}, "code", "reads as a destination in the country POL"),
        ({"code": "a b"}, "code", "not a valid code"),
        ({"country": "XYZ"}, "country", "'XYZ' is not an ISO 3166 alpha-3 country code"),
        ({"country": "pol"}, "country", "not an ISO 3166 alpha-3"),
        ({"region": "West side"}, "region", "a region is letters and digits"),
        ({"name": " "}, "name", "must not be empty"),
    ])
    def test_a_bad_place_is_refused_naming_the_field_and_nothing_is_written(
            self, world: World, changes: dict[str, Any], field: str, words: str) -> None:
        before = world.event_count()
        with pytest.raises(ValidationFailed) as caught:
            world.do(place.define_place, "admin", dataclasses.replace(HUB, **changes))
        assert any(p.startswith(f"{field}: ") and words in p for p in problems_of(caught)), problems_of(caught)
        assert world.event_count() == before

    def test_a_place_is_defined_once(self, world: World) -> None:
        world.do(place.define_place, "admin", HUB)
        with pytest.raises(Conflict, match="place RZESZOW-HP already exists"):
            world.do(place.define_place, "admin", HUB)

    def test_a_desk_officer_may_not_define_places(self, world: World) -> None:
        with pytest.raises(Forbidden, match="place:define"):
            world.do(place.define_place, "deu", HUB)
        assert not world.db.state().places


class TestRequirementDestination:
    @pytest.mark.parametrize("destination", ["UKR", "UKR-West", "UKR-Ivano-Frankivsk", "POL", "RZESZOW-HP"])
    def test_a_known_place_is_taken(self, world: World, destination: str) -> None:
        world.do(place.define_place, "admin", HUB)
        assert draft(world, destination).destination == destination

    @pytest.mark.parametrize(("destination", "words"), [
        ("Lviv depot", "'Lviv depot' is not a place the record knows: write a country code (ISO 3166 alpha-3, "
                       "e.g. UKR), optionally with a region (UKR-West), or a defined place's code; defined "
                       "places: RZESZOW-HP"),
        ("XYZ-West", "'XYZ' is not an ISO 3166 alpha-3 country code (in 'XYZ-West')"),
        ("ukr", "'ukr' is not a place the record knows"),
        ("UKR-", "'UKR-' is not a place the record knows"),
        ("RZESZOW-HQ", "'RZESZOW-HQ' is not a place the record knows"),
    ])
    def test_an_unknown_place_is_refused_naming_the_field_and_nothing_is_written(
            self, world: World, destination: str, words: str) -> None:
        world.do(place.define_place, "admin", HUB)
        before = world.event_count()
        with pytest.raises(ValidationFailed) as caught:
            draft(world, destination)
        (found,) = problems_of(caught)
        assert found.startswith(f"destination: {words}"), found
        assert world.event_count() == before and not world.db.state().requirements

    def test_with_no_place_defined_the_refusal_says_so(self) -> None:
        (found,) = check_destination(State(), "Kyiv")
        assert str(found).endswith("; no place is defined yet")

    def test_the_check_names_the_field_it_is_given(self) -> None:
        (found,) = check_destination(State(), "Kyiv", "row 3, column destination")
        assert found.where == "row 3, column destination"


class TestTransit:
    def test_transit_days_to_a_place_apply_to_its_requirements(self, world: World) -> None:
        world.do(place.define_place, "admin", HUB)
        open_at(world, "RZESZOW-HP")
        enter_offer(world, quantity=10, available_from=date(2024, 8, 25), depot="DEU")
        world.do(transit.set_transit, "admin", "DEU", "RZESZOW-HP", 10)
        assert problem_from_state(world.db.state()).transit_days == {("DEU", "RZESZOW-HP"): 10}

    def test_without_a_route_of_its_own_a_place_takes_its_regions_then_its_countrys(self, world: World) -> None:
        world.do(place.define_place, "admin", LVIV)
        world.do(place.define_place, "admin", HUB)
        for destination in ("LVIV-HP", "RZESZOW-HP", "UKR-East"):
            open_at(world, destination)
        for origin, destination, days in (("DEU", "UKR", 9), ("DEU", "UKR-West", 4), ("USA", "UKR", 21),
                                          ("DEU", "POL", 2)):
            world.do(transit.set_transit, "admin", origin, destination, days)
        days = problem_from_state(world.db.state()).transit_days
        assert {k: v for k, v in days.items() if k[1] in ("LVIV-HP", "RZESZOW-HP", "UKR-East")} == {
            ("DEU", "LVIV-HP"): 4, ("USA", "LVIV-HP"): 21,  # its region UKR-West from DEU; its country from USA
            ("DEU", "RZESZOW-HP"): 2,  # Poland; no USA -> POL route: 0 days
            ("DEU", "UKR-East"): 9, ("USA", "UKR-East"): 21,  # a region without a route: its country's
        }
        assert len(transit.listed(world.db.state())) == 4  # only what was recorded is listed

    def test_a_late_arrival_at_a_place_counts_the_countrys_days(self, world: World) -> None:
        world.do(place.define_place, "admin", LVIV)
        open_at(world, "LVIV-HP")  # needed by 2024-09-01
        enter_offer(world, quantity=10, available_from=date(2024, 8, 25), depot="DEU")
        world.do(transit.set_transit, "admin", "DEU", "UKR", 10)
        (allocation,) = run(world).plan.allocations
        assert (allocation.arrives, allocation.late_days) == (date(2024, 9, 4), 3)

    def test_a_route_to_an_unknown_place_is_refused(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="destination: 'RZESZOW-HP' is not a place the record knows"):
            world.do(transit.set_transit, "admin", "DEU", "RZESZOW-HP", 3)
        world.do(place.define_place, "admin", HUB)
        assert world.do(transit.set_transit, "admin", "DEU", "RZESZOW-HP", 3).days == 3

    def test_a_transit_file_names_the_row_of_an_unknown_place(self, world: World) -> None:
        with pytest.raises(ValidationFailed) as caught:
            world.do(transit.import_transit, "admin", "origin,destination,days\nDEU,UKR,3\nDEU,Rzeszow,2\n",
                     "transit.csv")
        assert problems_of(caught)[0].startswith("transit.csv: row 3, column destination: 'Rzeszow' is not a place")


class TestOldFreeTextDestinations:
    def test_replay_keeps_a_free_text_destination(self, world: World) -> None:
        """A requirement written before places were checked replays and verifies as it was written."""
        with world.db.transaction() as uow:
            ctx = Context("ukr", "UKR", uow.state.authority.name if uow.state.authority else "", world.clock.now())
            old = Requirement("R-00001", "155mm", 10, 1, date(2024, 9, 1), "Lviv depot, gate 2", "artillery",
                                RequirementStatus.DRAFT)
            uow.record([ctx.event("RequirementDrafted", as_data(old))])
        state = world.db.state()
        assert state.requirements["R-00001"].destination == "Lviv depot, gate 2"
        assert verify(world.db).ok
        with world.db.reader() as conn:
            events = [decode(body) for _, body, _ in read_events(conn, 0, 10**6)]
        assert replay(events).requirements["R-00001"].destination == "Lviv depot, gate 2"
        # Transit lookups for a destination the record does not know: its own routes only.
        world.do(transit.set_transit, "admin", "DEU", "UKR", 5)
        assert ("DEU", "Lviv depot, gate 2") not in problem_from_state(world.db.state()).transit_days
