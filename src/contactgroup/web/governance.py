"""Governance in the browser: the proposals, open and decided; the exact text each member signs; a member's signed
note handed in as a file; the approval counts, refreshed while the page is open; and proposing, for whoever may.

An approval is a signed note over the proposal's text (signed offline with the member's key, `contactgroup
governance sign`): the note authenticates itself, so the signed-in user only hands it in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain import governance as gov
from contactgroup.domain.errors import ContactGroupError, Forbidden, NotFound, ValidationFailed
from contactgroup.domain.model import ProposalKind
from contactgroup.services import access, queries
from contactgroup.services import governance as svc
from contactgroup.services.coordination import Caller
from contactgroup.services.tokens import SignedIn
from contactgroup.services.wording import detail
from contactgroup.storage.database import UnitOfWork
from contactgroup.web.listing import Column, Filter, listing
from contactgroup.web.pages import page_router, redirect, render, status_of
from contactgroup.web.session import Changer, Viewer

router = page_router()

NOTE_MAX = 64 * 1024  # a signed note is a few hundred bytes per signature
_SHORT = 200


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    hint: str = ""
    kind: str = "text"  # text, check, list (several values, separated by commas or spaces), choice


# What each kind of proposal asks, and how its form becomes the payload `governance.propose` takes (as the CLI's
# `governance propose ...` commands build it).
FIELDS: Mapping[ProposalKind, tuple[Field, ...]] = {
    ProposalKind.ADMIT_MEMBER: (Field("code", "Member code", "ISO 3166 alpha-3 for a nation, e.g. NOR"),
                                Field("name", "Name"), Field("currency", "Currency", "ISO 4217, e.g. NOK"),
                                Field("organisation", "An organisation, not a nation", kind="check"),
                                Field("nato", "A NATO member", kind="check"),
                                Field("eu", "An EU member", kind="check")),
    ProposalKind.REMOVE_MEMBER: (Field("code", "Member code"),),
    ProposalKind.CHANGE_LEAD: (Field("area", "Capability area"),
                               Field("leads", "Lead members", "member codes, separated by commas", kind="list"),
                               Field("name", "Name of a new coalition", "only to form a new coalition for the area")),
    ProposalKind.CHANGE_QUORUM: (Field("kind", "Kind of proposal the rule governs", kind="choice"),
                                 Field("rule", "Rule", "a fraction of members like 2/3, all, or leads")),
    ProposalKind.HANDOVER: (Field("to", "New coordinating authority", "e.g. NSATU"),
                            Field("users", "Its coordinator users", "names, separated by commas", kind="list"),
                            Field("log_key", "Its log verifier key", "name+hex id+base64")),
}
TITLES: Mapping[ProposalKind, str] = {
    ProposalKind.ADMIT_MEMBER: "admit a member", ProposalKind.REMOVE_MEMBER: "remove a member",
    ProposalKind.CHANGE_LEAD: "change a coalition's leads", ProposalKind.CHANGE_QUORUM: "change a quorum rule",
    ProposalKind.HANDOVER: "hand the coordinating authority over",
}


def _listed(values: str) -> list[str]:
    return [v for v in values.replace(",", " ").split() if v]


def payload(kind: ProposalKind, form: Mapping[str, str]) -> dict[str, Any]:
    """The proposal's payload from its form's values (the checks are the domain's)."""
    v = {f.name: form.get(f.name, "").strip() for f in FIELDS[kind]}
    match kind:
        case ProposalKind.ADMIT_MEMBER:
            return {"code": v["code"], "name": v["name"], "currency": v["currency"],
                    "kind": "organisation" if v["organisation"] else "nation", "nato": bool(v["nato"]),
                    "eu": bool(v["eu"])}
        case ProposalKind.REMOVE_MEMBER:
            return {"code": v["code"]}
        case ProposalKind.CHANGE_LEAD:
            return {"area": v["area"], "leads": _listed(v["leads"]), **({"name": v["name"]} if v["name"] else {})}
        case ProposalKind.CHANGE_QUORUM:
            return {"kind": v["kind"], "rule": v["rule"]}
        case _:
            return {"to": v["to"], "users": _listed(v["users"]), "log_key": v["log_key"]}


def _may(user: SignedIn, action: str) -> bool:
    return user.user.role in access.POLICY[action]


def _act(request: Request, caller: SignedIn, work: Callable[[UnitOfWork, Caller], Any]) -> Any:
    who = Caller(caller.user.name, request.app.state.clock)
    return request.app.state.store.run(lambda uow: work(uow, who))


# --- the list ----------------------------------------------------------------------------------------------------

COLUMNS = (Column("id", "Proposal", link="/governance/{id}"), Column("kind", "Kind"), Column("status", "Status"),
           Column("what", "What it does"), Column("approved", "Approvals", numeric=True),
           Column("needed", "Needed", numeric=True), Column("expires", "Open until"))
STATUSES = ("open", "effective", "withdrawn", "expired")


@router.get("/governance", response_class=HTMLResponse)
def proposals(request: Request, caller: Viewer) -> HTMLResponse:
    now = request.app.state.clock.now()
    rows = [{"id": v.proposal.id, "kind": v.proposal.kind.value.replace("_", " "), "status": v.status,
             "what": v.what, "approved": len(v.quorum.approved), "needed": v.quorum.needed,
             "expires": v.proposal.expires_at.strftime("%Y-%m-%d %H:%MZ")}
            for v in queries.proposals(request.app.state.store.snapshot(), now)]
    found = listing(request, rows, COLUMNS, search=("id", "kind", "what"), default_sort="id", descending=True,
                    filters=(Filter("status", "Status", [(s, s) for s in STATUSES]),))
    open_count = sum(1 for r in rows if r["status"] == "open")
    return render(request, "governance.html", title="Governance", listing=found, open_count=open_count,
                  may_propose=_may(caller, "governance:propose"), titles=TITLES)


# --- proposing ---------------------------------------------------------------------------------------------------

def _kind(value: str) -> ProposalKind:
    try:
        return ProposalKind(value.replace("-", "_"))
    except ValueError:
        raise NotFound(f"no kind of proposal {value[:40]!r}; kinds: "
                       f"{', '.join(k.value.replace('_', '-') for k in ProposalKind)}") from None


def _propose_page(request: Request, kind: ProposalKind, values: Mapping[str, str], message: str = "",
                  status: int = 200) -> HTMLResponse:
    return render(request, "governance_propose.html", status, title=f"Propose to {TITLES[kind]}", kind=kind,
                  fields=FIELDS[kind], values=values, message=message, kinds=list(ProposalKind),
                  days=gov.DEFAULT_LIFETIME.days, max_days=gov.MAX_LIFETIME_DAYS, heading=TITLES[kind])


@router.get("/governance/propose/{kind}", response_class=HTMLResponse)
def propose_form(request: Request, caller: Viewer, kind: str) -> HTMLResponse:
    chosen = _kind(kind)
    if not _may(caller, "governance:propose"):
        raise Forbidden(f"{caller.user.name} ({caller.user.role.value}) may not make proposals: coordinators and "
                        "desk officers make them")
    return _propose_page(request, chosen, {"days": str(gov.DEFAULT_LIFETIME.days)})


@router.post("/governance/propose/{kind}", response_model=None)
async def propose(request: Request, caller: Changer, kind: str) -> Response:
    chosen = _kind(kind)
    form = await request.form()
    values = {f.name: str(form.get(f.name, ""))[:4000] for f in FIELDS[chosen]}
    values["days"] = str(form.get("days", ""))[:12]
    try:
        days = int(values["days"]) if values["days"].strip().isdigit() else -1
        if days < 0:
            raise ValidationFailed(f"days: {values['days']!r} is not a whole number of days", where="days")
        made = _act(request, caller, lambda uow, who: svc.propose(uow, who, chosen, payload(chosen, values), days))
    except ContactGroupError as exc:
        return _propose_page(request, chosen, values, detail(exc), status_of(exc))
    return redirect(request, f"/governance/{made.id}")


# --- one proposal ------------------------------------------------------------------------------------------------

def _view(request: Request, pid: str) -> queries.ProposalView:
    return queries.proposal(request.app.state.store.snapshot(), pid[:20], request.app.state.clock.now())


def _proposal_page(request: Request, caller: SignedIn, pid: str, *, message: str = "",
                   status: int = 200) -> HTMLResponse:
    view = _view(request, pid)
    return render(request, "governance_proposal.html", status, title=f"Proposal {view.proposal.id}", view=view,
                  message=message, approved_at=dict(view.approved_at),
                  may_withdraw=_may(caller, "governance:withdraw") and view.status == "open")


@router.get("/governance/{pid}", response_class=HTMLResponse)
def show(request: Request, caller: Viewer, pid: str) -> HTMLResponse:
    return _proposal_page(request, caller, pid)


@router.get("/governance/{pid}/approvals", response_class=HTMLResponse)
def approvals(request: Request, caller: Viewer, pid: str) -> HTMLResponse:
    """The approval counts alone: the fragment the proposal's page polls while it is open."""
    view = _view(request, pid)
    return render(request, "governance_approvals.html", view=view, approved_at=dict(view.approved_at))


@router.post("/governance/{pid}/approvals", response_model=None)
def hand_in(request: Request, caller: Changer, pid: str,
            note: Annotated[UploadFile | None, File(description="the signed note")] = None) -> Response:
    """Hand in a member's signed note over the proposal's text."""
    _view(request, pid)  # a proposal that is not there is "not found", whatever the file
    try:
        raw = note.file.read(NOTE_MAX + 1) if note is not None else b""
        if not raw.strip():
            raise ValidationFailed("choose the signed note to hand in (the file `contactgroup governance sign` "
                                   "wrote)", where="note")
        if len(raw) > NOTE_MAX:
            raise ValidationFailed(f"the file is larger than {NOTE_MAX:,} bytes: not a signed note", where="note")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed("the file is not UTF-8 text: not a signed note", where="note") from None
        _act(request, caller, lambda uow, who: svc.approve(uow, who, pid, text))
    except ContactGroupError as exc:
        return _proposal_page(request, caller, pid, message=detail(exc), status=status_of(exc))
    return redirect(request, f"/governance/{pid}")


@router.post("/governance/{pid}/withdraw", response_model=None)
def withdraw(request: Request, caller: Changer, pid: str) -> Response:
    try:
        _act(request, caller, lambda uow, who: svc.withdraw(uow, who, pid[:20]))
    except ContactGroupError as exc:
        return _proposal_page(request, caller, pid, message=detail(exc), status=status_of(exc))
    return redirect(request, f"/governance/{pid[:20]}")
