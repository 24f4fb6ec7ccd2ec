"""`/api/v1/reports`: coverage, burden sharing, lag and gaps exactly as the CLI's `report` commands give them — the
same stamped envelope (report, stamp, rows) from services/reporting.py, with the same filters — or `?format=csv|xlsx`
for the rows as a file."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from contactgroup.api.caller import Reader
from contactgroup.api.problem import problem, problem_responses
from contactgroup.api.resource import Format, export, list_responses
from contactgroup.api.routing import Router
from contactgroup.domain.errors import IntegrityError, ValidationFailed
from contactgroup.domain.model import Category
from contactgroup.domain.text import day
from contactgroup.reports.burden import BurdenRow
from contactgroup.reports.coverage import CoverageRow
from contactgroup.reports.gaps import DEFAULT_LIMIT, GapRow
from contactgroup.reports.lag import LagRow
from contactgroup.reports.public import GDP_YEAR as PUBLIC_GDP_YEAR
from contactgroup.reports.scope import Scope
from contactgroup.services import reporting
from contactgroup.services.reporting import ReportRequest

router = Router(prefix="/api/v1/reports", tags=["reports"])


class StampedReport(BaseModel):
    """A report as `contactgroup report ... --format json` writes it (report, stamp, rows), and what its caption
    says: the all-zero rows left out, whether it is a demo's synthetic data, notes on GDP and exchange rates."""

    report: str
    stamp: dict[str, Any] = Field(description="record time, log size, Merkle root, covering checkpoint, parameters "
                                              "(`contactgroup report check` computes the report again from them)")
    rows: list[dict[str, Any]]
    left_out: int = Field(description="rows whose every figure is zero, left out (keep_all=true keeps them)")
    synthetic: bool = Field(description="true: a demo's synthetic data, not a real coordination's")
    gdp_note: str | None = Field(description="burden: members without GDP for the year asked")
    rate_notes: list[str] = Field(description="burden: rates standing in beyond the bundled ECB series")
    notes: list[str] = Field(description="gdp_note and rate_notes together")


ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # a day as YYYY-MM-DD only (pydantic would read "0" as a timestamp)
AsOf = Annotated[str | None, Query(pattern=ISO_DAY, description="the record as it stood at the end of this day "
                                                                "(UTC), YYYY-MM-DD")]
From = Annotated[str | None, Query(alias="from", pattern=ISO_DAY, description="count only what took effect on or "
                                                                              "after this day")]
To = Annotated[str | None, Query(pattern=ISO_DAY, description="count only what took effect on or before this day")]
Area = Annotated[str | None, Query(max_length=64)]
Member = Annotated[str | None, Query(max_length=64, description="a member, fund or tracked donor")]
KeepAll = Annotated[bool, Query(description="keep the rows whose every figure is zero")]
def _day(value: str | None, where: str) -> date | None:
    try:
        return day(value) if value is not None else None
    except ValueError as exc:
        raise ValidationFailed(str(exc), where=where) from None


def _scope(start: str | None, end: str | None, area: str | None, member: str | None,
           kind: Category | None) -> Scope:
    return Scope(_day(start, "from"), _day(end, "to"), area, member, kind)


ROWS: dict[str, type] = {"coverage": CoverageRow, "burden": BurdenRow, "lag": LagRow, "gaps": GapRow}


def _report(request: Request, asked: ReportRequest, fmt: Any, name: str) -> Any:
    db, clock = request.app.state.store.db, request.app.state.clock
    if fmt is not None:
        snap = reporting.snapshot(db, asked, clock)
        return export(reporting.compute(snap.state, asked), ROWS[asked.report], fmt, name)
    result = reporting.computed(db, asked, clock)
    document = result.as_json()
    return StampedReport(**document, notes=[n for n in (result.gdp_note, *result.rate_notes) if n])


@router.get("/coverage", response_model=StampedReport, responses=list_responses())
def coverage_report(request: Request, caller: Reader, fmt: Format = None,
                    by: Literal["requirement", "class", "tier", "area"] = "requirement", keep_all: KeepAll = False,
                    as_of: AsOf = None, start: From = None, to: To = None, area: Area = None, member: Member = None,
                    kind: Category | None = None) -> Any:
    """Needed, pending, confirmed, delivered and missing units and their value, per requirement, item class,
    priority tier or capability area."""
    asked = ReportRequest("coverage", _scope(start, to, area, member, kind), _day(as_of, "as_of"), by=by,
                          keep_all=keep_all)
    return _report(request, asked, fmt, f"coverage-{by}")


