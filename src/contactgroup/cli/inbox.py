"""`contactgroup inbox`: what awaits the user, oldest first, as `services.queries.inbox` reads it."""

from __future__ import annotations

from typing import Annotated

import typer

from contactgroup.cli.common import AsOption, DbOption, Format, FormatOption, caller, database, emit, handles_errors
from contactgroup.reports.facts import is_synthetic
from contactgroup.services import access, queries

COLUMNS = ("kind", "id", "verbs", "since", "member", "item", "quantity", "detail")


@handles_errors
def inbox(
    kind: Annotated[queries.InboxKind | None, typer.Option(help="Only this kind of object.")] = None,
    member: Annotated[str | None, typer.Option(help="Only objects of this member's offers (that you may see).")]
    = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many, the oldest.")] = None,
    db: DbOption = None,
    as_: AsOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """What awaits you: allocations to accept or confirm, consents to decide, allocations to ship, shipments to
    receive, requirements to validate, open proposals your member has not approved; oldest first.

    `verbs` are what you may do to each now (`allocation move ID VERB`, `consent decide`, `delivery dispatch`,
    `delivery receive`, `requirement move`, `governance approve`); an offer's member is shown only if you may see
    the offer."""
    who = caller(as_)
    state = database(db).state()
    box = queries.inbox(state, access.user(state, who.user), who.clock.now(), kind=kind, member=member,
                        limit=limit)
    rows = [{"kind": e.kind.value, "id": e.id, "verbs": " ".join(e.verbs), "since": e.since, "member": e.member,
             "item": e.item, "quantity": e.quantity, "detail": e.detail} for e in box.entries]
    counts = ", ".join(f"{n:,} {k.value}" for k, n in box.counts)
    shown = (f"; the oldest {len(box.entries):,} of {box.total:,} shown" if len(box.entries) < box.total else "")
    caption = f"{box.total:,} awaiting {who.user}: {counts}{shown}" if box.total else ""
    emit(rows, fmt, title=f"Inbox of {who.user}", columns=COLUMNS, caption=caption, synthetic=is_synthetic(state),
         drop=("detail", "since", "member"))
