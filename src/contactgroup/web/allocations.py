"""Allocations in the browser: the list of those its reader may see, with those awaiting it chosen by checkbox and
moved together (accept, decline with one reason, confirm: all of them or none, by the services behind the API's
bulk route), and one allocation's page: the requirement and the offer it pairs, its quantity and value, why it is
where it is, its shipments and its history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.command import consent_standing
from contactgroup.domain.errors import ContactGroupError, MissingRate, NotFound, ValidationFailed
from contactgroup.domain.model import Allocation, AllocationStatus, User
from contactgroup.domain.state import State
from contactgroup.domain.workflow import AllocationAction, parse_action
from contactgroup.reports.valuation import Valuer
from contactgroup.services import access, queries
from contactgroup.services import coordination as svc
from contactgroup.web.forms import MAX_IDS, Chosen, Posted, act, said, state, unchanged, version
from contactgroup.web.listing import Column, Filter, listing
from contactgroup.web.pages import page_router, redirect, render, status_of
from contactgroup.web.session import Changer, Viewer

router = page_router()

# What the list's checkboxes may do to many allocations at once: the steps that move a pair on, and declining.
BULK = (AllocationAction.ACCEPT, AllocationAction.DECLINE, AllocationAction.CONFIRM)
BULK_VERBS = frozenset(v.value for v in BULK)
AWAITED = frozenset({AllocationAction.ACCEPT.value, AllocationAction.CONFIRM.value})
DONE = {"accept": "accepted", "decline": "declined", "confirm": "confirmed", "reopen": "reopened"}

COLUMNS = (
    Column("id", "Allocation", link="/allocations/{id}"),
    Column("requirement", "Requirement"),
    Column("offer", "Offer"),
    Column("member", "Member"),
    Column("item", "Item"),
    Column("quantity", "Quantity", numeric=True),
    Column("status", "Status"),
    Column("proposed_on", "Proposed on"),
    Column("verbs", "You may"),
)


def needs_reason() -> ValidationFailed:
    return ValidationFailed("a decline needs its reason: say why, so that the coordination can plan again",
                            where="reason", code="reason-required")


def _verbs(st: State, who: User, now: datetime) -> dict[str, list[str]]:
    """The allocations awaiting `who` (as its home page lists them) and the verbs of `BULK` it may say to each."""
    box = queries.inbox(st, who, now, kind=queries.InboxKind.ALLOCATION)
    chosen = {(e.id, tuple(v for v in e.verbs if v in BULK_VERBS)) for e in box.entries}
    return {ident: list(verbs) for ident, verbs in chosen if verbs}


def _row(st: State, who: User, a: Allocation, verbs: Sequence[str]) -> dict[str, Any]:
    seen = queries.listed_allocation(st, who, a)
    return {"id": a.id, "requirement": a.requirement, "offer": a.offer if seen.member is not None else None,
            "member": seen.member, "item": seen.item, "quantity": a.quantity,
            "status": a.status.value.replace("_", " "), "proposed_on": a.proposed_on.isoformat(),
            "verbs": ", ".join(verbs) or None, "area": seen.area or "",
            "awaiting": "yes" if AWAITED & set(verbs) else "no", "pickable": bool(verbs)}


def _list_page(request: Request, caller: Viewer | Changer, *, message: str = "", status: int = 200,
               chosen: Sequence[str] = (), reason: str = "") -> HTMLResponse:
    st = state(request)
    who = caller.user
    verbs = _verbs(st, who, request.app.state.clock.now())
    rows = [_row(st, who, a, verbs.get(a.id, ())) for a in queries.allocations(st, who)]
    filters = (
        Filter("awaiting", "Awaiting me", [("yes", "awaiting me"), ("no", "not awaiting me")]),
        Filter("status", "Status", [(s.value.replace("_", " "), s.value.replace("_", " ")) for s in AllocationStatus]),
        Filter("member", "Member", [(m, m) for m in sorted({r["member"] for r in rows if r["member"]})]),
        Filter("area", "Area", [(c.area, c.name) for c in queries.coalitions(st)]),
    )
    shown = listing(request, rows, COLUMNS, search=("id", "requirement", "offer", "member", "item"),
                    filters=filters, default_sort="verbs")  # what awaits the reader first
    shown = replace(shown, path=request.scope.get("root_path", "") + "/allocations")  # also after a bulk move
    may = [verb.value for verb in BULK if any(verb.value in v for v in verbs.values())]
    awaiting = sum(1 for r in rows if r["awaiting"] == "yes")
    done = request.query_params.get("done", "")
    count = request.query_params.get("count", "")
    notice = (f"{count} allocation{'s' if count != '1' else ''} {DONE[done]}"
              if done in DONE and count.isdigit() and len(count) < 5 else "")
    return render(request, "allocations_list.html", status, title="Allocations", listing=shown, may=may,
                  awaiting=awaiting, message=message, notice=notice, chosen=set(chosen), reason=reason)


@router.get("/allocations", response_class=HTMLResponse)
def allocations_list(request: Request, caller: Viewer) -> HTMLResponse:
    return _list_page(request, caller)


@router.post("/allocations/actions", response_model=None)
def move_allocations(request: Request, caller: Changer, form: Posted, ids: Chosen) -> Response:
    """The chosen allocations moved by one verb, all or none: a decline needs its reason, said once for all."""
    verb = form.get("action", "")[:20]
    reason = form.get("reason", "")
    try:
        if verb not in {v.value for v in BULK}:
            raise ValidationFailed(f"choose accept, decline or confirm (not {verb!r})", where="action")
        if not ids:
            raise ValidationFailed("choose at least one allocation (tick its box in the list)", where="ids")
        if len(ids) > MAX_IDS:
            raise ValidationFailed(f"at most {MAX_IDS:,} allocations at once", where="ids")
        if verb == AllocationAction.DECLINE and not reason.strip():
            raise needs_reason()
        moved = act(request, caller, lambda uow, who: svc.move_each("allocation", ids, lambda ident: (
            svc.move_allocation(uow, who, ident, AllocationAction(verb), reason))))
    except ContactGroupError as exc:
        return _list_page(request, caller, message=said(exc), status=status_of(exc), chosen=ids, reason=reason)
    return redirect(request, f"/allocations?done={verb}&count={len(moved)}")


# --- one allocation ----------------------------------------------------------------------------------------------

def _value(st: State, who: User, a: Allocation) -> tuple[Decimal | None, str]:
    """The allocated units' value in EUR and what it rests on: the offer's declared value pro rata for a reader
    who may see the offer, otherwise (and without a declared value) the catalogue's reference value."""
    o = st.offers[a.offer]
    if access.can_see_offer(st, who, o):
        try:
            total = Valuer.of(st).offer_value_eur(o, st.items)
        except MissingRate:
            total = None
        if total is not None:
            basis = "the offer's declared value, pro rata" if o.value is not None else "the catalogue's reference value"
            return total * a.quantity / o.quantity, basis
    item = st.items.get(o.item)
    if item is None or item.unit_value_eur is None:
        return None, ""
    return item.unit_value_eur * a.quantity, "the catalogue's reference value"


