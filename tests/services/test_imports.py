"""Importing the Kiel tracker and exchange rates: all rows or nothing, once per release, reproducing Kiel's figures."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from contactgroup.domain.errors import Conflict, Forbidden, MissingRate, ValidationFailed
from contactgroup.domain.governance import in_force
from contactgroup.domain.model import Fund, Gdp, Member, MemberKind, TrackedDonor
from contactgroup.ledger import note
from contactgroup.reports.burden import burden
from contactgroup.reports.valuation import Valuer
from contactgroup.services import coordination as svc
from contactgroup.services import governance as gov
from contactgroup.services.clock import FixedClock
from contactgroup.services.imports import import_kiel, import_rates
from contactgroup.services.verify import verify
from contactgroup.storage.database import Database
from tests.conftest import KIEL_R29
from tests.factories import World, build_world, enter_offer, open_requirement


@pytest.fixture
def world(founded_db: Database, clock: FixedClock) -> World:
    return build_world(founded_db, clock)


def kiel_allocations_pct_gdp() -> dict[str, Decimal]:
    """Kiel's own figure: per donor, the sum of monthly `total` over its 2021 GDP × 100 (donors with a GDP)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    gdp: dict[str, Decimal] = {}
    with (KIEL_R29 / "data_explorer.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            totals[row["iso"]] += Decimal(row["total"])
            gdp[row["iso"]] = Decimal(row["gdp"])
    return {iso: totals[iso] / gdp[iso] * 100 for iso in totals if gdp[iso] > 0}


class TestImportKiel:
    def test_reproduces_kiel_allocations_as_share_of_gdp_for_every_donor(self, world: World) -> None:
        summary = world.do(import_kiel, "admin", KIEL_R29)
        assert summary.source == "Kiel UST Release 29" and summary.donors == 42
        rows = {r.member: r for r in burden(world.db.state(), gdp_year=2021)}
        expected = kiel_allocations_pct_gdp()
        assert len(expected) == 41  # every donor but the EU, for which Kiel gives no GDP
        for iso, pct in expected.items():
            got = rows[iso].allocated_pct_gdp
            assert got is not None and rows[iso].gdp_year == 2021, iso
            assert abs(got - pct) <= pct * Decimal("1e-6"), (iso, got, pct)
        assert rows["EU"].allocated_pct_gdp is None and rows["EU"].allocated_eur > 0

    def test_tracks_donors_that_are_not_members_without_admitting_them_and_records_2021_gdp_in_eur(
            self, world: World) -> None:
        members = set(world.db.state().members)
        summary = world.do(import_kiel, "admin", KIEL_R29)
        assert summary.donors_tracked == ("CHE", "CHN", "CYP", "EU", "IND", "MLT", "TWN")
        state = world.db.state()
        assert set(state.members) == members
        assert state.tracked_donors["EU"] == TrackedDonor("EU", "EU (Commission and Council)",
                                                            MemberKind.ORGANISATION, "Kiel UST Release 29")
        assert state.tracked_donors["TWN"].name == "Taiwan"
        assert state.gdp[("CHN", 2021)].source == "Kiel UST Release 29"
        assert state.gdp[("AUS", 2021)] == Gdp("AUS", 2021, Decimal("1312.77115526256") * 10**9, "EUR",
                                                 "Kiel UST Release 29")
        assert ("EU", 2021) not in state.gdp

    def test_commitments_are_recorded_unsplit(self, world: World) -> None:
        world.do(import_kiel, "admin", KIEL_R29)
        state = world.db.state()
        entry = state.tracked_aid["Kiel UST Release 29/AUS/2022-03/unspecified"]
        assert (entry.category, entry.committed_eur, entry.allocated_eur) == ("unspecified", Decimal(142912000), 0)

    def test_importing_the_same_release_twice_is_refused(self, world: World) -> None:
        world.do(import_kiel, "admin", KIEL_R29)
        before = world.event_count()
        with pytest.raises(Conflict, match="Kiel UST Release 29 is already imported"):
            world.do(import_kiel, "admin", KIEL_R29)
        assert world.event_count() == before

    def test_a_bad_cell_applies_nothing(self, world: World, tmp_path: Path) -> None:
        bad = tmp_path / "r29"
        shutil.copytree(KIEL_R29, bad)
        data = bad / "data_explorer.csv"
        data.chmod(0o644)
        lines = data.read_text(encoding="utf-8").splitlines()
        cells = lines[700].split(",")  # row 701 counting the header as row 1
        cells[4] = "-1"  # total
        lines[700] = ",".join(cells)
        data.write_text("\n".join(lines) + "\n", encoding="utf-8")
        before = world.event_count()
        with pytest.raises(ValidationFailed) as caught:
            world.do(import_kiel, "admin", bad)
        assert [str(p) for p in caught.value.problems] == ["data_explorer.csv, row 701, column total: -1 is negative"]
        assert world.event_count() == before
        assert not world.db.state().tracked_aid

    def test_needs_a_coordinator(self, world: World) -> None:
        before = world.event_count()
        with pytest.raises(Forbidden):
            world.do(import_kiel, "deu", KIEL_R29)
        assert world.event_count() == before

    def test_reports_progress(self, world: World) -> None:
        seen: list[tuple[int, int]] = []
        summary = world.do(import_kiel, "admin", KIEL_R29, lambda done, total: seen.append((done, total)))
        assert seen[0] == (0, summary.entries) and seen[-1] == (summary.entries, summary.entries)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)


