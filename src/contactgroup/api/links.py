"""OpenAPI links of `/api/v1`: where an answer leads next, declared once here from the shape of the paths, so that
a route of a known shape is linked without a word (a client, and schemathesis's stateful run, follow them).

- A created object's key leads to every operation of that object (`/api/v1/offers` → `/api/v1/offers/{offer_id}`
  and what hangs below it), with the ETag it was created with as `If-Match` where the operation takes one.
- A read or a change of one object that answers its ETag leads to every operation of that object, with that ETag:
  read, then amend the version read.
- A created object's key fills the field of another create that names it: an offer's id is a consent's or an
  allocation's `offer`, an allocation's id a shipment's `allocation`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

API = "/api/v1/"
IF_MATCH = "If-Match"

# Each collection whose create names its object in its own paths, and where the created object holds that name (a
# JSON pointer into the answer). A collection that creates objects with paths of their own must be here:
# tests/api/test_links.py says which is missing.
KEYS: dict[str, str] = {
    "requirements": "/id",
    "offers": "/id",
    "allocations": "/id",
    "consents": "/id",
    "deliveries": "/id",
    "funds": "/code",
    "item-classes": "/code",
    "members": "/code",
    "users": "/user",
    "proposals": "/proposal/id",
    "tokens": "/id",
}
# A collection above whose objects other creates name in their body, and the field that names one.
NAMED_IN_BODIES: dict[str, str] = {"offers": "offer", "requirements": "requirement", "allocations": "allocation"}


def add_links(schema: dict[str, Any]) -> None:
    """Add the links to the operations of `schema` (an OpenAPI document as FastAPI builds it), in place."""
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    for collection, pointer in KEYS.items():
        created = _response(paths.get(f"{API}{collection}", {}).get("post", {}), "201")
        if created is None:
            continue
        for param, operation in object_operations(paths, collection):
            _link(created, operation, {f"path.{param}": f"$response.body#{pointer}"})
            answered = _response(operation, "200")
            if answered is not None and _has_etag(answered):
                for _, target in object_operations(paths, collection):
                    _link(answered, target, {f"path.{param}": f"$request.path.{param}"})
        field = NAMED_IN_BODIES.get(collection)
        for url, path in paths.items():
            if field is not None and url.startswith(API) and field in _body_fields(schema, path.get("post", {})):
                _link(created, path["post"], {}, body={field: f"$response.body#{pointer}"})


def object_operations(paths: dict[str, dict[str, Any]], collection: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The operations of one object of `collection`: those whose path goes on from `/api/v1/<collection>/{param}`,
    each with that param."""
    prefix = f"{API}{collection}/{{"
    for url, path in paths.items():
        if url.startswith(prefix):
            param = url[len(prefix):].split("}", 1)[0]
            for operation in path.values():
                yield param, operation


def _response(operation: dict[str, Any], status: str) -> dict[str, Any] | None:
    response: dict[str, Any] | None = operation.get("responses", {}).get(status)
    return response


def _has_etag(response: dict[str, Any] | None) -> bool:
    return response is not None and "ETag" in response.get("headers", {})


def _takes_if_match(operation: dict[str, Any]) -> bool:
    return any(p.get("in") == "header" and p.get("name") == IF_MATCH for p in operation.get("parameters", []))


def _body_fields(schema: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The top-level fields of an operation's JSON body."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    ref = body.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        body = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
    return set(body.get("properties", {}))


def _link(source: dict[str, Any], target: dict[str, Any], parameters: dict[str, str],
          body: dict[str, str] | None = None) -> None:
    """Link `source` (a response) to `target` (an operation), carrying the ETag as If-Match where both have one."""
    if _has_etag(source) and _takes_if_match(target):
        parameters = {**parameters, f"header.{IF_MATCH}": "$response.header.ETag"}
    link: dict[str, Any] = {"operationId": target["operationId"]}
    if parameters:
        link["parameters"] = parameters
    if body is not None:
        link["requestBody"] = body
    source.setdefault("links", {})[target["operationId"]] = link
