"""How a report is shown: rounding for tables and pages, the zero-row rule, and the one chart spec's data."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given
from hypothesis import strategies as st

from contactgroup.reports.charts import BURDEN, vega_lite
from contactgroup.reports.document import Kind, shown, without_zero_rows

money = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False,
                    allow_infinity=False)


@given(money)
def test_money_is_shown_to_the_euro_half_to_even(value: Decimal) -> None:
    assert Decimal(shown(Kind.MONEY, value).replace(",", "")) == value.quantize(Decimal(1), ROUND_HALF_EVEN)


@given(st.decimals(min_value=0, max_value=10, places=12, allow_nan=False, allow_infinity=False))
def test_a_share_is_shown_as_a_percent_with_two_decimals(value: Decimal) -> None:
    text = shown(Kind.SHARE, value)
    assert text.endswith("%") and len(text.split(".")[1]) == 3  # two decimals and the sign
    assert Decimal(text[:-1].replace(",", "")) == (value * 100).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def test_a_year_is_not_shown_as_a_quantity() -> None:
    assert shown(Kind.TEXT, 2023) == "2023" and shown(Kind.UNITS, 2023) == "2,023" and shown(Kind.MONEY, None) == ""


@given(st.lists(st.fixed_dictionaries({"a": st.integers(0, 3), "b": st.none() | st.integers(0, 3)}), max_size=20))
def test_a_row_is_left_out_only_when_every_figure_is_zero_or_absent(rows: list[dict[str, int | None]]) -> None:
    kept = without_zero_rows(rows, ["a", "b"])
    assert kept == [r for r in rows if r["a"] or r["b"]]


@given(st.lists(st.tuples(st.text("ABCDEFGHIJ", min_size=3, max_size=3), money, money, money), max_size=30,
                unique_by=lambda t: t[0]))
def test_the_chart_draws_the_first_rows_with_a_value_in_report_order(
        data: list[tuple[str, Decimal, Decimal, Decimal]]) -> None:
    rows = [{"member": m, "committed_eur": c, "allocated_eur": a, "delivered_eur": d} for m, c, a, d in data]
    spec = vega_lite(BURDEN, rows)
    drawn = [r for r in rows if r["committed_eur"] or r["allocated_eur"] or r["delivered_eur"]][: BURDEN.top]
    assert spec["encoding"]["y"]["sort"] == [r["member"] for r in drawn]
    assert spec["data"]["values"] == [{"category": r["member"], "series": label, "value": float(r[key])}
                                      for r in drawn for key, label in BURDEN.series]
