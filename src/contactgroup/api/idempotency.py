"""`Idempotency-Key` on every POST of `/api/v1`: a retry with the same key and request gets the first answer
(status, headers that matter, body) and changes nothing; the same key with another request is refused (422).

Keys are per user (the bearer token's) and kept a day. A key is kept with its answer in the write's own
transaction: the request's write (`StateStore.run`) is held open once done until the request's answer is known,
then the answer is kept and both are committed at once, before the answer is sent. So a key is answered exactly
when its write is committed: a server that stops before the commit leaves the key free and nothing written, and a
retry runs again. A copy of a request sent while the first is being answered waits for it (in this process; a
copy sent to another process of the same database waits at the writer lock), then gets its answer. A request
that wrote nothing to the record (a refusal, a preview, a token) keeps its answer in a transaction of its own; a
server error (5xx) keeps nothing.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactgroup.api.caller import checked
from contactgroup.api.problem import PROBLEM, detail, problem_responses
from contactgroup.domain.errors import ContactGroupError
from contactgroup.domain.state import State
from contactgroup.services import tokens
from contactgroup.storage import idempotency
from contactgroup.storage.database import Connection, DatabaseError, database_error
from contactgroup.storage.idempotency import Answer, Answered, KeyAnswered, Keyed

HEADER = "idempotency-key"
KEPT = timedelta(hours=24)
MAX_KEY = 255
_REPLAYED = ("content-type", "etag", "location")
_SCOPE = "contactgroup.idempotency"  # where the middleware leaves a keyed request's `Keyed` for its write
_COPY_POLL = 0.01  # seconds between looks while a copy waits for the first request with its key
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, raw headers, body

# A held write commits or rolls back on a thread of its own pool: the default pool's threads may all be taken by
# writers waiting for the writer lock that the held write holds. Per event loop, as anyio's own default pool is.
_HELD_THREADS: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar("contactgroup_held_writes")


def keyed(request: Request) -> Keyed | None:
    """The request's idempotency key, for its write (`StateStore.run(work, keyed)`); None without one."""
    found: Keyed | None = request.scope.get(_SCOPE)
    return found


def _problem(status: int, title: str, detail: str, path: str) -> Reply:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail,
                       "instance": path}).encode()
    return status, [(b"content-type", PROBLEM.encode())], body


