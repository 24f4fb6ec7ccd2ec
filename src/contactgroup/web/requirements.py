"""The recipient's requirements in the browser: the list (with coverage where the coordination counts it), entry
as a draft, a requirement's page with its history and the moves its reader may make now, amendment that refuses a
stale form, and re-ranking by "move up / move down" buttons. Every user sees every requirement, as in the API."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.command import AMENDABLE_REQUIREMENT
from contactgroup.domain.errors import ContactGroupError, NotFound, Problem, ValidationFailed
from contactgroup.domain.model import Requirement, RequirementStatus
from contactgroup.domain.state import State
from contactgroup.domain.workflow import RequirementAction, parse_action
from contactgroup.reports.coverage import coverage
from contactgroup.services import coordination as svc
from contactgroup.services import queries
from contactgroup.services.tokens import SignedIn
from contactgroup.storage.database import UnitOfWork
from contactgroup.web.forms import Fields, Posted, act, said, state, unchanged, version
from contactgroup.web.listing import Column, Filter, listing
from contactgroup.web.pages import page_router, redirect, render, status_of
from contactgroup.web.session import Changer, Viewer

router = page_router()

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
_TO_MEET = _RANKED - {RequirementStatus.MET}  # what the ranking page lists
MAX_PRIORITY = 10**6


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


def _said(status: RequirementStatus) -> str:
    return status.value.replace("_", " ")


def _covered(st: State) -> dict[str, tuple[int | None, int | None]]:
    """Per requirement the coordination counts (validated or later): units confirmed and received."""
    return {row.key: (row.confirmed, row.delivered) for row in coverage(st, "requirement")}


def _row(req: Requirement, names: dict[str, str], covered: dict[str, tuple[int | None, int | None]]
         ) -> dict[str, Any]:
    confirmed, delivered = covered.get(req.id, (None, None))
    return {"id": req.id, "priority": req.priority, "item": f"{names.get(req.item_class, req.item_class)} "
            f"({req.item_class})", "item_class": req.item_class, "quantity": req.quantity,
            "needed_by": req.needed_by.isoformat(), "destination": req.destination, "area": req.area,
            "status": _said(req.status), "confirmed": confirmed, "delivered": delivered, "note": req.note,
            "ref": req.ref}


@router.get("/requirements", response_class=HTMLResponse)
def requirement_list(request: Request, me: Viewer) -> HTMLResponse:
    st = state(request)
    found = queries.requirements(st)
    names = {c.code: c.name for c in queries.item_classes(st)}
    covered = _covered(st)
    rows = [_row(r, names, covered) for r in found]
    filters = (
        Filter("status", "Status", [(_said(s), _said(s)) for s in RequirementStatus]),
        Filter("area", "Capability area", [(c.area, c.name) for c in queries.coalitions(st)]),
        Filter("priority", "Priority tier", [(str(p), f"priority {p}") for p in sorted({r.priority for r in found})]),
    )
    shown = listing(request, rows, COLUMNS, search=("id", "item", "destination", "note", "ref"), filters=filters,
                    default_sort="priority")
    return render(request, "requirements_list.html", title="Requirements", listing=shown,
                  may_draft=queries.may(st, me.user, "requirement:draft"),
                  may_rank=queries.may(st, me.user, "requirement:reprioritise"))


# --- entry -------------------------------------------------------------------------------------------------------

def _priority(fields: Fields, name: str = "priority") -> int | None:
    """A priority: a whole number, 1 the most important (bounded as the API bounds it)."""
    raw = fields.text(name)
    if not raw.isdigit() or len(raw) > 7 or not 1 <= int(raw) <= MAX_PRIORITY:
        fields.problems.append(Problem(name, f"must be a whole number from 1 (the most important) to "
                                             f"{MAX_PRIORITY:,} (not {raw[:20]!r})"))
        return None
    return int(raw)


def _checked(fields: Fields) -> None:
    if fields.problems:
        raise ValidationFailed(fields.problems)


def _new_page(request: Request, form: dict[str, str], message: str = "", status: int = 200) -> HTMLResponse:
    st = state(request)
    blank = {"item_class": "", "quantity": "", "priority": "", "needed_by": "", "destination": "", "note": ""}
    return render(request, "requirements_new.html", status, title="New requirement", form={**blank, **form},
                  message=message, classes=queries.item_classes(st), recipient=st.recipient)


@router.get("/requirements/new", response_class=HTMLResponse)
def new_requirement_form(request: Request, me: Viewer) -> HTMLResponse:
    return _new_page(request, {})


@router.post("/requirements/new", response_model=None)
def new_requirement(request: Request, me: Changer, form: Posted) -> Response:
    """Saved as a draft, or submitted at once (`then=submit`)."""
    fields = Fields(form)
    quantity, priority, needed_by = fields.units("quantity"), _priority(fields), fields.day("needed_by")

    def add(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        _checked(fields)
        req = svc.draft_requirement(uow, who, item_class=fields.text("item_class"), quantity=quantity or 0,
                                    priority=priority or 0, needed_by=needed_by or date.min,
                                    destination=fields.text("destination"), note=form.get("note", ""))
        submit = form.get("then") == "submit"
        return svc.move_requirement(uow, who, req.id, RequirementAction.SUBMIT) if submit else req

    try:
        req = act(request, me, add)
    except ContactGroupError as exc:
        return _new_page(request, form, said(exc), status_of(exc))
    return redirect(request, f"/requirements/{req.id}")


# --- ranking -----------------------------------------------------------------------------------------------------

def _ranking_page(request: Request, me: SignedIn, area: str = "", message: str = "",
                  status: int = 200) -> HTMLResponse:
    """The requirements still to be met, by priority; of one capability area if `area` names one (the allocation
    is run per area, so that is the order that counts there)."""
    st = state(request)
    areas = queries.coalitions(st)
    area = area if area in {c.area for c in areas} else ""
    ranked = [r for r in queries.requirements(st, area=area or None) if r.status in _TO_MEET]
    names = {c.code: c.name for c in queries.item_classes(st)}
    return render(request, "requirements_ranking.html", status, title="Ranking", ranked=ranked, names=names,
                  areas=areas, area=area, message=message,
                  may_rank=queries.may(st, me.user, "requirement:reprioritise"))


@router.get("/requirements/ranking", response_class=HTMLResponse)
def ranking(request: Request, me: Viewer, area: str = "") -> HTMLResponse:
    return _ranking_page(request, me, area[:64])


def _ident(req_id: str) -> str:
    return req_id[:64]


@router.post("/requirements/{req_id}/move", response_model=None)
def move_in_ranking(request: Request, req_id: str, me: Changer, form: Posted) -> Response:
    """One step up (priority one more important) or down, from the priority the requirement has now: a second
    press moves it again, as the person pressing meant. Back to the ranking as it was shown (`area`)."""
    direction, area = form.get("direction", ""), form.get("area", "")[:64]
    step = {"up": -1, "down": 1}.get(direction)

    def move(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        if step is None:
            raise ValidationFailed(f"{direction[:10]!r}: move up or down", where="direction")
        current = queries.requirement(uow.state, _ident(req_id))
        if current.priority + step < 1:
            raise ValidationFailed(f"requirement {current.id} already has priority 1, the highest", where="direction")
        return svc.reprioritise(uow, who, current.id, current.priority + step)

    try:
        req = act(request, me, move)
    except ContactGroupError as exc:
        return _ranking_page(request, me, area, said(exc), status_of(exc))
    shown = f"?{urlencode({'area': area})}" if area else ""
    return redirect(request, f"/requirements/ranking{shown}#rank-{req.id}")


# --- one requirement ---------------------------------------------------------------------------------------------

def _requirement_page(request: Request, me: SignedIn, req_id: str, message: str = "",
                      status: int = 200) -> HTMLResponse:
    st = state(request)
    req = queries.requirement(st, _ident(req_id))
    who = me.user
    cls = st.item_classes.get(req.item_class)
    allocations = [(a, queries.listed_allocation(st, who, a)) for a in queries.allocations(st, who)
                   if a.requirement == req.id]
    confirmed, delivered = _covered(st).get(req.id, (None, None))
    verbs = queries.verbs(st, who, "requirement", req.id)
    return render(request, "requirements_show.html", status, title=f"Requirement {req.id}", req=req,
                  item_name=cls.name if cls else req.item_class, allocations=allocations,
                  confirmed=confirmed, delivered=delivered, message=message, version=version(req),
                  verbs=[(v, VERB_LABELS[v], REASONS.get(v, "")) for v in verbs],
                  may_amend=req.status in AMENDABLE_REQUIREMENT and queries.may(st, who, "requirement:amend"),
                  may_rank=req.status in _RANKED and queries.may(st, who, "requirement:reprioritise"))


@router.get("/requirements/{req_id}", response_class=HTMLResponse)
def show_requirement(request: Request, req_id: str, me: Viewer) -> HTMLResponse:
    return _requirement_page(request, me, req_id)


@router.get("/requirements/{req_id}/history", response_class=HTMLResponse)
def requirement_history(request: Request, req_id: str, me: Viewer) -> HTMLResponse:
    """Every event of the requirement, read from the log: a page of its own, which the requirement's page loads
    after it is shown: reading the log takes far longer than the rest of that page (on the demo about 1 s against
    0.2 s, as the API's history of it)."""
    req = queries.requirement(state(request), _ident(req_id))
    history = queries.history_of(request.app.state.store.db, me.user.name, queries.HistoryKind.REQUIREMENT, req.id)
    return render(request, "requirements_history.html", title=f"History of {req.id}", req=req, history=history)


@router.post("/requirements/{req_id}/actions/{action}", response_model=None)
def move_requirement(request: Request, req_id: str, action: str, me: Changer, form: Posted) -> Response:
    """A move of its lifecycle, from the version the page showed."""
    ident = _ident(req_id)

    def move(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        verb = parse_action(RequirementAction, action[:20])
        unchanged("requirement", ident, form.get("version", ""), queries.requirement(uow.state, ident))
        return svc.move_requirement(uow, who, ident, verb, form.get("reason", ""))

    try:
        act(request, me, move)
    except NotFound:
        raise
    except ContactGroupError as exc:
        return _requirement_page(request, me, ident, said(exc), status_of(exc))
    return redirect(request, f"/requirements/{ident}")


@router.post("/requirements/{req_id}/priority", response_model=None)
def set_priority(request: Request, req_id: str, me: Changer, form: Posted) -> Response:
    ident = _ident(req_id)
    fields = Fields(form)
    priority = _priority(fields)

    def rerank(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        unchanged("requirement", ident, fields.text("version"), queries.requirement(uow.state, ident))
        _checked(fields)
        return svc.reprioritise(uow, who, ident, priority or 0)

    try:
        act(request, me, rerank)
    except NotFound:
        raise
    except ContactGroupError as exc:
        return _requirement_page(request, me, ident, said(exc), status_of(exc))
    return redirect(request, f"/requirements/{ident}")


# --- amendment ---------------------------------------------------------------------------------------------------

def _as_form(req: Requirement) -> dict[str, str]:
    return {"quantity": str(req.quantity), "needed_by": req.needed_by.isoformat(), "destination": req.destination,
            "note": req.note}


def _amend_page(request: Request, req_id: str, form: dict[str, str] | None = None, message: str = "",
                status: int = 200) -> HTMLResponse:
    """The amendment form: as typed (a refusal), else the requirement as it is now, with its current version."""
    req = queries.requirement(state(request), req_id)
    shown = form if form is not None else _as_form(req)
    return render(request, "requirements_amend.html", status, title=f"Amend {req.id}", req=req, form=shown,
                  version=shown.get("version") or version(req), message=message)


@router.get("/requirements/{req_id}/amend", response_class=HTMLResponse)
def amend_form(request: Request, req_id: str, me: Viewer) -> HTMLResponse:
    return _amend_page(request, _ident(req_id))


@router.post("/requirements/{req_id}/amend", response_model=None)
def amend(request: Request, req_id: str, me: Changer, form: Posted) -> Response:
    """Only what the form changes is sent on (a needed-by date left as it was is not checked again)."""
    ident = _ident(req_id)
    fields = Fields(form)
    quantity, needed_by = fields.units("quantity"), fields.day("needed_by")
    destination, note = fields.text("destination"), form.get("note", "").replace("\r\n", "\n")

    def change(uow: UnitOfWork, who: svc.Caller) -> Requirement:
        current = queries.requirement(uow.state, ident)
        unchanged("requirement", ident, fields.text("version"), current)
        _checked(fields)
        return svc.amend_requirement(
            uow, who, ident, quantity=quantity if quantity != current.quantity else None,
            needed_by=needed_by if needed_by != current.needed_by else None,
            destination=destination if destination != current.destination else None,
            note=note if note != current.note else None)

    try:
        act(request, me, change)
    except NotFound:
        raise
    except ContactGroupError as exc:
        if exc.code == "stale":  # the current state, with a new version to amend from
            return _amend_page(request, ident, message=said(exc), status=status_of(exc))
        return _amend_page(request, ident, form, said(exc), status_of(exc))
    return redirect(request, f"/requirements/{ident}")
