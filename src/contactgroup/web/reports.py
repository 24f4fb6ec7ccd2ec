"""The reports in a browser: coverage, burden, lag and gaps as tables and charts, filtered as the command line
filters them, each stamped with its record time and the checkpoint it was computed from, each downloadable as CSV
and XLSX (the API's files) and printable; and the public page, which shows what the public release shows, to
anyone, without signing in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.errors import ContactGroupError, NotFound, Problem, ValidationFailed
from contactgroup.domain.model import Category
from contactgroup.domain.text import day
from contactgroup.io.chart_svg import chart_svg
from contactgroup.reports import charts
from contactgroup.reports.charts import Chart
from contactgroup.reports.document import ROUNDING_NOTE, Field, Kind, shown
from contactgroup.reports.fields import fields_of
from contactgroup.reports.gaps import DEFAULT_LIMIT
from contactgroup.reports.glossary import defined
from contactgroup.reports.scope import Scope
from contactgroup.services import publish, reporting
from contactgroup.services.reporting import ReportRequest
from contactgroup.services.wording import detail
from contactgroup.web.pages import SECURITY_HEADERS, page_router, render, status_of
from contactgroup.web.session import Viewer

router = page_router()


@dataclass(frozen=True, slots=True)
class Offered:
    """A report as the pages offer it: its title, what it answers, its charts, and the filters it takes."""

    title: str
    question: str
    charts: tuple[Chart, ...]
    takes: frozenset[str]


_COMMON = frozenset({"as_of", "from", "to", "area", "kind"})
REPORTS: Mapping[str, Offered] = {
    "coverage": Offered("Coverage", "How much of the recipient's need is confirmed and delivered, by priority tier, "
                      "item class, capability area or requirement.", (charts.COVERAGE,),
                      _COMMON | {"member", "by", "keep_all"}),
    "burden": Offered("Burden sharing", "What each member committed, allocated and delivered, in EUR and as a share of "
                    "its GDP.", (charts.BURDEN, charts.BURDEN_GDP), _COMMON | {"member", "gdp_year", "keep_all"}),
    "lag": Offered("Lag", "How many days pass from a pledge to its delivery, per member and category (median and 90th "
                 "percentile).", (charts.LAG,), _COMMON | {"member"}),
    "gaps": Offered("Gaps", "What is missing at the top of the recipient's list, and why.", (charts.GAPS,),
                  _COMMON | {"limit"}),
}
GROUPINGS = ("tier", "class", "area", "requirement")
_TEXT = 64


def _day(value: str, where: str) -> date | None:
    try:
        return day(value) if value else None
    except ValueError as exc:
        raise ValidationFailed(str(exc), where=where) from None


def _whole(value: str, where: str, low: int, high: int) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValidationFailed(f"{value[:20]!r} is not a whole number from {low} to {high}", where=where)
    return int(value)


def asked(name: str, params: Mapping[str, str]) -> ReportRequest:
    """The report request a page's address makes (the same names as the API's parameters)."""
    got = {k: params.get(k, "").strip() for k in REPORTS[name].takes}
    problems = [Problem(k, "is too long") for k, v in got.items() if len(v) > _TEXT]
    if problems:
        raise ValidationFailed(problems)
    kind = got.get("kind", "")
    if kind and kind not in {c.value for c in Category}:
        raise ValidationFailed(f"{kind!r} is not a kind of aid: {', '.join(c.value for c in Category)}",
                               where="kind")
    by = got.get("by") or "tier"
    if name == "coverage" and by not in GROUPINGS:
        raise ValidationFailed(f"{by!r} is not a grouping: {', '.join(GROUPINGS)}", where="by")
    scope = Scope(_day(got.get("from", ""), "from"), _day(got.get("to", ""), "to"), got.get("area") or None,
                  got.get("member") or None, Category(kind) if kind else None)
    limit = _whole(got.get("limit", ""), "limit", 1, 10_000)
    return ReportRequest(name, scope, _day(got.get("as_of", ""), "as_of"), by=by,  # type: ignore[arg-type]
                         gdp_year=_whole(got.get("gdp_year", ""), "gdp_year", 1900, 2200),
                         keep_all=got.get("keep_all") == "1", limit=limit or DEFAULT_LIMIT)


def _cell(f: Field, value: Any) -> tuple[str, bool]:
    """A cell as the page shows it, and whether it is a figure (right-aligned)."""
    if isinstance(value, dict | list):
        value = "; ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else ", ".join(
            map(str, value))
    return shown(f.kind, value), f.kind not in (Kind.TEXT, Kind.DATE)


def _known(name: str) -> Offered:
    if name not in REPORTS:
        raise NotFound(f"no report {name[:40]!r}: the reports are {', '.join(REPORTS)}")
    return REPORTS[name]


@router.get("/reports", response_class=HTMLResponse)
def index(request: Request, caller: Viewer) -> HTMLResponse:
    return render(request, "reports_index.html", title="Reports", reports=REPORTS)


@router.get("/reports/{name}", response_class=HTMLResponse)
def report(request: Request, name: str, caller: Viewer) -> HTMLResponse:
    kind = _known(name)
    params = dict(request.query_params)
    query = urlencode({k: v for k, v in params.items() if k in kind.takes and v})
    values: dict[str, Any] = {"title": kind.title, "name": name, "kind": kind, "params": params, "query": query,
              "groupings": GROUPINGS, "categories": [c.value for c in Category], "message": ""}
    try:
        result = reporting.computed(request.app.state.store.db, asked(name, params), request.app.state.clock)
    except ContactGroupError as exc:
        values["message"] = detail(exc)
        return render(request, "reports_report.html", status_of(exc), result=None, **values)
    fields = fields_of(name, result.request.by)
    rows = [[_cell(f, r.get(f.key)) for f in fields] for r in result.records]
    notes = [n for n in (result.gdp_note, *result.rate_notes) if n]
    return render(request, "reports_report.html", result=result, stamp=result.stamp, fields=fields, rows=rows,
                  notes=notes, rounding=ROUNDING_NOTE, definitions=defined(f.key for f in fields), **values)


@router.get("/reports/{name}/chart-{number}.svg")
def chart(request: Request, name: str, number: int, caller: Viewer) -> Response:
    """A report's chart, drawn from the same request as its page (the page shows its figures as a table)."""
    kind = _known(name)
    if not 0 <= number < len(kind.charts):
        raise NotFound(f"report {name} has no chart {number}")
    result = reporting.computed(request.app.state.store.db, asked(name, dict(request.query_params)),
                                request.app.state.clock)
    svg = chart_svg(kind.charts[number], result.records)
    return Response(svg, media_type="image/svg+xml",
                    headers={**SECURITY_HEADERS, "Content-Security-Policy": "default-src 'none'"})


@router.get("/public", response_class=HTMLResponse)
def public(request: Request) -> HTMLResponse:
    """What `contactgroup publish` releases, at the newest witnessed (or signed) checkpoint, for anyone."""
    try:
        view = publish.public_view(request.app.state.store.db)
    except NotFound:
        return render(request, "public.html", title="Public figures", view=None)
    return render(request, "public.html", title="Public figures", view=view)
