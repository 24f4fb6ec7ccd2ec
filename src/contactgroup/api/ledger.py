"""The record over HTTP: the signed checkpoint with cosignatures, proofs, leaf hashes, the witness policy,
and the pull form of C2SP tlog-witness (witnesses fetch, verify and POST their cosignature back).
See docs/formats/ledger.md, "Over HTTP"."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from contactgroup.domain.errors import ValidationFailed
from contactgroup.services import ledger as svc
from contactgroup.storage.database import Database

router = APIRouter(tags=["record"])
TEXT = "text/plain; charset=utf-8"
_signing = threading.Lock()  # one checkpoint signer at a time per process; the database refuses duplicates too

NonNegative = Annotated[int, Query(ge=0)]


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


@router.get("/checkpoint", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}, "description": "a C2SP signed checkpoint note"}})
def get_checkpoint(request: Request) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint note) with every stored cosignature line appended.

    A server holding the log key signs a new checkpoint first when the log has grown."""
    db = _db(request)
    signer = request.app.state.signer
    if signer is not None:
        with db.reader() as conn:
            latest = svc.latest_checkpoint(conn)
            grown = latest is None or latest[0] < svc.tree_size(conn)
        if grown:
            with _signing:
                svc.sign_checkpoint(db, signer, request.app.state.clock)
    with db.reader() as conn:
        note = svc.current_checkpoint(conn)
    return PlainTextResponse(note, media_type=TEXT, headers={"Cache-Control": "no-store"})


@router.get("/proof/inclusion")
def get_inclusion(request: Request, index: NonNegative, size: Annotated[int | None, Query(ge=0)] = None
                  ) -> dict[str, Any]:
    """The RFC 9162 audit path of leaf `index` in the tree of `size` leaves (default: the whole log)."""
    with _db(request).reader() as conn:
        return svc.prove_inclusion(conn, index, size).as_json()


@router.get("/handovers")
def get_handovers(request: Request, size: Annotated[int | None, Query(ge=0)] = None) -> list[dict[str, Any]]:
    """Each handover of the coordinating authority in the tree of `size` leaves: the event's canonical bytes
    (base64, carrying the members' signed approvals of the new log key) and its inclusion proof."""
    with _db(request).reader() as conn:
        return svc.handovers(conn, size)


@router.get("/proof/consistency")
def get_consistency(request: Request, old: NonNegative, new: Annotated[int | None, Query(ge=0)] = None
                    ) -> dict[str, Any]:
    """The RFC 9162 consistency proof from the tree of `old` leaves to the tree of `new` (default: whole log)."""
    with _db(request).reader() as conn:
        return svc.prove_consistency(conn, old, new).as_json()


@router.get("/leaves", response_class=PlainTextResponse)
def get_leaves(request: Request, start: NonNegative = 0, end: Annotated[int | None, Query(ge=0)] = None
               ) -> PlainTextResponse:
    """Leaf hashes [start, end), hex, one per line (at most 65,536 per request)."""
    with _db(request).reader() as conn:
        size = svc.tree_size(conn)
        stop = min(size, start + svc.MAX_LEAVES) if end is None else end
        hashes = svc.leaves(conn, start, stop, limit=svc.MAX_LEAVES)
    return PlainTextResponse("".join(h.hex() + "\n" for h in hashes), media_type=TEXT,
                             headers={"X-Tree-Size": str(size)})


@router.get("/policy")
def get_policy(request: Request) -> dict[str, Any]:
    """The log's origin and verifier key, its witnesses and the quorum (k of n) that makes a checkpoint count."""
    with _db(request).reader() as conn:
        info = svc.log_info(conn)
    return {
        "origin": info.origin,
        "log_key": info.key.text if info.key else None,
        "witnesses": [{"name": name, "key": key.text} for name, key in info.witnesses],
        "quorum": min(info.quorum, len(info.witnesses)) if info.witnesses else 0,
    }


@router.post("/cosignatures", status_code=201)
async def post_cosignature(request: Request, size: Annotated[int | None, Query(ge=0)] = None) -> dict[str, Any]:
    """A witness's cosignature line (C2SP tlog-cosignature) of the checkpoint of `size` (default: the latest).

    Body: text/plain, the line(s) `— <name> <base64>`. Verified against the witness keys in the policy."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("body must be UTF-8 text", where="cosignature") from None
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        raise ValidationFailed("body must hold a cosignature line", where="cosignature")
    results = [await run_in_threadpool(svc.add_cosignature, _db(request), line, size, request.app.state.clock)
               for line in lines]
    last = results[-1]
    return {"size": last.size, "accepted": [r.witness for r in results], "witnessed": last.witnessed,
            "cosigned_by": list(last.cosigned_by), "quorum": last.quorum}
