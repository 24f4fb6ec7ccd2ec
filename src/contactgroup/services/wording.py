"""How the server's front doors (the API and the pages) word an error: the CLI's message without the CLI's
options or commands, which a user of a browser or a script cannot type."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from contactgroup.domain.errors import ContactGroupError

# What the server adds after the message of an error whose hint differs by front door (the CLI names its options;
# the server never does). Only ever added after the message, so that a client that has the code and the
# parameters (the command line against a server) can take it off and word its own hint instead.
ADDED: Mapping[str, Callable[[ContactGroupError], str]] = {
    "unknown-user": lambda e: " is registered: the server acts only as a registered user",
    "disabled-user": lambda e: ": the server acts only as an enabled user",
    "missing-rate": lambda e: "; the coordinating authority records one (exchange rates are reference data)",
    "governed": lambda e: " (a governance proposal)",
}


def added(exc: ContactGroupError) -> str:
    """What the server says after the error's own message, if anything."""
    hint = ADDED.get(exc.code)
    return hint(exc) if hint else ""


def detail(exc: ContactGroupError) -> str:
    """A platform error as the server says it: never a CLI option or command."""
    return f"{exc}{added(exc)}"
