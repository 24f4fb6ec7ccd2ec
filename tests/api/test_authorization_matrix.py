"""The authorization matrix, generated from the OpenAPI: every route of `/api/v1` × every role × the object it
touches (an offer of the caller's own member, of another member, one its coalition may see, a public one, and the
allocation, consent and shipment of each), with the expected outcome in ONE table (`MATRIX`). A route of the API
missing from the table fails; so does any response that shows a hidden offer's content (zero leaks).

Outcomes: `o` the caller may (2xx, or 409 when the object's state refuses the move — the refusal comes only after
the caller was authorized), `f` forbidden (403), `h` hidden: 404, exactly as for an object that does not exist,
`b` a bad request (400: an import whose rows the caller may not enter, each named; a request refused once the caller
was authorized, as a shipment that cannot move). Each route runs in a fresh
coordination, the roles in the order of `ROLES`, so an earlier role's change is what a later one meets."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contactgroup.api.app import create_app
from contactgroup.ledger.note import generate_key
from contactgroup.reports.scope import Scope
from contactgroup.services import reporting
from contactgroup.services.reporting import ReportRequest
from tests.api.conftest import bearer
from tests.api.scenario import OBJECTS, ROLES, Scenario, secret
from tests.conftest import KIEL_R29
from tests.factories import World


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: who may do what is decided above the database, alike on both engines (the coordination tests
    run on both); one engine keeps this route-by-route table inside the suite's time."""
    return f"sqlite:///{tmp_path / 'contactgroup.db'}"


# --- how each route is called ----------------------------------------------------------------------------------

OBJECT_PARAMS: dict[str, Callable[[Scenario, str], str]] = {
    "offer_id": lambda s, o: s.offers[o], "alloc_id": lambda s, o: s.allocations[o],
    "consent_id": lambda s, o: s.consents[o], "delivery_id": lambda s, o: s.deliveries[o],
    "shipment_id": lambda s, o: s.allocations[o],  # an open shipment: the confirmed allocation's undispatched units
}
# The verb each lifecycle route is called with, and the other path parameters.
PARAMS = {"action": {"requirements": "validate", "offers": "commit", "allocations": "accept"},
          "decision": {"consents": "grant", "movement-permissions": "grant"}, "step": {"deliveries": "hub"}}
NAMED = {"/api/v1/members/{code}/gdp": "DEU", "/api/v1/members/{code}/iati": "DEU",
         "/api/v1/item-classes/{code}": "155mm", "/api/v1/funds/{code}": "F1",
         "/api/v1/funds/{code}/pledges": "F1"}
