"""RFC 9457 problem documents: how every error of the API is rendered, and how the OpenAPI schema says so."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contactgroup.domain.errors import ContactGroupError
from contactgroup.encoding.canonical import plain
from contactgroup.services.wording import detail as detail  # re-exported: how the API words an error

PROBLEM = "application/problem+json"


class ProblemItem(BaseModel):
    """One finding about a bad request: where (parameter or field) and what is wrong."""

    where: str
    message: str


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document (`application/problem+json`)."""

    type: str = Field(description="always `about:blank`: the status code says what kind of problem it is")
    title: str = Field(min_length=1, description="the status code's phrase")
    status: int = Field(ge=400, le=599)
    detail: str = Field(min_length=1, description="what went wrong, for a person")
    instance: str | None = Field(default=None, description="the request's path")
    errors: list[ProblemItem] | None = Field(default=None, description="each bad parameter (400 only)")
    code: str | None = Field(default=None, description=(
        "what kind of refusal this is, for a program (`not-found`, `governed`, ...; `invalid` for bad input); absent "
        "from HTTP's own refusals (an unknown path, a malformed body)"))
    params: dict[str, Any] | None = Field(default=None, description="what the refusal names, as data "
                                                                    "(`{\"kind\": \"member\", \"id\": \"XYZ\"}`)")


def problem(status: int, detail: str, *, title: str | None = None, instance: str = "",
            headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {"type": "about:blank", "title": title or HTTPStatus(status).phrase, "status": status,
                            "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def refusal(exc: ContactGroupError) -> dict[str, Any]:
    """The problem document's extension members for a platform error: its `code` and `params`, from which a client
    words its own hint, as the command line does with the same code locally (`contactgroup member list` after a
    member not found). Each parameter is one the message names already."""
    if not exc.code:
        return {}
    return {"code": exc.code, "params": {name: _plain(value) for name, value in exc.params.items()}}


def _plain(value: Any) -> Any:
    try:
        return plain(value)
    except (TypeError, ValueError):
        return str(value)


_REF = "#/components/schemas/{model}"
_WHY = {
    400: "bad parameters or body: the client's to fix (`errors` names each)",
    401: "not signed in: no credentials, or unknown, expired or revoked ones, or a disabled user",
    403: "refused",
    404: "not found",
}


def problem_responses(*statuses: int, why: Mapping[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries: each of `statuses` answers with a problem document; `why` describes when."""
    why = why or {}
    return {status: {"description": why.get(status, _WHY.get(status, HTTPStatus(status).phrase)),
                     "content": {PROBLEM: {"schema": {"$ref": _REF.format(model="Problem")}}}}
            for status in statuses}


def problem_components() -> dict[str, Any]:
    """The component schemas that `problem_responses` refers to."""
    schema = ProblemDocument.model_json_schema(ref_template=_REF)
    defs = schema.pop("$defs", {})
    return {"Problem": schema, **defs}
