"""The OpenAPI links of `/api/v1` (api/links.py), as the served document says them: what a created object leads
to, and that the document stays valid with them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient

from contactgroup.api.app import create_app
from contactgroup.api.links import API, KEYS, object_operations


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    document: dict[str, Any] = TestClient(create_app("sqlite://")).get("/openapi.json").json()
    return document


def _links(document: dict[str, Any], method: str, url: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][url][method]["responses"][status].get("links", {})
    return found


def _operation_id(document: dict[str, Any], method: str, url: str) -> str:
    return str(document["paths"][url][method]["operationId"])


def test_the_served_document_with_its_links_is_valid_openapi(served: dict[str, Any]) -> None:
    schemathesis.openapi.from_dict(served).validate()


def test_a_created_requirement_leads_to_its_page_its_amendment_with_its_etag_and_its_actions(
        served: dict[str, Any]) -> None:
    links = _links(served, "post", "/api/v1/requirements", "201")
    one = "/api/v1/requirements/{req_id}"
    assert links[_operation_id(served, "get", one)]["parameters"] == {"path.req_id": "$response.body#/id"}
    assert links[_operation_id(served, "patch", one)]["parameters"] == {
        "path.req_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"}
    assert _operation_id(served, "post", one + "/actions/{action}") in links
    assert _operation_id(served, "post", "/api/v1/allocations") in links  # as the allocation's requirement


def test_a_read_requirement_leads_to_its_amendment_with_the_etag_read(served: dict[str, Any]) -> None:
    one = "/api/v1/requirements/{req_id}"
    link = _links(served, "get", one, "200")[_operation_id(served, "patch", one)]
    assert link["parameters"] == {"path.req_id": "$request.path.req_id", "header.If-Match": "$response.header.ETag"}


def test_a_created_offer_names_the_offer_of_a_consent_and_of_an_allocation(served: dict[str, Any]) -> None:
    links = _links(served, "post", "/api/v1/offers", "201")
    for url in ("/api/v1/consents", "/api/v1/allocations"):
        assert links[_operation_id(served, "post", url)]["requestBody"] == {"offer": "$response.body#/id"}


def test_a_created_allocation_names_the_allocation_of_a_shipment(served: dict[str, Any]) -> None:
    links = _links(served, "post", "/api/v1/allocations", "201")
    assert links[_operation_id(served, "post", "/api/v1/deliveries")]["requestBody"] == {
        "allocation": "$response.body#/id"}


def test_every_collection_whose_objects_have_paths_says_where_a_created_one_holds_its_key(
        served: dict[str, Any]) -> None:
    """A new collection of that shape with no entry in KEYS would have no links: named here, it must be added."""
    creating = {url.removeprefix(API) for url, path in served["paths"].items()
                if url.startswith(API) and url.count("/") == 3 and "201" in path.get("post", {}).get("responses", {})}
    with_objects = {c for c in creating if any(True for _ in object_operations(served["paths"], c))}
    assert with_objects - set(KEYS) == set()


def test_no_operation_names_a_status_twice() -> None:
    """JSON allows a key written twice, and most readers keep only the last: every status is answered once."""
    def once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"written twice: {sorted(k for k in keys if keys.count(k) > 1)}"
        return dict(pairs)

    json.loads(TestClient(create_app("sqlite://")).get("/openapi.json").text, object_pairs_hook=once)
