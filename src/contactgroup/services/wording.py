"""How the server's front doors (the API and the pages) word an error: the CLI's message without the CLI's
options or commands, which a user of a browser or a script cannot type."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from contactgroup.domain.errors import ContactGroupError

# The errors whose hint differs by front door (the CLI names its options; the server never does).
HINTS: Mapping[str, Callable[[ContactGroupError], str]] = {
    "unknown-user": lambda e: f"{e} is registered: the server acts only as a registered user",
    "disabled-user": lambda e: f"{e}: the server acts only as an enabled user",
    "missing-rate": lambda e: f"{e}; the coordinating authority records one (exchange rates are reference data)",
    "governed": lambda e: f"{e} (a governance proposal)",
    "received-requirement": lambda e: str(e),
}


def detail(exc: ContactGroupError) -> str:
    """A platform error as the server says it: never a CLI option or command."""
    hint = HINTS.get(exc.code)
    return hint(exc) if hint else str(exc)
