"""Importing the recipient's requirements spreadsheet: every row through the same checks as a single requirement,
all or nothing. A row naming a requirement already recorded (its `id`, or the recipient's `ref`) with the same
values changes nothing; requirements absent from the file are left alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.domain.model import Requirement, RequirementStatus
from contactgroup.domain.workflow import RequirementAction
from contactgroup.io.requirements import COMPARED, NEW_STATUSES, REQUIRED, RequirementRow, parse_requirements
from contactgroup.io.spreadsheet import read_rows
from contactgroup.services import access
from contactgroup.services import coordination as svc
from contactgroup.services.offer_import import (
    Change,
    ImportSummary,
    by_line,
    differences,
    resolved,
    take_all,
)
from contactgroup.storage.database import UnitOfWork


def import_requirements(
    uow: UnitOfWork, caller: svc.Caller, path: Path, progress: Callable[[int, int], None] | None = None
) -> ImportSummary:
    """Draft (and, with status `submitted`, submit) every new requirement of the file; if any row is refused,
    raise with every problem and write nothing."""
    sheet = read_rows(path, REQUIRED)
    parsed = parse_requirements(sheet, path.name)
    if not sheet.header or any(p.where.endswith(": header") for p in parsed.problems):
        raise ValidationFailed(parsed.problems)
    problems = by_line(parsed.problems)
    access.user(uow.state, caller.user)  # an unknown user is one refusal, not one per row
    rows = _RequirementRows(uow, caller, parsed.columns, ImportSummary([], [], parsed.ignored))
    return take_all(uow, caller, "requirement", path.name, parsed.rows, rows, problems, progress)


class _RequirementRows:
    """What a requirements import knows while it goes through the rows (see `offer_import._OfferRows`)."""

    def __init__(self, uow: UnitOfWork, caller: svc.Caller, columns: frozenset[str], summary: ImportSummary) -> None:
        self.uow, self.caller, self.columns, self.summary = uow, caller, columns | {"area"}, summary
        state = self.state = uow.state
        self.classes = {k.lower(): c.code for c in state.item_classes.values() for k in (c.code, c.name)}
        self.by_ref = {r.ref: r for r in state.requirements.values() if r.ref}
        self.first_use: dict[str, int] = {}
        self.changes: list[Change] = []

    def take(self, row: RequirementRow, where: str) -> list[Problem]:
        req = self._checked(row, where)
        if isinstance(req, Problem):
            return [req]
        recorded = self._recorded(req, where)
        if isinstance(recorded, Problem):
            return [recorded]
        if recorded is None:
            return self._enter(row, req, where)
        fields = differences(recorded, req, COMPARED, self.columns)
        if fields:
            label = f"ref {req.ref}" if req.ref else f"requirement {recorded.id}"
            self.changes.append(Change(where, label, recorded.id, fields))
        else:
            self.summary.unchanged.append(recorded.id)
        return []

    def _checked(self, row: RequirementRow, where: str) -> Requirement | Problem:
        code, message = resolved(row.requirement.item_class, self.classes, "item class")
        if code is None:
            return Problem(f"{where}, column item_class", message)
        req = replace(row.requirement, item_class=code, area=row.requirement.area or self.state.item_classes[code].area)
        if req.ref in self.first_use:
            return Problem(f"{where}, column ref", f"ref {req.ref!r} is used again (first on row "
                                                   f"{self.first_use[req.ref]}): a ref names one requirement")
        if req.ref:
            self.first_use[req.ref] = row.line
        return req

    def _recorded(self, req: Requirement, where: str) -> Requirement | Problem | None:
        named = self.by_ref.get(req.ref) if req.ref else None
        if not req.id:
            return named
        by_id = self.state.requirements.get(req.id)
        if by_id is None:
            return Problem(f"{where}, column id", f"no requirement {req.id!r}: leave id empty for a new requirement")
        if named is not None and named.id != by_id.id:
            return Problem(f"{where}, column ref", f"ref {req.ref!r} names requirement {named.id}, the row's id "
                                                   f"{req.id}")
        return by_id

    def _enter(self, row: RequirementRow, req: Requirement, where: str) -> list[Problem]:
        if row.status not in NEW_STATUSES:
            return [Problem(f"{where}, column status", f"a new requirement is draft or submitted, not "
                                                       f"{row.status.value!r}")]
        try:
            entered = svc.draft_requirement(
                self.uow, self.caller, item_class=req.item_class, quantity=req.quantity, priority=req.priority,
                needed_by=req.needed_by, destination=req.destination, area=req.area, note=req.note, ref=req.ref)
            if row.status is RequirementStatus.SUBMITTED:
                svc.move_requirement(self.uow, self.caller, entered.id, RequirementAction.SUBMIT)
        except ValidationFailed as exc:
            return [Problem(f"{where}, column {p.where}", p.message) for p in exc.problems]
        except ContactGroupError as exc:
            return [Problem(where, str(exc))]
        self.summary.entered.append(entered.id)
        return []
