"""`/api/v1/proposals`, `/member-keys`, `/authorities` and `/receipts`: governance and the record as a signed-in
user reaches them — propose, withdraw, hand in a member's signed
approval, and read a proposal with its whole quorum (who approved when, whose approval is void and why). The public
`/proposals` routes stay for members who check the record without an account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from contactgroup.api.caller import Reader, Writer
from contactgroup.api.idempotency import keyed
from contactgroup.api.problem import problem_responses
from contactgroup.api.resource import act, state
from contactgroup.api.routing import Router
from contactgroup.domain import governance as gov
from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import MemberKey, ProposalKind, ProposalStatus
from contactgroup.services import governance as svc
from contactgroup.services import queries, receipts
from contactgroup.services.coordination import Caller
from contactgroup.storage.database import UnitOfWork

router = Router(prefix="/api/v1", tags=["governance"])

ProposalId = Annotated[str, Path(pattern=r"^P-[0-9]{1,12}$", description="a proposal id, e.g. P-00001")]
WRITES = problem_responses(400, 401, 403, 404, 409)


class ProposalIn(BaseModel):
    kind: ProposalKind
    payload: dict[str, Any] = Field(description="what the proposal does, as `contactgroup governance propose KIND` "
                                                "takes it (e.g. admit-member: code, name, kind, currency)")
    days: Annotated[int, Field(ge=1, le=gov.MAX_LIFETIME_DAYS)] = gov.DEFAULT_LIFETIME.days


class Approved(BaseModel):
    quorum: gov.Quorum = Field(description="the quorum as this approval was counted")
    status: ProposalStatus
    settled: list[str] = Field(description="other proposals that took effect with this one")


def _view(request: Request, uow_state: Any, pid: str) -> queries.ProposalView:
    return queries.proposal(uow_state, pid, request.app.state.clock.now())


@router.get("/proposals/{pid}", response_model=queries.ProposalView, responses=problem_responses(400, 401, 404))
def show_proposal(request: Request, caller: Reader, pid: ProposalId) -> queries.ProposalView:
    """A proposal, its text, and its quorum as it stands: who approved and when, whose approval counts for nothing
    and why, who is missing."""
    return _view(request, state(request), pid)


@router.post("/proposals", status_code=201, response_model=queries.ProposalView, responses=WRITES)
def propose(request: Request, caller: Writer, body: ProposalIn) -> queries.ProposalView:
    """Make a proposal; members then sign its text offline and hand their approvals in."""
    return act(request, caller, lambda uow, who: _view(
        request, uow.state, svc.propose(uow, who, body.kind, body.payload, body.days).id))


@router.post("/proposals/{pid}/withdraw", response_model=queries.ProposalView, responses=WRITES)
def withdraw(request: Request, caller: Writer, pid: ProposalId) -> queries.ProposalView:
    """Withdraw a proposal one made; later approvals count for nothing."""
    return act(request, caller, lambda uow, who: _view(request, uow.state, svc.withdraw(uow, who, pid).id))


_NOTE = {"required": True, "description": "a signed note (from `contactgroup governance sign`) over the proposal's "
         "exact text", "content": {"text/plain": {"schema": {"type": "string"}}}}


@router.post("/proposals/{pid}/approvals", response_model=Approved, responses=WRITES,
             openapi_extra={"requestBody": _NOTE})
async def approve(request: Request, caller: Writer, pid: ProposalId) -> Approved:
    """Hand in a member's signed approval as the signed-in user; at quorum the proposal takes effect at once."""
    try:
        note = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("body must be UTF-8 text", where="approval") from None
    who = Caller(caller.user.name, request.app.state.clock)

    def hand_in(uow: UnitOfWork) -> Approved:
        was_open = queries.open_proposals(uow.state)
        quorum = svc.approve(uow, who, pid, note)
        return Approved(quorum=quorum, status=uow.state.proposals[pid].status,
                        settled=queries.took_effect_with(was_open, uow.state, pid))

    answer: Approved = await run_in_threadpool(request.app.state.store.run, hand_in, keyed(request))
    return answer


# --- members' keys and the coordinating authority -----------------------------------------------------------------

class KeyIn(BaseModel):
    member: Annotated[str, Field(min_length=1, max_length=64)]
    key: Annotated[str, Field(min_length=1, max_length=500, description="a verifier key <name>+<hex id>+<base64>")]


class KeyRevoked(BaseModel):
    key: Annotated[str, Field(min_length=1, max_length=500, description="the verifier key, or its <name>+<hex id>")]


@router.get("/member-keys", response_model=list[MemberKey], responses=problem_responses(400, 401))
def list_keys(request: Request, caller: Reader,
              member: Annotated[str | None, Query(max_length=64)] = None) -> list[MemberKey]:
    """Every member's verifier keys (everyone checks approvals with them), by member and registration."""
    return queries.member_keys(state(request), member=member)


@router.post("/member-keys", status_code=201, response_model=MemberKey, responses=WRITES)
def register_key(request: Request, caller: Writer, body: KeyIn) -> MemberKey:
    """Register a verifier key for one's member (its desk officer)."""
    return act(request, caller, lambda uow, who: svc.register_key(uow, who, body.member, body.key))


@router.post("/member-keys/revoke", response_model=MemberKey, responses=WRITES)
def revoke_key(request: Request, caller: Writer, body: KeyRevoked) -> MemberKey:
    """Revoke a key (its member's desk officer): approvals signed with it stop counting."""
    return act(request, caller, lambda uow, who: svc.revoke_key(uow, who, body.key))


@router.get("/authorities", response_model=list[svc.Term], responses=problem_responses(401))
def authorities(request: Request, caller: Reader) -> list[svc.Term]:
    """Every coordinating authority's term, the first first; the last, without `until`, chairs now."""
    return svc.terms(state(request))


@router.get("/receipts/{index}", tags=["record"], response_model=dict[str, Any],
            responses=problem_responses(400, 401, 404, 409, why={409: "no checkpoint covers the event yet"}))
def receipt(request: Request, caller: Reader, index: Annotated[int, Path(ge=0, le=2**62)]) -> dict[str, Any]:
    """A receipt for one event the caller may see: its bytes, leaf hash and inclusion proof against the newest
    witnessed checkpoint (with cosignatures); `contactgroup ledger check-receipt` checks it offline. An event the
    caller may not see answers 404 like one that does not exist."""
    return receipts.receipt(request.app.state.store.db, caller.user.name, index)