DAY = "2024-07-01"
BODIES: dict[str, Callable[[Scenario, str], Any]] = {
    "POST /api/v1/tokens": lambda s, o: {"scope": "read", "label": "matrix"},
    "POST /api/v1/members": lambda s, o: {"code": "OSCE", "name": "OSCE", "kind": "organisation",
                                          "currency": "EUR"},
    "POST /api/v1/members/{code}/gdp": lambda s, o: {"year": 2023, "amount": "1000000", "currency": "EUR"},
    "POST /api/v1/members/{code}/iati": lambda s, o: {"identifier": "XM-DAC-5-7"},
    "POST /api/v1/users": lambda s, o: {"name": "deu-2", "party": "DEU", "role": "desk_officer"},
    "POST /api/v1/users/{name}/role": lambda s, o: {"role": "desk_officer"},
    "POST /api/v1/coalitions": lambda s, o: {"area": "naval", "name": "Naval", "leads": ["NOR"]},
    "POST /api/v1/items": lambda s, o: {"code": "fuze", "name": "Fuze", "category": "military", "unit": "each"},
    "POST /api/v1/item-classes": lambda s, o: {"code": "fuzes", "name": "Fuzes", "area": "artillery",
                                               "items": ["155-a"]},
    "PATCH /api/v1/item-classes/{code}": lambda s, o: {"remove": ["155-b"]},
    "POST /api/v1/places": lambda s, o: {"code": "LVIV-HP", "name": "Hand-over point", "country": "UKR",
                                         "kind": "handover_point"},
    "POST /api/v1/transit": lambda s, o: {"origin": "DEU", "destination": "UKR", "days": 4},
    "POST /api/v1/rates": lambda s, o: [{"currency": "USD", "on": "2024-06-28", "per_eur": "1.07"}],
    "POST /api/v1/requirements": lambda s, o: {"item_class": "155mm", "quantity": 5, "priority": 3,
                                               "needed_by": "2024-09-01", "destination": "UKR-West"},
    "PATCH /api/v1/requirements/{req_id}": lambda s, o: {"note": "amended"},
    "POST /api/v1/requirements/{req_id}/priority": lambda s, o: {"priority": 2},
    "POST /api/v1/offers": lambda s, o: {"member": "DEU", "item": "155-a", "quantity": 5,
                                         "available_from": "2024-08-01", "depot": "DEU"},
    "PATCH /api/v1/offers/{offer_id}": lambda s, o: {"quantity": 600},
    "POST /api/v1/funds": lambda s, o: {"code": "F2", "name": "Fund 2", "manager": "DEU", "area": "artillery"},
    "POST /api/v1/funds/{code}/pledges": lambda s, o: {"member": "DEU", "amount": "1000", "currency": "EUR",
                                                       "pledged_on": DAY},
    "POST /api/v1/allocations": lambda s, o: {"offer": s.offers[o], "requirement": s.requirement, "quantity": 1},
    "POST /api/v1/allocation-runs": lambda s, o: {},
    "POST /api/v1/consents": lambda s, o: {"offer": s.offers[o]},
    "POST /api/v1/member-keys": lambda s, o: {"member": "DEU",
                                              "key": str(generate_key(f"DEU-{uuid.uuid4().hex[:8]}")[1])},
    "POST /api/v1/member-keys/revoke": lambda s, o: {"key": "DEU-none+00000000"},
    "POST /api/v1/witnesses": lambda s, o: _witness(f"w-{uuid.uuid4().hex[:8]}"),
    "POST /api/v1/witness-policy/quorum": lambda s, o: {"quorum": 1},
    "POST /api/v1/proposals": lambda s, o: {"kind": "admit_member", "payload": {
        "code": "OSCE", "name": "OSCE", "kind": "organisation", "currency": "EUR"}},
    "POST /api/v1/reports/check": lambda s, o: reporting.computed(s.world.db, ReportRequest("coverage", Scope()),
                                                                  s.world.clock).as_json(),
    "POST /api/v1/deliveries": lambda s, o: {"allocation": s.allocations[o], "quantity": 1, "dispatched_on": DAY},
    "POST /api/v1/deliveries/{delivery_id}/receive": lambda s, o: {"received_on": DAY},
    "POST /api/v1/shipments/{shipment_id}/positions": lambda s, o: {"place": "LVIV-HP", "on": DAY},
    "POST /api/v1/movement-permissions/actions/{decision}": lambda s, o: {"key": f"{s.allocations[o]}/UKR/road"},
    # the bulk moves, with one id: the same outcome as the route of that one object
    "POST /api/v1/requirements/actions/{action}": lambda s, o: {"ids": [s.requirement]},
    "POST /api/v1/allocations/actions/{action}": lambda s, o: {"ids": [s.allocations[o]]},
    "POST /api/v1/deliveries/receive": lambda s, o: {"ids": [s.deliveries[o]], "received_on": DAY},
    "POST /api/v1/offers/actions/{action}": lambda s, o: {"ids": [s.offers[o]]},
    "POST /api/v1/consents/actions/{decision}": lambda s, o: {"ids": [s.consents[o]]},
    "POST /api/v1/deliveries/actions/{step}": lambda s, o: {"ids": [s.deliveries[o]]},
}
QUERIES = {"GET /api/v1/mobility/compare": "?zone=NLD,DEU,POL"}


def _witness(name: str) -> dict[str, str]:
    return {"name": name, "key": str(generate_key(name)[1])}


