"""What every route of `/api/v1` shares: the caller's view of the state, writes through the state store, ETags and
`If-Match`, and lists with cursor pagination, sorting and whole-list exports (CSV, XLSX).

Handlers stay thin adapters: parse → a service of `services/` → the typed record it returns → JSON."""

from __future__ import annotations

import base64
import binascii
import bisect
import csv
import dataclasses
import enum
import functools
import hashlib
import io
import json
import tempfile
import threading
from collections.abc import Callable, Hashable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field, TypeAdapter

from contactgroup.api.idempotency import keyed
from contactgroup.api.problem import problem_responses
from contactgroup.domain.errors import PreconditionFailed, PreconditionRequired, ValidationFailed
from contactgroup.domain.state import State
from contactgroup.io.spreadsheet import Cell, csv_text, write_xlsx
from contactgroup.services import access, queries
from contactgroup.services.coordination import Caller
from contactgroup.services.tokens import SignedIn
from contactgroup.storage.database import UnitOfWork

T = TypeVar("T")
R = TypeVar("R")

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def state(request: Request) -> State:
    """The state the caller was signed in on: the newest published one when the request began (a read never waits
    for a writer), so that every read of one request sees one state, found once."""
    snapshot: State | None = getattr(request.state, "snapshot", None)
    if snapshot is None:
        snapshot = request.app.state.store.snapshot()
    return snapshot


def act(request: Request, caller: SignedIn, work: Callable[[UnitOfWork, Caller], R]) -> R:
    """`work` as the signed-in caller, in one transaction of the state store, which publishes it once committed
    (with an Idempotency-Key, once the answer is known and kept with it: `api.idempotency`)."""
    who = Caller(caller.user.name, request.app.state.clock)
    result: R = request.app.state.store.run(lambda uow: work(uow, who), keyed(request))
    return result


# --- versions: ETag and If-Match ---------------------------------------------------------------------------------

def etag(obj: Any) -> str:
    """An object's version: a hash of its JSON, as the API answers with it."""
    return _tag(_json(obj))


def _tag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def tagged(response: Response, obj: T) -> T:
    response.headers["ETag"] = etag(obj)
    return obj


@functools.cache
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def _json(obj: Any) -> bytes:
    cls: type = type(obj)
    return _adapter(cls).dump_json(obj, by_alias=True)


def as_json(obj: Any, status: int = 200) -> Response:
    """A typed record (a dataclass of the domain) as the answer, with its ETag, encoded to JSON here in the
    handler's worker thread. Returned as an object, FastAPI would check it again against the route's
    `response_model` in a second worker thread, then encode it: a hop and a check that cost more than the encoding
    (the record's type already holds it to its schema; the route still declares the model, for OpenAPI)."""
    body = _json(obj)
    return Response(body, status_code=status, media_type="application/json", headers={"ETag": _tag(body)})


def matches(if_match: str | None, current: Any, *, required: bool) -> None:
    """Refuse a change made to another version than the current one (412); an amendment must say which version it
    read (428), an action may."""
    if if_match is None:
        if required:
            raise PreconditionRequired("an amendment must send If-Match with the ETag of the version it changes "
                                       "(read the object first)", code="if-match-required")
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and etag(current) not in tags:
        raise PreconditionFailed("the object changed since that version was read (If-Match does not match its "
                                 "ETag): read it again, then send the change", code="stale")


IfMatch = Annotated[str | None, Header(alias="If-Match", description="the ETag of the version read; an amendment "
                                       "needs it (428 without, 412 when stale), an action may send it",
                                       max_length=1000)]
_ETAG = {"ETag": {"description": "the object's version, for If-Match", "schema": {"type": "string"}}}
TAGGED: dict[int | str, dict[str, Any]] = {200: {"headers": _ETAG}}
CREATED: dict[int | str, dict[str, Any]] = {201: {"headers": _ETAG}}


def changed(request_if_match: str | None, required: bool = True) -> Callable[[Any], None]:
    """A check to call inside the write, on the object as the transaction sees it."""
    return lambda current: matches(request_if_match, current, required=required)


# --- lists -------------------------------------------------------------------------------------------------------

