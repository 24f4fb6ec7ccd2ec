from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from contactgroup.domain.errors import MissingRate
from contactgroup.domain.model import Category, Gdp, Item, Offer, OfferStatus, Rate, Source, ValuationBasis, Visibility
from contactgroup.reports.valuation import MAX_GAP_DAYS, EcbRates, Valuer, ecb_converter


@pytest.fixture(scope="module")
def valuer() -> Valuer:
    return Valuer([Rate("UAH", date(2024, 1, 1), Decimal("42")), Rate("UAH", date(2024, 6, 1), Decimal("44")),
                   Rate("USD", date(2024, 1, 6), Decimal("1.2"))])


def offer(**changes: object) -> Offer:
    base = Offer(id="O-1", member="DEU", item="155-a", quantity=10, available_from=date(2024, 3, 1), depot="DEU",
                   source=Source.STOCKS, status=OfferStatus.COMMITTED, visibility=Visibility.MEMBER)
    return Offer(**{**{f: getattr(base, f) for f in Offer.__slots__}, **changes})


class TestEcbRate:
    def test_uses_the_rate_published_that_day(self, valuer: Valuer) -> None:
        assert valuer.rate("USD", date(2024, 1, 2)) == Decimal("1.0956")
        assert valuer.to_eur(Decimal("1095.6"), "USD", date(2024, 1, 2)) == Decimal(1000)

    def test_eur_is_one(self, valuer: Valuer) -> None:
        assert valuer.to_eur(Decimal("12.34"), "EUR", date(1990, 1, 1)) == Decimal("12.34")

    def test_weekend_takes_the_nearest_earlier_publication(self) -> None:
        saturday, friday = date(2024, 3, 9), date(2024, 3, 8)
        ecb = EcbRates()
        assert ecb.published("GBP", saturday) is None
        assert Valuer().rate("GBP", saturday) == ecb.published("GBP", friday)

    def test_a_suspended_quotation_is_not_carried_forward(self) -> None:
        with pytest.raises(MissingRate):  # the ECB stopped quoting RUB on 2022-03-01
            Valuer().rate("RUB", date(2024, 5, 2))
        with pytest.raises(MissingRate):  # nor ISK during its 2008-2018 gap
            Valuer().rate("ISK", date(2012, 5, 2))

    def test_past_the_bundled_file_the_last_rate_carries_forward(self) -> None:
        ecb = EcbRates()
        later = ecb.end + timedelta(days=MAX_GAP_DAYS + 30)
        assert Valuer().rate("USD", later) == ecb.published("USD", ecb.end)

    def test_converter_is_loaded_once(self) -> None:
        assert ecb_converter() is ecb_converter()

    def test_year_average_is_the_mean_of_daily_rates(self, valuer: Valuer) -> None:
        assert abs(valuer.year_rate("USD", 2023) - Decimal("1.0813")) < Decimal("0.0001")  # ECB: 1.0813
        gdp = Gdp("USA", 2023, Decimal("1081300"), "USD", "test")
        assert abs(valuer.gdp_eur(gdp) - Decimal(1000000)) < Decimal(100)


class TestBeyondTheSeries:
    """A date after the bundled ECB series: a recorded newer rate, else the series' last rate — always said."""

    def test_the_last_ecb_rate_stands_in_and_the_valuer_says_so(self) -> None:
        end = EcbRates().end
        valuer = Valuer()
        assert valuer.rate("USD", end + timedelta(days=40)) == valuer.rate("USD", end)
        (note,) = valuer.notes()
        assert note == (f"USD on dates after the bundled ECB series ends ({end}, up to {end + timedelta(days=40)}) "
                        f"is converted at the ECB's last rate ({end}): record newer ones with import rates")

    def test_a_recorded_rate_newer_than_the_series_is_used_and_said(self) -> None:
        end = EcbRates().end
        valuer = Valuer([Rate("USD", end + timedelta(days=10), Decimal("1.5"))])
        assert valuer.to_eur(Decimal(3), "USD", end + timedelta(days=20)) == Decimal(2)
        assert valuer.notes() == [f"USD on dates after the bundled ECB series ends ({end}, up to "
                                  f"{end + timedelta(days=20)}) is converted at the rate recorded for "
                                  f"{end + timedelta(days=10)}"]

    def test_dates_inside_the_series_say_nothing(self, valuer: Valuer) -> None:
        fresh = Valuer()
        fresh.rate("USD", date(2024, 1, 2))
        assert fresh.notes() == []