OBJECT_BODIES = frozenset({"POST /api/v1/allocations", "POST /api/v1/consents", "POST /api/v1/deliveries",
                           "POST /api/v1/allocations/actions/{action}", "POST /api/v1/deliveries/receive",
                           "POST /api/v1/offers/actions/{action}", "POST /api/v1/consents/actions/{decision}",
                           "POST /api/v1/deliveries/actions/{step}"})
FILES = {
    # each call a new offer (its own ref): a row the same as one recorded is refused as such
    "/api/v1/imports/offers": ("offers.csv", "member,item,quantity,available_from,depot,ref\n"
                                             "DEU,155-a,5,2024-08-01,DEU,{ref}\n"),
    "/api/v1/imports/requirements": ("requirements.csv", "item_class,quantity,priority,needed_by,destination\n"
                                                         "155mm,5,4,2024-09-01,UKR-West\n"),
    "/api/v1/imports/transit": ("transit.csv", "origin,destination,days\nPOL,UKR,2\n"),
    "/api/v1/imports/rates": ("rates.csv", "currency,date,per_eur\nUSD,2024-06-27,1.07\n"),
    "/api/v1/imports/network": ("zones.csv", "code,name,countries,starts\nNL-DE-PL,Corridor,NLD DEU POL,2024-01-30\n"),
}
# Routes outside `/api/v1`: the C2SP log and the governance texts, public by design (members verify the log from
# them without an account), and so not in the matrix of signed-in callers.
PUBLIC = frozenset({"GET /checkpoint", "GET /proof/inclusion", "GET /handovers", "GET /proof/consistency",
                    "GET /leaves", "GET /policy", "POST /cosignatures", "GET /proposals", "GET /proposals/{pid}",
                    "GET /proposals/{pid}/text", "POST /proposals/{pid}/approvals"})
# Routes taken before one is signed in, authorized by their own secrets (an enrolment code, a password and a second
# factor), and routes that act only on the caller's own account (its passkeys, its tokens by id): their refusals
# are tested in test_accounts.py, test_tokens.py, test_sign_in_security.py and test_passkeys.py.
OWN_ACCOUNT = frozenset({"POST /api/v1/enrol", "POST /api/v1/enrol/confirm", "POST /api/v1/sign-in",
                         "POST /api/v1/cli-logins/token",
                         "POST /api/v1/sign-in/passkey-options", "POST /api/v1/passkeys/options",
                         "GET /api/v1/passkeys", "POST /api/v1/passkeys", "DELETE /api/v1/tokens/{token_id}",
                         "DELETE /api/v1/tokens"})


def routes() -> list[str]:
    """Every operation of the app's own OpenAPI, as `METHOD /path`."""
    schema = create_app("sqlite://").openapi()
    return [f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops]


def has_object(route: str) -> bool:
    return route in OBJECT_BODIES or any(f"{{{p}}}" in route for p in OBJECT_PARAMS)


def _url(route: str, s: Scenario, obj: str) -> str:
    path = route.split(" ", 1)[1]
    for param, value in OBJECT_PARAMS.items():
        path = path.replace(f"{{{param}}}", value(s, obj))
    for param, verbs in PARAMS.items():
        area = path.split("/")[3]
        if f"{{{param}}}" in path:
            path = path.replace(f"{{{param}}}", verbs[area])
    template = route.split(" ", 1)[1]
    return (path.replace("{req_id}", s.requirement).replace("{name}", "spare")
            .replace("{code}", NAMED.get(template, "")).replace("{pid}", "P-00001")
            .replace("{index}", "1")) + QUERIES.get(route, "")


def call(client: TestClient, headers: dict[str, str], route: str, s: Scenario, obj: str) -> Any:
    method, path = route.split(" ", 1)
    url = _url(route, s, obj)
    if path == "/api/v1/imports/kiel":
        return client.post(url, headers=headers, files={
            field: (name, (KIEL_R29 / name).read_bytes(), "text/csv")
            for field, name in (("data_explorer", "data_explorer.csv"), ("release_info", "release_info.csv"))})
    if path in FILES:
        name, text = FILES[path]
        text = text.replace("{ref}", uuid.uuid4().hex)
        return client.post(url, headers=headers, files={"file": (name, text.encode(), "text/csv")})
    body = BODIES[route](s, obj) if route in BODIES else None
    extra = {"If-Match": "*"} if method == "PATCH" else {}
    return client.request(method, url, headers={**headers, **extra}, json=body)


