"""Lead times count the granting country's working days: its weekend and its public holidays."""

from __future__ import annotations

from datetime import date

import pytest

from contactgroup.mobility import WorkingDays

CALENDAR = WorkingDays()


def test_a_lead_time_skips_the_weekend() -> None:
    # Requested on Thursday 5 March 2026; Friday is day 1, Monday day 2.
    assert CALENDAR.ready("DEU", date(2026, 3, 5), 2) == date(2026, 3, 9)


def test_a_lead_time_of_zero_is_ready_the_day_it_is_requested_even_on_a_sunday() -> None:
    assert CALENDAR.ready("POL", date(2026, 3, 8), 0) == date(2026, 3, 8)


def test_a_lead_time_skips_christmas_and_new_year_in_germany() -> None:
    # From Friday 19 Dec 2025: 22, 23, 24 (not a public holiday), 29, 30, 31, 2 Jan; 25-26 Dec and 1 Jan are.
    assert CALENDAR.ready("DEU", date(2025, 12, 19), 7) == date(2026, 1, 2)


def test_each_country_keeps_its_own_holidays() -> None:
    # 11 November is Poland's Independence Day, a working day in the Netherlands.
    assert CALENDAR.ready("POL", date(2026, 11, 10), 1) == date(2026, 11, 12)
    assert CALENDAR.ready("NLD", date(2026, 11, 10), 1) == date(2026, 11, 11)


def test_a_country_with_a_friday_saturday_weekend_works_on_sunday() -> None:
    # Israel's weekend is Friday and Saturday: from Thursday 12 March 2026, the next working day is Sunday.
    assert CALENDAR.ready("ISR", date(2026, 3, 12), 1) == date(2026, 3, 15)


def test_a_country_without_a_known_calendar_works_monday_to_friday() -> None:
    assert not CALENDAR.is_working("XKX", date(2026, 3, 7))
    assert CALENDAR.ready("XKX", date(2026, 3, 6), 1) == date(2026, 3, 9)


def test_closed_days_are_added_to_the_public_holidays() -> None:
    calendar = WorkingDays({"POL": frozenset({date(2026, 3, 9)})})
    assert calendar.ready("POL", date(2026, 3, 6), 1) == date(2026, 3, 10)


def test_a_negative_lead_time_is_refused() -> None:
    with pytest.raises(Exception, match="non-negative"):
        CALENDAR.ready("POL", date(2026, 3, 6), -1)
