"""Shipments in the browser: what a desk officer has to dispatch (confirmed allocations that still owe units),
what the recipient's liaison has to receive (with units short, damaged or of the wrong item), and the tracking of
every shipment its reader may see. A shipment is seen by whoever may see its allocation, as in the API; its
offer's member is named only to a reader who may see the offer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.model import Delivery, DeliveryStatus
from contactgroup.domain.workflow import ShipmentAction, parse_action
from contactgroup.services import coordination as svc
from contactgroup.services import queries
from contactgroup.services.tokens import SignedIn
from contactgroup.services.wording import detail
from contactgroup.storage.database import UnitOfWork
from contactgroup.web.form_values import day, whole
from contactgroup.web.listing import Column, Filter, listing
from contactgroup.web.pages import act, page_router, redirect, render, status_of, unchanged
from contactgroup.web.pages import version as version_of
from contactgroup.web.session import Changer, Viewer

router = page_router()

_SHORT = 200  # an id, a number, a date
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


def _row(state: Any, who: Any, d: Delivery) -> dict[str, Any]:
    seen = queries.listed_delivery(state, who, d)
    received = d.status is DeliveryStatus.RECEIVED
    return {"id": d.id, "status": d.status.value.replace("_", " "), "allocation": d.allocation,
            "requirement": state.allocations[d.allocation].requirement, "item": seen.item, "member": seen.member,
            "quantity": d.quantity, "received": d.received if received else None,
            "dispatched_on": d.dispatched_on.isoformat(),
            "received_on": d.received_on.isoformat() if d.received_on else None}


@router.get("/shipments", response_class=HTMLResponse)
def shipment_list(request: Request, me: Viewer) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    who = me.user
    rows = [_row(state, who, d) for d in queries.deliveries(state, who)]
    receivable = set(queries.movable(state, who, "delivery", queries.RECEIVE))
    to_receive = [r for r in rows if r["id"] in receivable]
    filters = (Filter("status", "Status", [(s.value.replace("_", " "), s.value.replace("_", " "))
                                           for s in DeliveryStatus]),)
    shown = listing(request, rows, COLUMNS, search=("id", "allocation", "requirement", "item", "member"),
                    filters=filters, default_sort="id")
    return render(request, "shipments_list.html", title="Shipments", listing=shown,
                  to_dispatch=queries.to_dispatch(state, who), to_receive=to_receive)


# --- dispatch ----------------------------------------------------------------------------------------------------

def _dispatch_page(request: Request, me: SignedIn, form: dict[str, str], message: str = "",
                   status: int = 200) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    return render(request, "shipments_dispatch.html", status, title="Dispatch a shipment", form=form,
                  message=message, owing=queries.to_dispatch(state, me.user))


@router.get("/shipments/dispatch", response_class=HTMLResponse)
def dispatch_form(request: Request, me: Viewer, allocation: str = "") -> HTMLResponse:
    state = request.app.state.store.snapshot()
    owing = {row.allocation.id: row.owed for row in queries.to_dispatch(state, me.user)}
    chosen = allocation[:64] if allocation[:64] in owing else ""
    today = request.app.state.clock.now().date().isoformat()
    return _dispatch_page(request, me, {"allocation": chosen, "quantity": str(owing.get(chosen, "")),
                                        "dispatched_on": today})


@router.post("/shipments/dispatch", response_model=None)
def dispatch(request: Request, me: Changer, allocation: Annotated[str, Form(max_length=64)] = "",
             quantity: Annotated[str, Form(max_length=_SHORT)] = "",
             dispatched_on: Annotated[str, Form(max_length=_SHORT)] = "") -> Response:
    form = {"allocation": allocation, "quantity": quantity, "dispatched_on": dispatched_on}
    try:
        d = act(request, me, lambda uow, who: svc.dispatch(
            uow, who, allocation=allocation, quantity=whole(quantity, "quantity"),
            dispatched_on=day(dispatched_on, "dispatched_on")))
    except ContactGroupError as exc:
        return _dispatch_page(request, me, form, detail(exc), status_of(exc))
    return redirect(request, f"/shipments/{d.id}")


# --- one shipment ------------------------------------------------------------------------------------------------

def _shipment_page(request: Request, me: SignedIn, delivery_id: str, *, receipt: dict[str, str] | None = None,
                   message: str = "", status: int = 200) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    who = me.user
    view = queries.delivery(state, who, delivery_id[:64])
    d = view.delivery
    verbs = queries.verbs(state, who, "delivery", d.id)
    today = request.app.state.clock.now().date().isoformat()
    return render(request, "shipments_show.html", status, title=f"Shipment {d.id}", d=d, view=view,
                  member=queries.listed_delivery(state, who, d).member, version=version_of(d), message=message,
                  steps=[(v, STEP_LABELS[v]) for v in verbs if v in STEP_LABELS],
                  receivable=queries.RECEIVE in verbs,
                  receipt=receipt or {"received_on": today, "short": "0", "damaged": "0", "wrong_item": "0"})


@router.get("/shipments/{delivery_id}", response_class=HTMLResponse)
def show_shipment(request: Request, delivery_id: str, me: Viewer) -> HTMLResponse:
    return _shipment_page(request, me, delivery_id)


@router.post("/shipments/{delivery_id}/actions/{step}", response_model=None)
def track(request: Request, delivery_id: str, step: str, me: Changer,
          version: Annotated[str, Form(max_length=100)] = "") -> Response:
    def move(uow: UnitOfWork, who: svc.Caller) -> Delivery:
        verb = parse_action(ShipmentAction, step[:20], what="step")
        unchanged(svc.visible_delivery(uow, who, delivery_id[:64]), version)
        return svc.track_shipment(uow, who, delivery_id, verb)

    try:
        act(request, me, move)
    except ContactGroupError as exc:
        return _shipment_page(request, me, delivery_id, message=detail(exc), status=status_of(exc))
    return redirect(request, f"/shipments/{delivery_id}")


@router.post("/shipments/{delivery_id}/receive", response_model=None)
def receive(request: Request, delivery_id: str, me: Changer, version: Annotated[str, Form(max_length=100)] = "",
            received_on: Annotated[str, Form(max_length=_SHORT)] = "",
            short: Annotated[str, Form(max_length=_SHORT)] = "0",
            damaged: Annotated[str, Form(max_length=_SHORT)] = "0",
            wrong_item: Annotated[str, Form(max_length=_SHORT)] = "0") -> Response:
    """The receipt, with the units that arrived short, damaged or as the wrong item (what is left arrived in good
    order), as `delivery receive` records it."""
    typed = {"received_on": received_on, "short": short, "damaged": damaged, "wrong_item": wrong_item}

    def take(uow: UnitOfWork, who: svc.Caller) -> Delivery:
        unchanged(svc.visible_delivery(uow, who, delivery_id[:64]), version)
        return svc.receive(uow, who, delivery_id, received_on=day(received_on, "received_on"),
                           short=whole(short or "0", "short", least=0),
                           damaged=whole(damaged or "0", "damaged", least=0),
                           wrong_item=whole(wrong_item or "0", "wrong_item", least=0))

    try:
        act(request, me, take)
    except ContactGroupError as exc:
        stale = exc.code == "stale"  # the current shipment, to receive again
        return _shipment_page(request, me, delivery_id, receipt=None if stale else typed, message=detail(exc),
                              status=status_of(exc))
    return redirect(request, f"/shipments/{delivery_id}")
