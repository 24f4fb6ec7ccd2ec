"""`Idempotency-Key` on every POST of `/api/v1`: a retry with the same key and request gets the first answer
(status, headers that matter, body) and changes nothing; the same key with another request is refused (422).

Keys are per user (the bearer token's) and kept a day. The key is claimed before the request runs, so that two
copies sent at once cannot both write: the second is told the first is still being answered (409). A server error
releases the key, so that a retry runs again; an answer lost between the commit and the key's update leaves the
key claimed, and its retries refused, until it expires — never written twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactgroup.api.problem import PROBLEM, problem_responses
from contactgroup.domain.errors import ContactGroupError
from contactgroup.services import tokens
from contactgroup.storage import idempotency
from contactgroup.storage.idempotency import Answered

HEADER = "idempotency-key"
KEPT = timedelta(hours=24)
MAX_KEY = 255
_REPLAYED = ("content-type", "etag", "location")


def _problem(status: int, title: str, detail: str, path: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail,
                       "instance": path}).encode()
    return status, {"content-type": PROBLEM}, body


class Idempotency:
    """ASGI middleware keeping the first answer to each user's `Idempotency-Key`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", ())) if scope["type"] == "http" else {}
        key_bytes = headers.get(HEADER.encode())
        if key_bytes is None or scope["method"] != "POST" or not scope["path"].startswith("/api/v1/"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        key = key_bytes.decode("latin-1")
        if not 1 <= len(key) <= MAX_KEY or not key.isprintable() or not key.isascii():
            await _send(send, *_problem(400, "Bad Request", f"Idempotency-Key must be 1 to {MAX_KEY} printable "
                                                            "ASCII characters", path))
            return
        user = await run_in_threadpool(_user, scope, headers)
        if user is None:  # not signed in: the route answers 401 itself, and nothing is kept
            await self.app(scope, receive, send)
            return
        try:
            body = await _body(receive)
        except HTTPException as exc:  # too large: BodyLimit's refusal, said here since no handler is further out
            await _send(send, *_problem(exc.status_code, "Content Too Large", str(exc.detail), path))
            return
        digest = _request_hash(scope, headers.get(b"content-type", b""), body)
        app_state = scope["app"].state
        store, now = app_state.store, app_state.clock.now()

        def claim() -> Answered | None:
            with store.db.writer(checked=False) as conn:  # the state store checked it once
                return idempotency.claim(conn, user, key, digest, now, now - KEPT)

        earlier = await run_in_threadpool(claim)
        if earlier is not None:
            await _send(send, *_earlier(earlier, digest, key, path))
            return
        await self._answer(scope, body, receive, send, store, user, key)

    async def _answer(self, scope: Scope, body: bytes, receive: Receive, send: Send, store: Any, user: str,
                      key: str) -> None:
        """Run the request with its body replayed; keep the answer unless it is a server error."""
        status, kept, chunks = 500, {}, []
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            nonlocal status, kept
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = {k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", ())
                        if k.decode("latin-1").lower() in _REPLAYED}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            def settle() -> None:
                with store.db.writer(checked=False) as conn:  # the state store checked it once
                    if status >= 500:
                        idempotency.release(conn, user, key)
                    else:
                        idempotency.settle(conn, user, key, status, json.dumps(kept), b"".join(chunks))

            await run_in_threadpool(settle)


def idempotency_parameter(operation: dict[str, Any]) -> None:
    """Say in an OpenAPI operation (a POST) that it takes an `Idempotency-Key`, and how a reused key is refused."""
    operation.setdefault("parameters", []).append({
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "a key of yours for this request, kept a day: a retry with it gets the first answer and "
                       "changes nothing", "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY,
                                                     "pattern": "^[\\x20-\\x7e]+$"}})
    operation["responses"].update(problem_responses(400, 409, 422, why={
        400: "bad parameters or body, or a malformed Idempotency-Key (`errors` names each)",
        409: "a conflict with the record's state, or the first request with this Idempotency-Key is still being "
             "answered",
        422: "this Idempotency-Key was sent before with another request"}))


def _user(scope: Scope, headers: dict[bytes, bytes]) -> str | None:
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return None
    app_state = scope["app"].state
    now = app_state.clock.now()
    try:
        return str(app_state.store.read(lambda conn, state: tokens.bearer(conn, state, token.strip(), now)).user.name)
    except ContactGroupError:
        return None


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


def _earlier(earlier: Answered, digest: bytes, key: str, path: str) -> tuple[int, dict[str, str], bytes]:
    if earlier.request_hash != digest:
        return _problem(422, "Unprocessable Content", f"Idempotency-Key {key!r} was sent before with another "
                                                      "request: a key names one request (use a new key)", path)
    if earlier.status is None:
        return _problem(409, "Conflict", f"the request with Idempotency-Key {key!r} is still being answered: "
                                         "retry in a moment", path)
    return earlier.status, {**json.loads(earlier.headers), "idempotent-replayed": "true"}, earlier.body


async def _send(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
