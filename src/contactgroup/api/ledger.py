"""The record over HTTP: the signed checkpoint with cosignatures, proofs, leaf hashes, the witness policy,
and the pull form of C2SP tlog-witness (witnesses fetch, verify and POST their cosignature back); under `/api/v1`,
the witness policy changed by the coordinator and the public release, as signed-in users reach them.
See docs/formats/ledger.md, "Over HTTP"."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as FastPath
from fastapi import Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from contactgroup.api.caller import Reader, Writer
from contactgroup.api.problem import problem_responses
from contactgroup.api.resource import act
from contactgroup.api.routing import Router
from contactgroup.domain.errors import NotFound, ValidationFailed
from contactgroup.ledger.cosignature import CosignerKey
from contactgroup.ledger.note import VerifierKey
from contactgroup.services import checkpoints, log_keys, proofs, witness_policy
from contactgroup.services.coordination import Caller
from contactgroup.services.publish import MAX_RELEASE_NUMBER, publish
from contactgroup.storage.database import Database, UnitOfWork

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
    body: str = Field(description="the event's leaf form (its canonical bytes, naming no account), base64")
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
    """Each handover of the coordinating authority in the tree of `size` leaves: the event's leaf form
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


# --- the witness policy and the public release, as a signed-in user reaches them (`contactgroup ledger ...`,
# `contactgroup publish`) ----------------------------------------------------------------------------------------

_WRITES = problem_responses(400, 401, 403, 404, 409)
_NAME = Field(min_length=1, max_length=200, description="the witness's name (its key's name)")
_VKEY = Field(min_length=1, max_length=500, description="its verifier key, cosigner (0x04) or note (0x01) form")


class WitnessPolicyDoc(BaseModel):
    origin: str
    log_key: str | None = Field(description="the log's verifier key; null before one is recorded")
    earlier_log_keys: list[str] = Field(description="the keys of earlier authorities, which signed the checkpoints "
                                                    "before each handover, oldest first")
    witnesses: list[WitnessDoc]
    quorum: int = Field(ge=1, description="the rule: cosignatures a checkpoint needs (k)")
    witnessed_when: int = Field(ge=0, description="k capped at the witnesses there are: what counts now")


class WitnessIn(BaseModel):
    name: str = _NAME
    key: str = _VKEY
    replace: bool = Field(default=False, description="change the key of a witness already named")


class WitnessAdded(BaseModel):
    name: str
    key: str
    previous: str | None = Field(description="its key before (the same key: nothing was recorded), or null")


class WitnessRemoved(BaseModel):
    name: str
    key: str = Field(description="the key it had")
    witnesses: int = Field(ge=0, description="witnesses left")
    witnessed_when: int = Field(ge=0, description="cosignatures a checkpoint now needs (0: none, signed only)")


class QuorumIn(BaseModel):
    quorum: int = Field(ge=1, le=1000, description="k: cosignatures a checkpoint needs, at most the witnesses")


def witness_policy_doc(info: witness_policy.LogInfo, earlier: Sequence[VerifierKey]) -> WitnessPolicyDoc:
    return WitnessPolicyDoc(origin=info.origin, log_key=info.key.text if info.key else None,
                            earlier_log_keys=[k.text for k in earlier],
                            witnesses=[WitnessDoc(name=n, key=k.text) for n, k in info.witnesses],
                            quorum=info.quorum, witnessed_when=info.effective_quorum)


def _policy_now(request: Request) -> WitnessPolicyDoc:
    with _db(request).reader() as conn:
        return witness_policy_doc(witness_policy.log_info(conn), log_keys.log_keys(conn)[:-1])


@router.get("/api/v1/witness-policy", tags=["record"], response_model=WitnessPolicyDoc,
            responses=problem_responses(401))
def get_witness_policy(request: Request, caller: Reader) -> WitnessPolicyDoc:
    """The coordination's published witness policy (k of n), with the log's keys, present and earlier."""
    return _policy_now(request)


@router.post("/api/v1/witness-policy/quorum", tags=["record"], response_model=WitnessPolicyDoc, responses=_WRITES)
def set_quorum(request: Request, caller: Writer, body: QuorumIn) -> WitnessPolicyDoc:
    """Set k, the cosignatures a checkpoint needs (recorded in the log; the coordinating authority)."""
    act(request, caller, lambda uow, who: witness_policy.set_quorum(uow, who, body.quorum))
    return _policy_now(request)


@router.post("/api/v1/witnesses", tags=["record"], response_model=WitnessAdded, responses=_WRITES)
def add_witness(request: Request, caller: Writer, body: WitnessIn) -> WitnessAdded:
    """Name a witness in the published policy (recorded in the log; the coordinating authority). Changing the key
    of a witness already named needs `replace`; the same key again records nothing."""
    key, previous = act(request, caller, lambda uow, who: witness_policy.add_witness(
        uow, who, body.name, body.key, replace=body.replace))
    return WitnessAdded(name=body.name, key=key.text, previous=previous.text if previous else None)


@router.delete("/api/v1/witnesses/{name}", tags=["record"], response_model=WitnessRemoved, responses=_WRITES)
def remove_witness(request: Request, caller: Writer,
                   name: Annotated[str, FastPath(min_length=1, max_length=200)]) -> WitnessRemoved:
    """Take a witness out of the published policy (recorded in the log; the coordinating authority); its past
    cosignatures stay valid."""
    def remove(uow: UnitOfWork, who: Caller) -> tuple[CosignerKey, witness_policy.LogInfo]:
        return witness_policy.remove_witness(uow, who, name), witness_policy.log_info_of_state(uow.state)

    key, info = act(request, caller, remove)
    return WitnessRemoved(name=name, key=key.text, witnesses=len(info.witnesses),
                          witnessed_when=info.effective_quorum)


class ReleaseFile(BaseModel):
    path: str = Field(description="where the file goes in the release's directory (`kiel/data_explorer.csv`)")
    content: str = Field(description="its bytes, base64")


class ReleaseDoc(BaseModel):
    tree_size: int = Field(ge=0, description="the witnessed (or signed) checkpoint the release shows")
    records: int = Field(ge=0, description="published records with their events and proofs")
    not_in_iati: list[str] = Field(description="members with humanitarian or financial figures and no IATI "
                                               "organisation identifier")
    not_in_kiel: list[str] = Field(description="donors whose code the Kiel tracker's layout cannot carry")
    actors: list[str] = Field(description="the accounts the evidence's events name as their actor")
    files: list[ReleaseFile]


@router.get("/api/v1/release", tags=["record"], response_model=ReleaseDoc, responses=problem_responses(
    400, 401, 404, why={404: "no signed checkpoint yet: a release shows the record at one"}))
def get_release(request: Request, caller: Reader,
                release: Annotated[int, Query(ge=1, le=MAX_RELEASE_NUMBER, description=(
                    "the release's number in the Kiel tracker's layout"))] = 1) -> ReleaseDoc:
    """The public transparency release at the newest witnessed checkpoint, every file of it, exactly as
    `contactgroup publish` writes them (it is public: any signed-in user may have it)."""
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        done = publish(_db(request), Path(scratch) / "release", request.app.state.clock, release)
        files = [ReleaseFile(path=name, content=base64.b64encode((done.directory / name).read_bytes()).decode())
                 for name in done.files]
    return ReleaseDoc(tree_size=done.tree_size, records=done.records, not_in_iati=list(done.not_in_iati),
                      not_in_kiel=list(done.not_in_kiel), actors=list(done.actors), files=files)
