"""Shipments in the browser: what a desk officer has to dispatch (confirmed allocations that still owe units),
what the recipient's liaison has to receive (with units short, damaged or of the wrong item), and the tracking of
every shipment its reader may see. A shipment is seen by whoever may see its allocation, as in the API; its
offer's member is named only to a reader who may see the offer."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.errors import ContactGroupError, NotFound, Problem, ValidationFailed
from contactgroup.domain.model import Delivery, DeliveryStatus, User
from contactgroup.domain.state import State
from contactgroup.domain.workflow import ShipmentAction, parse_action
from contactgroup.services import coordination as svc
from contactgroup.services import queries
from contactgroup.services.tokens import SignedIn
from contactgroup.storage.database import UnitOfWork
from contactgroup.web.forms import Fields, Posted, act, said, state, unchanged, version
from contactgroup.web.listing import Column, Filter, listing
from contactgroup.web.pages import page_router, redirect, render, status_of
from contactgroup.web.session import Changer, Viewer

router = page_router()

STEP_LABELS: dict[str, str] = {ShipmentAction.HUB: "Reached the hub", ShipmentAction.HANDOVER: "Handed over"}

COLUMNS = (
    Column("id", "Shipment", link="/shipments/{id}"),
    Column("status", "Status"),
    Column("requirement", "Requirement"),
    Column("item", "Item"),
    Column("member", "Member"),
    Column("quantity", "Shipped", numeric=True),
    Column("received", "Received", numeric=True),
    Column("dispatched_on", "Dispatched"),
    Column("received_on", "Received on"),
    Column("allocation", "Allocation"),
)


def _row(st: State, who: User, d: Delivery) -> dict[str, Any]:
    seen = queries.listed_delivery(st, who, d)
    received = d.status is DeliveryStatus.RECEIVED
    return {"id": d.id, "status": d.status.value.replace("_", " "), "allocation": d.allocation,
            "requirement": st.allocations[d.allocation].requirement, "item": seen.item, "member": seen.member,
            "quantity": d.quantity, "received": d.received if received else None,
            "dispatched_on": d.dispatched_on.isoformat(),
            "received_on": d.received_on.isoformat() if d.received_on else None}


@router.get("/shipments", response_class=HTMLResponse)
def shipment_list(request: Request, me: Viewer) -> HTMLResponse:
    st, who = state(request), me.user
    rows = [_row(st, who, d) for d in queries.deliveries(st, who)]
    receivable = set(queries.movable(st, who, "delivery", queries.RECEIVE))
    to_receive = [r for r in rows if r["id"] in receivable]
    filters = (Filter("status", "Status", [(s.value.replace("_", " "), s.value.replace("_", " "))
                                           for s in DeliveryStatus]),)
    shown = listing(request, rows, COLUMNS, search=("id", "allocation", "requirement", "item", "member"),
                    filters=filters, default_sort="id")
    return render(request, "shipments_list.html", title="Shipments", listing=shown,
                  to_dispatch=queries.to_dispatch(st, who), to_receive=to_receive)


# --- dispatch ----------------------------------------------------------------------------------------------------

def _dispatch_page(request: Request, me: SignedIn, form: dict[str, str], message: str = "",
                   status: int = 200) -> HTMLResponse:
    return render(request, "shipments_dispatch.html", status, title="Dispatch a shipment", form=form,
                  message=message, owing=queries.to_dispatch(state(request), me.user))


@router.get("/shipments/dispatch", response_class=HTMLResponse)
def dispatch_form(request: Request, me: Viewer, allocation: str = "") -> HTMLResponse:
    owing = {row.allocation.id: row.owed for row in queries.to_dispatch(state(request), me.user)}
    chosen = allocation[:64] if allocation[:64] in owing else ""
    today = request.app.state.clock.now().date().isoformat()
    return _dispatch_page(request, me, {"allocation": chosen, "quantity": str(owing.get(chosen, "")),
                                        "dispatched_on": today})


@router.post("/shipments/dispatch", response_model=None)
def dispatch(request: Request, me: Changer, form: Posted) -> Response:
    fields = Fields(form)
    quantity, dispatched_on = fields.units("quantity"), fields.day("dispatched_on")

    def ship(uow: UnitOfWork, who: svc.Caller) -> Delivery:
        if fields.problems:
            raise ValidationFailed(fields.problems)
        return svc.dispatch(uow, who, allocation=fields.text("allocation")[:64], quantity=quantity or 0,
                            dispatched_on=dispatched_on or date.min)

    try:
        d = act(request, me, ship)
    except ContactGroupError as exc:
        return _dispatch_page(request, me, form, said(exc), status_of(exc))
    return redirect(request, f"/shipments/{d.id}")


# --- one shipment ------------------------------------------------------------------------------------------------

def _ident(delivery_id: str) -> str:
    return delivery_id[:64]


def _shipment_page(request: Request, me: SignedIn, ident: str, *, receipt: dict[str, str] | None = None,
                   message: str = "", status: int = 200) -> HTMLResponse:
    """The shipment; its receipt form as typed (a refusal), else blank, from its current version."""
    st, who = state(request), me.user
    view = queries.delivery(st, who, ident)
    d = view.delivery
    verbs = queries.verbs(st, who, "delivery", d.id)
    today = request.app.state.clock.now().date().isoformat()
    return render(request, "shipments_show.html", status, title=f"Shipment {d.id}", d=d, view=view,
                  member=queries.listed_delivery(st, who, d).member, version=version(d), message=message,
                  steps=[(v, STEP_LABELS[v]) for v in verbs if v in STEP_LABELS],
                  receivable=queries.RECEIVE in verbs,
                  receipt={"received_on": today, "short": "0", "damaged": "0", "wrong_item": "0", **(receipt or {})})


@router.get("/shipments/{delivery_id}", response_class=HTMLResponse)
def show_shipment(request: Request, delivery_id: str, me: Viewer) -> HTMLResponse:
    return _shipment_page(request, me, _ident(delivery_id))


@router.post("/shipments/{delivery_id}/actions/{step}", response_model=None)
def track(request: Request, delivery_id: str, step: str, me: Changer, form: Posted) -> Response:
    """A tracking step (reached the hub, handed over), from the version the page showed."""
    ident = _ident(delivery_id)

    def move(uow: UnitOfWork, who: svc.Caller) -> Delivery:
        verb = parse_action(ShipmentAction, step[:20], what="step")
        unchanged("shipment", ident, form.get("version", ""), svc.visible_delivery(uow, who, ident))
        return svc.track_shipment(uow, who, ident, verb)

    try:
        act(request, me, move)
    except NotFound:
        raise
    except ContactGroupError as exc:
        return _shipment_page(request, me, ident, message=said(exc), status=status_of(exc))
    return redirect(request, f"/shipments/{ident}")


def _count(fields: Fields, name: str) -> int:
    """Units found short, damaged or wrong: a whole number, 0 when left empty."""
    raw = fields.text(name).replace(",", "").replace(" ", "") or "0"
    if not raw.isdigit() or len(raw) > 13:
        fields.problems.append(Problem(name, f"must be a whole number of units, 0 or more (not {raw[:20]!r})"))
        return 0
    return int(raw)


@router.post("/shipments/{delivery_id}/receive", response_model=None)
def receive(request: Request, delivery_id: str, me: Changer, form: Posted) -> Response:
    """The receipt, with the units that arrived short, damaged or as the wrong item (the rest arrived in good
    order), as `delivery receive` records it; from the version the page showed."""
    ident = _ident(delivery_id)
    fields = Fields(form)
    received_on = fields.day("received_on")
    short, damaged, wrong = _count(fields, "short"), _count(fields, "damaged"), _count(fields, "wrong_item")

    def take(uow: UnitOfWork, who: svc.Caller) -> Delivery:
        unchanged("shipment", ident, fields.text("version"), svc.visible_delivery(uow, who, ident))
        if fields.problems:
            raise ValidationFailed(fields.problems)
        return svc.receive(uow, who, ident, received_on=received_on or date.min, short=short, damaged=damaged,
                           wrong_item=wrong)

    try:
        act(request, me, take)
    except NotFound:
        raise
    except ContactGroupError as exc:
        stale = exc.code == "stale"  # the current shipment, to receive again
        return _shipment_page(request, me, ident, receipt=None if stale else form, message=said(exc),
                              status=status_of(exc))
    return redirect(request, f"/shipments/{ident}")
