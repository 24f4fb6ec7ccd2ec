"""The record over HTTP: the signed checkpoint with cosignatures, proofs, leaf hashes, the witness policy,
and the pull form of C2SP tlog-witness (witnesses fetch, verify and POST their cosignature back).
See docs/formats/ledger.md, "Over HTTP"."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from contactgroup.api.problem import problem_responses
from contactgroup.api.routing import Router
from contactgroup.domain.errors import NotFound, ValidationFailed
from contactgroup.services import checkpoints, proofs, witness_policy
from contactgroup.storage.database import Database

router = Router(tags=["record"])
TEXT = "text/plain; charset=utf-8"

# Sizes and indices are stored as 64-bit integers: anything larger names no tree, index or checkpoint.
NonNegative = Annotated[int, Query(ge=0, le=proofs.MAX_SIZE)]
OptionalSize = Annotated[int | None, Query(ge=0, le=proofs.MAX_SIZE)]

_HEX32 = r"^[0-9a-f]{64}$"
_B64_32 = r"^[A-Za-z0-9+/]{43}=$"  # base64 of a 32-byte hash
_HEX_LINES = r"^([0-9a-f]{64}\n)*$"


class InclusionProofDoc(BaseModel):
    index: int = Field(ge=0)
    tree_size: int = Field(ge=1)
    leaf_hash: str = Field(pattern=_HEX32, description="hex")
    root: str = Field(pattern=_B64_32, description="base64")
    proof: list[str] = Field(description="the audit path, base64 hashes")


class ConsistencyProofDoc(BaseModel):
    old_size: int = Field(ge=0)
    new_size: int = Field(ge=0)
    old_root: str = Field(pattern=_B64_32, description="base64")
    new_root: str = Field(pattern=_B64_32, description="base64")
    proof: list[str] = Field(description="RFC 9162 consistency proof, base64 hashes; empty for old = 0 or new")


class HandoverDoc(BaseModel):
    index: int = Field(ge=0)
    body: str = Field(description="the event's canonical bytes, base64")
    tree_size: int = Field(ge=1)
    proof: list[str] = Field(description="its inclusion proof in the tree of `tree_size` leaves, base64 hashes")


class WitnessDoc(BaseModel):
    name: str
    key: str = Field(description="the witness's cosigner verifier key")


class PolicyDoc(BaseModel):
    origin: str
    log_key: str | None = Field(description="the log's verifier key; null before one is recorded")
    witnesses: list[WitnessDoc]
    quorum: int = Field(ge=0, description="cosignatures (k of the n witnesses) that make a checkpoint count")


class CosignatureAcceptedDoc(BaseModel):
    size: int = Field(ge=0)
    accepted: list[str] = Field(description="the witness of each line posted")
    witnessed: bool = Field(description="whether the checkpoint now has its quorum")
    cosigned_by: list[str]
    quorum: int = Field(ge=0)


_COSIGNATURE_BODY = {
    "required": True,
    "description": "one or more C2SP tlog-cosignature lines `— <name> <base64>`, newline-separated (UTF-8)",
    # well-formed (key id, timestamp, signature: 4 + 8 + 64 bytes), from no real witness
    "content": {"text/plain": {"schema": {"type": "string"},
                               "example": f"— w.example {base64.b64encode(bytes(76)).decode('ascii')}\n"}},
}


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


@router.get("/checkpoint", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "a C2SP signed checkpoint note, cosignature lines appended",
                             "headers": {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}}},
                       **problem_responses(400, 403, 404, why={
                           403: "this server's key is not the log's verifier key",
                           404: "no signed checkpoint yet, or none of that size (or no log key recorded)"})})
def get_checkpoint(request: Request, size: OptionalSize = None) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint note) with every stored cosignature line appended; with
    `size`, the stored checkpoint of that size (an older one that witnesses cosigned, for receipts).

    This route only reads: a server holding the log key signs a new checkpoint in the background when the log has
    grown, at most once per checkpoint interval (`serve --checkpoint-interval`), so witnesses polling at
    different moments see, and cosign, the same checkpoint."""
    with _db(request).reader() as conn:
        if size is None:
            note = checkpoints.current_checkpoint(conn)
        else:
            stored = checkpoints.checkpoint_at(conn, size)
            if stored is None:
                raise NotFound(f"no signed checkpoint of size {size}")
            note = checkpoints.with_cosignatures(stored, checkpoints.cosignature_lines(conn, size))
    return PlainTextResponse(note, media_type=TEXT, headers={"Cache-Control": "no-store"})


