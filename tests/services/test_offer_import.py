"""Importing a desk's offers spreadsheet: all rows or none, every problem named by row and column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from contactgroup.domain.errors import Conflict, ValidationFailed
from contactgroup.services.offer_import import ImportSummary, import_offers
from tests.factories import World, enter_offer

HEADER = "member,item,quantity,available_from,depot,visibility,value,currency,basis,status\n"


def write(tmp_path: Path, body: str, name: str = "offers.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_imports_every_row(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "DEU,155-a,100,2024-08-01,DEU,public,300000,EUR,replacement,committed\n"
                           "DEU,155-b,50,2024-09-01,DEU,,,,,offered\n")
    with world.db.transaction() as uow:
        ids = import_offers(uow, world.caller("deu"), path).entered
    state = world.db.state()
    assert [state.offers[i].status.value for i in ids] == ["committed", "offered"]
    assert state.offers[ids[0]].value == 300000


def test_reads_xlsx_with_dates_and_numbers_as_cells(world: World, tmp_path: Path) -> None:
    from datetime import datetime

    wb = Workbook()
    ws = wb.active
    ws.append(["member", "item", "quantity", "available_from", "depot"])
    ws.append(["DEU", "155-a", 120.0, datetime(2024, 8, 1), "DEU"])
    wb.save(tmp_path / "offers.xlsx")
    with world.db.transaction() as uow:
        (oid,) = import_offers(uow, world.caller("deu"), tmp_path / "offers.xlsx").entered
    offer = world.db.state().offers[oid]
    assert (offer.quantity, str(offer.available_from)) == (120, "2024-08-01")


def test_lists_every_bad_cell_and_writes_nothing(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "DEU,155-a,100,2024-08-01,DEU,,,,,\n"
                           "DEU,155-a,-3,2024-08-01,DEU,,,,,\n"
                           "DEU,155-a,10,2024-02-30,DEU,everyone,,,,\n"
                           "DEU,nope,10,2024-08-01,DEU,,,,,\n"
                           "FRA,155-a,10,2024-08-01,FRA,,,,,\n")
    before = world.event_count()
    with pytest.raises(ValidationFailed) as caught, world.db.transaction() as uow:
        import_offers(uow, world.caller("deu"), path)
    problems = [str(p) for p in caught.value.problems]
    assert problems == [
        "offers.csv: row 3, column quantity: must be positive, got -3",
        "offers.csv: row 4, column available_from: '2024-02-30' is not a date (YYYY-MM-DD or DD.MM.YYYY): "
        "write it like 2025-03-01",
        "offers.csv: row 4, column visibility: 'everyone' is not one of member, coalition, recipient, public",
        "offers.csv: row 5, column item: no item 'nope'",
        "offers.csv: row 6: deu is a desk officer for DEU and may not offer:enter for FRA",
    ]
    assert world.event_count() == before
    # Once the cells are right, the domain's refusals are listed by row too, and still nothing is written.
    path = write(tmp_path, "DEU,155-a,100,2024-08-01,DEU,,,,,\nDEU,nope,10,2024-08-01,DEU,,,,,\n"
                           "FRA,155-a,10,2024-08-01,FRA,,,,,\n")
    with pytest.raises(ValidationFailed) as caught, world.db.transaction() as uow:
        import_offers(uow, world.caller("deu"), path)
    assert [str(p) for p in caught.value.problems] == [
        "offers.csv: row 3, column item: no item 'nope'",
        "offers.csv: row 4: deu is a desk officer for DEU and may not offer:enter for FRA",
    ]
    assert world.event_count() == before


@pytest.mark.parametrize(("content", "message"), [
    ("", "offers.csv: no rows"),
    ("member,item\nDEU,155-a\n", "offers.csv: header: missing column(s) quantity, available_from, depot"),
])
def test_refuses_a_file_without_the_columns(world: World, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "offers.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationFailed, match=re.escape(message)), world.db.transaction() as uow:
        import_offers(uow, world.caller("deu"), path)


def test_refuses_a_missing_or_unreadable_file(world: World, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="no such file"), world.db.transaction() as uow:
        import_offers(uow, world.caller("deu"), tmp_path / "absent.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValidationFailed, match="cannot be read"), world.db.transaction() as uow:
        import_offers(uow, world.caller("deu"), tmp_path / "bin.csv")


REF_HEADER = "ref,member,item,quantity,available_from,depot,visibility\n"


def imported(world: World, path: Path, user: str = "deu") -> ImportSummary:
    with world.db.transaction() as uow:
        return import_offers(uow, world.caller(user), path)


def refused(world: World, path: Path, user: str = "deu") -> list[str]:
    before = world.event_count()
    with pytest.raises(ValidationFailed) as caught, world.db.transaction() as uow:
        import_offers(uow, world.caller(user), path)
    assert world.event_count() == before
    return [str(p) for p in caught.value.problems]


class TestRefs:
    def test_importing_the_same_file_again_changes_nothing(self, world: World, tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_text(REF_HEADER + "DEU-1,DEU,155-a,100,2024-08-01,DEU,public\nDEU-2,DEU,fpv,5,2024-08-01,DEU,\n",
                        encoding="utf-8")
        first = imported(world, path)
        assert len(first.entered) == 2 and first.unchanged == []
        assert [world.db.state().offers[i].ref for i in first.entered] == ["DEU-1", "DEU-2"]
        before = world.event_count()
        again = imported(world, path)
        assert (again.entered, again.unchanged) == ([], first.entered)
        assert world.event_count() == before

    def test_offers_absent_from_the_file_are_left_alone(self, world: World, tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_text(REF_HEADER + "DEU-1,DEU,155-a,100,2024-08-01,DEU,\nDEU-2,DEU,fpv,5,2024-08-01,DEU,\n",
                        encoding="utf-8")
        (one, two) = imported(world, path).entered
        path.write_text(REF_HEADER + "DEU-2,DEU,fpv,5,2024-08-01,DEU,\nDEU-3,DEU,fpv,7,2024-08-01,DEU,\n",
                        encoding="utf-8")
        summary = imported(world, path)
        assert summary.unchanged == [two] and len(summary.entered) == 1
        assert world.db.state().offers[one].status.value == "offered"

    def test_a_changed_row_amends_its_offer_through_the_amendment_service(self, world: World,
                                                                          tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_text(REF_HEADER + "DEU-1,DEU,155-a,100,2024-08-01,DEU,\nDEU-2,DEU,fpv,5,2024-08-01,DEU,\n",
                        encoding="utf-8")
        (one, two) = imported(world, path).entered
        path.write_text(REF_HEADER + "DEU-1,DEU,155-a,120,2024-08-01,POL,\nDEU-2,DEU,fpv,5,2024-08-01,DEU,\n"
                                     "DEU-3,DEU,fpv,9,2024-08-01,DEU,\n", encoding="utf-8")
        summary = imported(world, path)
        assert summary.amended == (one,) and summary.unchanged == [two] and len(summary.entered) == 1
        offer = world.db.state().offers[one]
        assert (offer.quantity, offer.depot) == (120, "POL")

    def test_a_row_that_changes_what_no_amendment_changes_refuses_the_file(self, world: World,
                                                                           tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_text(REF_HEADER + "DEU-1,DEU,155-a,100,2024-08-01,DEU,\n", encoding="utf-8")
        imported(world, path)
        before = world.event_count()
        path.write_text(REF_HEADER + "DEU-1,DEU,fpv,100,2024-08-01,DEU,\nDEU-3,DEU,fpv,9,2024-08-01,DEU,\n",
                        encoding="utf-8")
        assert refused(world, path) == [
            "offers.csv: row 2: ref DEU-1 would change item, which no amendment changes: enter a new offer "
            "(another ref) instead"]
        assert world.event_count() == before

    def test_a_ref_used_twice_in_the_file_is_refused(self, world: World, tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_text(REF_HEADER + "DEU-1,DEU,155-a,100,2024-08-01,DEU,\nDEU-1,DEU,fpv,5,2024-08-01,DEU,\n",
                        encoding="utf-8")
        assert refused(world, path) == [
            "offers.csv: row 3, column ref: ref 'DEU-1' of DEU is used again (first on row 2): a ref names one offer"]

    def test_a_row_without_ref_equal_to_a_recorded_offer_is_reported(self, world: World, tmp_path: Path) -> None:
        oid = enter_offer(world, status="offered", quantity=600)
        path = tmp_path / "offers.csv"
        path.write_text(REF_HEADER + ",DEU,155-a,600,2024-08-01,DEU,\n,DEU,155-a,601,2024-08-01,DEU,\n",
                        encoding="utf-8")
        assert refused(world, path) == [
            f"offers.csv: row 2: is the same as offer {oid}, already recorded: to enter another offer like it, give "
            "each a ref; to leave it as it is, give the row its id or remove the row"]

    def test_item_names_match_regardless_of_case_with_did_you_mean(self, world: World, tmp_path: Path) -> None:
        path = tmp_path / "offers.csv"
        path.write_text(REF_HEADER + "A,DEU,FPV,1,2024-08-01,DEU,\nB,DEU,fpw,1,2024-08-01,DEU,\n"
                                     "C,DEU,fpv drone KIT,1,2024-08-01,DEU,\nD,DEU,zzz,1,2024-08-01,DEU,\n",
                        encoding="utf-8")
        assert refused(world, path) == [
            "offers.csv: row 3, column item: no item 'fpw'; did you mean 'fpv'?",
            "offers.csv: row 5, column item: no item 'zzz'",
        ]
        path.write_text(REF_HEADER + "A,DEU,FPV,1,2024-08-01,DEU,\nC,DEU,fpv drone KIT,1,2024-08-01,DEU,\n",
                        encoding="utf-8")
        entered = imported(world, path).entered
        assert [world.db.state().offers[i].item for i in entered] == ["fpv", "fpv"]

    def test_a_ref_already_used_by_the_member_is_refused_at_entry(self, world: World) -> None:
        oid = enter_offer(world, ref="DEU-9")
        with pytest.raises(Conflict, match=f"ref 'DEU-9' is already used by offer {oid} of DEU"):
            enter_offer(world, ref="DEU-9", quantity=5)
        enter_offer(world, user="fra", member="FRA", depot="FRA", ref="DEU-9")  # another member's ref space
