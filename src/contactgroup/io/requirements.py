"""The requirements spreadsheet the recipient's liaison fills in: one row per requirement, checked cell by cell
before anything is written. Columns: item_class, quantity, priority, needed_by, destination, and optionally ref
(the recipient's own reference), id (a requirement already recorded, as `requirement list` exports it), area
(default: the item class's), note, status (draft, the default, or submitted, for a new requirement). Row numbers
are the file's own (header = 1, blank lines counted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contactgroup.domain.model import Requirement, RequirementStatus
from contactgroup.io.spreadsheet import Parsed, RowCheck, Sheet, header_checked

REQUIRED = ("item_class", "quantity", "priority", "needed_by", "destination")
OPTIONAL = ("ref", "id", "area", "note", "status")
NEW_STATUSES = (RequirementStatus.DRAFT, RequirementStatus.SUBMITTED)  # a row may enter
# What `requirement list --format csv|xlsx` writes, in this order: a file it wrote imports unchanged.
EXPORT = ("id", "ref", "item_class", "quantity", "priority", "needed_by", "destination", "area", "note", "status")
# The fields a row compares with the requirement it names (by id or ref): an amendment if any differs.
COMPARED = ("item_class", "quantity", "priority", "needed_by", "destination", "area", "note", "ref")

HELP = {
    "ref": "your own reference for the requirement (optional; unique): importing the file again then changes "
           "nothing",
    "item_class": "item class code or name, in any case",
    "quantity": "whole number of units, at least 1",
    "priority": "1 = most important; equal priorities form one tier",
    "needed_by": "date: YYYY-MM-DD, DD.MM.YYYY or a date cell",
    "destination": "the delivery point",
    "area": "capability area (default: the item class's)",
    "note": "free text",
    "status": "draft (default) or submitted",
    "id": "leave empty: a requirement already recorded",
}
TEMPLATE = ("ref", *REQUIRED, "area", "note", "status")


@dataclass(frozen=True, slots=True)
class RequirementRow:
    line: int
    requirement: Requirement  # id: the `id` cell ("" if none); area "" = the item class's
    status: RequirementStatus


def parse_requirements(sheet: Sheet, source: str) -> Parsed[RequirementRow]:
    """Every row checked; the requirements and every problem found (file, row, column)."""
    header = header_checked(sheet, source, REQUIRED, OPTIONAL)
    if header.problems:
        return header
    problems, columns, ignored = header.problems, header.columns, header.ignored
    parsed = []
    for row in sheet.rows:
        check = RowCheck(source, row, REQUIRED, sheet.decimal_comma)
        status = check.choice("status", RequirementStatus) or RequirementStatus.DRAFT
        requirement = Requirement(
            id=check.text("id"), item_class=check.text("item_class"), quantity=check.units("quantity"),
            priority=check.units("priority"), needed_by=check.day("needed_by") or date.min,
            destination=check.text("destination"), area=check.text("area"), status=RequirementStatus.DRAFT,
            note=check.text("note"), ref=check.text("ref"),
        )
        problems.extend(check.found)
        if not check.found:
            parsed.append(RequirementRow(row.line, requirement, status))
    return Parsed(parsed, problems, columns, ignored)
