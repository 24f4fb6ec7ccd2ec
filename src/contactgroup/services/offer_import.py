"""Importing an offers spreadsheet: every row through the same checks as a single offer, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from contactgroup.domain import model as m
from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.io.offers import parse_offers
from contactgroup.io.spreadsheet import read_rows
from contactgroup.services import access
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

FLUSH_EVERY = 1000  # rows: keeps memory flat on large files; the transaction still commits once


def import_offers(
    uow: UnitOfWork, caller: svc.Caller, path: Path, progress: Callable[[int, int], None] | None = None
) -> list[str]:
    """Enter every offer of the file; if any row is refused, raise with every problem and write nothing.

    Rows whose cells are well formed are entered even when other rows are not, so that one pass reports format
    problems together with refusals (permission, unknown item or member); the transaction is then rolled back."""
    sheet = read_rows(path)
    rows, found = parse_offers(sheet, path.name)
    if not sheet or any(p.where.endswith(": header") for p in found):
        raise ValidationFailed(found)
    problems: dict[int, list[Problem]] = {}
    for p in found:
        problems.setdefault(_line_of(p.where), []).append(p)
    access.user(uow.state, caller.user)  # an unknown user is one refusal, not one per row
    ids = []
    for n, row in enumerate(rows, start=1):
        try:
            ids.append(svc.enter_offer(uow, caller, row.offer, status=m.OfferStatus(row.status),
                                     committed_on=row.committed_on).id)
        except ValidationFailed as exc:
            problems.setdefault(row.line, []).extend(
                Problem(f"{path.name}: row {row.line}, column {p.where}", p.message) for p in exc.problems)
        except ContactGroupError as exc:
            problems.setdefault(row.line, []).append(Problem(f"{path.name}: row {row.line}", str(exc)))
        if n % FLUSH_EVERY == 0:
            uow.flush()
        if progress is not None:
            progress(n, len(rows))
    if problems:
        raise ValidationFailed([p for line in sorted(problems) for p in problems[line]])
    return ids


def _line_of(where: str) -> int:
    """The row number in "offers.csv: row 7, column quantity" (0 for problems about the whole file)."""
    _, _, rest = where.partition(": row ")
    number = rest.split(",", 1)[0]
    return int(number) if number.isdigit() else 0