@router.get("/burden", response_model=StampedReport, responses=list_responses())
def burden_report(request: Request, caller: Reader, fmt: Format = None,
                  gdp_year: Annotated[int | None, Query(ge=1900, le=2200, description="default: each member's "
                                                                                      "latest")] = None,
                  keep_all: KeepAll = False, as_of: AsOf = None, start: From = None, to: To = None,
                  area: Area = None, member: Member = None, kind: Category | None = None,
                  public: Annotated[bool, Query(description="from the public part only (what `publish` releases); "
                                                            "takes no other filter")] = False) -> Any:
    """Committed, allocated and delivered value in EUR per member, its share, and % of its GDP."""
    scope = _scope(start, to, area, member, kind)
    if public and (scope != Scope() or gdp_year not in (None, PUBLIC_GDP_YEAR)):
        raise ValidationFailed(f"public is the whole public part, at the GDP year of the Kiel tracker's layout "
                               f"({PUBLIC_GDP_YEAR}): it takes no from, to, area, member, kind or other gdp_year",
                               where="public")
    asked = ReportRequest("burden", scope, _day(as_of, "as_of"), gdp_year=PUBLIC_GDP_YEAR if public else gdp_year,
                          public=public, keep_all=keep_all)
    return _report(request, asked, fmt, "burden")


@router.get("/lag", response_model=StampedReport, responses=list_responses())
def lag_report(request: Request, caller: Reader, fmt: Format = None, as_of: AsOf = None, start: From = None,
               to: To = None, area: Area = None, member: Member = None, kind: Category | None = None) -> Any:
    """Days from pledge (commitment) to receipt, per member and item category, one observation per shipment."""
    asked = ReportRequest("lag", _scope(start, to, area, member, kind), _day(as_of, "as_of"))
    return _report(request, asked, fmt, "lag")


@router.get("/gaps", response_model=StampedReport, responses=list_responses())
def gaps_report(request: Request, caller: Reader, fmt: Format = None,
                limit: Annotated[int, Query(ge=1, le=10000)] = DEFAULT_LIMIT, as_of: AsOf = None,
                start: From = None, to: To = None, area: Area = None, kind: Category | None = None) -> Any:
    """The highest-priority open requirements not yet fully met: what is missing and why."""
    asked = ReportRequest("gaps", _scope(start, to, area, None, kind), _day(as_of, "as_of"), limit=limit)
    return _report(request, asked, fmt, "gaps")


class CheckDoc(BaseModel):
    """What `contactgroup report check` finds: the report computed again at its log size, figure by figure."""

    report: str
    log_size: int
    current_size: int = Field(description="the record's size now; more than log_size: it has grown since")
    matched: int = Field(description="figures equal in the file and the record")
    mismatches: list[dict[str, Any]] = Field(description="each figure that differs: row, name, column, in_file, "
                                                         "in_record")
    cannot_check: list[dict[str, Any]] = Field(description="values of the file no report of the record computes")
    checkpoint: str = Field(description="what the check of the report's signed checkpoint found")


_REPORT_FILE = {"required": True, "description": "a report file as `contactgroup report ... --format json` wrote "
                "it (the stamped envelope)", "content": {"application/json": {"schema": {"type": "object"}}}}


@router.post("/check", response_model=CheckDoc, openapi_extra={"requestBody": _REPORT_FILE},
             responses=problem_responses(400, 401, 409, 413, why={
                 409: "the record does not give the report's root at its log size, or its checkpoint does not "
                      "verify: the report was not computed from this record (`code`: `record-differs`)"}))
async def check_report(request: Request, caller: Reader) -> Any:
    """Compute a report file again from the record at its log size: does every figure match, has the record
    grown."""
    data = await request.body()
    try:
        result = await run_in_threadpool(reporting.check_report, request.app.state.store.db, data)
    except IntegrityError as exc:
        return problem(409, str(exc), instance=request.url.path, code="record-differs")
    return CheckDoc(report=result.report, log_size=result.log_size, current_size=result.current_size,
                    matched=result.matched, mismatches=[dataclasses.asdict(f) for f in result.mismatches],
                    cannot_check=[dataclasses.asdict(f) for f in result.cannot_check], checkpoint=result.checkpoint)