OUTCOME = {403: "f", 404: "h", 400: "b"}


def outcome(status: int) -> str:
    return "o" if 200 <= status < 300 or status == 409 else OUTCOME.get(status, str(status))


def observe(s: Scenario, route: str) -> tuple[str, dict[str, list[str]]]:
    """The route's row as it runs, and every response body each user got."""
    world = s.world
    bodies: dict[str, list[str]] = {user: [] for user in ROLES.values()}
    cells = []
    with served(world) as client:
        for user in ROLES.values():
            headers = bearer(world, user)
            got = ""
            for obj in (OBJECTS if has_object(route) else ["own"]):
                answer = call(client, headers, route, s, obj)
                bodies[user].append(answer.content.decode("utf-8", errors="replace"))
                got += outcome(answer.status_code)
            cells.append(got)
    return " ".join(cells), bodies


@contextmanager
def served(world: World) -> Iterator[TestClient]:
    """A client of the API over the world's database; the app's connections closed after (PostgreSQL has few)."""
    app = create_app(world.db.url, clock=world.clock)
    try:
        yield TestClient(app)
    finally:
        app.state.db.engine.dispose()


# route -> the outcome for each role, in the order of ROLES (coordinator, desk_owner, desk_other, lead_in, lead_out,
# recipient, analyst, auditor); for a route that touches an object, one letter per object in the order of OBJECTS
# (own, other, coalition, public). o: may, f: forbidden (403), h: hidden (404, as if it did not exist), b: 400.
MATRIX: dict[str, str] = {
    #                                                         coord desk  other lead  lead- recip anal- audit
    "GET /api/v1/me":                                        "o     o     o     o     o     o     o     o",
    "GET /api/v1/tokens":                                    "o     o     o     o     o     o     o     o",
    "POST /api/v1/tokens":                                   "o     o     o     o     o     o     o     o",
    "GET /api/v1/security-log":                              "o     o     o     o     o     o     o     o",
    "POST /api/v1/sign-out":                                 "o     o     o     o     o     o     o     o",
    "GET /api/v1/inbox":                                     "o     o     o     o     o     o     o     o",
    "GET /api/v1/members":                                   "o     o     o     o     o     o     o     o",
    "POST /api/v1/members":                                  "o     f     f     f     f     f     f     f",
    "POST /api/v1/members/{code}/gdp":                       "o     f     f     f     f     f     f     f",
    "POST /api/v1/members/{code}/iati":                      "o     f     f     f     f     f     f     f",
    "GET /api/v1/users":                                     "o     o     o     o     o     o     o     o",
    "POST /api/v1/users":                                    "o     o     f     f     f     f     f     f",
    "GET /api/v1/users/{name}":                              "o     o     o     o     o     o     o     o",
    "POST /api/v1/users/{name}/disable":                     "o     o     f     f     f     f     f     f",
    "POST /api/v1/users/{name}/enable":                      "o     o     f     f     f     f     f     f",
    "POST /api/v1/users/{name}/role":                        "o     o     f     f     f     f     f     f",
    "POST /api/v1/users/{name}/reset":                       "o     o     f     f     f     f     f     f",
    "GET /api/v1/coalitions":                                "o     o     o     o     o     o     o     o",
    "POST /api/v1/coalitions":                               "o     f     f     f     f     f     f     f",
    "GET /api/v1/items":                                     "o     o     o     o     o     o     o     o",
    "POST /api/v1/items":                                    "o     f     f     f     f     f     f     f",
    "GET /api/v1/item-classes":                              "o     o     o     o     o     o     o     o",
    "POST /api/v1/item-classes":                             "o     f     f     f     f     f     f     f",
    "GET /api/v1/item-classes/{code}":                       "o     o     o     o     o     o     o     o",
    "PATCH /api/v1/item-classes/{code}":                     "o     f     f     f     f     f     f     f",
    "GET /api/v1/places":                                    "o     o     o     o     o     o     o     o",
    "POST /api/v1/places":                                   "o     f     f     f     f     f     f     f",
    "GET /api/v1/legs":                                      "o     o     o     o     o     o     o     o",
    "GET /api/v1/border-rules":                              "o     o     o     o     o     o     o     o",
    "GET /api/v1/zones":                                     "o     o     o     o     o     o     o     o",
    "GET /api/v1/transit":                                   "o     o     o     o     o     o     o     o",
    "POST /api/v1/transit":                                  "o     f     f     f     f     f     f     f",
    "GET /api/v1/rates":                                     "o     o     o     o     o     o     o     o",
    "POST /api/v1/rates":                                    "o     f     f     f     f     f     f     f",
    "GET /api/v1/requirements":                              "o     o     o     o     o     o     o     o",
    "POST /api/v1/requirements":                             "o     f     f     f     f     o     f     f",
    "GET /api/v1/requirements/{req_id}":                     "o     o     o     o     o     o     o     o",
    "PATCH /api/v1/requirements/{req_id}":                   "o     f     f     f     f     o     f     f",
    "POST /api/v1/requirements/{req_id}/actions/{action}":   "o     f     f     f     f     f     f     f",
    "POST /api/v1/requirements/actions/{action}":            "o     f     f     f     f     f     f     f",
    "POST /api/v1/requirements/{req_id}/priority":           "f     f     f     f     f     o     f     f",
    "GET /api/v1/requirements/{req_id}/history":             "o     o     o     o     o     o     o     o",
    "GET /api/v1/offers":                                    "o     o     o     o     o     o     o     o",
    "POST /api/v1/offers":                                   "o     o     f     f     f     f     f     f",
    "GET /api/v1/offers/{offer_id}":                         "oooo  ohoo  hoho  hhoo  hhho  hhho  hhho  hhho",
    "PATCH /api/v1/offers/{offer_id}":                       "oooo  ohoo  hohf  hhff  hhhf  hhhf  hhhf  hhhf",
    "POST /api/v1/offers/{offer_id}/actions/{action}":       "oooo  ohoo  hohf  hhff  hhhf  hhhf  hhhf  hhhf",
    "POST /api/v1/offers/actions/{action}":                  "oooo  ohoo  hohf  hhff  hhhf  hhhf  hhhf  hhhf",
    "GET /api/v1/offers/{offer_id}/history":                 "oooo  ohoo  hoho  hhoo  hhho  hhho  hhho  hhho",
    "GET /api/v1/funds":                                     "o     o     o     o     o     o     o     o",
    "POST /api/v1/funds":                                    "o     f     f     f     f     f     f     f",
    "GET /api/v1/funds/{code}":                              "o     o     o     o     o     o     o     o",
    "POST /api/v1/funds/{code}/pledges":                     "o     o     f     f     f     f     f     f",
    "GET /api/v1/allocations":                               "o     o     o     o     o     o     o     o",
    # whether the caller may propose in the area depends on nothing hidden: it is asked first (f before h)
    "POST /api/v1/allocations":                              "oooo  ffff  ffff  hhoo  ffff  ffff  ffff  ffff",
    "GET /api/v1/allocations/{alloc_id}":                    "oooo  ohoo  hoho  hhoo  hhho  oooo  hhho  hhho",
    # accept: the donor's desk or the recipient's liaison (the coordinator confirms)
    "POST /api/v1/allocations/{alloc_id}/actions/{action}":  "ffff  ohoo  hohf  hhff  hhhf  oooo  hhhf  hhhf",
    "POST /api/v1/allocations/actions/{action}":             "ffff  ohoo  hohf  hhff  hhhf  oooo  hhhf  hhhf",
    "GET /api/v1/allocations/{alloc_id}/history":            "oooo  ohoo  hoho  hhoo  hhho  oooo  hhho  hhho",
    "POST /api/v1/allocation-runs":                          "o     f     f     f     f     f     f     f",
    "GET /api/v1/consents":                                  "o     o     o     o     o     o     o     o",
    "POST /api/v1/consents":                                 "oooo  ohoo  hohf  hhff  hhhf  hhhf  hhhf  hhhf",
    # a consent is seen by the member it is asked of (USA for DEU's offers, DEU for USA's), which alone decides it
    "GET /api/v1/consents/{consent_id}":                     "oooo  oooo  oooo  hhoo  hhho  hhho  hhho  hhho",
    "POST /api/v1/consents/{consent_id}/actions/{decision}": "ffff  foff  ofoo  hhff  hhhf  hhhf  hhhf  hhhf",
    "POST /api/v1/consents/actions/{decision}":              "ffff  foff  ofoo  hhff  hhhf  hhhf  hhhf  hhhf",
    "GET /api/v1/deliveries":                                "o     o     o     o     o     o     o     o",
    "POST /api/v1/deliveries":                               "oooo  ohoo  hohf  hhff  hhhf  ffff  hhhf  hhhf",
    "GET /api/v1/deliveries/{delivery_id}":                  "oooo  ohoo  hoho  hhoo  hhho  oooo  hhho  hhho",
    "POST /api/v1/deliveries/{delivery_id}/receive":         "ffff  fhff  hfhf  hhff  hhhf  oooo  hhhf  hhhf",
    "POST /api/v1/deliveries/receive":                       "ffff  fhff  hfhf  hhff  hhhf  oooo  hhhf  hhhf",
    "POST /api/v1/deliveries/{delivery_id}/actions/{step}":  "oooo  ohoo  hohf  hhff  hhhf  ffff  hhhf  hhhf",
    "POST /api/v1/deliveries/actions/{step}":                "oooo  ohoo  hohf  hhff  hhhf  ffff  hhhf  hhhf",
    # an import refuses each row the caller may not enter, naming it (400), and writes nothing
    "POST /api/v1/imports/offers":                           "o     o     b     b     b     b     b     b",
    "POST /api/v1/imports/requirements":                     "o     b     b     b     b     o     b     b",
    "POST /api/v1/imports/transit":                          "o     f     f     f     f     f     f     f",
    "POST /api/v1/imports/network":                          "o     f     f     f     f     f     f     f",
    "POST /api/v1/imports/rates":                            "o     f     f     f     f     f     f     f",
    "POST /api/v1/imports/kiel":                             "o     f     f     f     f     f     f     f",
    # a shipment (here the confirmed allocation's undispatched units) is seen as its allocation is; the scenario has
    # no transport network: a plan says there is no route (200), and where the caller may record a position or
    # request permissions (the donor's desk; a position, the coordinator too), the request is refused after that
    # check (400: not dispatched, no such place, no route)
    "GET /api/v1/shipments/{shipment_id}/plan":              "oooo  ohoo  hoho  hhoo  hhho  oooo  hhho  hhho",
    "POST /api/v1/shipments/{shipment_id}/positions":        "bbbb  bhbb  hbhf  hhff  hhhf  ffff  hhhf  hhhf",
    "POST /api/v1/shipments/{shipment_id}/permissions":      "ffff  bhbb  hbhf  hhff  hhhf  ffff  hhhf  hhhf",
    "GET /api/v1/movement-permissions":                      "o     o     o     o     o     o     o     o",
    # no permission was requested in the scenario: not found, whoever asks (tests/api/test_mobility.py decides one)
    "POST /api/v1/movement-permissions/actions/{decision}":  "h     h     h     h     h     h     h     h",
    "GET /api/v1/mobility/compare":                          "o     o     o     o     o     o     o     o",
    "GET /api/v1/mobility/map":                              "o     o     o     o     o     o     o     o",
    "GET /api/v1/reports/coverage":                          "o     o     o     o     o     o     o     o",
    "GET /api/v1/reports/burden":                            "o     o     o     o     o     o     o     o",
    "GET /api/v1/reports/lag":                               "o     o     o     o     o     o     o     o",
    "GET /api/v1/reports/gaps":                              "o     o     o     o     o     o     o     o",
    "POST /api/v1/reports/check":                            "o     o     o     o     o     o     o     o",
    "POST /api/v1/proposals":                                "o     o     o     f     f     f     f     f",
    "GET /api/v1/member-keys":                               "o     o     o     o     o     o     o     o",
    # a member's keys are its own desk officers' to manage (no key is registered in the scenario: 404 to them)
    "POST /api/v1/member-keys":                              "f     o     f     f     f     f     f     f",
    "POST /api/v1/member-keys/revoke":                       "f     h     h     f     f     f     f     f",
    "GET /api/v1/authorities":                               "o     o     o     o     o     o     o     o",
    # event 1 (the founding's) is everyone's to see; no checkpoint covers it in the scenario (409, after the check)
    "GET /api/v1/receipts/{index}":                          "o     o     o     o     o     o     o     o",
    # the witness policy is the coordinating authority's; the scenario names no witness, so k cannot be set (400)
    # and there is no witness "spare" to remove (404), both after the caller was found to be the coordinator
    "GET /api/v1/witness-policy":                            "o     o     o     o     o     o     o     o",
    "POST /api/v1/witness-policy/quorum":                    "b     f     f     f     f     f     f     f",
    "POST /api/v1/witnesses":                                "o     f     f     f     f     f     f     f",
    "DELETE /api/v1/witnesses/{name}":                       "h     f     f     f     f     f     f     f",
    # the public release is anyone's; the scenario has no signed checkpoint to publish at (404)
    "GET /api/v1/release":                                   "h     h     h     h     h     h     h     h",
    # no proposal P-00001 in the scenario: a route of one answers 404 to whoever may read or act at all (a role
    # that may never withdraw or approve is refused first)
    "GET /api/v1/proposals/{pid}":                           "h     h     h     h     h     h     h     h",
    "POST /api/v1/proposals/{pid}/withdraw":                 "h     h     h     f     f     f     f     f",
    "POST /api/v1/proposals/{pid}/approvals":                "h     h     h     f     f     h     h     h",
}
SEES_OFFER = "GET /api/v1/offers/{offer_id}"


