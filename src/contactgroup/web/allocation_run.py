"""Running the allocation from a browser: a preview first (the optimiser on the record as it is, nothing written),
reviewed per priority tier against the greedy fill, pair by pair, with what it would change; then recorded.

The preview runs in the background (a solve may take a while) and its page shows it running until it is done.
Recording runs the same optimiser again, and only on the record the preview saw: the form carries the log's size
at the preview, and a record that has grown since is refused (the plan reviewed might not be the one recorded)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.allocation import Coverage, Reason
from contactgroup.domain.errors import Conflict, ContactGroupError, Forbidden, NotFound
from contactgroup.domain.model import AllocationStatus, Role, User
from contactgroup.domain.state import State
from contactgroup.services import access
from contactgroup.services import allocation as runs
from contactgroup.services.coordination import Caller
from contactgroup.services.wording import detail
from contactgroup.storage.database import UnitOfWork
from contactgroup.storage.store import StateStore
from contactgroup.web.background import Job, jobs
from contactgroup.web.pages import page_router, redirect, render, status_of
from contactgroup.web.session import Changer, Viewer

router = page_router()

KIND = "allocation-run"
STALE = "the record changed since your preview: run it again"

REASONS = {
    Reason.NO_COMPATIBLE_OFFER: "nothing of its item class is offered",
    Reason.TAKEN_BY_HIGHER_PRIORITY: "compatible units go to higher priorities",
    Reason.TAKEN_BY_EQUAL_PRIORITY: "compatible units go to requirements of the same priority",
    Reason.TAKEN_BY_PINNED_ALLOCATION: "compatible units are held by agreed allocations",
    Reason.WAITING_FOR_CONSENT: "compatible units wait for a re-export consent",
    Reason.INSUFFICIENT_QUANTITY: "all compatible offers together hold too few units",
    Reason.DECLINED: "a compatible offer was declined for it",
}


@dataclass(frozen=True, slots=True)
class Pair:
    """One offer → requirement pair of the plan, and what the run does to it."""

    offer: str
    requirement: str
    priority: int
    units: int
    agreed: int  # of them, already agreed (confirmed or accepted): kept as they are
    arrives: str
    late_days: int
    change: str  # "new proposal", "earlier proposal kept", "agreed earlier"


@dataclass(frozen=True, slots=True)
class Superseded:
    id: str
    offer: str
    requirement: str
    units: int


@dataclass(frozen=True, slots=True)
class Review:
    """What a run does, as its page shows it: `seq` is the log's size it was computed on."""

    area: str | None
    consent: bool
    seq: int
    run: runs.AllocationRun
    pairs: tuple[Pair, ...]
    superseded: tuple[Superseded, ...]
    short: tuple[Coverage, ...]
    recorded: bool


class _Preview(Exception):
    """Ends a preview's transaction without committing it, carrying what the run would have done."""

    def __init__(self, review: Review) -> None:
        super().__init__("preview")
        self.review = review


def _review(uow: UnitOfWork, who: Caller, area: str | None, consent: bool, recorded: bool) -> Review:
    """Run the optimiser in `uow` and say what it did there."""
    seq = uow.next_seq
    proposed_before = {a.id for a in uow.state.allocations.values() if a.status is AllocationStatus.PROPOSED}
    run = runs.propose_optimal(uow, who, area, request_consent=consent)
    after = uow.state.allocations
    new = {(after[i].offer, after[i].requirement) for i in run.proposed}
    priority = {c.id: c.priority for c in run.plan.requirements}
    pairs = tuple(
        Pair(a.offer, a.requirement, priority.get(a.requirement, 0), a.quantity, a.pinned, a.arrives.isoformat(),
             a.late_days, "new proposal" if (a.offer, a.requirement) in new
             else "agreed earlier" if a.pinned == a.quantity else "earlier proposal kept")
        for a in sorted(run.plan.allocations, key=lambda a: (priority.get(a.requirement, 0), a.requirement, a.offer)))
    superseded = tuple(Superseded(i, after[i].offer, after[i].requirement, after[i].quantity)
                       for i in sorted(proposed_before) if after[i].status is AllocationStatus.DECLINED)
    short = tuple(c for c in run.plan.requirements if c.shortfall)
    return Review(area, consent, seq, run, pairs, superseded, short, recorded)


def preview(store: StateStore, who: Caller, area: str | None, consent: bool) -> Review:
    """The run on the record as it is now, in a transaction that is then rolled back: nothing is written."""

    def solve(uow: UnitOfWork) -> None:
        raise _Preview(_review(uow, who, area, consent, recorded=False))

    try:
        store.run(solve)
    except _Preview as done:
        return done.review
    raise AssertionError("a preview always ends in _Preview")  # pragma: no cover


