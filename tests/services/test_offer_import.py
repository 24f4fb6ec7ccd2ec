"""Importing a desk's offers spreadsheet: all rows or none, every problem named by row and column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from contactgroup.domain.errors import ValidationFailed
from contactgroup.services.offer_import import import_offers
from tests.factories import World

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
        "offers.csv: row 4, column available_from: '2024-02-30' is not a date (YYYY-MM-DD or DD.MM.YYYY): write it like 2025-03-01",
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
