"""Governance over HTTP: the proposals, the exact text members sign, and approvals handed in as signed notes.

An approval is a signed note over a proposal's text: it authenticates itself (only a member's registered key
makes it count), so a member needs no account and no access to the database to hand one in. The server hands it
in as the user it was started with (`contactgroup serve --approvals-as USER`); without one it takes none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from contactgroup.api.problem import problem_responses
from contactgroup.api.routing import Router
from contactgroup.domain import governance as gov
from contactgroup.domain.errors import Forbidden, NotFound, ValidationFailed
from contactgroup.domain.model import Proposal
from contactgroup.services import governance as svc
from contactgroup.services import queries
from contactgroup.services.coordination import Caller
from contactgroup.storage.database import UnitOfWork
from contactgroup.storage.store import StateStore

router = Router(tags=["governance"])

ProposalId = Annotated[str, Path(pattern=r"^P-[0-9]{1,12}$", description="a proposal id, e.g. P-00001")]


class ProposalDoc(BaseModel):
    id: str
    kind: str
    status: str = Field(description="open, effective, withdrawn, or expired (open but past its date)")
    what: str = Field(description="what the proposal does, in words")
    rule: str = Field(description="the quorum rule frozen into the proposal, e.g. 2/3 or leads")
    needed: int = Field(ge=1, description="approvals that make it effective under the rule applied now")
    approved: list[str] = Field(description="members whose approval counts")
    missing: list[str] = Field(description="members who decide and have not approved")
    expires_at: datetime


class ProposalTextDoc(ProposalDoc):
    text: str = Field(description="the exact text members sign (`contactgroup governance sign`)")


class ApprovalAcceptedDoc(BaseModel):
    proposal: str
    approved: list[str] = Field(description="members whose approval counts, this note's included")
    refused: list[str] = Field(description="co-signers of this note whose signature counted for nothing")
    needed: int = Field(ge=1)
    status: str = Field(description="effective once the approvals meet the quorum")


_APPROVAL_BODY = {
    "required": True,
    "description": "a signed note (C2SP signed-note) over the proposal's exact text, by one or more members' keys",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}


def _store(request: Request) -> StateStore:
    store: StateStore = request.app.state.store
    return store


def _doc(v: queries.ProposalView) -> dict[str, Any]:
    p, q = v.proposal, v.quorum
    return {"id": p.id, "kind": p.kind.value, "status": v.status, "what": v.what,
            "rule": p.rule, "needed": q.needed, "approved": list(q.approved), "missing": list(q.missing),
            "expires_at": p.expires_at}


def _proposal(request: Request, pid: str) -> queries.ProposalView:
    try:
        return queries.proposal(_store(request).snapshot(), pid, request.app.state.clock.now())
    except NotFound:
        raise NotFound(f"no proposal {pid}") from None


@router.get("/proposals", response_model=list[ProposalDoc])
def get_proposals(request: Request) -> list[dict[str, Any]]:
    """Every governance proposal, with who approved and who is missing."""
    return [_doc(v) for v in queries.proposals(_store(request).snapshot(), request.app.state.clock.now())]


@router.get("/proposals/{pid}", response_model=ProposalTextDoc, responses=problem_responses(400, 404))
def get_proposal(request: Request, pid: ProposalId) -> dict[str, Any]:
    """One proposal, with the exact text members sign."""
    v = _proposal(request, pid)
    return {**_doc(v), "text": v.proposal.text}


@router.get("/proposals/{pid}/text", response_class=PlainTextResponse, responses={
    200: {"description": "the exact text to sign", "content": {"text/plain": {"schema": {"type": "string"}}}},
    **problem_responses(400, 404)})
def get_proposal_text(request: Request, pid: ProposalId) -> PlainTextResponse:
    """The exact text members sign, ready for `contactgroup governance sign FILE --key KEY`."""
    return PlainTextResponse(_proposal(request, pid).proposal.text)


@router.post("/proposals/{pid}/approvals", status_code=201, response_model=ApprovalAcceptedDoc,
             responses=problem_responses(400, 403, 404, 409, why={
                 403: "this server takes no approvals, or no signature in the note counts (forged, unregistered "
                      "key, not among those who decide)",
                 409: "the proposal is no longer open, or the member already approved"}),
             openapi_extra={"requestBody": _APPROVAL_BODY})
async def post_approval(request: Request, pid: ProposalId) -> dict[str, Any]:
    """Hand in a member's signed approval of a proposal; at quorum the proposal takes effect at once."""
    user: str | None = request.app.state.approvals_as
    if user is None:
        raise Forbidden("this server takes no approvals: its operator starts it with `contactgroup serve "
                        "--approvals-as USER`; or hand the note in with `contactgroup governance approve`")
    try:
        note = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("body must be UTF-8 text", where="approval") from None
    if not note.strip():
        raise ValidationFailed("body must hold a signed note over the proposal's text", where="approval")
    caller = Caller(user, request.app.state.clock)

    def approve(uow: UnitOfWork) -> tuple[gov.Quorum, Proposal]:
        return svc.approve(uow, caller, pid, note), uow.state.proposals[pid]

    quorum, proposal = await run_in_threadpool(_store(request).run, approve)
    return {"proposal": pid, "approved": list(quorum.approved), "refused": list(quorum.refused),
            "needed": quorum.needed, "status": queries.proposal_status(proposal, request.app.state.clock.now())}