def record(store: StateStore, who: Caller, area: str | None, consent: bool, seq: int,
           previewed: Review | None = None) -> Review:
    """The run recorded, if the record is still the one the preview (of `seq` events) saw — and, as a last guard,
    only if its plan is the one previewed (the optimum is exact, so on the same record it is)."""

    def solve(uow: UnitOfWork) -> Review:
        if uow.next_seq != seq:
            raise Conflict(STALE, code="stale-preview", seen=seq, now=uow.next_seq)
        done = _review(uow, who, area, consent, recorded=True)
        if previewed is not None and (done.pairs, done.superseded) != (previewed.pairs, previewed.superseded):
            raise Conflict(STALE, code="stale-preview", seen=seq, now=uow.next_seq)  # rolled back: nothing written
        return done

    return store.run(solve)


# --- pages -------------------------------------------------------------------------------------------------------

def _areas(state: State, user: User) -> list[str]:
    """The areas `user` may run the allocation for: every one for the coordinator, the led ones for a lead."""
    if user.role is Role.COALITION_LEAD:
        return [a for a in runs.areas(state) if user.party in state.coalitions[a].leads]
    return runs.areas(state)


def _runner(user: User) -> None:
    """Refuse a user whose role never runs the allocation."""
    if user.role not in access.POLICY["allocation:propose"]:
        raise Forbidden(f"{user.name} ({user.role.value}) may not run the allocation: the coordinator runs it, "
                        "and a coalition lead for its area")


def _may_run(state: State, user: User, area: str | None) -> None:
    """Refuse at once (before any solve) whom the run itself would refuse."""
    runs.check_area(state, area)
    _runner(user)
    access.authorize(state, user, "allocation:propose", area=area)


def _form(request: Request, user: User, *, area: str = "", consent: bool = False, message: str = "",
          status: int = 200) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    _runner(user)
    return render(request, "allocation_run.html", status, title="Allocation run", areas=_areas(state, user),
                  area=area, consent=consent, message=message, coordinator=user.role is Role.COORDINATOR)


@router.get("/allocation-run", response_class=HTMLResponse)
def run_form(request: Request, caller: Viewer) -> HTMLResponse:
    return _form(request, caller.user)


@router.post("/allocation-run", response_model=None)
def start_preview(request: Request, caller: Changer, area: Annotated[str, Form(max_length=64)] = "",
                  consent: Annotated[str, Form(max_length=8)] = "") -> Response:
    store: StateStore = request.app.state.store
    chosen = area or None
    wants_consent = consent == "yes"
    try:
        _may_run(store.snapshot(), caller.user, chosen)
    except ContactGroupError as exc:
        return _form(request, caller.user, area=area, consent=wants_consent, message=detail(exc),
                     status=status_of(exc))
    running = jobs(request.app.state).latest(KIND, caller.user.name)
    if running is not None and running.running:  # one solve at a time per user: show the one under way
        return redirect(request, f"/allocation-run/{running.id}")
    who = Caller(caller.user.name, request.app.state.clock)
    job = jobs(request.app.state).start(KIND, caller.user.name, lambda _: preview(store, who, chosen, wants_consent),
                                        area=chosen or "every area")
    return redirect(request, f"/allocation-run/{job.id}")


def _job(request: Request, user: User, job_id: str) -> Job:
    job = jobs(request.app.state).get(job_id, owner=user.name)
    if job is None or job.kind != KIND:
        raise NotFound("no such allocation run: previews are kept for a while on the server that ran them; "
                       "run the preview again")
    return job


def _show(request: Request, job: Job, *, message: str = "", status: int = 200) -> HTMLResponse:
    now = request.app.state.clock.now()
    running = job.running  # first: a job that finishes while the page is made is shown running, never half done
    if not running and job.error is not None and not message:
        message, status = detail(job.error), status_of(job.error)
    review: Review | None = None if running else job.result
    return render(request, "allocation_run_review.html", status, title="Allocation run", job=job, review=review,
                  running=running, message=message, failed=job.failed, reasons=REASONS,
                  elapsed=int((now - job.started).total_seconds()))


@router.get("/allocation-run/{job_id}", response_class=HTMLResponse)
def show_run(request: Request, caller: Viewer, job_id: str) -> HTMLResponse:
    return _show(request, _job(request, caller.user, job_id))


@router.post("/allocation-run/{job_id}/record", response_model=None)
def record_run(request: Request, caller: Changer, job_id: str, seq: Annotated[int, Form(ge=0, le=2**62)],
               area: Annotated[str, Form(max_length=64)] = "",
               consent: Annotated[str, Form(max_length=8)] = "") -> Response:
    job = _job(request, caller.user, job_id)
    store: StateStore = request.app.state.store
    who = Caller(caller.user.name, request.app.state.clock)
    try:
        previewed = job.result if isinstance(job.result, Review) and not job.result.recorded else None
        done = record(store, who, area or None, consent == "yes", seq, previewed)
    except ContactGroupError as exc:
        return _show(request, job, message=detail(exc), status=status_of(exc))
    recorded = jobs(request.app.state).keep(KIND, caller.user.name, done)
    return redirect(request, f"/allocation-run/{recorded.id}")
