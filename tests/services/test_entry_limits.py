"""Limits and character rules at entry: the same refusal on SQLite and PostgreSQL, naming the field and the limit,
and nothing written."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from contactgroup.domain.errors import Conflict, ValidationFailed
from contactgroup.domain.model import Category, Item, Member, MemberKind, Requirement, Role, User
from contactgroup.services import coordination as svc
from tests.factories import OFFER, World, enter_offer, open_requirement


def _draft(world: World, **changes: object) -> Requirement:
    fields: dict[str, object] = {"item_class": "155mm", "quantity": 10, "priority": 1,
                                 "needed_by": date(2024, 9, 1), "destination": "UKR-West", **changes}
    result: Requirement = world.do(svc.draft_requirement, "ukr", **fields)
    return result


class TestFreeText:
    def test_a_note_of_4000_characters_is_kept_whole(self, world: World) -> None:
        note = "line one\n\tline two " + "x" * 3981
        req = _draft(world, note=note)
        assert len(note) == 4000
        with world.db.transaction() as uow:
            assert uow.state.requirements[req.id].note == note

    @pytest.mark.parametrize(("field", "value", "says"), [
        ("note", "x" * 4001, "at most 4,000"),
        ("note", "before\x00after", "U+0000"),
        ("note", "clear \x1b[2J screen", "U+001B"),
        ("destination", "UKR-West\n", "U+000A"),
        ("destination", "d" * 201, "at most 200"),
        ("destination", "UKR\u202eWest", "U+202E"),
    ])
    def test_refused_naming_the_field_on_every_database(self, world: World, field: str, value: str,
                                                        says: str) -> None:
        before = world.event_count()
        with pytest.raises(ValidationFailed) as refused:
            _draft(world, **{field: value})
        (problem,) = refused.value.problems
        assert problem.where == field and says in problem.message
        assert world.event_count() == before

    def test_an_end_use_over_the_limit_is_refused(self, world: World) -> None:
        before = world.event_count()
        with pytest.raises(ValidationFailed, match="end_use: is 200,000 characters long"):
            enter_offer(world, end_use="e" * 200_000)
        assert world.event_count() == before

    def test_reasons_are_free_text_too(self, world: World) -> None:
        offer = enter_offer(world)
        req = open_requirement(world)
        alloc = world.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=10).id
        with pytest.raises(ValidationFailed, match="reason: contains a control character"):
            world.do(svc.move_offer, "deu", offer, "withdraw", reason="no\x00")
        with pytest.raises(ValidationFailed, match="reason: is 4,001 characters"):
            world.do(svc.move_allocation, "deu", alloc, "decline", "r" * 4001)
        with pytest.raises(ValidationFailed, match="reason: contains a control character"):
            world.do(svc.move_requirement, "admin", req, "close", "\x1b]8;;http://x\x07")
        assert world.do(svc.move_offer, "deu", offer, "withdraw", reason="stock\nneeded").status.value == "withdrawn"


class TestNames:
    @pytest.mark.parametrize("name", ["deu-desk\n", "deu-desk\r", "deu\u200bdesk", "d" * 300])
    def test_a_user_name_with_a_trailing_newline_is_not_a_second_user(self, world: World, name: str) -> None:
        world.do(svc.register_user, "admin", User("deu-desk", "DEU", Role.DESK_OFFICER))
        with pytest.raises((ValidationFailed, Conflict)):
            world.do(svc.register_user, "admin", User(name, "DEU", Role.DESK_OFFICER))
        with world.db.transaction() as uow:
            assert [u for u in uow.state.users if u.startswith("deu")] == ["deu", "deu-desk"]

    @pytest.mark.parametrize("code", ["fpv2\n", "fpv2\u202e"])
    def test_item_codes_match_whole(self, world: World, code: str) -> None:
        with pytest.raises(ValidationFailed, match="code"):
            world.do(svc.catalogue_item, "admin", Item(code, "FPV kit", Category.MILITARY, "kit"))

    def test_organisation_codes_match_whole(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="code"):
            world.do(svc.admit_member, "admin", Member("NEWORG\n", "New org", MemberKind.ORGANISATION, "EUR"))

    @pytest.mark.parametrize(("name", "says"), [("Evil\u202eaniamoR", "U+202E"), ("n" * 201, "at most 200"),
                                                 ("Tab\tname", "U+0009")])
    def test_item_and_member_names_refuse_invisible_characters_and_length(self, world: World, name: str,
                                                                         says: str) -> None:
        with pytest.raises(ValidationFailed, match=re.escape(says)):
            world.do(svc.catalogue_item, "admin", Item("new", name, Category.MILITARY, "kit"))
        with pytest.raises(ValidationFailed, match=re.escape(says)):
            world.do(svc.admit_member, "admin", Member("EVL", name, MemberKind.ORGANISATION, "EUR"))

    def test_nsn_digits_are_ascii(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="nsn"):
            world.do(svc.catalogue_item, "admin", Item("x", "X", Category.MILITARY, "kit", "١٣٢٠-01-234-5678"))


def test_an_offer_with_markup_and_bidi_in_its_end_use_is_kept_verbatim(world: World) -> None:
    end_use = "[/] [link=https://example.org]x[/link] \u202eok\u202c"
    offer = enter_offer(world, end_use=end_use)
    with world.db.transaction() as uow:
        assert uow.state.offers[offer].end_use == end_use
    assert replace(OFFER, end_use=end_use).end_use == end_use
