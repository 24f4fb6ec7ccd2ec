"""Each report on the hand-built scenario of `scenario.py`, with exact expected figures."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal

from contactgroup.domain.model import AllocationStatus, Gdp
from contactgroup.encoding.canonical import plain
from contactgroup.reports.burden import burden
from contactgroup.reports.coverage import coverage
from contactgroup.reports.gaps import detail, gaps
from contactgroup.reports.lag import lag, median, p90
from contactgroup.reports.summary import burden_summary, coverage_summary
from contactgroup.services import coordination as svc
from tests.reports.scenario import Scenario

COUNTS = ("needed", "allocated", "committed", "delivered", "missing")


def counts(row: object) -> tuple[int, ...]:
    return tuple(getattr(row, k) for k in COUNTS)


class TestCoverage:
    def test_per_requirement(self, scenario: Scenario) -> None:
        rows = {r.key: r for r in coverage(scenario.world.db.state(), "requirement")}
        assert counts(rows[scenario.r1]) == (1000, 900, 900, 590, 110)  # 10 arrived short: still owed
        assert counts(rows[scenario.r2]) == (500, 170, 100, 100, 400)  # 70 pending count as allocated
        assert counts(rows[scenario.r3]) == (200, 0, 0, 0, 200)
        assert rows[scenario.r1].status == "partially_met"

    def test_rolled_up_per_class_tier_and_area_and_labelled(self, scenario: Scenario) -> None:
        rows = coverage(scenario.world.db.state())
        assert [r.grouping for r in rows] == ["requirement"] * 4 + ["class"] * 3 + ["tier"] * 3 + ["area"] * 3
        classes = {r.key: r for r in rows if r.grouping == "class"}
        assert counts(classes["155mm"]) == (1500, 1070, 1000, 690, 510)  # R-00001 and R-00002: alike units
        tiers = {r.key: r for r in rows if r.grouping == "tier"}
        assert tiers["1"].requirements == 2 and tiers["1"].item_classes == 2
        areas = {r.key: r for r in rows if r.grouping == "area"}
        assert areas["winter"].name == "Winter equipment"

    def test_units_of_unlike_classes_are_never_added_but_their_value_is(self, scenario: Scenario) -> None:
        rows = coverage(scenario.world.db.state())
        per_req = {r.key: r for r in rows if r.grouping == "requirement"}
        tier1 = next(r for r in rows if r.grouping == "tier" and r.key == "1")
        assert counts(tier1) == (None,) * 5 and tier1.confirmed is None and tier1.unit_value_eur is None
        first = [per_req[scenario.r1], per_req[scenario.r3]]
        for field in ("needed_eur", "confirmed_eur", "delivered_eur", "missing_eur"):
            assert getattr(tier1, field) == sum(getattr(r, field) for r in first)
        assert tier1.confirmed_share_of_need == tier1.confirmed_eur / tier1.needed_eur

    def test_value_is_units_at_the_reference_unit_value(self, scenario: Scenario) -> None:
        r1 = next(r for r in coverage(scenario.world.db.state(), "requirement") if r.key == scenario.r1)
        assert r1.unit_value_eur is not None and r1.needed is not None and r1.confirmed is not None
        assert r1.needed_eur == r1.needed * r1.unit_value_eur
        assert r1.confirmed_eur == r1.confirmed * r1.unit_value_eur
        assert r1.committed == r1.confirmed and r1.allocated == (r1.pending or 0) + r1.confirmed  # legacy keys

    def test_ordered_by_priority(self, scenario: Scenario) -> None:
        keys = [r.key for r in coverage(scenario.world.db.state(), "requirement")]
        assert keys == [scenario.r1, scenario.r3, scenario.r2, scenario.r4]

    def test_drafts_do_not_count(self, scenario: Scenario) -> None:
        w = scenario.world
        w.do(svc.draft_requirement, "ukr", item_class="fpv", quantity=5, priority=1, needed_by=date(2024, 9, 1),
             destination="UKR")
        assert len(coverage(w.db.state(), "requirement")) == 4


class TestBurden:
    def test_exact_figures_with_fund_attributed_pro_rata(self, scenario: Scenario) -> None:
        rows = {r.member: r for r in burden(scenario.world.db.state())}
        deu, usa, fra = rows["DEU"], rows["USA"], rows["FRA"]
        # DEU: its offer O1 (600 × 3,000) + 30 % of the fund's 100 × 3,000; 590 + 100×30 % units received.
        assert (deu.committed_eur, deu.allocated_eur, deu.delivered_eur) == (2100000, 1890000, 1860000)
        # USA: 70 % of the fund; committed = its 700,000 contribution + O4 (100 × 3,500) + O5 (50 × 500).
        assert (usa.committed_eur, usa.allocated_eur, usa.delivered_eur) == (1075000, 210000, 210000)
        # FRA: declared 1,000,000 EUR for 400 units, 300 confirmed.
        assert (fra.committed_eur, fra.allocated_eur, fra.delivered_eur) == (1000000, 750000, 0)
        assert deu.share_of_total == Decimal(1890000) / Decimal(2850000)

    def test_a_fund_is_never_a_donor_and_nothing_counts_twice(self, scenario: Scenario) -> None:
        rows = burden(scenario.world.db.state())
        assert "AMMO" not in {r.member for r in rows}
        # Every confirmed euro appears once: O1 1,800,000 + 3/4 of O2 + the fund's 300,000.
        assert sum(r.allocated_eur for r in rows) == Decimal(2850000)
        assert abs(sum(r.share_of_total for r in rows) - 1) < Decimal("1e-20")
        # Committed money: the contributions (1,000,000), not also the fund's offer (300,000).
        assert sum(r.committed_eur for r in rows) == Decimal(2100000 + 1075000 + 1000000)

    def test_percent_of_gdp_for_a_chosen_year(self, scenario: Scenario) -> None:
        w = scenario.world
        w.do(svc.record_gdp, "admin", Gdp("DEU", 2022, Decimal("3780000000000"), "EUR", "test"))
        deu = next(r for r in burden(w.db.state(), gdp_year=2022) if r.member == "DEU")
        assert deu.gdp_year == 2022
        assert deu.allocated_pct_gdp == Decimal(1890000) / Decimal("3780000000000") * 100 == Decimal("0.00005")
        assert deu.committed_pct_gdp == Decimal(2100000) / Decimal("3780000000000") * 100
        fra = next(r for r in burden(w.db.state(), gdp_year=2022) if r.member == "FRA")
        assert (fra.gdp_year, fra.allocated_pct_gdp) == (None, None)

    def test_default_gdp_year_is_the_latest_converted_at_the_annual_average(self, scenario: Scenario) -> None:
        state = scenario.world.db.state()
        deu = next(r for r in burden(state) if r.member == "DEU")
        gdp = state.gdp[("DEU", 2023)]
        assert deu.gdp_year == 2023 and gdp.currency == "USD"
        assert deu.gdp_eur is not None
        assert abs(deu.gdp_eur / (gdp.amount / Decimal("1.0813")) - 1) < Decimal("0.0001")

    def test_json_keys(self, scenario: Scenario) -> None:
        row = plain(asdict(burden(scenario.world.db.state())[0]))
        assert {"member", "committed_eur", "allocated_eur", "delivered_eur", "share_of_total", "gdp_year",
                "allocated_pct_gdp", "committed_pct_gdp"} <= set(row)
        json.dumps(row)


class TestLag:
    def test_per_member_and_category_one_observation_per_shipment(self, scenario: Scenario) -> None:
        rows = {(r.member, r.category): r for r in lag(scenario.world.db.state())}
        deu = rows[("DEU", "military")]  # committed 07-01; received 07-31 (30 d) and 08-20 (50 d)
        assert (deu.shipments, deu.units, deu.median_days, deu.p90_days, deu.min_days, deu.max_days) == (
            2, 590, 40, 50, 30, 50)
        fund = rows[("AMMO", "military")]  # the fund's own pace
        assert (fund.shipments, fund.median_days) == (1, 45)

    def test_median_of_an_even_count_is_the_mean_of_the_middle_two(self) -> None:
        assert median([30, 50, 10, 41]) == Decimal("35.5")

    def test_p90_is_nearest_rank(self) -> None:
        assert p90(list(range(1, 11))) == 9
        assert p90([5]) == 5
        assert p90(list(range(1, 12))) == 10


class TestGaps:
    def test_highest_priority_first_with_reasons(self, scenario: Scenario) -> None:
        rows = gaps(scenario.world.db.state())
        assert [r.requirement for r in rows] == [scenario.r1, scenario.r3, scenario.r2, scenario.r4]
        r1, r3, r2, r4 = rows
        # R1: 900 of 1,000 confirmed, and 10 of them arrived short: 110 missing. O2's 50 free units are free to
        # allocate; O4's need DEU's consent, never requested, so an allocation run could not use them.
        assert (r1.missing, r1.owed, r1.reason) == (110, 10, "needs_consent")
        assert r1.breakdown == (("owed_after_receipt", 10), ("needs_consent", 50), ("not_yet_allocated", 50))
        assert r1.detail == ("10 units owed after a short receipt; 50 units: needs consent (not requested); "
                             "50 compatible offered units are free to allocate")
        assert (r3.reason, r3.breakdown) == (
            "insufficient_quantity", (("not_yet_allocated", 50), ("insufficient_quantity", 150)))
        assert (r2.missing, r2.pending, r2.reason) == (400, 70, "taken_by_higher_priority")
        assert r2.breakdown == (("needs_consent", 100), ("not_yet_confirmed", 50), ("not_yet_allocated", 50),
                                ("taken_by_higher_priority", 200))
        assert (r4.reason, r4.missing) == ("no_compatible_offer", 10)
        assert r2.reasons.startswith("needs_consent=100; not_yet_confirmed=50")

    def test_limit(self, scenario: Scenario) -> None:
        assert [r.rank for r in gaps(scenario.world.db.state(), limit=2)] == [1, 2]

    def test_never_names_an_offer(self, scenario: Scenario) -> None:
        text = json.dumps([plain(asdict(r)) for r in gaps(scenario.world.db.state())])
        assert not any(offer in text for offer in scenario.offers)

    def test_pending_allocations_explain_the_gap_until_confirmed(self, scenario: Scenario) -> None:
        w = scenario.world
        with w.db.transaction() as uow:
            a = svc.propose_allocation(uow, w.caller("admin"), offer=scenario.offers[1], requirement=scenario.r1,
                                       quantity=50)
            b = svc.propose_allocation(uow, w.caller("admin"), offer=scenario.offers[3], requirement=scenario.r1,
                                       quantity=50)
        assert gaps(w.db.state())[0].breakdown == (("owed_after_receipt", 10), ("needs_consent", 50),
                                                   ("not_yet_confirmed", 50))
        with w.db.transaction() as uow:
            for user, alloc in (("fra", a.id), ("ukr", a.id), ("admin", a.id)):
                svc.move_allocation(uow, w.caller(user), alloc, "confirm" if user == "admin" else "accept")
            svc.request_consent(uow, w.caller("admin"), scenario.offers[3])
        first = gaps(w.db.state())[0]  # 50 confirmed now; 50 still wait for DEU's consent, requested now
        assert (first.requirement, first.missing, first.breakdown) == (
            scenario.r1, 60, (("owed_after_receipt", 10), ("waiting_for_consent", 50)))
        assert first.detail.endswith("50 units: consent requested on 2024-09-01")
        assert b.status is AllocationStatus.PROPOSED


class TestSummaries:
    def test_summaries_are_printable_text(self, scenario: Scenario) -> None:
        state = scenario.world.db.state()
        cov, bur = coverage_summary(state), burden_summary(state)
        assert "4 requirements in 3 item classes" in cov and "€4,983,000 needed" in cov
        assert "DEU Germany" in bur.splitlines()[1] and "SYNTHETIC" not in bur


class TestGapDetail:
    def test_one_unit_is_singular_and_many_have_thousands_separators(self) -> None:
        assert detail("not_yet_confirmed", 1) == "1 allocated unit awaits acceptance or confirmation"
        assert detail("owed_after_receipt", 1750) == "1,750 units owed after a short receipt"
        assert detail("insufficient_quantity", 1) == "compatible offers fall 1 unit short"
        assert detail("taken_by_higher_priority", 2000) == (
            "2,000 compatible units are held by higher-priority requirements")
