"""`contactgroup inbox`: what awaits the user, oldest first, as `services.queries.inbox` reads it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from contactgroup.cli import seam
from contactgroup.cli.common import AsOption, DbOption, Format, FormatOption, emit, handles_errors
from contactgroup.services import queries
from contactgroup.services.clock import SystemClock

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
    def served(answer: Any) -> queries.Inbox:
        return queries.Inbox(tuple(seam.typed(list[queries.InboxEntry])(answer["entries"])),
                             tuple((queries.InboxKind(k), int(n)) for k, n in answer["counts"].items()))

    found = seam.shown(db, as_, lambda state, who: queries.inbox(state, seam.someone(who), SystemClock().now(),
                                                                 kind=kind, member=member, limit=limit),
                       seam.Remote("GET", "/api/v1/inbox", served,
                                   params=seam.given({"kind": kind, "member": member, "limit": limit})))
    box, user = found.rows[0], seam.user_name(as_)
    rows = [{"kind": e.kind.value, "id": e.id, "verbs": " ".join(e.verbs), "since": e.since, "member": e.member,
             "item": e.item, "quantity": e.quantity, "detail": e.detail} for e in box.entries]
    counts = ", ".join(f"{n:,} {k.value}" for k, n in box.counts)
    shown = (f"; the oldest {len(box.entries):,} of {box.total:,} shown" if len(box.entries) < box.total else "")
    caption = f"{box.total:,} awaiting {user}: {counts}{shown}" if box.total else ""
    emit(rows, fmt, title=f"Inbox of {user}", columns=COLUMNS, caption=caption, synthetic=found.synthetic,
         drop=("detail", "since", "member"))