class Idempotency:
    """ASGI middleware keeping the first answer to each user's `Idempotency-Key`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._answering: set[tuple[str, str]] = set()  # (user, key) being answered in this process
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", ())) if scope["type"] == "http" else {}
        key_bytes = headers.get(HEADER.encode())
        if key_bytes is None or scope["method"] != "POST" or not scope["path"].startswith("/api/v1/"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        key = key_bytes.decode("latin-1")
        if not 1 <= len(key) <= MAX_KEY or not key.isprintable() or not key.isascii():
            await _send(send, _problem(400, "Bad Request", f"Idempotency-Key must be 1 to {MAX_KEY} printable "
                                                           "ASCII characters", path))
            return
        app_state = scope["app"].state
        store, now = app_state.store, app_state.clock.now()
        try:
            found = _caller(scope, headers, key, now - KEPT, at_once=True)
        except _NotAtOnce:
            found = await run_in_threadpool(_caller, scope, headers, key, now - KEPT)
        if found is None:  # not signed in: the route answers 401 itself, and nothing is kept
            await self.app(scope, receive, send)
            return
        user, earlier = found
        try:
            body = await _body(receive)
        except HTTPException as exc:  # too large: BodyLimit's refusal, said here since no handler is further out
            await _send(send, _problem(exc.status_code, "Content Too Large", str(exc.detail), path))
            return
        request = Keyed(user, key, _request_hash(scope, headers.get(b"content-type", b""), body), now, now - KEPT)
        async with self._alone(request) as waited:
            if waited:  # the first request with the key was answered meanwhile (or failed): look again
                earlier = await run_in_threadpool(_earlier, store, request)
            if earlier is not None:
                reply = _replay(earlier, request, path)
            else:
                reply = await self._answer(scope, body, receive, store, request)
        await _send(send, reply)

    @asynccontextmanager
    async def _alone(self, request: Keyed) -> AsyncIterator[bool]:
        """Wait while this process answers another request with the same key (a copy sent at once); say whether
        it waited. A copy is rare: it looks again every few milliseconds rather than wait on a primitive of one
        event loop."""
        name, waited = (request.user, request.key), False
        while True:
            with self._lock:
                if name not in self._answering:
                    self._answering.add(name)
                    break
            waited = True
            await anyio.sleep(_COPY_POLL)
        try:
            yield waited
        finally:
            with self._lock:
                self._answering.discard(name)

    async def _answer(self, scope: Scope, body: bytes, receive: Receive, store: Any, request: Keyed) -> Reply:
        """Run the request with its body replayed and its answer held back; the answer to send once kept."""
        start: Message = {}
        chunks: list[bytes] = []
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        scope[_SCOPE] = request
        try:
            await self.app(scope, replay, capture)
        except KeyAnswered as answered:  # a copy sent to another process was answered first
            return _replay(answered.earlier, request, scope["path"])
        except BaseException:
            if request.held is not None:
                await _on_held_thread(request.held.roll_back)
            raise
        raw = [(k, v) for k, v in start.get("headers", ()) if k.lower() != b"content-length"]
        reply: Reply = (start.get("status", 500), raw, b"".join(chunks))
        kept = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw if k.decode("latin-1").lower() in _REPLAYED}
        answer = Answer(reply[0], json.dumps(kept), reply[2])
        return await self._keep(store, request, answer, reply, scope["path"])

    async def _keep(self, store: Any, request: Keyed, answer: Answer, reply: Reply, path: str) -> Reply:
        """Keep the answer with the request's write, or alone; the reply to send (the key's earlier answer if
        another was kept meanwhile)."""
        held = request.held
        if held is not None:
            if answer.status < 400:
                try:
                    await _on_held_thread(lambda: held.commit(answer))
                except DatabaseError as exc:  # the commit failed: nothing was written, nothing kept
                    error = database_error(exc)
                    return _problem(error.status, "Service Unavailable", detail(error), path)
                return reply
            # An error after the write (the route failed once it had written): nothing of it is kept.
            await _on_held_thread(held.roll_back)
        if answer.status >= 500:
            return reply

        def keep_first() -> Answered | None:
            with store.db.writer(checked=False) as conn:  # the state store checked it once
                return idempotency.keep_first(conn, request, answer)

        try:
            earlier = await run_in_threadpool(keep_first)
        except DatabaseError:  # not kept: a retry runs again, and this request wrote nothing to the record
            return reply
        return reply if earlier is None else _replay(earlier, request, path)


async def _on_held_thread(work: Callable[[], None]) -> None:
    """Commit or roll back a held write on a thread of its own pool, and finish it even if the request is
    cancelled meanwhile: until it ends, no other write can start."""
    try:
        threads = _HELD_THREADS.get()
    except LookupError:
        threads = anyio.CapacityLimiter(2)  # one write is held at a time in a process
        _HELD_THREADS.set(threads)
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(work, limiter=threads)


def idempotency_parameter(operation: dict[str, Any]) -> None:
    """Say in an OpenAPI operation (a POST) that it takes an `Idempotency-Key`, and how a reused key is refused."""
    operation.setdefault("parameters", []).append({
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "a key of yours for this request, kept a day: a retry with it gets the first answer and "
                       "changes nothing", "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY,
                                                     "pattern": "^[\\x20-\\x7e]+$"}})
    refusals = problem_responses(400, 409, 422, why={
        400: "bad parameters or body, or a malformed Idempotency-Key (`errors` names each)",
        409: "a conflict with the record's state",
        422: "this Idempotency-Key was sent before with another request"})
    operation["responses"].update({str(status): answer for status, answer in refusals.items()})  # the keys' type


class _NotAtOnce(Exception):
    """The caller could not be looked up at once (`StateStore.read_at_once`): look on a worker thread."""


def _caller(scope: Scope, headers: dict[bytes, bytes], key: str, since: datetime,
            at_once: bool = False) -> tuple[str, Answered | None] | None:
    """The bearer token's user and the answer kept for its key, in one read; None if not signed in. `at_once`: on
    this thread without waiting (`StateStore.read_at_once`), or `_NotAtOnce`."""
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return None
    app_state = scope["app"].state
    now = app_state.clock.now()

    def read(conn: Connection, state: State) -> tuple[str, Answered | None]:
        caller = tokens.bearer(conn, state, token.strip(), now)
        checked(scope, caller, state)  # the route's own look for the caller would find the same
        user = str(caller.user.name)
        return user, idempotency.find(conn, user, key, since)

    store = app_state.store
    try:
        found: tuple[str, Answered | None] | None = store.read_at_once(read) if at_once else store.read(read)
    except ContactGroupError:
        return None
    if found is None:
        raise _NotAtOnce
    return found


def _earlier(store: Any, request: Keyed) -> Answered | None:
    with store.db.reader(checked=False) as conn:
        return idempotency.find(conn, request.user, request.key, request.since)


def _request_hash(scope: Scope, content_type: bytes, body: bytes) -> bytes:
    """What makes two requests the same: method, path, query, and body — a multipart body without its boundary,
    which each client picks afresh for every request it sends (a retried upload is the same request)."""
    kind, _, boundary = content_type.partition(b"boundary=")
    if kind.strip().lower().startswith(b"multipart/") and boundary:
        body = body.replace(boundary.split(b";")[0].strip(b'" '), b"")
        content_type = kind
    return hashlib.sha256(b"\n".join([scope["method"].encode(), scope["path"].encode(),
                                      scope.get("query_string", b""), content_type, body])).digest()


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(earlier: Answered, request: Keyed, path: str) -> Reply:
    if earlier.request_hash != request.request_hash:
        return _problem(422, "Unprocessable Content", f"Idempotency-Key {request.key!r} was sent before with "
                                                      "another request: a key names one request (use a new key)",
                        path)
    if earlier.status is None:  # claimed by an older version whose server stopped before it answered
        return _problem(409, "Conflict", f"the request with Idempotency-Key {request.key!r} was never answered "
                                         "(its server stopped): whether it changed anything is unknown, so look "
                                         "before sending it again with a new key", path)
    headers = {**json.loads(earlier.headers), "idempotent-replayed": "true"}
    return earlier.status, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()], earlier.body


async def _send(send: Send, reply: Reply) -> None:
    status, headers, body = reply
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
