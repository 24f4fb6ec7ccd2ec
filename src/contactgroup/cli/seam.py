"""Where a command runs: on the local database, or against the server CONTACTGROUP_SERVER names.

A command builds what it asks for once, as a local call (a service in a unit of work, or a query on the state) and
as the HTTP request that calls the same service on the server; `change`, `listing` and `fetch` pick one and hand
back the same typed result, so the command prints it with the same code either way."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from contactgroup.cli import remote
from contactgroup.cli.common import caller, database, writer
from contactgroup.domain import model as m
from contactgroup.domain.state import State
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


def typed(cls: type[T]) -> Callable[[Any], T]:
    """The answer read back into the record type a local call returns (dates, decimals and enums as such)."""
    adapter = TypeAdapter(cls)
    return adapter.validate_python


def moves(collection: str, verb: enum.Enum, cls: type[T], body: Mapping[str, Any]) -> Callable[
        [list[str]], Remote[list[T]]]:
    """The one request that moves objects of `collection` by id, all or none
    (`POST /api/v1/allocations/actions/accept {"ids": [...]}`)."""
    parse: Callable[[Any], list[T]] = typed(list[cls])  # type: ignore[valid-type]
    return lambda ids: Remote("POST", f"/api/v1/{collection}/actions/{verb.value}", parse,
                              json={**body, "ids": ids})


def given(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the options left out."""
    return {k: v for k, v in params.items() if v is not None}


def _remote_identity(as_: str | None, db: str | None) -> remote.Client | None:
    where = remote.server()
    if where is None:
        return None
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
    client = _remote_identity(as_, db)
    if client is None:
        raise ValueError("no server named: the command runs locally")
    return served.parse(client.request(served.method, served.path, json=served.json, params=served.params))


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    rows: list[T]
    synthetic: bool  # a demo's data: every form of the list says so


def listing(db: str | None, as_: str | None, local: Callable[[State, m.User | None], Iterable[T]],
            served: Remote[T], *, open_to_all: bool = False) -> Listing[T]:
    """A list as the caller may see it: from the local state, or every page of the server's list."""
    client = _remote_identity(as_, db)
    if client is None:
        if open_to_all:
            state = database(db).state()
            return Listing(list(local(state, queries.reader(state, as_))), is_synthetic(state))
        name = caller(as_).user
        state = database(db).state()
        return Listing(list(local(state, access.user(state, name))), is_synthetic(state))
    rows: list[T] = []
    cursor: str | None = None
    while True:
        page = client.request("GET", served.path, params={**served.params, "limit": PAGE,
                                                         **({"cursor": cursor} if cursor else {})})
        rows.extend(served.parse(item) for item in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    synthetic = bool(client.request("GET", "/api/v1/me").get("synthetic"))
    return Listing(rows, synthetic)


def fetch(db: str | None, local: Callable[[], T], served: Remote[T]) -> T:
    """A read that needs nobody's name locally (a report): computed here, or by the server."""
    client = _remote_identity(None, db)
    if client is None:
        return local()
    return served.parse(client.request(served.method, served.path, json=served.json, params=served.params))


def against_server() -> bool:
    return remote.server() is not None
