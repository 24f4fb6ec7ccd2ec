"""Command-line values mean one thing: numbers and dates in one written form, names matched whole."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli
from tests.factories import World, open_requirement

OFFER = ("offer", "add", "--member", "DEU", "--item", "155-a", "--available-from", "2024-08-01", "--depot", "DEU")


@pytest.mark.parametrize(("args", "says"), [
    ((*OFFER, "--quantity", "1_000"), "'1_000' is not a whole number: write the digits 0-9 only, like 1000"),
    ((*OFFER, "--quantity", "١٠"), "is not a whole number"),
    (("offer", "add", "--member", "DEU", "--item", "155-a", "--quantity", "5", "--available-from", "20250301",
      "--depot", "DEU"), "--available-from: '20250301' is not a date (YYYY-MM-DD): write it like 2025-03-01"),
    ((*OFFER, "--quantity", "5", "--value", "1_000", "--currency", "EUR", "--basis", "market"),
     "--value: '1_000' is not a number"),
])
def test_numbers_and_dates_in_one_form(world: World, cli: Cli, args: tuple[str, ...], says: str) -> None:
    before = cli.events()
    result = cli(*args, user="deu")
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split()), result.output
    assert cli.events() == before


def test_a_priority_argument_in_other_digits_is_refused(world: World, cli: Cli) -> None:
    req = open_requirement(world)
    result = cli("requirement", "prioritise", req, "٣", user="ukr")
    assert result.exit_code == 2 and "is not a whole number" in result.output
    assert cli("requirement", "prioritise", req, "3", user="ukr").exit_code == 0


def test_a_user_name_with_a_trailing_newline_is_no_second_user(world: World, cli: Cli) -> None:
    assert cli("user", "add", "deu-desk", "--party", "DEU", "--role", "desk_officer", user="admin").exit_code == 0
    result = cli("user", "add", "deu-desk\n", "--party", "DEU", "--role", "desk_officer", user="admin")
    assert result.exit_code == 2, result.output
    names = cli("user", "list", "-f", "csv", user="admin").output.splitlines()
    assert sum(1 for n in names if n.startswith("deu-desk")) == 1


@pytest.mark.parametrize("args", [
    ("ledger", "leaves", "--start", "1_000"),
    ("ledger", "leaves", "--end", "١٠"),
    ("ledger", "prove", "--index", "1_000"),
    ("ledger", "prove", "--index", "1", "--size", "١٠"),
    ("ledger", "consistency", "--old", "1_0"),
    ("ledger", "receipt", "--index", "٣"),
    ("report", "burden", "--gdp-year", "2_021"),
    ("report", "burden", "--gdp-year", "٢٠٢١"),
    ("report", "gaps", "--limit", "1_000"),
    ("serve", "--port", "8_000"),
    ("demo", "--seed", "2_024"),
    ("governance", "propose", "handover", "--to", "NSATU", "--user", "n1", "--log-key", "k", "--days", "1_0"),
])
def test_read_only_numbers_in_one_form_too(world: World, cli: Cli, args: tuple[str, ...]) -> None:
    """Options that only read (or start something) take whole numbers as the write commands do: `1_000` and
    other scripts' digits are refused, naming the option, before anything runs."""
    before = cli.events()
    result = cli(*args, user="deu")
    assert result.exit_code == 2, result.output
    assert "is not a whole number: write the digits 0-9 only" in " ".join(result.output.split()), result.output
    assert cli.events() == before


@pytest.mark.parametrize(("args", "says"), [
    (("report", "gaps", "--limit", "0"), "0 must be greater than or equal to 1"),
    (("serve", "--keep-alive", "301"), "301 must be greater than or equal to 1 and less than or equal to 300"),
    (("governance", "propose", "handover", "--to", "NSATU", "--user", "n1", "--log-key", "k", "--days", "0"),
     "less than or equal to 3650"),
])
def test_a_parsed_number_keeps_its_range(world: World, cli: Cli, args: tuple[str, ...], says: str) -> None:
    result = cli(*args, user="deu")
    assert result.exit_code == 2 and says in " ".join(result.output.split()), result.output


def test_a_well_written_read_only_number_is_taken(world: World, cli: Cli) -> None:
    result = cli("report", "gaps", "--limit", "3", "-f", "json")
    assert result.exit_code == 0, result.output
