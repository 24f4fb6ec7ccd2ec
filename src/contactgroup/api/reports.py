"""`/api/v1/reports`: coverage, burden sharing, lag and gaps, as the CLI's `report` commands give them — JSON, or
`?format=csv|xlsx` for the rows as a file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from contactgroup.api.caller import Reader
from contactgroup.api.resource import Format, export, list_responses, state
from contactgroup.reports.burden import BurdenRow, burden, gdp_note
from contactgroup.reports.coverage import CoverageRow, coverage
from contactgroup.reports.facts import is_synthetic
from contactgroup.reports.gaps import DEFAULT_LIMIT, GapRow, gaps
from contactgroup.reports.lag import LagRow, lag
from contactgroup.reports.valuation import Valuer

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
T = TypeVar("T")


class Report(BaseModel, Generic[T]):
    """A report's rows, whether they come from a demo's synthetic data, and what a reader should know of them."""

    rows: list[T]
    synthetic: bool = Field(description="true: a demo's synthetic data, not a real coordination's")
    notes: list[str] = Field(description="e.g. rates standing in beyond the bundled ECB series, a missing GDP")


def _report(request: Request, rows: Sequence[Any], cls: type, name: str, fmt: Any,
            notes: Sequence[str] = ()) -> Any:
    if fmt is not None:
        return export(rows, cls, fmt, name)
    return Report[Any](rows=list(rows), synthetic=is_synthetic(state(request)), notes=list(notes))


@router.get("/coverage", response_model=Report[CoverageRow], responses=list_responses())
def coverage_report(request: Request, caller: Reader, fmt: Format = None,
                    by: Literal["requirement", "tier", "area"] = "requirement") -> Any:
    """Needed, allocated (not declined), committed (confirmed), delivered (received) and missing units, per
    requirement, priority tier or capability area."""
    return _report(request, coverage(state(request), by), CoverageRow, f"coverage-{by}", fmt)


@router.get("/burden", response_model=Report[BurdenRow], responses=list_responses())
def burden_report(request: Request, caller: Reader, fmt: Format = None,
                  gdp_year: Annotated[int | None, Query(ge=1900, le=2200, description="default: each member's "
                                                                                      "latest")] = None) -> Any:
    """Committed, allocated and delivered value in EUR per member, its share, and % of its GDP."""
    st = state(request)
    valuer = Valuer.of(st)
    rows = burden(st, gdp_year, valuer=valuer)
    notes = [n for n in (gdp_note(st, gdp_year), *valuer.notes()) if n]
    return _report(request, rows, BurdenRow, "burden", fmt, notes)


@router.get("/lag", response_model=Report[LagRow], responses=list_responses())
def lag_report(request: Request, caller: Reader, fmt: Format = None) -> Any:
    """Days from pledge (commitment) to receipt, per member and item category, one observation per shipment."""
    return _report(request, lag(state(request)), LagRow, "lag", fmt)


@router.get("/gaps", response_model=Report[GapRow], responses=list_responses())
def gaps_report(request: Request, caller: Reader, fmt: Format = None,
                limit: Annotated[int, Query(ge=1, le=10000)] = DEFAULT_LIMIT) -> Any:
    """The highest-priority open requirements not yet fully met: what is missing and why."""
    return _report(request, gaps(state(request), limit), GapRow, "gaps", fmt)
