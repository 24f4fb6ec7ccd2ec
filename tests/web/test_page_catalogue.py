"""Every page of the catalogue (tests/web/page_catalogue.py) answers 200 for the user it is listed for, on the web
world with one object of each kind: the screenshots' command and the docs link no page that is broken or refused."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from contactgroup.services import accounts
from contactgroup.services import coordination as svc
from contactgroup.services import governance as gov
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement
from tests.web.page_catalogue import PAGES


def _scenario(world: World) -> dict[str, str]:
    """An object of each kind a page names (`{offer}`, `{requirement}`, ...), each seen by the users the catalogue
    views it as: a DEU offer that needs FRA's consent, confirmed to UKR's requirement and partly shipped."""
    requirement = open_requirement(world)
    offer = enter_offer(world, consent_from="FRA")
    consent = world.do(svc.request_consent, "deu", offer)
    world.do(svc.decide_consent, "fra", consent.id, "grant")
    allocation = confirmed_allocation(world, offer, requirement, 400)
    shipment = world.do(svc.dispatch, "deu", allocation=allocation, quantity=100,
                        dispatched_on=world.clock.now().date())
    proposal = world.do(gov.propose, "admin", gov.ProposalKind.REMOVE_MEMBER, {"code": "USA"})
    return {"offer": offer, "requirement": requirement, "allocation": allocation, "consent": consent.id,
            "shipment": shipment.id, "proposal": proposal.id}


def test_every_catalogued_page_answers_its_user(web_app: TestClient, web_world: World) -> None:
    ids = _scenario(web_world)
    sessions: dict[str, accounts.Session] = {}
    refused = []
    for path, user, _ in PAGES:
        web_app.cookies.clear()
        if user is not None:
            if user not in sessions:  # a real session of the user's, started once
                sessions[user] = accounts.start_session(web_world.db, web_world.db.state().users[user],
                                                        now=web_world.clock.now() - timedelta(minutes=1),
                                                        source="test")
            web_app.cookies.set(accounts.SESSION_COOKIE, sessions[user].cookie)
        shown = path.format(**ids)
        answer = web_app.get(shown)
        if answer.status_code != 200:
            refused.append((shown, user, answer.status_code))
    assert refused == []
