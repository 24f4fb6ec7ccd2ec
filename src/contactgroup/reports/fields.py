"""The fields each report shows (a table, a sheet, a page), in order, with the kind of number each is; and the
rule that leaves out rows whose every figure is zero. One place, so that every front door and `report check`
agree on what a report holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contactgroup.reports.document import Field, Kind, without_zero_rows

_COVERAGE_KEY = {"requirement": "requirement", "class": "class", "tier": "priority", "area": "area"}


def coverage_fields(by: str) -> tuple[Field, ...]:
    fields = [Field("key", _COVERAGE_KEY[by]), Field("name", "item class" if by == "requirement" else "name")]
    if by == "requirement":
        fields += [Field("priority", "prio", Kind.NUMBER), Field("area", "area"), Field("status", "status")]
    else:
        fields += [Field("requirements", "reqs", Kind.NUMBER), Field("item_classes", "classes", Kind.NUMBER)]
    fields += [Field(k, k, Kind.UNITS) for k in ("needed", "pending", "confirmed", "delivered", "missing")]
    fields += [Field(k, h, Kind.MONEY) for k, h in (("needed_eur", "needed €"), ("confirmed_eur", "confirmed €"),
                                                    ("delivered_eur", "delivered €"), ("missing_eur", "missing €"))]
    fields += [Field("confirmed_share_of_need", "conf. %", Kind.SHARE),
               Field("delivered_share_of_need", "deliv. %", Kind.SHARE)]
    return tuple(fields)


BURDEN_FIELDS = (
    Field("member", "member"), Field("committed_eur", "committed €", Kind.MONEY),
    Field("allocated_eur", "allocated €", Kind.MONEY), Field("delivered_eur", "delivered €", Kind.MONEY),
    Field("share_of_total", "share", Kind.SHARE), Field("gdp_year", "GDP yr"),
    Field("allocated_pct_gdp", "%GDP a", Kind.PERCENT), Field("committed_pct_gdp", "%GDP c", Kind.PERCENT),
)

LAG_FIELDS = (
    Field("member", "member"), Field("category", "category"), Field("shipments", "shipments", Kind.NUMBER),
    # No `units`: a category's shipments carry different items, whose units do not add up (JSON and CSV keep it).
    Field("median_days", "median", Kind.DAYS),
    Field("p90_days", "p90", Kind.DAYS), Field("min_days", "min", Kind.DAYS), Field("max_days", "max", Kind.DAYS),
)

GAPS_FIELDS = (
    Field("rank", "#", Kind.NUMBER), Field("requirement", "requirement"), Field("item_class", "class"),
    Field("priority", "prio", Kind.NUMBER), Field("needed_by", "needed by", Kind.DATE),
    Field("needed", "needed", Kind.UNITS), Field("pending", "pending", Kind.UNITS),
    Field("confirmed", "confirmed", Kind.UNITS), Field("missing", "missing", Kind.UNITS),
    Field("late", "late", Kind.UNITS), Field("reason", "reason"), Field("detail", "why"),
)


def fields_of(report: str, by: str = "requirement") -> tuple[Field, ...]:
    if report == "coverage":
        return coverage_fields(by)
    return {"burden": BURDEN_FIELDS, "lag": LAG_FIELDS, "gaps": GAPS_FIELDS}[report]


ZERO_ROWS_LEFT_OUT = frozenset({"coverage", "burden"})  # the reports that leave out all-zero rows unless asked


def kept(report: str, by: str, records: Sequence[Mapping[str, Any]], keep_all: bool
         ) -> tuple[list[Mapping[str, Any]], int]:
    """The records without those whose every figure (units and EUR) is zero, unless `keep_all`; and how many went."""
    if keep_all or report not in ZERO_ROWS_LEFT_OUT:
        return list(records), 0
    figures = [f.key for f in fields_of(report, by) if f.kind in (Kind.UNITS, Kind.MONEY)]
    left = without_zero_rows(records, figures)
    return left, len(records) - len(left)
