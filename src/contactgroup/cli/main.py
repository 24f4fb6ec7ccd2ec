"""The `contactgroup` command: one Typer app with a sub-app per area."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="contactgroup",
    help="Coordinate a coalition's assistance to a recipient: requirements, offers, allocations, "
    "deliveries, reports, and a record every member can verify.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Sub-apps register themselves here, one line each.
