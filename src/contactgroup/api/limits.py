"""Request bodies are refused above a size before they are read: a declared `Content-Length` over the limit is
answered 413 at once, and a body sent without one (chunked) is cut off as soon as it passes the limit."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactgroup.api.problem import PROBLEM

MAX_BODY = 10 * 1024 * 1024  # bytes: above the largest import a desk sends, far below a flood


def _detail(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes"


class BodyLimit:
    """ASGI middleware: at most `max_body` bytes of request body."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._refuse(scope, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            # An HTTPException, so that FastAPI's body parsing lets it through to the problem+json handler.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise HTTPException(413, _detail(self.max_body))
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps({"type": "about:blank", "title": "Content Too Large", "status": 413,
                           "detail": _detail(self.max_body),
                           "instance": scope.get("path", "")}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