class TestUserRate:
    def test_currency_the_ecb_lacks_uses_the_latest_user_rate(self, valuer: Valuer) -> None:
        assert valuer.rate("UAH", date(2024, 1, 1)) == Decimal(42)
        assert valuer.rate("UAH", date(2024, 5, 31)) == Decimal(42)
        assert valuer.rate("UAH", date(2025, 1, 1)) == Decimal(44)
        assert valuer.to_eur(Decimal(4400), "UAH", date(2024, 7, 1)) == Decimal(100)

    def test_a_user_rate_newer_than_the_ecb_wins(self, valuer: Valuer) -> None:
        assert valuer.rate("USD", date(2024, 1, 6)) == Decimal("1.2")  # Saturday; ECB's is from Friday
        assert valuer.rate("USD", date(2024, 1, 8)) != Decimal("1.2")  # Monday: the ECB again

    def test_user_rates_average_for_a_year_the_ecb_lacks(self, valuer: Valuer) -> None:
        assert valuer.year_rate("UAH", 2024) == Decimal(43)


class TestMissingRate:
    def test_names_currency_and_date(self, valuer: Valuer) -> None:
        with pytest.raises(MissingRate) as caught:
            valuer.to_eur(Decimal(1), "UAH", date(2023, 12, 31))
        assert caught.value.currency == "UAH"
        assert "UAH" in str(caught.value) and "2023-12-31" in str(caught.value)

    @pytest.mark.parametrize("currency", ["ALL", "ARS", "BAM", "COP", "GEL", "JOD", "KES", "LRD", "MAD", "MDL",
                                          "MKD", "QAR", "TND"])
    def test_currencies_the_ecb_does_not_publish(self, currency: str) -> None:
        with pytest.raises(MissingRate):
            Valuer().rate(currency, date(2024, 1, 2))

    def test_gdp_without_any_rate_for_its_year(self) -> None:
        with pytest.raises(MissingRate, match="GEL"):
            Valuer().gdp_eur(Gdp("GEO", 2023, Decimal(1), "GEL", "test"))


ITEMS = {"155-a": Item("155-a", "155 mm", Category.MILITARY, "round", None, Decimal("3000")),
         "x": Item("x", "unvalued", Category.MILITARY, "each")}


class TestOfferValue:

    def test_declared_value_at_commitment_date(self, valuer: Valuer) -> None:
        o = offer(value=Decimal("1095.6"), currency="USD", basis=ValuationBasis.MARKET,
                  committed_on=date(2024, 1, 2))
        assert valuer.offer_value_eur(o, ITEMS) == Decimal(1000)

    def test_declared_value_without_commitment_uses_available_from(self, valuer: Valuer) -> None:
        o = offer(value=Decimal(4400), currency="UAH", basis=ValuationBasis.BOOK, available_from=date(2024, 7, 1))
        assert valuer.offer_value_eur(o, ITEMS) == Decimal(100)

    def test_without_declared_value_uses_catalogue_unit_value(self, valuer: Valuer) -> None:
        assert valuer.offer_value_eur(offer(), ITEMS) == Decimal(30000)

    def test_no_value_at_all_is_none_not_zero(self, valuer: Valuer) -> None:
        assert valuer.offer_value_eur(offer(item="x"), ITEMS) is None


class TestMissingRateSaysWhy:
    def test_names_the_offer_and_its_member(self) -> None:
        o = offer(id="O-00042", member="POL", value=Decimal(1000), currency="UAH", committed_on=date(2024, 1, 2))
        with pytest.raises(MissingRate) as caught:
            Valuer().offer_value_eur(o, ITEMS)
        assert "offer O-00042 of POL" in str(caught.value)
        assert "the ECB does not publish it" in str(caught.value)

    def test_before_the_ecb_series_says_when_it_starts(self) -> None:
        with pytest.raises(MissingRate) as caught:
            Valuer().rate("USD", date(1998, 12, 31))
        assert "the ECB series starts on 1999-01-04" in str(caught.value)
        assert "does not publish" not in str(caught.value)

    def test_names_the_gdp_figure(self) -> None:
        with pytest.raises(MissingRate, match="the 2023 GDP of GEO"):
            Valuer().gdp_eur(Gdp("GEO", 2023, Decimal(1), "GEL", "test"))