class TestImportKielIntoALiveCoordination:
    """A coordination with members, requirements, offers and (with governance) member keys: the tracker's donors
    that are not members are tracked, never admitted, and every donor's Kiel figure is reproduced."""

    @pytest.mark.parametrize("governed", [False, True], ids=["without-governance", "with-governance"])
    def test_tracks_non_members_and_reproduces_kiel(self, world: World, governed: bool) -> None:
        req = open_requirement(world, quantity=100)
        offer = enter_offer(world, quantity=100)
        if governed:  # a member key: governance is in force, members are admitted only by proposal
            world.do(gov.register_key, "deu", "DEU", note.generate_key("DEU-1")[0].verifier.text)
            assert in_force(world.db.state())
            with pytest.raises(Forbidden, match="governance is in force"):
                world.do(svc.admit_member, "admin", Member("CHN", "China", MemberKind.NATION, "CNY"))
        before = world.db.state()
        summary = world.do(import_kiel, "admin", KIEL_R29)
        state = world.db.state()
        assert summary.donors_tracked == ("CHE", "CHN", "CYP", "EU", "IND", "MLT", "TWN")
        assert state.members == before.members and state.users == before.users
        assert state.requirements == before.requirements and state.offers[offer] == before.offers[offer]
        assert req in state.requirements
        rows = {r.member: r for r in burden(state, gdp_year=2021)}
        for iso, pct in kiel_allocations_pct_gdp().items():
            got = rows[iso].allocated_pct_gdp
            assert got is not None and abs(got - pct) <= pct * Decimal("1e-6"), (iso, got, pct)
        assert rows["TWN"].tracked_only and not rows["DEU"].tracked_only
        assert rows["EU"].allocated_eur > 0 and rows["EU"].allocated_pct_gdp is None
        assert verify(world.db).ok

    def test_a_tracked_donor_admitted_later_is_one_row(self, world: World) -> None:
        world.do(import_kiel, "admin", KIEL_R29)
        world.do(svc.admit_member, "admin", Member("TWN", "Taiwan", MemberKind.NATION, "TWD"))
        rows = [r for r in burden(world.db.state(), gdp_year=2021) if r.member == "TWN"]
        assert len(rows) == 1 and not rows[0].tracked_only and rows[0].allocated_pct_gdp is not None


class TestImportRates:
    def test_records_rates_that_value_what_the_ecb_lacks(self, world: World, tmp_path: Path) -> None:
        with pytest.raises(MissingRate):
            Valuer.of(world.db.state()).rate("UAH", date(2024, 3, 1))
        path = tmp_path / "rates.csv"
        path.write_text("currency,date,per_eur\nUAH,2024-01-02,42\nUAH,2024-06-03,44.5\nGEL,2024-01-02,2.9\n")
        summary = world.do(import_rates, "admin", path)
        assert (summary.rates, summary.currencies, summary.first) == (3, ("GEL", "UAH"), "2024-01-02")
        state = world.db.state()
        assert state.rates[("UAH", date(2024, 6, 3))].per_eur == Decimal("44.5")
        assert Valuer.of(state).rate("UAH", date(2024, 3, 1)) == Decimal(42)

    def test_a_bad_row_applies_nothing(self, world: World, tmp_path: Path) -> None:
        path = tmp_path / "rates.csv"
        path.write_text("currency,date,per_eur\nUAH,2024-01-02,42\nUAH,2024-13-01,44\n")
        before = world.event_count()
        with pytest.raises(ValidationFailed, match=r"rates\.csv, row 3, column date"):
            world.do(import_rates, "admin", path)
        assert world.event_count() == before

    def test_needs_a_coordinator(self, world: World, tmp_path: Path) -> None:
        path = tmp_path / "rates.csv"
        path.write_text("currency,date,per_eur\nUAH,2024-01-02,42\n")
        with pytest.raises(Forbidden):
            world.do(import_rates, "analyst", path)

    def test_contribution_in_a_user_rated_currency_counts_in_burden(self, world: World, tmp_path: Path) -> None:
        path = tmp_path / "rates.csv"
        path.write_text("currency,date,per_eur\nNOK,2024-06-01,11.5\n")
        world.do(import_rates, "admin", path)
        with world.db.transaction() as uow:
            svc.create_fund(uow, world.caller("admin"), Fund("FN", "Fund", "DEU", "artillery"))
            svc.contribute(uow, world.caller("admin"), fund="FN", member="NOR", amount=Decimal("115"),
                           currency="NOK", pledged_on=date(2024, 6, 1))  # a Saturday: the user rate is newer
        nor = next(r for r in burden(world.db.state()) if r.member == "NOR")
        assert nor.committed_eur == Decimal(10)