def _reasons(st: State, who: User, a: Allocation) -> list[str]:
    """Why the pair stands as it does, from what the record holds: timing, the route, the consent, a decline."""
    o, r = st.offers[a.offer], st.requirements.get(a.requirement)
    said = []
    if r is not None:
        late = (o.available_from - r.needed_by).days
        said.append(f"priority {r.priority} requirement for {r.quantity:,} units of {r.item_class}, needed by "
                    f"{r.needed_by} at {r.destination}")
        if access.can_see_offer(st, who, o):
            said.append(f"the offer is available from {o.available_from}: "
                        + (f"{late} days after it is needed" if late > 0 else "in time"))
    standing = consent_standing(st, o) if access.can_see_offer(st, who, o) else None
    if standing:
        said.append(f"re-export consent: {standing}")
    if a.status is AllocationStatus.DECLINED:
        if a.superseded:
            said.append(f"declined on {a.declined_on} by a new plan (superseded): the pair stays open")
        else:
            said.append(f"declined on {a.declined_on} by {a.declined_by or 'a party'}"
                        + (f": {a.reason}" if a.reason else ""))
        if a.reopened:
            said.append("reopened: a new plan may propose the pair again")
    if a.released:
        said.append(f"{a.released:,} owed units released (never to come)")
    return said


def _allocation_page(request: Request, caller: Viewer | Changer, alloc_id: str, *, message: str = "",
                     status: int = 200, reason: str = "") -> HTMLResponse:
    st = state(request)
    who = caller.user
    view = queries.allocation(st, who, alloc_id)
    a = view.allocation
    o = st.offers[a.offer]
    seen = access.can_see_offer(st, who, o)
    value, basis = _value(st, who, a)
    verbs = [v.value for v in AllocationAction if alloc_id in queries.movable(st, who, "allocation", v)
             and v in (*BULK, AllocationAction.REOPEN)]
    history = queries.history_of(request.app.state.store.db, who.name, queries.HistoryKind.ALLOCATION, alloc_id)
    box = queries.inbox(st, who, request.app.state.clock.now(), kind=queries.InboxKind.ALLOCATION)
    to_ship = next((e.quantity for e in box.entries if e.id == alloc_id and "dispatch" in e.verbs), None)
    return render(request, "allocations_detail.html", status, title=f"Allocation {a.id}", view=view, a=a,
                  requirement=st.requirements.get(a.requirement), offer=o if seen else None,
                  item=st.items.get(view.item), value=value, basis=basis, reasons=_reasons(st, who, a),
                  verbs=verbs, version=version(a), history=history, message=message, reason=reason,
                  deliveries=[st.deliveries[d] for d in view.shipments], to_ship=to_ship)


@router.get("/allocations/{alloc_id}", response_class=HTMLResponse)
def allocation_page(request: Request, caller: Viewer, alloc_id: str) -> HTMLResponse:
    return _allocation_page(request, caller, alloc_id[:64])


@router.post("/allocations/{alloc_id}/actions/{verb}", response_model=None)
def move_allocation(request: Request, caller: Changer, alloc_id: str, verb: str, form: Posted) -> Response:
    ident = alloc_id[:64]
    reason = form.get("reason", "")

    def move(uow: Any, who: svc.Caller) -> Allocation:
        unchanged("allocation", ident, form.get("version", ""), svc.visible_allocation(uow, who, ident))
        action = parse_action(AllocationAction, verb[:20])
        if action is AllocationAction.DECLINE and not reason.strip():
            raise needs_reason()
        return svc.move_allocation(uow, who, ident, action, reason)

    try:
        act(request, caller, move)
    except NotFound:
        raise
    except ContactGroupError as exc:
        return _allocation_page(request, caller, ident, message=said(exc), status=status_of(exc), reason=reason)
    return redirect(request, f"/allocations/{ident}")
