"""Working days of a granting country: its weekend and its public holidays (the `holidays` package), so that a
lead time of N working days gives the day a permission is ready."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

from contactgroup.domain.errors import ValidationFailed

SATURDAY_SUNDAY = frozenset({5, 6})


class WorkingDays:
    """Weekdays that are not public holidays, per ISO alpha-3 country. A country the `holidays` package does not
    cover (Kosovo, XKX, among few) works Monday to Friday: its holidays are unknown, never guessed.

    `closed` adds days a country does not work beyond its public holidays (a national day of mourning), keyed by
    country; it is also how tests pin a calendar down."""

    def __init__(self, closed: dict[str, frozenset[date]] | None = None) -> None:
        self._closed = dict(closed or {})
        self._calendars: dict[str, holidays.HolidayBase | None] = {}
        self.ready = lru_cache(maxsize=65536)(self._ready)

    def _calendar(self, country: str) -> holidays.HolidayBase | None:
        if country not in self._calendars:
            try:
                self._calendars[country] = holidays.country_holidays(country)
            except NotImplementedError:
                self._calendars[country] = None
        return self._calendars[country]

    def is_working(self, country: str, day: date) -> bool:
        calendar = self._calendar(country)
        weekend = calendar.weekend if calendar is not None else SATURDAY_SUNDAY
        if day.weekday() in weekend or day in self._closed.get(country, frozenset()):
            return False
        return calendar is None or day not in calendar  # `in` fills the calendar's years as they are asked for

    def _ready(self, country: str, requested: date, lead_days: int) -> date:
        """The day a permission requested on `requested` is ready: the `lead_days`-th working day of `country`
        after it (the request day itself not counted), or `requested` itself for a lead time of 0."""
        if lead_days < 0:
            raise ValidationFailed(f"a lead time is a non-negative number of days, got {lead_days}", "lead_days")
        day, left = requested, lead_days
        while left:
            day += timedelta(days=1)
            left -= self.is_working(country, day)
        return day
