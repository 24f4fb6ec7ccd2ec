"""Importing an offers spreadsheet: every row through the same checks as a single offer, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.io.offers import parse_offers
from contactgroup.io.spreadsheet import read_rows
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

FLUSH_EVERY = 1000  # rows: keeps memory flat on large files; the transaction still commits once


def import_offers(
    uow: UnitOfWork, caller: svc.Caller, path: Path, progress: Callable[[int, int], None] | None = None
) -> list[str]:
    """Enter every offer of the file; if any row is refused, raise with every problem and write nothing."""
    rows, problems = parse_offers(read_rows(path), path.name)
    if problems:
        raise ValidationFailed(problems)
    ids = []
    for n, row in enumerate(rows, start=1):
        try:
            ids.append(svc.enter_offer(uow, caller, row.offer, status=row.status).id)
        except ValidationFailed as exc:
            problems.extend(Problem(f"{path.name}: row {row.line}, column {p.where}", p.message) for p in exc.problems)
        except ContactGroupError as exc:
            problems.append(Problem(f"{path.name}: row {row.line}", str(exc)))
        if n % FLUSH_EVERY == 0:
            uow.flush()
        if progress is not None:
            progress(n, len(rows))
    if problems:
        raise ValidationFailed(problems)
    return ids
