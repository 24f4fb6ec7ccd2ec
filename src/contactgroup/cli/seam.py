"""Where a command runs: on the local database, or against the server CONTACTGROUP_SERVER names.

A command builds what it asks for once, as a local call (a service in a unit of work, or a query on the state) and
as the HTTP request that calls the same service on the server; `change`, `listing` and `fetch` pick one and hand
back the same typed result, so the command prints it with the same code either way."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from contactgroup.cli import remote
from contactgroup.cli.common import caller, database, writer
from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.domain.model import User
from contactgroup.domain.state import State
from contactgroup.io.spreadsheet import check_size
from contactgroup.reports.facts import is_synthetic
from contactgroup.services import access, queries
from contactgroup.services.coordination import Caller
from contactgroup.storage.database import UnitOfWork

T = TypeVar("T")
PAGE = 500  # the largest page the API gives: a list is fetched whole, as a local list is printed whole


@dataclass(frozen=True, slots=True)
class Remote(Generic[T]):
    """The request that does a command's work on the server, and how its JSON answer becomes the command's result."""

    method: str
    path: str
    parse: Callable[[Any], T]
    json: Any = None
    params: Mapping[str, Any] = field(default_factory=dict)
    # an upload (`multipart/form-data`, an import's spreadsheet), read only when the request is sent
    files: Callable[[], Mapping[str, Any]] | None = None
    content: bytes | None = None  # a body sent as it is (a report file)
    text: bool = False  # the answer is text (the log's leaves), not JSON
    timeout: float | None = None  # seconds to wait for the answer, where a command may take longer than most


def typed(cls: type[T]) -> Callable[[Any], T]:
    """The answer read back into the record type a local call returns (dates, decimals and enums as such)."""
    adapter = TypeAdapter(cls)
    return adapter.validate_python


Selection = Mapping[str, Any]  # the objects a bulk move takes: {"ids": [...]}, {"awaiting_me": true} or {"member": M}


def moves(collection: str, verb: enum.Enum, cls: type[T], body: Mapping[str, Any]) -> Callable[
        [Selection], Remote[list[T]]]:
    """The one request that moves objects of `collection` by id, or those a filter selects on the server, all or
    none (`POST /api/v1/allocations/actions/accept {"ids": [...]}`)."""
    parse: Callable[[Any], list[T]] = typed(list[cls])  # type: ignore[valid-type]
    return lambda chosen: Remote("POST", f"/api/v1/{collection}/actions/{verb.value}", parse,
                                 json={**body, **chosen})


def given(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the options left out."""
    return {k: v for k, v in params.items() if v is not None}


def _signed_in(as_: str | None, db: str | None) -> remote.Client:
    """The client of the server named, as the user signed in to it (`--as` and `--db` are refused beside it)."""
    where = remote.server()
    if where is None:
        raise ContactGroupError("no server named (CONTACTGROUP_SERVER): the command runs locally", code="no-server")
    remote.refuse_local_identity(as_, db)
    return remote.Client.signed_in(where)


def change(db: str | None, as_: str | None, local: Callable[[UnitOfWork, Caller], T], served: Remote[T]) -> T:
    """A change: in one local transaction as `--as`, or one request to the server as the signed-in user."""
    if against_server():
        return ask(db, as_, served)
    who = caller(as_)
    with writer(db) as uow:
        return local(uow, who)


def ask(db: str | None, as_: str | None, served: Remote[T]) -> T:
    """The request, to the server CONTACTGROUP_SERVER names, as the user signed in to it."""
    client = _signed_in(as_, db)
    files = served.files() if served.files is not None else None
    waits = {"timeout": served.timeout} if served.timeout is not None else {}
    exchange = client.exchange(served.method, served.path, json=served.json, params=served.params, files=files,
                               content=served.content, **waits)
    answer = exchange.text if served.text else (exchange.json() if exchange.content else None)
    return _understood(client, lambda: served.parse(answer))


def upload(kind: str, path: Path, parse: Callable[[Any], T]) -> Remote[T]:
    """A spreadsheet sent to the server's import of `kind` (`POST /api/v1/imports/offers`), under its own name:
    the server checks every row as the local import does, and names each bad one. A file that is missing or over
    the size limit is refused here, as locally, before anything is sent."""
    def read() -> Mapping[str, Any]:
        if path.is_dir():
            raise ValidationFailed([Problem(str(path), "is a directory, not a CSV or XLSX file")])
        if not path.is_file():
            raise ValidationFailed([Problem(str(path), "no such file")])
        check_size(path)
        return {"file": (path.name, path.read_bytes())}

    return Remote("POST", f"/api/v1/imports/{kind}", parse, files=read)


