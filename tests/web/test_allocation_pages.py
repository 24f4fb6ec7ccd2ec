"""Allocations in the browser: those awaiting the reader chosen by checkbox and accepted or declined together (a
decline needs its reason; all of them or none), and one allocation's page with its pair, value and reasons."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from contactgroup.services import coordination as svc
from tests.factories import World, enter_offer, open_requirement
from tests.web.conftest import sign_in

SCRIPT = "<script>alert(1)</script>"


def _proposed(w: World, quantity: int = 200, count: int = 2) -> tuple[str, list[str]]:
    """An open requirement and `count` allocations to it proposed from DEU's offers (one offer each)."""
    req = open_requirement(w)
    ids = []
    for _ in range(count):
        offer = enter_offer(w)
        ids.append(w.do(svc.propose_allocation, "admin", offer=offer, requirement=req, quantity=quantity).id)
    return req, ids


def _status(w: World, alloc: str) -> str:
    return w.db.state().allocations[alloc].status.value


def _version(html: str) -> str:
    found = re.search(r'name="version" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_desk_accepts_the_chosen_allocations_at_once(web_app: TestClient, web_world: World) -> None:
    _, (a, b) = _proposed(web_world)
    csrf = sign_in(web_app, web_world, "deu")
    page = web_app.get("/allocations", params={"awaiting": "yes"})
    assert page.status_code == 200 and "2 allocations await you" in page.text
    for ident in (a, b):
        assert f'name="ids" value="{ident}" form="bulk"' in page.text
    assert 'value="accept"' in page.text and 'value="decline"' in page.text and 'value="confirm"' not in page.text
    done = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "accept", "ids": [a, b]})
    assert done.status_code == 303 and done.headers["location"] == "/allocations?done=accept&count=2"
    assert "2 allocations accepted" in web_app.get(done.headers["location"]).text
    assert _status(web_world, a) == _status(web_world, b) == "accepted_by_donor"
    sign_in(web_app, web_world, "fra")  # another member sees none of them
    assert a not in web_app.get("/allocations").text
    assert web_app.get(f"/allocations/{a}").status_code == 404


def test_a_decline_needs_its_reason_and_moves_all_or_none(web_app: TestClient, web_world: World) -> None:
    _, (a, b) = _proposed(web_world)
    csrf = sign_in(web_app, web_world, "deu")
    before = web_world.event_count()
    bare = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "decline", "ids": [a, b]})
    assert bare.status_code == 400 and "a decline needs its reason" in bare.text
    assert f'value="{a}" form="bulk" aria-label="Choose allocation {a}" checked' in bare.text  # still chosen
    none = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "accept"})
    assert none.status_code == 400 and "choose at least one allocation" in none.text
    web_world.do(svc.move_allocation, "deu", b, "accept")
    before = web_world.event_count()
    mixed = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "accept", "ids": [a, b]})
    assert mixed.status_code == 409 and "1 of 2 allocation moves refused, so none was made" in mixed.text
    assert b in mixed.text.split("Not done:")[1].split("</div>")[0]
    assert web_world.event_count() == before and _status(web_world, a) == "proposed"
    done = web_app.post("/allocations/actions", data={"csrf": csrf, "action": "decline", "ids": [a, b],
                                                      "reason": f"stock needed at home {SCRIPT}"})
    assert done.status_code == 303
    assert _status(web_world, a) == _status(web_world, b) == "declined"
    page = web_app.get(f"/allocations/{a}")
    assert "stock needed at home &lt;script&gt;" in page.text and SCRIPT not in page.text


def test_an_allocation_page_shows_its_pair_and_each_party_moves_it_on(web_app: TestClient,
                                                                     web_world: World) -> None:
    req, (a,) = _proposed(web_world, quantity=500, count=1)
    csrf = sign_in(web_app, web_world, "deu")
    page = web_app.get(f"/allocations/{a}")
    assert page.status_code == 200 and f"Requirement {req}" in page.text and "UKR-West" in page.text
    assert "1,500,000" in page.text  # 500 units at the catalogue's 3,000 EUR
    assert "priority 1 requirement" in page.text
    read = _version(page.text)
    assert web_app.post(f"/allocations/{a}/actions/accept", data={"csrf": csrf, "version": read}).status_code == 303
    stale = web_app.post(f"/allocations/{a}/actions/decline", data={"csrf": csrf, "version": read, "reason": "no"})
    assert stale.status_code == 412 and "accepted by donor" in stale.text
    csrf = sign_in(web_app, web_world, "ukr")  # the recipient's liaison accepts, without seeing the offer's terms
    page = web_app.get(f"/allocations/{a}")
    assert 'href="/offers/' not in page.text and "Available from" not in page.text
    bare = web_app.post(f"/allocations/{a}/actions/decline", data={"csrf": csrf, "version": _version(page.text)})
    assert bare.status_code == 400 and "a decline needs its reason" in bare.text
    assert web_app.post(f"/allocations/{a}/actions/accept",
                        data={"csrf": csrf, "version": _version(page.text)}).status_code == 303
    csrf = sign_in(web_app, web_world, "admin")
    inbox = web_app.get("/")
    assert f'href="/allocations/{a}"' in inbox.text  # the home page's entry leads here
    page = web_app.get(f"/allocations/{a}")
    assert web_app.post(f"/allocations/{a}/actions/confirm",
                        data={"csrf": csrf, "version": _version(page.text)}).status_code == 303
    assert _status(web_world, a) == "confirmed"
    assert "AllocationConfirmed" in web_app.get(f"/allocations/{a}").text
