"""Work a page starts and does not wait for (an allocation preview, `verify`): run in a thread, kept in memory on
the app with its result, its error and its times, so that the page that started it can show it running, then done.

Jobs are kept per process and forgotten on restart; only the newest `KEEP` are kept, so a busy server's memory
stays bounded. A job belongs to the user who started it (`owner`): another user's job is "not found"."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contactgroup.domain.errors import ContactGroupError
from contactgroup.services.clock import Clock

KEEP = 50


@dataclass
class Job:
    """One piece of background work: running until `finished` is set; then `result`, or `error` (a refusal)."""

    id: str
    kind: str
    owner: str
    started: datetime
    params: dict[str, Any] = field(default_factory=dict)
    progress: int = 0  # a count the work reports as it goes (events checked), 0 when it says nothing
    finished: datetime | None = None
    result: Any = None
    error: ContactGroupError | None = None
    failed: str = ""  # an unexpected failure, in words (the server's log has the rest)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job is finished (tests, and a caller that must have the result)."""
        return self.done.wait(timeout)


class Jobs:
    """The jobs of one app: start one, find one, find the latest of a kind."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def _add(self, kind: str, owner: str, params: dict[str, Any]) -> Job:
        job = Job(secrets.token_urlsafe(12), kind, owner, self._clock.now(), params)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                self._jobs.popitem(last=False)
        return job

    def keep(self, kind: str, owner: str, result: Any, **params: Any) -> Job:
        """A job done in the request itself, kept so that the page after the redirect can show it."""
        job = self._add(kind, owner, params)
        job.result, job.finished = result, job.started
        job.done.set()
        return job

    def start(self, kind: str, owner: str, work: Callable[[Job], Any], **params: Any) -> Job:
        """Run `work(job)` in a new thread; the job, running, at once."""
        job = self._add(kind, owner, params)

        def run() -> None:
            try:
                job.result = work(job)
            except ContactGroupError as exc:
                job.error = exc
            except Exception as exc:  # the page says it failed instead of running forever
                job.failed = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                job.finished = self._clock.now()
                job.done.set()

        threading.Thread(target=run, name=f"page-{kind}-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        """The job `job_id` (of `owner`, when given), or None."""
        with self._lock:
            job = self._jobs.get(job_id[:32])
        return job if job is not None and (owner is None or job.owner == owner) else None

    def latest(self, kind: str, owner: str | None = None) -> Job | None:
        """The newest job of `kind` (of `owner`, when given), or None."""
        with self._lock:
            return next((j for j in reversed(self._jobs.values())
                         if j.kind == kind and (owner is None or j.owner == owner)), None)


_MADE = threading.Lock()


def jobs(app_state: Any) -> Jobs:
    """The app's jobs, made on first use."""
    with _MADE:
        found: Jobs | None = getattr(app_state, "page_jobs", None)
        if found is None:
            found = app_state.page_jobs = Jobs(app_state.clock)
    return found