class Export(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class Page(BaseModel, Generic[T]):
    """One page of a list, in the order asked for; `next_cursor` fetches the next (None: this is the last)."""

    items: list[T]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


# Body fields every area takes, bounded as the record's entry limits are (domain/text.py): refused at the door,
# each naming its field.
Code = Annotated[str, Field(min_length=1, max_length=64)]
Units = Annotated[int, Field(ge=1, le=10**12)]
Text = Annotated[str, Field(max_length=4000)]

# --- bulk moves: the objects named, or those a filter selects --------------------------------------------------

MAX_IDS = 1000


class Selected(BaseModel):
    """Which objects a bulk move takes: the `ids` named, or (`awaiting_me`) every one the caller may move so now,
    chosen in the same transaction that moves them (as `contactgroup inbox` lists them). Nothing selected moves
    nothing and answers an empty list."""

    ids: Annotated[list[Code] | None, Field(min_length=1, max_length=MAX_IDS, description="the objects to move")] = (
        None)
    awaiting_me: bool = Field(default=False, description="instead of ids: every one the caller may move so now")

    def chosen(self, state: State, who: Caller, kind: str, verb: str) -> list[str]:
        member = getattr(self, "member", None)
        if (self.ids is not None) == (self.awaiting_me or member is not None):
            raise ValidationFailed("name the ids, or select them with awaiting_me or member, not both",
                                   where="ids")
        if self.ids is not None:
            return self.ids
        return queries.movable(state, access.user(state, who.user), kind, verb, member=member)


class SelectedOfMember(Selected):
    member: Code | None = Field(default=None, description="instead of ids: those of this member's offers the caller "
                                                          "may move so now")


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"rows per page (1 to {MAX_LIMIT})")]
Cursor = Annotated[str | None, Query(max_length=2000, description="the `next_cursor` of the page before")]
Format = Annotated[Export | None, Query(alias="format", description="the whole filtered list as a file, not a page")]


def sorting(*fields: str) -> Any:
    """The `sort` parameter of a list: one of `fields`, with a leading '-' to sort down."""
    return Query(pattern=f"^-?({'|'.join(fields)})$",
                 description=f"a field to sort by ({', '.join(fields)}); a leading '-' sorts down; ties by id")


def list_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"text/csv": {"schema": {"type": "string"}},
                              XLSX: {"schema": {"type": "string", "format": "binary"}}}},
            **problem_responses(400, 401, *statuses)}


def _rank(value: Any) -> tuple[int, Any]:
    """A sort key of one field's values: numbers as numbers, everything else as its text, nulls last."""
    if value is None:
        return (2, "")
    if isinstance(value, bool | int | Decimal):
        return (0, Decimal(value))
    return (1, value.value if isinstance(value, enum.Enum) else str(value))


def _encode(field: str, rank: tuple[int, Any], ident: str) -> str:
    raw = json.dumps([field, rank[0], str(rank[1]), ident]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, field: str) -> tuple[tuple[int, Any], str]:
    try:
        name, kind, text, ident = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if name != field or kind not in (0, 1, 2) or not isinstance(text, str) or not isinstance(ident, str):
            raise ValueError(cursor)
        return (kind, Decimal(text) if kind == 0 else text), ident
    except (ValueError, TypeError, binascii.Error, ArithmeticError):
        raise ValidationFailed("not a cursor of this list and sort order: pass the next_cursor of the page "
                               "before, with the same sort", where="cursor") from None


Key = Callable[[Any], str]


def by_id(row: Any) -> str:
    return str(row.id)


Ordered = tuple[list[tuple[tuple[int, Any], str]], list[Any]]  # rows in a list's order, and their sort keys


def in_order(rows: Sequence[Any], sort: str, key: Key = by_id) -> Ordered:
    """`rows` (typed records) sorted by `sort` then `key`, with the key each was sorted by."""
    field = sort.removeprefix("-")
    keyed = sorted((((_rank(getattr(row, field)), key(row)), row) for row in rows), key=lambda pair: pair[0],
                   reverse=sort.startswith("-"))
    return [k for k, _ in keyed], [row for _, row in keyed]


def page(rows: Sequence[Any], *, sort: str, limit: int, cursor: str | None, key: Key = by_id) -> Page[Any]:
    """One page of `rows` (typed records) sorted by `sort` then `key`: the rows after the cursor's, at most `limit`.
    The cursor names the last row's sort value and id, so a page stays right when rows come or go."""
    return page_of(in_order(rows, sort, key), sort=sort, limit=limit, cursor=cursor)


def page_of(ordered: Ordered, *, sort: str, limit: int, cursor: str | None) -> Page[Any]:
    """One page of a list already `in_order`: the rows after the cursor's (found by bisection), at most `limit`."""
    keys, rows = ordered
    start = 0
    if cursor is not None:
        after = _decode(cursor, sort)
        beyond = (lambda k: k < after) if sort.startswith("-") else (lambda k: k > after)
        start = bisect.bisect_left(keys, True, key=beyond)  # the first row past the cursor's
    chosen = rows[start:start + limit]
    more = len(rows) > start + limit
    return Page(items=chosen, next_cursor=_encode(sort, *keys[start + limit - 1]) if chosen and more else None)


