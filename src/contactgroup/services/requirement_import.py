"""Importing the recipient's requirements spreadsheet: every row through the same checks as a single requirement,
all or nothing. A row naming a requirement already recorded (its `id`, or the recipient's `ref`) with the same
values changes nothing; requirements absent from the file are left alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from contactgroup.domain import model as m
from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.domain.workflow import RequirementAction
from contactgroup.io.requirements import COMPARED, NEW_STATUSES, REQUIRED, parse_requirements
from contactgroup.io.spreadsheet import read_rows
from contactgroup.services import coordination as svc
from contactgroup.services import policy
from contactgroup.services.offer_import import (
    FLUSH_EVERY,
    Change,
    ImportSummary,
    apply_changes,
    by_line,
    differences,
    line_of,
    resolved,
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
    state = uow.state
    policy.user(state, caller.user)  # an unknown user is one refusal, not one per row
    classes = {k.lower(): c.code for c in state.item_classes.values() for k in (c.code, c.name)}
    by_ref = {r.ref: r for r in state.requirements.values() if r.ref}
    first_use: dict[str, int] = {}
    changes: list[Change] = []
    summary = ImportSummary([], [], parsed.ignored)
    for n, row in enumerate(parsed.rows, start=1):
        where = f"{path.name}: row {row.line}"
        found = problems.setdefault(row.line, [])
        req = row.requirement
        code, message = resolved(req.item_class, classes, "item class")
        if code is None:
            found.append(Problem(f"{where}, column item_class", message))
            continue
        req = replace(req, item_class=code, area=req.area or state.item_classes[code].area)
        if req.ref:
            if req.ref in first_use:
                found.append(Problem(f"{where}, column ref", f"ref {req.ref!r} is used again (first on row "
                                                             f"{first_use[req.ref]}): a ref names one requirement"))
                continue
            first_use[req.ref] = row.line
        recorded = by_ref.get(req.ref) if req.ref else None
        if req.id:
            by_id = state.requirements.get(req.id)
            if by_id is None:
                found.append(Problem(f"{where}, column id", f"no requirement {req.id!r}: leave id empty for a new "
                                                            "requirement"))
                continue
            if recorded is not None and recorded.id != by_id.id:
                found.append(Problem(f"{where}, column ref", f"ref {req.ref!r} names requirement {recorded.id}, "
                                                             f"the row's id {req.id}"))
                continue
            recorded = by_id
        if recorded is not None:
            fields = differences(recorded, req, COMPARED, parsed.columns | {"area"})
            if fields:
                label = f"ref {req.ref}" if req.ref else f"requirement {recorded.id}"
                changes.append(Change(where, label, recorded.id, fields))
            else:
                summary.unchanged.append(recorded.id)
            continue
        if row.status not in NEW_STATUSES:
            found.append(Problem(f"{where}, column status", f"a new requirement is draft or submitted, not "
                                                            f"{row.status.value!r}"))
            continue
        try:
            entered = svc.draft_requirement(
                uow, caller, item_class=req.item_class, quantity=req.quantity, priority=req.priority,
                needed_by=req.needed_by, destination=req.destination, area=req.area, note=req.note, ref=req.ref)
            if row.status is m.RequirementStatus.SUBMITTED:
                svc.move_requirement(uow, caller, entered.id, RequirementAction.SUBMIT)
            summary.entered.append(entered.id)
        except ValidationFailed as exc:
            found.extend(Problem(f"{where}, column {p.where}", p.message) for p in exc.problems)
        except ContactGroupError as exc:
            found.append(Problem(where, str(exc)))
        if n % FLUSH_EVERY == 0:
            uow.flush()
        if progress is not None:
            progress(n, len(parsed.rows))
    for p in apply_changes(uow, caller, "requirement", changes):
        problems.setdefault(line_of(p.where), []).append(p)
    if any(problems.values()):
        raise ValidationFailed([p for line in sorted(problems) for p in problems[line]])
    return summary