def amend(db: str | None, as_: str | None, local: Callable[[UnitOfWork, Caller], tuple[T | None, T]],
          read: Remote[T], write: Remote[T]) -> tuple[T | None, T]:
    """An amendment and the version it changed: locally both in one transaction; against the server, the object
    read (its ETag), then changed with `If-Match`, so that a change someone made in between is refused (412), not
    overwritten."""
    if not against_server():
        who = caller(as_)
        with writer(db) as uow:
            return local(uow, who)
    client = _signed_in(as_, db)
    answer = client.exchange(read.method, read.path, params=read.params)
    before = _understood(client, lambda: read.parse(answer.json()))
    version = {"If-Match": answer.headers["ETag"]} if "ETag" in answer.headers else {}
    after = client.request(write.method, write.path, json=write.json, params=write.params, headers=version)
    return before, _understood(client, lambda: write.parse(after))


def read_as(db: str | None, as_: str | None, local: Callable[[State, User], T], served: Remote[T]) -> T:
    """A read as the caller: on the local state as `--as`, or asked of the server as the signed-in user."""
    if against_server():
        return ask(db, as_, served)
    state, who = _as_user(db, as_)
    return local(state, who)


def user_name(as_: str | None) -> str:
    """Who a command acts as: `--as` locally, the signed-in user against a server."""
    where = remote.server()
    if where is None:
        return caller(as_).user
    return _signed_in(as_, None).user


def _understood(client: remote.Client, read: Callable[[], T]) -> T:
    """What the server answered, read as the command's result; an answer of another shape (another version of the
    platform, or not this platform at all) is a clear error, not a traceback."""
    try:
        return read()
    except (ValidationError, KeyError, TypeError, AttributeError) as exc:
        raise ContactGroupError(f"{client.base} answered in a form this command line does not read ({exc}); is it "
                                "a contactgroup server of the same version?", code="server") from None


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    rows: list[T]
    synthetic: bool  # a demo's data: every form of the list says so


def listing(db: str | None, as_: str | None, local: Callable[[State, User], Iterable[T]],
            served: Remote[T]) -> Listing[T]:
    """A list as the caller may see it: from the local state as `--as`, or every page of the server's list."""
    if against_server():
        return _all_pages(db, as_, served)
    state, who = _as_user(db, as_)
    return Listing(list(local(state, who)), is_synthetic(state))


def open_listing(db: str | None, as_: str | None, local: Callable[[State], Iterable[T]],
                 served: Remote[T]) -> Listing[T]:
    """A list open to every user (`--as` optional, but a name given must be a user's), or the server's."""
    if against_server():
        return _all_pages(db, as_, served)
    state = database(db).state()
    queries.reader(state, as_)
    return Listing(list(local(state)), is_synthetic(state))


def shown(db: str | None, as_: str | None, local: Callable[[State, User | None], T], served: Remote[T], *,
          open_to_all: bool = False) -> Listing[T]:
    """One object as the caller may see it (the user is None where it is open to all and --as was not given)."""
    if against_server():
        client = _signed_in(as_, db)
        answer = client.request(served.method, served.path, params=served.params)
        return Listing([_understood(client, lambda: served.parse(answer))], _synthetic(client))
    if open_to_all:
        state = database(db).state()
        return Listing([local(state, queries.reader(state, as_))], is_synthetic(state))
    state, who = _as_user(db, as_)
    return Listing([local(state, who)], is_synthetic(state))


def someone(who: User | None) -> User:
    """The user a show that is not open to all is given (`shown` always names one for it)."""
    if who is None:
        raise ContactGroupError("say who you are: pass --as NAME or set CONTACTGROUP_USER", code="no-user")
    return who


def _as_user(db: str | None, as_: str | None) -> tuple[State, User]:
    name = caller(as_).user
    state = database(db).state()
    return state, access.user(state, name)


def _synthetic(client: remote.Client) -> bool:
    """Whether the server holds a demo's data (every form of a list or a show says so)."""
    return bool(_understood(client, lambda: client.request("GET", "/api/v1/me")["synthetic"]))


def _all_pages(db: str | None, as_: str | None, served: Remote[T]) -> Listing[T]:
    client = _signed_in(as_, db)
    rows: list[T] = []
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        page = client.request("GET", served.path, params={**served.params, "limit": PAGE,
                                                         **({"cursor": cursor} if cursor else {})})
        items, cursor = _understood(client, functools.partial(_page, served, page))
        rows.extend(items)
        if not cursor:
            break
        if cursor in seen:  # a server that pages in a circle would never end the list
            raise ContactGroupError(f"{client.base} gave the same page twice: the list is not complete",
                                    code="server")
        seen.add(cursor)
    return Listing(rows, _synthetic(client))


def _page(served: Remote[T], page: Any) -> tuple[list[T], str | None]:
    """A page's rows, and the cursor of the next page (None: the last)."""
    cursor = page.get("next_cursor")
    return [served.parse(item) for item in page["items"]], str(cursor) if cursor else None


def either(db: str | None, as_: str | None, local: Callable[[], T], served: Remote[T]) -> T:
    """Work on the caller's own account rather than the record (its tokens, its security log): done here as `--as`,
    or by the server as the signed-in user."""
    return ask(db, as_, served) if against_server() else local()


def fetch(db: str | None, local: Callable[[], T], served: Remote[T]) -> T:
    """A read that needs nobody's name locally (a report): computed here, or by the server."""
    return ask(db, None, served) if against_server() else local()


def against_server() -> bool:
    return remote.server() is not None
