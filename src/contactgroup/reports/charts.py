"""One chart definition per report, for every output: a `Chart` names the category field, the value fields and
the rows it shows; `vega_lite` turns it into the Vega-Lite spec that the PDF (as SVG) and any web page draw, and
the XLSX writer builds its native chart from the same `Chart`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
TOP = 15  # bars a chart shows: the report's first rows, in its own order


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    category: tuple[str, ...]  # the fields naming each bar group (adjacent in the report)
    series: tuple[tuple[str, str], ...]  # (field, legend label) per bar in a group
    axis: str  # the value axis title
    top: int = TOP

    def shown_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The rows the chart draws: the first `top` with a value in some series."""
        drawn = [r for r in rows if any(r.get(key) for key, _ in self.series)]
        return drawn[: self.top]

    def label(self, row: Mapping[str, Any]) -> str:
        return " ".join(str(row.get(f, "")) for f in self.category)

    @property
    def heading(self) -> str:
        return f"{self.title} (first {self.top})"


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float | Decimal) and not isinstance(value, bool) else 0.0


def vega_lite(chart: Chart, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A grouped horizontal bar chart: one group per row, one bar per series, in the report's order."""
    shown = chart.shown_rows(rows)
    order = [chart.label(r) for r in shown]
    values = [{"category": chart.label(r), "series": label, "value": _number(r.get(key))}
              for r in shown for key, label in chart.series]
    labels = [label for _, label in chart.series]
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": chart.heading,
        "width": 760,
        "height": {"step": 8},  # per bar: with yOffset the step is the offset band's
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "category", "type": "nominal", "sort": order, "title": None},
            "yOffset": {"field": "series", "sort": labels},
            "x": {"field": "value", "type": "quantitative", "title": chart.axis, "axis": {"format": ",~s"}},
            "color": {"field": "series", "type": "nominal", "sort": labels, "title": None,
                      "legend": {"orient": "bottom"}},
        },
        "config": {"font": "Helvetica", "view": {"stroke": None}, "title": {"fontSize": 14},
                   "axis": {"labelFontSize": 11, "titleFontSize": 11}, "legend": {"labelFontSize": 11}},
    }


COVERAGE = Chart("Coverage: value needed, confirmed and delivered", ("key",),
                 (("needed_eur", "needed"), ("confirmed_eur", "confirmed"), ("delivered_eur", "delivered")), "EUR")
BURDEN = Chart("Burden sharing: committed, allocated and delivered", ("member",),
               (("committed_eur", "committed"), ("allocated_eur", "allocated"), ("delivered_eur", "delivered")),
               "EUR")
LAG = Chart("Pledge-to-delivery lag", ("member", "category"),
            (("median_days", "median"), ("p90_days", "90th percentile")), "days")
GAPS = Chart("Gaps: missing units per requirement", ("requirement",),
             (("confirmed", "confirmed"), ("missing", "missing")), "units of the requirement's item class")
BURDEN_GDP = Chart("Burden sharing as % of GDP", ("member",),
                   (("committed_pct_gdp", "committed"), ("allocated_pct_gdp", "allocated")), "% of GDP")
