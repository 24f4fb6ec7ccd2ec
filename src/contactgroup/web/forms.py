"""What the pages' forms share: a change made as the signed-in user in one transaction of the state store (as the
API makes it), the version of an object a form was read from (a stale form is refused, never written over
someone else's change), and a refusal worded as the server words it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.datastructures import FormData

from contactgroup.domain.errors import ContactGroupError, PreconditionFailed, Problem
from contactgroup.domain.state import State, as_data
from contactgroup.services.coordination import Caller, Refused
from contactgroup.services.tokens import SignedIn
from contactgroup.services.wording import detail
from contactgroup.storage.database import UnitOfWork

R = TypeVar("R")


def state(request: Request) -> State:
    """The newest published state (a page never waits for a writer)."""
    snapshot: State = request.app.state.store.snapshot()
    return snapshot


def act(request: Request, caller: SignedIn, work: Callable[[UnitOfWork, Caller], R]) -> R:
    """`work` as the signed-in user, in one transaction of the state store: all of it, or nothing."""
    who = Caller(caller.user.name, request.app.state.clock)
    result: R = request.app.state.store.run(lambda uow: work(uow, who))
    return result


def version(obj: Any) -> str:
    """An object's version as a form carries it: a hash of its data as the record keeps it (the API's ETag is the
    same hash), so that any change to the object since the form was read shows."""
    data = json.dumps(as_data(obj), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()[:32]


def unchanged(kind: str, ident: str, read: str, current: Any) -> None:
    """Refuse a form read from another version of the object than the current one."""
    if read != version(current):
        raise PreconditionFailed(f"{kind} {ident} changed since this form was read: its current state is shown; "
                                 "make the change again if it still applies", code="stale")


def said(exc: ContactGroupError) -> str:
    """A refusal in words; of many objects moved at once, each refused one on its own line."""
    return exc.said(detail) if isinstance(exc, Refused) else detail(exc)


MAX_FIELD = 4000  # characters of one form field (free text is bounded by the record at the same length)
MAX_IDS = 1000  # objects moved at once, as the API's bulk routes take them


async def _posted(request: Request) -> dict[str, str]:
    """The form's text fields, each cut just past `MAX_FIELD` characters (so that the record still refuses it)."""
    form: FormData = await request.form()
    return {k: v[:MAX_FIELD + 1] for k, v in form.items() if isinstance(v, str)}


async def _ids(request: Request) -> list[str]:
    """The objects a list's checkboxes chose (`ids`), at most `MAX_IDS` + 1 (more is refused by the page)."""
    form: FormData = await request.form()
    return [v[:64] for v in form.getlist("ids") if isinstance(v, str)][:MAX_IDS + 1]


Posted = Annotated[dict[str, str], Depends(_posted)]
Chosen = Annotated[list[str], Depends(_ids)]


# --- reading a form's fields: every problem at once, each naming its field ---------------------------------------

class Fields:
    """A form's text fields read into values; `problems` collects every bad one (its field and what is wrong)."""

    def __init__(self, form: dict[str, str]) -> None:
        self.form = form
        self.problems: list[Problem] = []

    def text(self, name: str) -> str:
        return self.form.get(name, "").strip()

    def _bad(self, name: str, message: str) -> None:
        self.problems.append(Problem(name, message))

    def units(self, name: str, *, required: bool = True) -> int | None:
        raw = self.text(name).replace(",", "").replace(" ", "")
        if not raw:
            if required:
                self._bad(name, "is required: a whole number of units, at least 1")
            return None
        if not raw.isdigit() or len(raw) > 13 or int(raw) < 1:
            self._bad(name, f"must be a whole number of units, at least 1 (not {raw[:20]!r})")
            return None
        return int(raw)

    def day(self, name: str, *, required: bool = True) -> date | None:
        raw = self.text(name)
        if not raw:
            if required:
                self._bad(name, "is required: a date, YYYY-MM-DD")
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self._bad(name, f"must be a date, YYYY-MM-DD (not {raw[:20]!r})")
            return None

    def money(self, name: str) -> Decimal | None:
        raw = self.text(name).replace(",", "").replace(" ", "")
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value <= 0 or len(raw) > 22 or value != value.quantize(Decimal("0.01")):
            self._bad(name, f"must be an amount above 0, to the cent at most (not {raw[:20]!r})")
            return None
        return value

    def choice(self, name: str, options: Any, default: Any = None) -> Any:
        raw = self.text(name)
        if not raw:
            return default
        try:
            return options(raw)
        except ValueError:
            self._bad(name, f"must be one of {', '.join(o.value for o in options)} (not {raw[:20]!r})")
            return default
