"""A report's chart drawn as SVG: its Vega-Lite spec (reports/charts.py, the one definition every output uses)
rendered by vl-convert, which embeds its own Vega — no browser, no network, no script in the drawing. Every label
is escaped by the renderer; the drawing carries its figures' labels as text and its marks as ARIA roles.

Drawing takes a few hundred milliseconds (the first, a few seconds: the renderer starts), so the same spec is
drawn once and kept."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from contactgroup.reports.charts import Chart, vega_lite


@lru_cache(maxsize=64)
def _drawn(spec: str) -> str:
    import vl_convert

    return str(vl_convert.vegalite_to_svg(json.loads(spec)))


def chart_svg(chart: Chart, rows: Sequence[Mapping[str, Any]]) -> str:
    """The chart of `rows` as an SVG document."""
    return _drawn(json.dumps(vega_lite(chart, rows), sort_keys=True))
