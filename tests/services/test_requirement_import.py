"""A requirements list exported by `requirement list --format csv|xlsx` goes back through `import requirements`:
into the same coordination it changes nothing, edited it amends the requirements it names, and into another
coordination (without the record's own ids) it enters the same requirements. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from contactgroup.cli.main import app
from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import RequirementStatus
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.services.requirement_import import import_requirements
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database
from tests.conftest import postgres_schema
from tests.factories import World, build_world, open_requirement


def _requirements(w: World) -> None:
    """Requirements in several states, with and without a ref, a note a spreadsheet would take for a formula."""
    with w.db.transaction() as uow:
        ukr = w.caller("ukr")
        svc.draft_requirement(uow, ukr, item_class="155mm", quantity=1_000, priority=2, needed_by=date(2024, 9, 1),
                              destination="UKR-West", ref="UKR-1", note="=SUM(A1); 5 €")
        r = svc.draft_requirement(uow, ukr, item_class="fpv", quantity=300, priority=1,
                                  needed_by=date(2024, 10, 1), destination="UKR", ref="UKR-2")
        svc.move_requirement(uow, ukr, r.id, "submit")
        svc.draft_requirement(uow, ukr, item_class="155mm", quantity=40, priority=3, needed_by=date(2024, 11, 1),
                              destination="UKR-East", note="0042")


def exported(w: World, tmp_path: Path, fmt: str) -> Path:
    result = CliRunner().invoke(app, ["requirement", "list", "--format", fmt, "--as", "ukr"],
                                env={"CONTACTGROUP_DB": w.db.url})
    assert result.exit_code == 0, result.output
    path = tmp_path / f"requirements.{fmt}"
    path.write_bytes(result.stdout_bytes)
    return path


def _kept(w: World) -> list[tuple[Any, ...]]:
    """What a requirement asks for, without the record's own id."""
    return sorted((r.ref, r.item_class, r.quantity, r.priority, r.needed_by, r.destination, r.area, r.note,
                   r.status.value) for r in w.db.state().requirements.values())


def _import(w: World, path: Path) -> Any:
    with w.db.transaction() as uow:
        return import_requirements(uow, w.caller("ukr"), path)


@pytest.fixture
def other(db_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    """A second, fresh coordination on the same engine."""
    place: AbstractContextManager[str] = (nullcontext(f"sqlite:///{tmp_path / 'other.db'}")
                                          if db_url.startswith("sqlite") else postgres_schema())
    with place as url:
        db = Database(url)
        init_coordination(db, clock)
        yield build_world(db, clock)
        db.engine.dispose()


class TestRoundTrip:
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_an_export_imports_back_unchanged(self, world: World, tmp_path: Path, fmt: str) -> None:
        _requirements(world)
        open_requirement(world, quantity=500)  # open: a status only a recorded requirement has
        before = world.event_count()
        summary = _import(world, exported(world, tmp_path, fmt))
        assert (summary.entered, sorted(summary.unchanged), summary.amended) == (
            [], ["R-00001", "R-00002", "R-00003", "R-00004"], ())
        assert world.event_count() == before

    def test_an_edited_export_amends_and_reprioritises_what_it_names(self, world: World, tmp_path: Path) -> None:
        _requirements(world)
        path = exported(world, tmp_path, "xlsx")
        book = load_workbook(path)
        sheet = book.worksheets[0]
        column = {c.value: c.column for c in sheet[1]}
        line = next(n for n in range(2, sheet.max_row + 1) if sheet.cell(n, column["ref"]).value == "UKR-1")
        for name, value in (("quantity", 1_200), ("priority", 5), ("note", "for the spring")):
            sheet.cell(line, column[name]).value = value
        book.save(path)
        first = sheet.cell(line, column["id"]).value
        before = world.event_count()
        summary = _import(world, path)
        assert summary.amended == (first,)
        assert world.event_count() == before + 2  # RequirementAmended, RequirementReprioritised
        r = world.db.state().requirements[first]
        assert (r.quantity, r.priority, r.note) == (1_200, 5, "for the spring")

    def test_into_another_coordination_it_enters_the_same_requirements(self, world: World, other: World,
                                                                       tmp_path: Path) -> None:
        _requirements(world)
        path = exported(world, tmp_path, "csv")
        with pytest.raises(ValidationFailed, match="no requirement 'R-00001': leave id empty"):
            _import(other, path)  # ids are the record's own
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        out = io.StringIO()
        writer = csv.DictWriter(out, [f for f in rows[0] if f != "id"], extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
        summary = _import(other, path)
        assert len(summary.entered) == 3
        assert _kept(other) == _kept(world)
        assert {r.status for r in other.db.state().requirements.values()} == {RequirementStatus.DRAFT,
                                                                             RequirementStatus.SUBMITTED}
