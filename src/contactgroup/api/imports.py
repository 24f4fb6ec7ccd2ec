"""`/api/v1/imports`: a desk's spreadsheet (CSV or XLSX) uploaded as `multipart/form-data`, imported by the same
services as `contactgroup import`: every bad row named in one answer (400, `errors`), and nothing written unless
every row is good."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import File, Request, UploadFile

from contactgroup.api.caller import Writer
from contactgroup.api.problem import problem_responses
from contactgroup.api.resource import act
from contactgroup.api.routing import Router
from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.text import MAX_IMPORT_BYTES
from contactgroup.io import kiel
from contactgroup.services import imports, mobility, offer_import, requirement_import, transit
from contactgroup.services.coordination import Caller
from contactgroup.services.offer_import import ImportSummary
from contactgroup.storage.database import UnitOfWork

router = Router(prefix="/api/v1/imports", tags=["imports"])
R = TypeVar("R")
Upload = Annotated[UploadFile, File(description=f"a CSV or XLSX file of at most {MAX_IMPORT_BYTES:,} bytes")]
IMPORTS = problem_responses(400, 401, 403, 404, 409, 413, why={
    400: "the file or some of its rows are bad: `errors` names each (file, row, column); nothing was written"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _name(upload: UploadFile) -> str:
    """The file's own name, as messages name it (`offers.csv: row 7`), kept to safe characters; its extension
    (.csv, .xlsx) tells its format."""
    name = _UNSAFE.sub("_", Path(upload.filename or "upload.csv").name).strip("._") or "upload.csv"
    return name[-100:]


def _imported(request: Request, caller: Any, upload: UploadFile, run: Callable[[UnitOfWork, Caller, Path], R]) -> R:
    """The upload saved under its own name in a private directory, then imported in one transaction."""
    data = upload.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(f"the file is larger than {MAX_IMPORT_BYTES:,} bytes", where="file")
    with tempfile.TemporaryDirectory(prefix="contactgroup-import-") as tmp:
        path = Path(tmp) / _name(upload)
        path.write_bytes(data)
        return act(request, caller, lambda uow, who: run(uow, who, path))


@router.post("/offers", response_model=ImportSummary, responses=IMPORTS)
def import_offers(request: Request, caller: Writer, file: Upload) -> ImportSummary:
    """Enter (or amend, by `ref` or `id`) every offer of the file."""
    return _imported(request, caller, file, offer_import.import_offers)


@router.post("/requirements", response_model=ImportSummary, responses=IMPORTS)
def import_requirements(request: Request, caller: Writer, file: Upload) -> ImportSummary:
    """Draft (or amend) every requirement of the file."""
    return _imported(request, caller, file, requirement_import.import_requirements)


@router.post("/transit", response_model=list[transit.Transit], responses=IMPORTS)
def import_transit(request: Request, caller: Writer, file: Upload) -> list[transit.Transit]:
    """Record every route of an `origin,destination,days` CSV file."""
    return _imported(request, caller, file, _transit)


def _transit(uow: UnitOfWork, who: Caller, path: Path) -> list[transit.Transit]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{path.name}: cannot read it (not UTF-8 text)", where="file") from None
    return transit.import_transit(uow, who, text, source=path.name)


@router.post("/network", response_model=mobility.Imported, responses=IMPORTS)
def import_network(request: Request, caller: Writer, file: Upload) -> mobility.Imported:
    """Record the places, legs, border rules and zones of a CSV file (one table, told apart by its header) or an
    XLSX workbook (one table per sheet); rows the record holds as they are are skipped."""
    return _imported(request, caller, file, lambda uow, who, path: mobility.import_network(uow, who, [path]))


@router.post("/rates", response_model=imports.RatesSummary, responses=IMPORTS)
def import_rates(request: Request, caller: Writer, file: Upload) -> imports.RatesSummary:
    """Record every exchange rate of a `currency,date,per_eur` file."""
    return _imported(request, caller, file, imports.import_rates)


@router.post("/kiel", response_model=imports.KielSummary, responses=IMPORTS)
def import_kiel(request: Request, caller: Writer,
                data_explorer: Annotated[UploadFile, File(description=f"the release's {kiel.DATA_FILE}")],
                release_info: Annotated[UploadFile, File(description=f"the release's {kiel.INFO_FILE}")],
                ) -> imports.KielSummary:
    """Import a Kiel Ukraine Support Tracker release (its two files): donors' 2021 GDP, monthly allocations and
    commitments; every cell is checked first, and a release already imported is refused (409)."""
    with tempfile.TemporaryDirectory(prefix="contactgroup-kiel-") as tmp:
        for upload, name in ((data_explorer, kiel.DATA_FILE), (release_info, kiel.INFO_FILE)):
            data = upload.file.read(MAX_IMPORT_BYTES + 1)
            if len(data) > MAX_IMPORT_BYTES:
                raise ValidationFailed(f"{name} is larger than {MAX_IMPORT_BYTES:,} bytes", where=name)
            (Path(tmp) / name).write_bytes(data)
        return act(request, caller, lambda uow, who: imports.import_kiel(uow, who, Path(tmp)))
