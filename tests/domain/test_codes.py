"""The ISO code lists kept in the domain match pycountry's (the lists ISO publishes)."""

from __future__ import annotations

import pycountry

from contactgroup.domain import codes


def test_countries_match_iso_3166() -> None:
    assert {c.alpha_3 for c in pycountry.countries} == codes.COUNTRIES


def test_currencies_match_iso_4217() -> None:
    assert {c.alpha_3 for c in pycountry.currencies} == codes.CURRENCIES


def test_reference_members_are_known_countries_and_currencies() -> None:
    from contactgroup.io.members import reference_members

    for ref in reference_members():
        assert codes.is_country(ref.member.code), ref.member.code
        assert codes.is_money_currency(ref.member.currency), ref.member.currency


def test_alpha2_codes_match_iso_3166() -> None:
    expected = {c.alpha_3: c.alpha_2 for c in pycountry.countries} | {"XKX": "XK"}
    assert expected == codes.ALPHA2
