"""Places the record knows: where a requirement is delivered, so that transit times apply to it.

A destination is written in one of two forms, never both at once:
- a country (ISO 3166 alpha-3, as `codes.py` checks it), optionally with a region after a hyphen: `UKR`,
  `UKR-West`, `UKR-Ivano-Frankivsk` (the form transit routes have always used);
- the code of a place the coordinator defined (`RZE-HUB`, a handover point), whose country is known.
A place's code may not itself read as a country or country-region destination, so every destination means one thing.
"""

from __future__ import annotations

import re

from contactgroup.domain import codes, network, text
from contactgroup.domain.errors import Conflict, Problem, ValidationFailed
from contactgroup.domain.event import Context, Event
from contactgroup.domain.model import Place
from contactgroup.domain.state import State, as_data

# Matched with fullmatch only; [0-9], not \d, so that other scripts' digits are not taken.
REGIONAL = re.compile(r"([A-Z]{3})((?:-[A-Za-z0-9]+)*)")
REGION = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
PLACE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
FORMS = "a country code (ISO 3166 alpha-3, e.g. UKR), optionally with a region (UKR-West), or a defined place's code"


def _country_form(destination: str) -> str | None:
    """The country of a destination written as a country or country-region (`UKR-West` -> UKR), else None."""
    found = REGIONAL.fullmatch(destination)
    return found.group(1) if found and codes.is_country(found.group(1)) else None


def check_destination(state: State, destination: str, where: str = "destination") -> list[Problem]:
    """Findings for a destination as a new entry gives it (a requirement, an amendment, a spreadsheet row, a transit
    route); empty when the record knows the place. Replay never calls this: old free-text destinations stand."""
    found = text.name_problems(where, destination)
    if found:
        return found
    if not destination.strip():
        return [Problem(where, "must not be empty: name the delivery point")]
    if destination in state.places or _country_form(destination):
        return []
    regional = REGIONAL.fullmatch(destination)
    if regional:
        return [Problem(where, f"{regional.group(1)!r} is not an ISO 3166 alpha-3 country code (in {destination!r})")]
    known = sorted(state.places)
    listed = f"; defined places: {', '.join(known[:8])}{', ...' if len(known) > 8 else ''}" if known else \
        "; no place is defined yet"
    return [Problem(where, f"{destination!r} is not a place the record knows: write {FORMS}{listed}")]


def country_of(state: State, destination: str) -> str | None:
    """The country a destination lies in, or None for one the record does not know (an old free-text one)."""
    place = state.places.get(destination)
    return place.country if place else _country_form(destination)


def transit_keys(state: State, destination: str) -> list[str]:
    """The destinations whose recorded transit times apply to `destination`, most exact first: itself, then for a
    defined place its region (`UKR-West`), then its country; for `UKR-West`, then `UKR`."""
    keys = [destination]
    place = state.places.get(destination)
    if place is not None:
        keys += [f"{place.country}-{place.region}"] if place.region else []
        keys.append(place.country)
    elif (country := _country_form(destination)) is not None and country != destination:
        keys.append(country)
    return keys


def place_problems(state: State, place: Place, where: str = "") -> list[Problem]:
    """Everything wrong with a place to be defined (`where`: a file's row, named with each column)."""

    def at(field: str) -> str:
        return network.at(where, field)

    found = text.name_problems(at("name"), place.name)
    if not PLACE_CODE.fullmatch(place.code):
        found.append(Problem(at("code"), f"{place.code!r} is not a valid code: use letters, digits, '.', '_' or '-'"))
    elif _country_form(place.code):
        found.append(Problem(at("code"), f"{place.code!r} reads as a destination in the country {place.code[:3]}; "
                                         f"choose a code that does not start with a country code and '-' "
                                         f"(e.g. RZESZOW-HP)"))
    if not place.name.strip():
        found.append(Problem(at("name"), "must not be empty"))
    if not (re.fullmatch(r"[A-Z]{3}", place.country) and codes.is_country(place.country)):
        found.append(Problem(at("country"), f"{place.country!r} is not an ISO 3166 alpha-3 country code"))
    if place.region and not REGION.fullmatch(place.region):
        found.append(Problem(at("region"), f"{place.region!r}: a region is letters and digits, words joined by '-' "
                                           f"(West, Ivano-Frankivsk)"))
    return found + network.place_facts(place, where)


def define_place(state: State, ctx: Context, place: Place) -> list[Event]:
    problems = place_problems(state, place)
    if problems:
        raise ValidationFailed(problems)
    if place.code in state.places:
        raise Conflict(f"place {place.code} already exists", code="exists", kind="place", id=place.code)
    return [ctx.event("PlaceDefined", as_data(place))]


def sorted_places(state: State) -> list[Place]:
    """Every defined place, by code."""
    return sorted(state.places.values(), key=lambda p: p.code)
