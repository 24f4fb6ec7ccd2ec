"""The recipient's requirements in the browser: the list (with coverage where the coordination counts it), entry
as a draft, a requirement's page with its history and the moves its reader may make now, amendment that refuses a
stale form, and re-ranking by "move up / move down" buttons. Every user sees every requirement, as in the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.command import AMENDABLE_REQUIREMENT
from contactgroup.domain.errors import ContactGroupError, ValidationFailed
from contactgroup.domain.model import Requirement, RequirementStatus
from contactgroup.domain.workflow import RequirementAction, parse_action
from contactgroup.reports.coverage import coverage
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

_SHORT = 200  # a code, a number, a date, a place
_TEXT = 4000  # a note, a reason (the record's limit for free text)

# What each lifecycle verb's button says.
VERB_LABELS: dict[str, str] = {
    RequirementAction.SUBMIT: "Submit for validation",
    RequirementAction.RETURN: "Return to draft",
    RequirementAction.VALIDATE: "Validate",
    RequirementAction.OPEN: "Open for allocation",
    RequirementAction.CLOSE: "Close",
    RequirementAction.CANCEL: "Cancel (withdraw)",
}
# The verbs a reason goes with, and what its field asks.
REASONS: dict[str, str] = {RequirementAction.RETURN: "What to change before it is submitted again",
                           RequirementAction.CANCEL: "Why it is withdrawn"}
_RANKED = frozenset(AMENDABLE_REQUIREMENT)  # statuses whose priority may still change


# --- the list ----------------------------------------------------------------------------------------------------

COLUMNS = (
    Column("id", "Requirement", link="/requirements/{id}"),
    Column("priority", "Priority", numeric=True),
    Column("item", "Item class"),
    Column("quantity", "Quantity", numeric=True),
    Column("needed_by", "Needed by"),
    Column("destination", "Destination"),
    Column("status", "Status"),
    Column("confirmed", "Confirmed", numeric=True),
    Column("delivered", "Received", numeric=True),
)


def _covered(request: Request) -> dict[str, tuple[int | None, int | None]]:
    """Per requirement the coordination counts (validated or later): units confirmed and received."""
    state = request.app.state.store.snapshot()
    return {row.key: (row.confirmed, row.delivered) for row in coverage(state, "requirement")}


def _row(req: Requirement, names: dict[str, str], covered: dict[str, tuple[int | None, int | None]]
         ) -> dict[str, Any]:
    confirmed, delivered = covered.get(req.id, (None, None))
    return {"id": req.id, "priority": req.priority, "item": f"{names.get(req.item_class, req.item_class)} "
            f"({req.item_class})", "item_class": req.item_class, "quantity": req.quantity,
            "needed_by": req.needed_by.isoformat(), "destination": req.destination, "area": req.area,
            "status": req.status.value, "confirmed": confirmed, "delivered": delivered, "note": req.note,
            "ref": req.ref}


@router.get("/requirements", response_class=HTMLResponse)
def requirement_list(request: Request, me: Viewer) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    found = queries.requirements(state)
    names = {c.code: c.name for c in queries.item_classes(state)}
    covered = _covered(request)
    rows = [_row(r, names, covered) for r in found]
    filters = (
        Filter("status", "Status", [(s.value, s.value.replace("_", " ")) for s in RequirementStatus]),
        Filter("area", "Capability area", [(c.area, c.name) for c in queries.coalitions(state)]),
        Filter("priority", "Priority tier", [(str(p), f"priority {p}") for p in sorted({r.priority for r in found})]),
    )
    shown = listing(request, rows, COLUMNS, search=("id", "item", "destination", "note", "ref"), filters=filters,
                    default_sort="priority")
    return render(request, "requirements_list.html", title="Requirements", listing=shown,
                  may_draft=queries.may(state, me.user, "requirement:draft"),
                  may_rank=queries.may(state, me.user, "requirement:reprioritise"))


# --- entry -------------------------------------------------------------------------------------------------------

_BLANK = {"item_class": "", "quantity": "", "priority": "", "needed_by": "", "destination": "", "note": ""}


def _new_page(request: Request, form: dict[str, str], message: str = "", status: int = 200) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    return render(request, "requirements_new.html", status, title="New requirement", form=form, message=message,
                  classes=queries.item_classes(state), recipient=state.recipient)


@router.get("/requirements/new", response_class=HTMLResponse)
def new_requirement_form(request: Request, me: Viewer) -> HTMLResponse:
    return _new_page(request, dict(_BLANK))


@router.post("/requirements/new", response_model=None)
def new_requirement(request: Request, me: Changer, item_class: Annotated[str, Form(max_length=_SHORT)] = "",
                    quantity: Annotated[str, Form(max_length=_SHORT)] = "",
                    priority: Annotated[str, Form(max_length=_SHORT)] = "",
                    needed_by: Annotated[str, Form(max_length=_SHORT)] = "",
                    destination: Annotated[str, Form(max_length=_SHORT)] = "",
                    note: Annotated[str, Form(max_length=_TEXT)] = "",
                    then: Annotated[str, Form(max_length=20)] = "draft") -> Response:
    form = {"item_class": item_class, "quantity": quantity, "priority": priority, "needed_by": needed_by,
            "destination": destination, "note": note}

    def add(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        req = svc.draft_requirement(uow, who, item_class=item_class, quantity=whole(quantity, "quantity"),
                                    priority=whole(priority, "priority"), needed_by=day(needed_by, "needed_by"),
                                    destination=destination, note=note)
        return svc.move_requirement(uow, who, req.id, RequirementAction.SUBMIT) if then == "submit" else req

    try:
        req = act(request, me, add)
    except ContactGroupError as exc:
        return _new_page(request, form, detail(exc), status_of(exc))
    return redirect(request, f"/requirements/{req.id}")


# --- ranking -----------------------------------------------------------------------------------------------------

def _ranking_page(request: Request, me: SignedIn, message: str = "", status: int = 200) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    ranked = [r for r in queries.requirements(state) if r.status in _RANKED]
    names = {c.code: c.name for c in queries.item_classes(state)}
    return render(request, "requirements_ranking.html", status, title="Ranking", ranked=ranked, names=names,
                  message=message, may_rank=queries.may(state, me.user, "requirement:reprioritise"))


@router.get("/requirements/ranking", response_class=HTMLResponse)
def ranking(request: Request, me: Viewer) -> HTMLResponse:
    return _ranking_page(request, me)


@router.post("/requirements/{req_id}/move", response_model=None)
def move_in_ranking(request: Request, req_id: str, me: Changer,
                    direction: Annotated[str, Form(max_length=10)] = "") -> Response:
    """One step up (priority one more important) or down, from the priority the requirement has now: a second
    press moves it again, as the person pressing meant."""
    step = {"up": -1, "down": 1}.get(direction)

    def move(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        if step is None:
            raise ValidationFailed(f"{direction[:10]!r}: move up or down", where="direction")
        current = queries.requirement(uow.state, req_id[:64])
        if current.priority + step < 1:
            raise ValidationFailed(f"requirement {current.id} already has priority 1, the highest", where="direction")
        return svc.reprioritise(uow, who, current.id, current.priority + step)

    try:
        req = act(request, me, move)
    except ContactGroupError as exc:
        return _ranking_page(request, me, detail(exc), status_of(exc))
    return redirect(request, f"/requirements/ranking#rank-{req.id}")


# --- one requirement ---------------------------------------------------------------------------------------------

def _requirement_page(request: Request, me: SignedIn, req_id: str, message: str = "",
                      status: int = 200) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    req = queries.requirement(state, req_id[:64])
    who = me.user
    cls = state.item_classes.get(req.item_class)
    allocations = [(a, queries.listed_allocation(state, who, a)) for a in queries.allocations(state, who)
                   if a.requirement == req.id]
    confirmed, delivered = _covered(request).get(req.id, (None, None))
    history = queries.history_of(request.app.state.store.db, who.name, queries.HistoryKind.REQUIREMENT, req.id)
    verbs = queries.verbs(state, who, "requirement", req.id)
    return render(request, "requirements_show.html", status, title=f"Requirement {req.id}", req=req,
                  item_name=cls.name if cls else req.item_class, history=history, allocations=allocations,
                  confirmed=confirmed, delivered=delivered, message=message, version=version_of(req),
                  verbs=[(v, VERB_LABELS[v], REASONS.get(v, "")) for v in verbs],
                  may_amend=req.status in AMENDABLE_REQUIREMENT and queries.may(state, who, "requirement:amend"),
                  may_rank=req.status in _RANKED and queries.may(state, who, "requirement:reprioritise"))


@router.get("/requirements/{req_id}", response_class=HTMLResponse)
def show_requirement(request: Request, req_id: str, me: Viewer) -> HTMLResponse:
    return _requirement_page(request, me, req_id)


@router.post("/requirements/{req_id}/actions/{action}", response_model=None)
def move_requirement(request: Request, req_id: str, action: str, me: Changer,
                     version: Annotated[str, Form(max_length=100)] = "",
                     reason: Annotated[str, Form(max_length=_TEXT)] = "") -> Response:
    def move(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        verb = parse_action(RequirementAction, action[:20])
        unchanged(queries.requirement(uow.state, req_id[:64]), version)
        return svc.move_requirement(uow, who, req_id, verb, reason)

    try:
        act(request, me, move)
    except ContactGroupError as exc:
        return _requirement_page(request, me, req_id, detail(exc), status_of(exc))
    return redirect(request, f"/requirements/{req_id}")


@router.post("/requirements/{req_id}/priority", response_model=None)
def set_priority(request: Request, req_id: str, me: Changer, priority: Annotated[str, Form(max_length=_SHORT)] = "",
                 version: Annotated[str, Form(max_length=100)] = "") -> Response:
    def rerank(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        unchanged(queries.requirement(uow.state, req_id[:64]), version)
        return svc.reprioritise(uow, who, req_id, whole(priority, "priority"))

    try:
        act(request, me, rerank)
    except ContactGroupError as exc:
        return _requirement_page(request, me, req_id, detail(exc), status_of(exc))
    return redirect(request, f"/requirements/{req_id}")


# --- amendment ---------------------------------------------------------------------------------------------------

def _amend_page(request: Request, req: Requirement, form: dict[str, str], seen: str, message: str = "",
                status: int = 200) -> HTMLResponse:
    return render(request, "requirements_amend.html", status, title=f"Amend {req.id}", req=req, form=form,
                  version=seen, message=message)


def _as_form(req: Requirement) -> dict[str, str]:
    return {"quantity": str(req.quantity), "needed_by": req.needed_by.isoformat(), "destination": req.destination,
            "note": req.note}


@router.get("/requirements/{req_id}/amend", response_class=HTMLResponse)
def amend_form(request: Request, req_id: str, me: Viewer) -> HTMLResponse:
    req = queries.requirement(request.app.state.store.snapshot(), req_id[:64])
    return _amend_page(request, req, _as_form(req), version_of(req))


@router.post("/requirements/{req_id}/amend", response_model=None)
def amend(request: Request, req_id: str, me: Changer, version: Annotated[str, Form(max_length=100)] = "",
          quantity: Annotated[str, Form(max_length=_SHORT)] = "",
          needed_by: Annotated[str, Form(max_length=_SHORT)] = "",
          destination: Annotated[str, Form(max_length=_SHORT)] = "",
          note: Annotated[str, Form(max_length=_TEXT)] = "") -> Response:
    """Only what the form changes is sent on (a needed-by date left as it was is not checked again)."""
    form = {"quantity": quantity, "needed_by": needed_by, "destination": destination, "note": note}

    def change(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        current = queries.requirement(uow.state, req_id[:64])
        unchanged(current, version)
        units, due = whole(quantity, "quantity"), day(needed_by, "needed_by")
        return svc.amend_requirement(
            uow, who, current.id, quantity=units if units != current.quantity else None,
            needed_by=due if due != current.needed_by else None,
            destination=destination if destination.strip() != current.destination else None,
            note=note.replace("\r\n", "\n") if note.replace("\r\n", "\n") != current.note else None)

    try:
        act(request, me, change)
    except ContactGroupError as exc:
        req = queries.requirement(request.app.state.store.snapshot(), req_id[:64])
        if exc.code == "stale":  # the current version, to amend again
            return _amend_page(request, req, _as_form(req), version_of(req), detail(exc), status_of(exc))
        return _amend_page(request, req, form, version, detail(exc), status_of(exc))
    return redirect(request, f"/requirements/{req_id}")