@router.get("/proof/inclusion", response_model=InclusionProofDoc, responses=problem_responses(400))
def get_inclusion(request: Request, index: NonNegative, size: OptionalSize = None) -> dict[str, Any]:
    """The RFC 9162 audit path of leaf `index` in the tree of `size` leaves (default: the whole log)."""
    with _db(request).reader() as conn:
        return proofs.prove_inclusion(conn, index, size).as_json()


@router.get("/handovers", response_model=list[HandoverDoc], responses=problem_responses(400))
def get_handovers(request: Request, size: OptionalSize = None) -> list[dict[str, Any]]:
    """Each handover of the coordinating authority in the tree of `size` leaves: the event's canonical bytes
    (base64, carrying the members' signed approvals of the new log key) and its inclusion proof."""
    with _db(request).reader() as conn:
        return proofs.handovers(conn, size)


@router.get("/proof/consistency", response_model=ConsistencyProofDoc, responses=problem_responses(400))
def get_consistency(request: Request, old: NonNegative, new: OptionalSize = None) -> dict[str, Any]:
    """The RFC 9162 consistency proof from the tree of `old` leaves to the tree of `new` (default: whole log)."""
    with _db(request).reader() as conn:
        return proofs.prove_consistency(conn, old, new).as_json()


@router.get("/leaves", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string", "pattern": _HEX_LINES}}},
                             "description": "leaf hashes, hex, one per line",
                             "headers": {"X-Tree-Size": {"required": True, "description": "leaves in the log now",
                                                         "schema": {"type": "string", "pattern": "^[0-9]+$"}}}},
                       **problem_responses(400)})
def get_leaves(request: Request, start: NonNegative = 0, end: OptionalSize = None) -> PlainTextResponse:
    """Leaf hashes [start, end), hex, one per line (at most 65,536 per request)."""
    with _db(request).reader() as conn:
        size = proofs.tree_size(conn)
        stop = min(size, start + proofs.MAX_LEAVES) if end is None else end
        hashes = proofs.leaves(conn, start, stop, limit=proofs.MAX_LEAVES)
    return PlainTextResponse("".join(h.hex() + "\n" for h in hashes), media_type=TEXT,
                             headers={"X-Tree-Size": str(size)})


@router.get("/policy", response_model=PolicyDoc)
def get_policy(request: Request) -> dict[str, Any]:
    """The log's origin and verifier key, its witnesses and the quorum (k of n) that makes a checkpoint count."""
    with _db(request).reader() as conn:
        info = witness_policy.log_info(conn)
    return {
        "origin": info.origin,
        "log_key": info.key.text if info.key else None,
        "witnesses": [{"name": name, "key": key.text} for name, key in info.witnesses],
        "quorum": info.effective_quorum,
    }


@router.post("/cosignatures", status_code=201, response_model=CosignatureAcceptedDoc,
             responses=problem_responses(400, 403, 404, why={
                 403: "an unknown witness, or a signature that does not verify for the checkpoint",
                 404: "no signed checkpoint of that size (or none yet)"}),
             openapi_extra={"requestBody": _COSIGNATURE_BODY})
async def post_cosignature(request: Request, size: OptionalSize = None) -> dict[str, Any]:
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
    results = [await run_in_threadpool(checkpoints.add_cosignature, _db(request), line, size, request.app.state.clock)
               for line in lines]
    last = results[-1]
    return {"size": last.size, "accepted": [r.witness for r in results], "witnessed": last.witnessed,
            "cosigned_by": list(last.cosigned_by), "quorum": last.quorum}
