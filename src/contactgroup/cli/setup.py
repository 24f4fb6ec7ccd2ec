"""`init` founds a coordination; `demo` builds a synthetic one and shows what the platform answers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contactgroup.cli.common import DbOption, err, fail, handles_errors, out
from contactgroup.services.clock import SystemClock
from contactgroup.services.demo import build_demo
from contactgroup.services.setup import DEFAULT_ORIGIN, init_coordination
from contactgroup.storage.database import Database


@handles_errors
def init(
    recipient: Annotated[str, typer.Option(help="ISO3 code of the recipient nation.")] = "UKR",
    authority: Annotated[str, typer.Option(help="Name of the first coordinating authority.")] = "IDCC",
    admin: Annotated[str, typer.Option(help="Name of the authority's first coordinator user.")] = "admin",
    origin: Annotated[str, typer.Option(help="The log's origin line in signed checkpoints.")] = DEFAULT_ORIGIN,
    no_members: Annotated[bool, typer.Option("--no-members", help="Do not admit the reference member list.")]
    = False,
    db: DbOption = None,
) -> None:
    """Create the database and found a coordination: recipient, first authority, its coordinator, members."""
    database = Database(db)
    admitted = init_coordination(database, SystemClock(), recipient=recipient, authority=authority,
                                 origin=origin, admin=admin, with_members=not no_members)
    out.print(f"[green]✓[/] coordination for {recipient} founded in {database.url}, chaired by {authority}; "
              f"{admitted} members admitted; coordinator user: {admin}")


def _fresh(url_or_path: str | None, force: bool) -> Database:
    database = Database(url_or_path)
    if database.is_sqlite:
        path = Path(database.engine.url.database or "")
        if path.exists() and path.stat().st_size > 0:
            if not force:
                raise fail(f"{path} already exists: pass --force to replace it, or --db to choose another file", 2)
            database.engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            database = Database(url_or_path)
    elif database.is_initialised():
        raise fail(f"{database.url} already holds a coordination; the demo needs an empty database", 2)
    return database


@handles_errors
def demo(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same coordination.")] = 2024,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing SQLite file.")] = False,
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
        summary = build_demo(database, seed, progress=lambda done, total: bar.update(task, completed=done,
                                                                                     total=total))
    elapsed = time.perf_counter() - started
    out.print(
        f"[green]✓[/] SYNTHETIC demo (seed {summary.seed}) in {database.url}: {summary.events:,} events, "
        f"{summary.requirements} requirements, {summary.offers:,} offers, {summary.allocations:,} allocations, "
        f"{summary.deliveries:,} shipments, built in {elapsed:.1f} s"
    )
    show_summaries(database)
    out.print("Try: contactgroup report gaps | contactgroup verify | contactgroup offer list --as deu-desk")


def show_summaries(database: Database) -> None:
    """Print the coverage and burden summaries (filled in by the reports package)."""
