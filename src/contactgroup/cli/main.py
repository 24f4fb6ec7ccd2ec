"""The `contactgroup` command: one Typer app with a sub-app per area."""

from __future__ import annotations

import typer

from contactgroup.cli import entities, governance, offer_import, publish, setup, verify

app = typer.Typer(
    name="contactgroup",
    help="Coordinate a coalition's assistance to a recipient: requirements, offers, allocations, "
    "deliveries, reports, and a record every member can verify.\n\nWith CONTACTGROUP_SERVER set (after "
    "`contactgroup login`), every command that reads or changes the coordination runs against that server as you, "
    "with the same arguments and output; commands local by nature say so (docs/deployment.md).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"contactgroup {version('contactgroup')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit."),
) -> None:
    """Coordinate a coalition's assistance to a recipient: requirements, offers, allocations, deliveries,
    reports, and a record every member can verify."""


app.command()(setup.init)
app.command()(setup.demo)
app.command()(setup.migrate)
app.command()(setup.backup)
app.command()(verify.verify)
app.command()(publish.publish)
app.add_typer(entities.member_app, name="member")
app.add_typer(entities.user_app, name="user")
app.add_typer(entities.coalition_app, name="coalition")
app.add_typer(entities.catalogue_app, name="catalogue")
app.add_typer(entities.requirement_app, name="requirement")
app.add_typer(entities.offer_app, name="offer")
app.add_typer(entities.fund_app, name="fund")
app.add_typer(entities.allocation_app, name="allocation")
app.add_typer(entities.consent_app, name="consent")
app.add_typer(entities.delivery_app, name="delivery")
app.add_typer(governance.keys_app, name="keys")
app.add_typer(governance.governance_app, name="governance")
app.command()(governance.authority)

# Sub-apps register themselves here, one line each.
from contactgroup.cli.imports import app as imports_app  # noqa: E402
from contactgroup.cli.report import app as report_app  # noqa: E402

app.command("allocate")(__import__("contactgroup.cli.allocate", fromlist=["allocate"]).allocate)
app.add_typer(report_app, name="report")
app.add_typer(imports_app, name="import")
from contactgroup.cli import inbox as inbox_cli  # noqa: E402
from contactgroup.cli import ledger as ledger_cli  # noqa: E402
from contactgroup.cli import transit as transit_cli  # noqa: E402
from contactgroup.cli import witness as witness_cli  # noqa: E402

app.command("inbox")(inbox_cli.inbox)
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(witness_cli.app, name="witness")
app.add_typer(transit_cli.app, name="transit")
from contactgroup.cli import place as place_cli  # noqa: E402

app.add_typer(place_cli.app, name="place")
from contactgroup.cli import network as network_cli  # noqa: E402

app.add_typer(network_cli.app, name="network")
from contactgroup.cli import mobility as mobility_cli  # noqa: E402

app.add_typer(mobility_cli.app, name="mobility")
entities.delivery_app.command("plan")(mobility_cli.plan_cmd)
entities.delivery_app.command("reached")(mobility_cli.reached_cmd)
entities.delivery_app.add_typer(mobility_cli.permission_app, name="permission")
app.command("serve")(ledger_cli.serve)
imports_app.command("offers")(offer_import.offers_cmd)
imports_app.command("requirements")(offer_import.requirements_cmd)
from contactgroup.cli import template as template_cli  # noqa: E402

app.add_typer(template_cli.app, name="template")
from contactgroup.cli import token as token_cli  # noqa: E402

app.add_typer(token_cli.app, name="token")
from contactgroup.cli import login as login_cli  # noqa: E402

app.command("login")(login_cli.login)
app.command("logout")(login_cli.logout)
app.command("whoami")(login_cli.whoami)