def test_every_route_is_in_the_table() -> None:
    """A new route fails here until its row is written (or it is one of the public log's routes)."""
    known, served = set(MATRIX) | PUBLIC | OWN_ACCOUNT, routes()
    assert [r for r in served if r not in known] == []
    assert [r for r in MATRIX if r not in served] == [], "a row for a route that no longer exists"


def _hidden_from(user_index: int) -> list[str]:
    """The objects whose offer the role may not see, as the table says."""
    cells = MATRIX[SEES_OFFER].split()[user_index]
    return [obj for obj, cell in zip(OBJECTS, cells, strict=True) if cell == "h"]


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_route_answers_each_role_as_the_table_says(scenario: Scenario, route: str) -> None:
    row, bodies = observe(scenario, route)
    assert row.split() == MATRIX[route].split()
    for index, user in enumerate(ROLES.values()):
        for obj in _hidden_from(index):
            leaked = [b for b in bodies[user] if secret(obj) in b]
            assert leaked == [], f"{user} got {obj}'s offer through {route}"


LISTS = ["/api/v1/inbox", "/api/v1/offers", "/api/v1/allocations", "/api/v1/consents", "/api/v1/deliveries",
         "/api/v1/funds/F1"]


def test_no_list_or_export_shows_a_hidden_offer(scenario: Scenario) -> None:
    s, world = scenario, scenario.world
    with served(world) as client:
        _no_list_shows_a_hidden_offer(s, client)


def _no_list_shows_a_hidden_offer(s: Scenario, client: TestClient) -> None:
    world = s.world
    for index, user in enumerate(ROLES.values()):
        headers = bearer(world, user)
        hidden = _hidden_from(index)
        for url in LISTS:
            for fmt in ({}, {"format": "csv"}, {"format": "xlsx"}):
                answer = client.get(url, headers=headers, params=fmt)
                assert answer.status_code == 200, answer.text
                text = answer.content.decode("latin-1")
                assert [o for o in hidden if secret(o) in text] == [], (user, url, fmt)
        listed = {o["id"] for o in client.get("/api/v1/offers", headers=headers).json()["items"]}
        assert listed == {s.offers[o] for o in OBJECTS if o not in hidden}
