"""Re-export consents in the browser: the origin member's desk sees what it is asked to consent to (item, quantity,
end use, destination; not whose offer it is unless it may see the offer) and grants or refuses it with a reason."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from contactgroup.services import coordination as svc
from tests.factories import World, enter_offer
from tests.web.conftest import sign_in

SCRIPT = "<script>alert(1)</script>"


def _asked(w: World) -> str:
    """A consent asked of FRA for DEU's offer of 600 rounds, whose end use says `SCRIPT`."""
    offer = enter_offer(w, consent_from="FRA", end_use=f"territorial defence {SCRIPT}")
    return str(w.do(svc.request_consent, "deu", offer).id)


def _version(html: str) -> str:
    found = re.search(r'name="version" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_origin_desk_sees_what_it_consents_to_and_grants_it(web_app: TestClient, web_world: World) -> None:
    consent = _asked(web_world)
    csrf = sign_in(web_app, web_world, "fra")
    listed = web_app.get("/consents", params={"mine": "yes"})
    assert listed.status_code == 200 and f'href="/consents/{consent}"' in listed.text
    assert "1 consent awaits your decision" in listed.text
    assert f'href="/consents/{consent}"' in web_app.get("/").text  # the home page's entry leads here
    page = web_app.get(f"/consents/{consent}")
    assert page.status_code == 200
    main = page.text.split("<main")[1]
    assert "155-a: 155 mm HE, type A" in main and "600" in main and "UKR" in main
    assert "territorial defence &lt;script&gt;" in main and SCRIPT not in main
    assert "DEU" not in main  # FRA may not see DEU's offer: the consent does not name it
    done = web_app.post(f"/consents/{consent}/actions/grant", data={"csrf": csrf, "version": _version(page.text)})
    assert done.status_code == 303 and done.headers["location"] == f"/consents/{consent}"
    assert web_world.db.state().consents[consent].status.value == "granted"
    assert "actions/grant" not in web_app.get(f"/consents/{consent}").text
    stale = web_app.post(f"/consents/{consent}/actions/refuse",
                         data={"csrf": csrf, "version": _version(page.text), "reason": "no"})
    assert stale.status_code == 412


def test_a_refusal_needs_its_reason_and_only_the_origin_decides(web_app: TestClient, web_world: World) -> None:
    consent = _asked(web_world)
    csrf = sign_in(web_app, web_world, "fra")
    version = _version(web_app.get(f"/consents/{consent}").text)
    before = web_world.event_count()
    bare = web_app.post(f"/consents/{consent}/actions/refuse", data={"csrf": csrf, "version": version,
                                                                     "reason": "  "})
    assert bare.status_code == 400 and "a refusal needs its reason" in bare.text
    csrf = sign_in(web_app, web_world, "deu")  # the offering desk sees it, and whose offer it is, but may not decide
    page = web_app.get(f"/consents/{consent}")
    assert page.status_code == 200 and "DEU, offer" in page.text and "actions/grant" not in page.text
    forbidden = web_app.post(f"/consents/{consent}/actions/grant", data={"csrf": csrf, "version": version})
    assert forbidden.status_code == 403 and "may not consent:decide for FRA" in forbidden.text
    sign_in(web_app, web_world, "usa")  # a member neither asked nor offering sees nothing of it
    assert web_app.get(f"/consents/{consent}").status_code == 404
    assert f'href="/consents/{consent}"' not in web_app.get("/consents").text
    assert web_world.event_count() == before
    csrf = sign_in(web_app, web_world, "fra")
    done = web_app.post(f"/consents/{consent}/actions/refuse", data={"csrf": csrf, "version": version,
                                                                     "reason": f"end use unclear {SCRIPT}"})
    assert done.status_code == 303
    shown = web_app.get(f"/consents/{consent}").text
    assert "refused on 2024-07-01" in shown and "end use unclear &lt;script&gt;" in shown
    assert f'href="/consents/{consent}"' not in web_app.get("/").text  # no longer awaits FRA


def test_the_offering_desk_asks_for_the_consent_from_its_offer_s_page(web_app: TestClient, web_world: World) -> None:
    offer = enter_offer(web_world, consent_from="FRA")
    plain = enter_offer(web_world)
    csrf = sign_in(web_app, web_world, "usa")
    assert web_app.get(f"/offers/{offer}").status_code == 404  # another member's offer: not found, not askable
    before = web_world.event_count()
    assert web_app.post(f"/offers/{offer}/consent", data={"csrf": csrf}).status_code == 404
    assert "Ask FRA" not in web_app.get(f"/offers/{plain}").text
    csrf = sign_in(web_app, web_world, "deu")
    assert "for its consent" not in web_app.get(f"/offers/{plain}").text  # it needs none
    page = web_app.get(f"/offers/{offer}")
    assert "The allocation holds this offer back until FRA consents" in page.text
    asked = web_app.post(f"/offers/{offer}/consent", data={"csrf": csrf})
    assert asked.status_code == 303 and asked.headers["location"] == "/consents/K-00001"
    (consent,) = web_world.db.state().consents.values()
    assert consent.offer == offer and consent.origin == "FRA" and consent.status.value == "requested"
    assert "Ask FRA for its consent" not in web_app.get(f"/offers/{offer}").text  # asked once
    again = web_app.post(f"/offers/{offer}/consent", data={"csrf": csrf})
    assert again.status_code == 409 and f"offer {offer} already has consent K-00001" in again.text
    refused = web_app.post(f"/offers/{plain}/consent", data={"csrf": csrf})
    assert refused.status_code == 409 and "needs no re-export consent" in refused.text
    assert web_world.event_count() == before + 1
