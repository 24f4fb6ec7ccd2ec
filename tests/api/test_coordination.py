"""Every operation over HTTP: the coordination's loop through `/api/v1`, need-to-know on the server, lists
(cursor pages, filters, sorting, exports), idempotent POSTs, ETags and If-Match, and imports."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from contactgroup.api import offers as offers_api
from contactgroup.cli.main import app
from contactgroup.domain.errors import Conflict
from contactgroup.domain.model import FIRST_DAY, Visibility
from contactgroup.services import coordination as svc
from tests.api.conftest import bearer
from tests.factories import World, enter_offer, open_requirement


class Api:
    """A test client that signs each request in as a named user (a real token per user)."""

    def __init__(self, world: World, client: TestClient) -> None:
        self.world, self.client, self._headers = world, client, {}  # type: dict[str, dict[str, str]]

    def headers(self, user: str, **extra: str) -> dict[str, str]:
        if user not in self._headers:
            self._headers[user] = bearer(self.world, user)
        return {**self._headers[user], **extra}

    def get(self, user: str, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers(user, **kw.pop("headers", {})), **kw)

    def post(self, user: str, url: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(url, json=body, headers=self.headers(user, **kw.pop("headers", {})), **kw)

    def patch(self, user: str, url: str, body: Any, **kw: Any) -> Any:
        return self.client.patch(url, json=body, headers=self.headers(user, **kw.pop("headers", {})), **kw)


@pytest.fixture
def api(world: World, client: TestClient) -> Api:
    return Api(world, client)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_the_loop_runs_over_http(api: Api, world: World) -> None:
    req = ok(api.post("ukr", "/api/v1/requirements", {"item_class": "155mm", "quantity": 500, "priority": 1,
                                                      "needed_by": "2024-09-01", "destination": "UKR-West",
                                                      "submit": True}), 201)
    assert req["status"] == "submitted" and req["area"] == "artillery"
    for verb in ("validate", "open"):
        ok(api.post("admin", f"/api/v1/requirements/{req['id']}/actions/{verb}"))
    offer = ok(api.post("deu", "/api/v1/offers", {"member": "DEU", "item": "155-a", "quantity": 500,
                                                  "available_from": "2024-08-01", "depot": "DEU",
                                                  "status": "committed"}), 201)
    assert offer["status"] == "committed" and offer["committed_on"] == "2024-07-01"

    before = world.event_count()
    preview = ok(api.post("admin", "/api/v1/allocation-runs", {}))
    assert preview["recorded"] is False and len(preview["proposed"]) == 1 and preview["events"] is None
    assert world.event_count() == before, "a preview writes nothing"
    run = ok(api.post("admin", "/api/v1/allocation-runs", {"record": True}))
    assert run["recorded"] is True and run["plan"]["allocations"][0]["quantity"] == 500
    (alloc,) = run["proposed"]

    for user, verb in (("deu", "accept"), ("ukr", "accept"), ("admin", "confirm")):
        ok(api.post(user, f"/api/v1/allocations/{alloc}/actions/{verb}"))
    shipped = ok(api.post("deu", "/api/v1/deliveries", {"allocation": alloc, "quantity": 500,
                                                        "dispatched_on": "2024-07-01"}), 201)
    ok(api.post("ukr", f"/api/v1/deliveries/{shipped['id']}/receive", {"received_on": "2024-07-01"}))

    coverage = ok(api.get("analyst", "/api/v1/reports/coverage"))
    assert [(r["key"], r["delivered"], r["missing"]) for r in coverage["rows"]] == [(req["id"], 500, 0)]
    lag = ok(api.get("analyst", "/api/v1/reports/lag"))
    assert lag["rows"][0]["member"] == "DEU" and lag["synthetic"] is False
    table = api.get("analyst", "/api/v1/reports/burden", params={"format": "csv"})
    assert table.headers["content-type"].startswith("text/csv")
    assert next(csv.DictReader(io.StringIO(table.text)))["member"] == "DEU"
    history = ok(api.get("deu", f"/api/v1/allocations/{alloc}/history"))
    assert [h["type"] for h in history][-2:] == ["ShipmentDispatched", "ShipmentReceived"]


@pytest.mark.parametrize("user, url, cli", [
    ("ukr", "/api/v1/requirements/{req}/actions/submit", ["requirement", "move", "{req}", "submit"]),
    ("analyst", "/api/v1/requirements/{req}/actions/close", ["requirement", "move", "{req}", "close"]),
    ("fra", "/api/v1/offers/{offer}/actions/withdraw", ["offer", "move", "{offer}", "withdraw"]),
    ("deu", "/api/v1/allocations/A-00404/actions/accept", ["allocation", "move", "A-00404", "accept"]),
])
def test_the_api_says_what_the_cli_says(api: Api, world: World, monkeypatch: pytest.MonkeyPatch, user: str,
                                        url: str, cli: list[str]) -> None:
    ids = {"req": open_requirement(world), "offer": enter_offer(world)}
    refused = api.post(user, url.format(**ids))
    said = CliRunner().invoke(app, [*(w.format(**ids) for w in cli), "--as", user, "--db", world.db.url])
    assert refused.status_code in (403, 404, 409) and said.exit_code != 0
    assert said.stderr.strip() == f"error: {refused.json()['detail']}"


def _same_but_id(a: Any, b: Any, id_a: str, id_b: str) -> None:
    assert (a.status_code, a.headers["content-type"]) == (b.status_code, b.headers["content-type"])
    assert a.text.replace(id_a, "X") == b.text.replace(id_b, "X")


@pytest.mark.parametrize("route", ["/api/v1/offers/{}", "/api/v1/offers/{}/history"])
def test_a_hidden_offer_answers_exactly_like_a_missing_one(api: Api, world: World, route: str) -> None:
    offer = enter_offer(world, visibility=Visibility.MEMBER)
    hidden, missing = api.get("fra", route.format(offer)), api.get("fra", route.format("O-99999"))
    assert hidden.status_code == 404
    _same_but_id(hidden, missing, offer, "O-99999")
    assert "DEU" not in hidden.text and "155-a" not in hidden.text
    assert api.get("deu", route.format(offer)).status_code == 200


def test_changing_a_hidden_offer_answers_like_a_missing_one(api: Api, world: World) -> None:
    offer = enter_offer(world, visibility=Visibility.MEMBER)
    before = world.event_count()
    for url in ("/api/v1/offers/{}/actions/withdraw",):
        _same_but_id(api.post("fra", url.format(offer)), api.post("fra", url.format("O-99999")), offer, "O-99999")
    hidden = api.patch("fra", f"/api/v1/offers/{offer}", {"quantity": 1}, headers={"If-Match": "*"})
    missing = api.patch("fra", "/api/v1/offers/O-99999", {"quantity": 1}, headers={"If-Match": "*"})
    _same_but_id(hidden, missing, offer, "O-99999")
    assert world.event_count() == before


def test_lists_hold_only_what_the_caller_may_see(api: Api, world: World) -> None:
    mine = enter_offer(world, visibility=Visibility.MEMBER)
    public = enter_offer(world, visibility=Visibility.PUBLIC)
    assert [o["id"] for o in ok(api.get("fra", "/api/v1/offers"))["items"]] == [public]
    assert [o["id"] for o in ok(api.get("deu", "/api/v1/offers"))["items"]] == [mine, public]
    assert ok(api.get("fra", "/api/v1/offers", params={"member": "DEU"}))["items"][0]["id"] == public
    exported = api.get("fra", "/api/v1/offers", params={"format": "csv"}).text
    assert mine not in exported and public in exported


def test_a_list_read_again_after_a_write_shows_it_wherever_the_write_was_made(api: Api, world: World) -> None:
    # The list in its order is kept for the state it came from (SharedLists): a write through this server, or
    # straight to the database as another process would make it, must show in the next read of the same list.
    first = enter_offer(world, visibility=Visibility.PUBLIC)
    assert [o["id"] for o in ok(api.get("fra", "/api/v1/offers"))["items"]] == [first]
    second = enter_offer(world, visibility=Visibility.PUBLIC)  # another connection: the server catches up
    assert [o["id"] for o in ok(api.get("fra", "/api/v1/offers"))["items"]] == [first, second]
    body = {"member": "DEU", "item": "155-a", "quantity": 5, "available_from": "2024-07-01", "depot": "DEU",
            "visibility": "public"}
    third = ok(api.post("deu", "/api/v1/offers", body), 201)["id"]
    assert [o["id"] for o in ok(api.get("fra", "/api/v1/offers"))["items"]] == [first, second, third]


def test_pages_follow_the_cursor_through_the_whole_sorted_list(api: Api, world: World) -> None:
    ids = [open_requirement(world, quantity=100 + i, priority=1 + i % 3) for i in range(7)]
    for sort in ("priority", "-quantity", "id", "-needed_by"):
        whole = ok(api.get("deu", "/api/v1/requirements", params={"sort": sort, "limit": 500}))["items"]
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 3, **({"cursor": cursor} if cursor else {})}
            page = ok(api.get("deu", "/api/v1/requirements", params=params))
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == whole and sorted(r["id"] for r in seen) == sorted(ids)
    quantities = [r["quantity"] for r in whole]
    assert quantities == sorted(quantities) or sort != "-quantity"
    by_quantity = [r["quantity"] for r in ok(api.get("deu", "/api/v1/requirements",
                                                     params={"sort": "-quantity"}))["items"]]
    assert by_quantity == sorted(by_quantity, reverse=True)


@pytest.mark.parametrize("params", [{"cursor": "not-a-cursor"}, {"sort": "secret"}, {"limit": 501},
                                    {"limit": 0}, {"format": "pdf"}])
def test_bad_list_parameters_are_refused_with_a_problem(api: Api, params: dict[str, Any]) -> None:
    refused = api.get("deu", "/api/v1/requirements", params=params)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["where"].endswith(next(iter(params)))


def test_a_cursor_of_another_sort_order_is_refused(api: Api, world: World) -> None:
    for i in range(3):
        open_requirement(world, priority=i + 1)
    cursor = ok(api.get("deu", "/api/v1/requirements", params={"limit": 1}))["next_cursor"]
    refused = api.get("deu", "/api/v1/requirements", params={"cursor": cursor, "sort": "-quantity"})
    assert refused.status_code == 400 and "cursor" in refused.json()["detail"]


def test_exports_hold_the_whole_filtered_list_with_formulas_neutralised(api: Api, world: World) -> None:
    with world.db.transaction() as uow:
        for i in range(3):
            svc.draft_requirement(uow, world.caller("ukr"), item_class="155mm", quantity=10 + i, priority=1,
                                  needed_by=FIRST_DAY.replace(year=2024, month=9, day=1), destination="UKR-West",
                                  note="=HYPERLINK(\"http://x\")")
    text = api.get("deu", "/api/v1/requirements", params={"format": "csv", "limit": 1, "status": "draft"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and all(r["note"].startswith("'=") for r in rows)
    book = api.get("deu", "/api/v1/requirements", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(book.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["id", "item_class", "quantity"] and len(values) == 4
    assert all(c.data_type == "s" for row in sheet.iter_rows(min_row=2) for c in row if c.column_letter == "I")


REQUIREMENT = {"item_class": "155mm", "quantity": 10, "priority": 2, "needed_by": "2024-09-01",
               "destination": "UKR-West"}


def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_nothing(api: Api, world: World) -> None:
    key = {"Idempotency-Key": "req-2024-07-01-a"}
    first = api.post("ukr", "/api/v1/requirements", REQUIREMENT, headers=key)
    assert first.status_code == 201
    count = world.event_count()
    again = api.post("ukr", "/api/v1/requirements", REQUIREMENT, headers=key)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert world.event_count() == count
    other = api.post("ukr", "/api/v1/requirements", {**REQUIREMENT, "quantity": 11}, headers=key)
    assert other.status_code == 422 and "another request" in other.json()["detail"]
    assert world.event_count() == count
    # keys are per user: the same key from another user is another request
    assert api.post("admin", "/api/v1/requirements", REQUIREMENT, headers=key).status_code == 201


def test_a_refusal_is_kept_for_its_key_too(api: Api, world: World) -> None:
    key = {"Idempotency-Key": "k1"}
    first = api.post("analyst", "/api/v1/requirements", REQUIREMENT, headers=key)
    assert first.status_code == 403
    again = api.post("analyst", "/api/v1/requirements", REQUIREMENT, headers=key)
    assert (again.status_code, again.json()) == (403, first.json())


OFFER = {"member": "DEU", "item": "155-a", "quantity": 5, "available_from": "2024-08-01", "depot": "DEU",
         "status": "draft", "end_use": "keyed"}


def _keyed_offers(world: World) -> int:
    return sum(o.end_use == "keyed" for o in world.db.state().offers.values())


def test_the_answer_to_entering_an_offer_is_the_offer_as_it_reads(api: Api, world: World) -> None:
    entered = api.post("deu", "/api/v1/offers", OFFER)
    assert entered.status_code == 201 and entered.headers["content-type"] == "application/json"
    shown = api.get("deu", f"/api/v1/offers/{entered.json()['id']}")
    assert (entered.content, entered.headers["etag"]) == (shown.content, shown.headers["etag"])


def test_a_route_that_fails_after_writing_leaves_its_key_free(api: Api, world: World,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    key, events = {"Idempotency-Key": "dies-once"}, world.event_count()
    entered = svc.enter_offer

    def dies_once_written(*args: Any, **kwargs: Any) -> Any:
        entered(*args, **kwargs)
        raise RuntimeError("the server stopped before it answered")

    monkeypatch.setattr(svc, "enter_offer", dies_once_written)
    failing = TestClient(api.client.app, raise_server_exceptions=False)
    assert failing.post("/api/v1/offers", json=OFFER, headers=api.headers("deu", **key)).status_code == 500
    assert world.event_count() == events, "nothing of the write was committed"
    monkeypatch.setattr(svc, "enter_offer", entered)
    retried = api.post("deu", "/api/v1/offers", OFFER, headers=key)
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers, "the key was free"
    assert _keyed_offers(world) == 1


def test_an_error_answered_after_the_write_rolls_it_back(api: Api, world: World,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    key, events = {"Idempotency-Key": "late-error"}, world.event_count()

    def refuses(*args: Any, **kwargs: Any) -> Any:
        raise Conflict("refused once written", code="test")

    monkeypatch.setattr(offers_api, "as_json", refuses)
    first = api.post("deu", "/api/v1/offers", OFFER, headers=key)
    assert first.status_code == 409 and world.event_count() == events, "an error answer never comes with a change"
    again = api.post("deu", "/api/v1/offers", OFFER, headers=key)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (409, "true"), "kept like any refusal"


def test_copies_sent_at_once_to_two_servers_write_once(api: Api, apps: Any, world: World) -> None:
    servers = [apps(), apps()]  # two apps on one database, as two server processes are
    headers = api.headers("deu", **{"Idempotency-Key": "at-once"})
    start, answers = threading.Barrier(8), []

    def send(client: TestClient) -> None:
        start.wait(timeout=60)
        answers.append(client.post("/api/v1/offers", json=OFFER, headers=headers))

    threads = [threading.Thread(target=send, args=(servers[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1, "every copy got the first answer"
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    assert _keyed_offers(world) == 1


@pytest.mark.parametrize("key", [b"", b"x" * 256, "é".encode(), b"a\tb"])
def test_a_bad_key_is_refused(api: Api, world: World, key: bytes) -> None:
    count = world.event_count()
    refused = api.post("ukr", "/api/v1/requirements", REQUIREMENT, headers={"Idempotency-Key": key})
    assert refused.status_code == 400 and "Idempotency-Key" in refused.json()["detail"]
    assert world.event_count() == count


def test_an_amendment_needs_the_current_etag(api: Api, world: World) -> None:
    req = open_requirement(world)
    shown = api.get("ukr", f"/api/v1/requirements/{req}")
    tag = shown.headers["etag"]
    count = world.event_count()
    missing = api.patch("ukr", f"/api/v1/requirements/{req}", {"quantity": 900})
    assert missing.status_code == 428
    stale = api.patch("ukr", f"/api/v1/requirements/{req}", {"quantity": 900}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    assert world.event_count() == count, "a refused amendment writes nothing"
    done = api.patch("ukr", f"/api/v1/requirements/{req}", {"quantity": 900}, headers={"If-Match": tag})
    assert ok(done)["quantity"] == 900 and done.headers["etag"] != tag
    again = api.patch("ukr", f"/api/v1/requirements/{req}", {"quantity": 800}, headers={"If-Match": tag})
    assert again.status_code == 412, "the version read before the change is stale now"
    assert api.get("ukr", f"/api/v1/requirements/{req}").headers["etag"] == done.headers["etag"]


def test_an_action_may_send_if_match(api: Api, world: World) -> None:
    offer = enter_offer(world, status="offered")
    tag = api.get("deu", f"/api/v1/offers/{offer}").headers["etag"]
    stale = api.post("deu", f"/api/v1/offers/{offer}/actions/commit", headers={"If-Match": '"stale"'})
    assert stale.status_code == 412
    assert ok(api.post("deu", f"/api/v1/offers/{offer}/actions/commit", headers={"If-Match": tag}))["status"] == \
        "committed"


def test_an_import_names_every_bad_row_and_writes_nothing(api: Api, world: World) -> None:
    body = ("member,item,quantity,available_from,depot\n"
            "DEU,155-a,100,2024-08-01,DEU\n"
            "DEU,155-a,lots,2024-08-01,DEU\n"
            "DEU,no-such-item,5,2024-08-01,DEU\n")
    count = world.event_count()
    refused = api.client.post("/api/v1/imports/offers", headers=api.headers("deu"),
                              files={"file": ("offers.csv", body.encode(), "text/csv")})
    assert refused.status_code == 400, refused.text
    wheres = [e["where"] for e in refused.json()["errors"]]
    assert any("row 3" in w for w in wheres) and any("row 4" in w for w in wheres), wheres
    assert all(w.startswith("offers.csv") for w in wheres)
    assert world.event_count() == count
    good = body.split("\n")[:2]
    done = api.client.post("/api/v1/imports/offers", headers=api.headers("deu"),
                           files={"file": ("../../offers.csv", "\n".join(good).encode(), "text/csv")})
    assert len(ok(done)["entered"]) == 1


def test_a_retried_upload_is_the_same_request_whatever_its_multipart_boundary(api: Api, world: World) -> None:
    body = b"member,item,quantity,available_from,depot\nDEU,155-a,100,2024-08-01,DEU\n"
    sent = []
    for boundary in ("first-boundary", "another-one"):
        files = {"file": ("offers.csv", body, "text/csv")}
        request = api.client.build_request("POST", "/api/v1/imports/offers", files=files,
                                           headers=api.headers("deu", **{"Idempotency-Key": "upload-1"}))
        raw = request.read().replace(request.headers["content-type"].split("boundary=")[1].encode(),
                                     boundary.encode())
        headers = {**request.headers, "content-type": f"multipart/form-data; boundary={boundary}"}
        headers.pop("content-length")
        sent.append(api.client.post("/api/v1/imports/offers", content=raw, headers=headers))
    assert [r.status_code for r in sent] == [200, 200]
    assert sent[0].json() == sent[1].json() and sent[1].headers["idempotent-replayed"] == "true"
    assert len(ok(api.get("deu", "/api/v1/offers"))["items"]) == 1


def test_a_key_is_forgotten_after_a_day(api: Api, world: World) -> None:
    key = {"Idempotency-Key": "daily"}
    first = ok(api.post("ukr", "/api/v1/requirements", REQUIREMENT, headers=key), 201)
    world.clock.at += timedelta(hours=24, seconds=1)
    again = ok(api.post("ukr", "/api/v1/requirements", REQUIREMENT, headers=key), 201)
    assert again["id"] != first["id"]
