"""Re-export consents in the browser: those asked of the reader's member (and those of offers it may see), each
showing what it would consent to — the item, how many, the end use and where the units would go, as the consent
record holds them — and the origin member's desk granting or refusing it with a reason."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.errors import ContactGroupError, NotFound, ValidationFailed
from contactgroup.domain.model import Consent, ConsentStatus, User
from contactgroup.domain.state import State
from contactgroup.domain.workflow import ConsentAction, parse_action
from contactgroup.services import coordination as svc
from contactgroup.services import queries
from contactgroup.web.forms import Posted, act, said, state, unchanged, version
from contactgroup.web.listing import Column, Filter, listing
from contactgroup.web.pages import page_router, redirect, render, status_of
from contactgroup.web.session import Changer, Viewer

router = page_router()

COLUMNS = (
    Column("id", "Consent", link="/consents/{id}"),
    Column("origin", "Asked of"),
    Column("item", "Item"),
    Column("quantity", "Quantity", numeric=True),
    Column("destination", "To"),
    Column("end_use", "End use"),
    Column("status", "Status"),
    Column("requested_on", "Asked on"),
    Column("member", "Offered by"),
)


def _view(st: State, who: User, consent_id: str) -> queries.ConsentView:
    """The consent as `who` may see it (as the API shows it): one it may not see is not found."""
    found = next((v for v in queries.consent_views(st, who) if v.consent.id == consent_id), None)
    if found is None:
        raise svc.hidden("consent", consent_id, who)
    return found


def _verbs(st: State, who: User, consent_id: str) -> list[str]:
    return [v.value for v in ConsentAction if consent_id in queries.movable(st, who, "consent", v)]


@router.get("/consents", response_class=HTMLResponse)
def consents_list(request: Request, caller: Viewer) -> HTMLResponse:
    st = state(request)
    who = caller.user
    rows = [{"id": v.consent.id, "origin": v.consent.origin, "item": f"{v.item}: {v.item_name}" if v.item_name
             else v.item, "quantity": v.quantity, "destination": v.destination, "end_use": v.end_use or None,
             "status": v.consent.status.value, "requested_on": v.consent.requested_on.isoformat(),
             "member": v.member, "mine": "yes" if v.consent.origin == who.party else "no"}
            for v in queries.consent_views(st, who)]
    filters = (
        Filter("mine", "Asked of", [("yes", f"{who.party} (my member)"), ("no", "other members")]),
        Filter("status", "Status", [(s.value, s.value) for s in ConsentStatus]),
    )
    shown = listing(request, rows, COLUMNS, search=("id", "origin", "item", "destination", "end_use", "member"),
                    filters=filters)
    awaiting = len(queries.movable(st, who, "consent", ConsentAction.GRANT))  # a consent asked is granted or refused
    return render(request, "consents_list.html", title="Consents", listing=shown, awaiting=awaiting)


def _consent_page(request: Request, caller: Viewer | Changer, consent_id: str, *, message: str = "",
                  status: int = 200, reason: str = "") -> HTMLResponse:
    st = state(request)
    view = _view(st, caller.user, consent_id)
    return render(request, "consents_detail.html", status, title=f"Consent {consent_id}", view=view,
                  c=view.consent, verbs=_verbs(st, caller.user, consent_id), version=version(view.consent),
                  message=message, reason=reason)


@router.get("/consents/{consent_id}", response_class=HTMLResponse)
def consent_page(request: Request, caller: Viewer, consent_id: str) -> HTMLResponse:
    return _consent_page(request, caller, consent_id[:64])


@router.post("/consents/{consent_id}/actions/{decision}", response_model=None)
def decide_consent(request: Request, caller: Changer, consent_id: str, decision: str, form: Posted) -> Response:
    """Grant or refuse, from the version the page showed; a refusal says why."""
    ident = consent_id[:64]
    reason = form.get("reason", "")

    def decide(uow: Any, who: svc.Caller) -> Consent:
        unchanged("consent", ident, form.get("version", ""), svc.visible_consent(uow, who, ident))
        action = parse_action(ConsentAction, decision[:20], what="decision")
        if action is ConsentAction.REFUSE and not reason.strip():
            raise ValidationFailed("a refusal needs its reason: say why, so that the offering member can plan",
                                   where="reason", code="reason-required")
        return svc.decide_consent(uow, who, ident, action, reason)

    try:
        act(request, caller, decide)
    except NotFound:
        raise
    except ContactGroupError as exc:
        return _consent_page(request, caller, ident, message=said(exc), status=status_of(exc), reason=reason)
    return redirect(request, f"/consents/{ident}")