def _joined(values: Sequence[Any]) -> str:
    """A list in one cell: `a, b`, and pairs as `a=1; b=2`."""
    if values and all(isinstance(v, tuple) and len(v) == 2 for v in values):
        return "; ".join(f"{k}={v}" for k, v in values)
    return ", ".join(str(v) for v in values)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return csv_text(_joined(value))
    return csv_text(str(value.value if isinstance(value, enum.Enum) else value))


def _xlsx_cell(value: Any) -> Cell:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple | list):
        return _joined(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value if isinstance(value, str | int | Decimal | date | bool) or value is None else str(value)


def export(rows: Sequence[Any], cls: type, fmt: Export, name: str) -> Response:
    """The whole list as one file: CSV (text that a spreadsheet would run as a formula is neutralised) or XLSX
    (typed cells, text never a formula)."""
    columns = [f.name for f in dataclasses.fields(cls)]
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'}
    if fmt is Export.CSV:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_cell(getattr(r, c)) for c in columns] for r in rows)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.xlsx"
        write_xlsx(path, columns, ([_xlsx_cell(getattr(r, c)) for c in columns] for r in rows))
        return Response(path.read_bytes(), media_type=XLSX, headers=headers)


class SharedLists:
    """Lists already `in_order`, kept with the published state they were made from. A published state is never
    changed, so a list asked again on it — by any reader who sees the same rows, e.g. every desk officer of one
    member — is not filtered and sorted again, nor is each next page of it. A write publishes a new state, and the
    lists of older states are dropped as soon as one of the new state is kept: at most `size` lists, of one state."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._lists: dict[Hashable, tuple[State, Ordered]] = {}
        self._lock = threading.Lock()

    def get(self, state: State, key: Hashable, make: Callable[[], Ordered]) -> Ordered:
        """The list `key` names on `state`: kept, or made now. `key` must name all that the rows depend on beside
        the state (which rows the reader may see, the filters, the sort)."""
        with self._lock:
            kept = self._lists.get(key)
        if kept is not None and kept[0] is state:
            return kept[1]
        made = make()
        with self._lock:
            if any(other is not state for other, _ in self._lists.values()) or len(self._lists) >= self._size:
                self._lists = {k: v for k, v in self._lists.items() if v[0] is state}
                if len(self._lists) >= self._size:
                    self._lists.clear()
            self._lists[key] = (state, made)
        return made


@dataclasses.dataclass(frozen=True, slots=True)
class Paging:
    """How a list is asked for: a page (`limit`, `cursor`) or the whole filtered list as a file (`format`)."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    fmt: Export | None = None


async def paging(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None, fmt: Format = None) -> Paging:
    # A coroutine although it waits for nothing: FastAPI runs a plain function dependency in a worker thread, a
    # hop that cost more than the function.
    return Paging(limit, cursor, fmt)


Pages = Annotated[Paging, Depends(paging)]


@functools.cache
def _page_of(cls: type) -> TypeAdapter[Page[Any]]:
    return TypeAdapter(Page[cls])  # type: ignore[valid-type]


def listed(rows: Sequence[Any], cls: type, name: str, paging: Paging, sort: str,
           key: Key = by_id) -> Response:
    """A list as asked: a page, or the whole (filtered) list as a file.

    The page is answered as JSON here, in the handler's worker thread, rather than returned for FastAPI to check
    against the route's `Page[cls]` and encode: for a plain handler FastAPI does that in a second worker thread.
    `Page` already checked its items when the page was built; the route still declares `Page[cls]` for OpenAPI."""
    if paging.fmt is not None:
        return export(rows, cls, paging.fmt, name)
    return _answer(cls, page(rows, sort=sort, limit=paging.limit, cursor=paging.cursor, key=key))


def listed_shared(request: Request, shared_by: Hashable, rows: Callable[[], Sequence[Any]], cls: type, name: str,
                  paging: Paging, sort: str) -> Response:
    """`listed`, with the list in order kept for the request's state under `shared_by` (see `SharedLists`): a key
    that names, beside the sort, everything `rows` depends on except the state."""
    if paging.fmt is not None:
        return export(rows(), cls, paging.fmt, name)
    ordered = request.app.state.lists.get(state(request), (name, shared_by, sort), lambda: in_order(rows(), sort))
    return _answer(cls, page_of(ordered, sort=sort, limit=paging.limit, cursor=paging.cursor))


def _answer(cls: type, chosen: Page[Any]) -> Response:
    return Response(_page_of(cls).dump_json(chosen, by_alias=True), media_type="application/json")
