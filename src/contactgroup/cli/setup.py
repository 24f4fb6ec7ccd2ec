"""`init` founds a coordination; `demo` builds a synthetic one and shows what the platform answers."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contactgroup.cli.common import DbOption, database, err, fail, handles_errors, out, whole_number
from contactgroup.reports import burden_summary
from contactgroup.reports.coverage import coverage
from contactgroup.services.clock import SystemClock
from contactgroup.services.demo import build_demo
from contactgroup.services.setup import DEFAULT_ORIGIN, found_coordination
from contactgroup.storage.database import SCHEMA_REVISION, Database

LogKeyOption = Annotated[str | None, typer.Option(
    "--log-key", envvar="CONTACTGROUP_LOG_KEY", show_envvar=True,
    help="Private key file of the authority's log signing key (created 0600 if absent). "
         "Default: <db file>.logkey beside an SQLite database.")]


def _no_key_warning(admin: str) -> None:
    err.print("[yellow]warning:[/] no log signing key: this database is not a file, so there is no default "
              f"place for one. Create it with `contactgroup ledger init-key --log-key PATH --as {admin}` "
              "(or pass --log-key) before signing checkpoints.", highlight=False)


@handles_errors
def init(
    recipient: Annotated[str, typer.Option(help="ISO3 code of the recipient nation.")] = "UKR",
    authority: Annotated[str, typer.Option(help="Name of the first coordinating authority.")] = "IDCC",
    admin: Annotated[str, typer.Option(help="Name of the authority's first coordinator user.")] = "admin",
    origin: Annotated[str, typer.Option(
        help="The log's origin line in signed checkpoints: its name for every witness and verifier. A real "
             "deployment must choose its own, unique one (e.g. <your domain>/<coordination>); the default is "
             "for demos and tests, and two logs with one origin would confuse every witness that follows "
             "both.")] = DEFAULT_ORIGIN,
    no_members: Annotated[bool, typer.Option("--no-members", help="Do not admit the reference member list.")]
    = False,
    log_key: LogKeyOption = None,
    db: DbOption = None,
) -> None:
    """Create the database and found a coordination: recipient, first authority, its coordinator, members,
    and the authority's log signing key (its verifier key is recorded in the log)."""
    database_ = database(db, local=True)
    founded = found_coordination(database_, SystemClock(), recipient=recipient, authority=authority,
                                 origin=origin, admin=admin, with_members=not no_members, log_key=log_key)
    out.print(f"[green]✓[/] coordination for {recipient} founded in {database_.url}, chaired by {authority}; "
              f"{founded.members} members admitted; coordinator user: {admin}")
    if origin == DEFAULT_ORIGIN:
        err.print(f"[yellow]warning:[/] the log's origin is the default {DEFAULT_ORIGIN!r}, shared by every demo: "
                  "a real deployment must choose its own (`init --origin <your domain>/<name>`), before any "
                  "witness follows it.", highlight=False)
    if founded.log_key is None:
        _no_key_warning(admin)
    else:
        made = "created" if founded.log_key_created else "reused"
        out.print(f"log signing key {made} in {founded.log_key} (keep it secret; mode 0600); "
                  f"verifier key recorded in the log: {founded.verifier_key}", highlight=False)


@handles_errors
def migrate(db: DbOption = None) -> None:
    """Bring an existing database's schema up to this version of contactgroup (back it up first)."""
    database_ = database(db, local=True)
    if not database_.is_initialised():
        raise fail(f"no contactgroup database at {database_.url}: run `contactgroup init` first", 1)
    database_.migrate()
    out.print(f"[green]✓[/] {database_.url} is at schema revision {SCHEMA_REVISION}", highlight=False)


@handles_errors
def backup(
    dest: Annotated[Path, typer.Argument(help="The new file to write (never overwritten).")],
    db: DbOption = None,
) -> None:
    """Copy an SQLite database, while servers and commands keep using it, into a new file DEST (mode 0600):
    the database as it was at one commit. Restore by stopping the server and putting DEST in the database's place;
    `contactgroup verify --db DEST` checks the copy. A PostgreSQL database is backed up with pg_dump
    (docs/deployment.md). The log's signing key is not in the database: keep a copy of it apart."""
    from contactgroup.storage.backup import backup_sqlite

    events = backup_sqlite(database(db, local=True), dest)
    out.print(f"[green]✓[/] backed up {events} events to {dest}", highlight=False)


def _fresh(url_or_path: str | None, force: bool) -> Database:
    fresh = database(url_or_path, local=True)
    if fresh.is_sqlite:
        path = Path(fresh.engine.url.database or "")
        if path.is_dir():
            raise fail(f"--db {path} is a folder: name a database file, e.g. {path / 'demo.db'}", 2)
        if path.exists() and path.stat().st_size > 0:
            if not force:
                raise fail(f"{path} already exists: pass --force to replace it, or --db to choose another file", 2)
            fresh.engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            fresh = Database(url_or_path)
    elif fresh.is_initialised():
        raise fail(f"{fresh.url} already holds a coordination; the demo needs an empty database", 2)
    return fresh


@handles_errors
def demo(
    seed: Annotated[int, typer.Option(parser=whole_number,
                                      help="Random seed: the same seed gives the same coordination.")] = 2024,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing SQLite file.")] = False,
    log_key: LogKeyOption = None,
    db: DbOption = None,
) -> None:
    """Build a SYNTHETIC demo coordination and print its coverage and burden summaries.

    Real members and capability coalitions; requirements, offers, funds, allocations and deliveries over
    2022-2026 generated from the seed through the same services as real use."""
    database = _fresh(db, force)
    started = time.perf_counter()
    with Progress(TextColumn("[bold]synthetic demo[/]"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("months"), TimeElapsedColumn(), console=err, transient=False) as bar:
        task = bar.add_task("months", total=None)
        summary = build_demo(database, seed, log_key=log_key,
                             progress=lambda done, total: bar.update(task, completed=done,
                                                                                     total=total))
    elapsed = time.perf_counter() - started
    out.print(
        f"[green]✓[/] SYNTHETIC demo (seed {summary.seed}) in {database.url}: {summary.events:,} events, "
        f"{summary.requirements} requirements, {summary.offers:,} offers, {summary.allocations:,} allocations, "
        f"{summary.deliveries:,} shipments, built in {elapsed:.1f} s"
    )
    show_summaries(database)
    if not database.state().setting("log_verifier_key"):
        _no_key_warning("admin")
    out.print("Try: contactgroup report gaps | contactgroup verify | contactgroup offer list --as deu-desk")


def show_summaries(database: Database) -> None:
    """Coverage by priority tier as a compact table, then who carries the burden."""
    state = database.state()
    # In value: a tier asks for many item classes, whose units do not add up.
    table = Table(title="Coverage by priority tier (EUR at reference unit values) — SYNTHETIC DEMO DATA",
                  title_justify="left")
    for column in ("priority", "reqs", "needed", "confirmed", "delivered", "missing"):
        table.add_column(column, justify="right")

    def euros(value: Decimal | None) -> str:
        return "" if value is None else f"{value:,.0f}"

    for row in coverage(state, "tier"):
        share = row.confirmed_share_of_need
        table.add_row(row.key, str(row.requirements), euros(row.needed_eur),
                      euros(row.confirmed_eur) + (f" ({share:.0%})" if share is not None else ""),
                      euros(row.delivered_eur), euros(row.missing_eur))
    out.print(table)
    out.print(burden_summary(state, top=8), highlight=False)
