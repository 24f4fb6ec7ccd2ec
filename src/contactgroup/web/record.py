"""The record's state in the browser: the latest signed checkpoint (size, root, time), each witness and the largest
checkpoint it cosigned, and `verify` — the full check that the projections are what the log says — run on request
in the background, its latest result and time kept on the server for every reader to see."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.ledger.note import b64encode
from contactgroup.services import access, checkpoints
from contactgroup.services.verify import VerifyReport, verify
from contactgroup.web.background import Job, jobs
from contactgroup.web.pages import page_router, redirect, render
from contactgroup.web.session import Changer, Viewer

router = page_router()

KIND = "verify"
SHOWN_FINDINGS = 50  # a broken record may have thousands: the first ones say where to look


def _page(request: Request, status: int = 200) -> HTMLResponse:
    state = checkpoints.record_state(request.app.state.db)
    job = jobs(request.app.state).latest(KIND)
    running = job is not None and job.running  # first: a check that ends meanwhile is shown running, not half done
    report: VerifyReport | None = job.result if job is not None and not running else None
    return render(request, "record.html", status, title="The record", record=state, running=running,
                  root_b64=b64encode(state.checkpoint.root) if state.checkpoint else "", job=job, report=report,
                  findings=report.findings[:SHOWN_FINDINGS] if report else [],
                  now=request.app.state.clock.now())


@router.get("/record", response_class=HTMLResponse)
def record_page(request: Request, caller: Viewer) -> HTMLResponse:
    return _page(request)


@router.get("/record/verify", response_class=HTMLResponse)
def verify_status(request: Request, caller: Viewer) -> HTMLResponse:
    """The page again: what htmx polls while a check runs (it keeps only the check's part)."""
    return _page(request)


@router.post("/record/verify", response_model=None)
def start_verify(request: Request, caller: Changer) -> Response:
    """Start `verify` in the background, unless one is running already (its result will do)."""
    state = request.app.state.store.snapshot()
    access.authorize(state, access.user(state, caller.user.name), "record:verify")
    found = jobs(request.app.state)
    running = found.latest(KIND)
    if running is None or not running.running:
        db = request.app.state.db

        def check(job: Job) -> VerifyReport:
            def seen(n: int) -> None:
                job.progress += n

            report = verify(db, progress=seen)
            report.leaf_hashes = []  # kept in memory until the next run: the leaves are not shown
            return report

        found.start(KIND, caller.user.name, check)
    return redirect(request, "/record#verify")
