"""Users and members in the browser: add a user (its enrolment code shown once), reset, disable; the security
log; what a desk officer may see of them; the members with their GDP year and IATI identifier."""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi.testclient import TestClient

from contactgroup.domain.model import Gdp, IatiOrganisation, Role
from contactgroup.services import coordination as svc
from tests.factories import World
from tests.web.conftest import sign_in


def _code(html: str) -> str:
    found = re.search(r'id="enrolment-code">(enrol-[^<]+)<', html)
    assert found is not None
    return found.group(1)


def test_a_desk_officer_adds_resets_and_disables_its_member_s_users(web_app: TestClient, web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "deu")
    page = web_app.get("/users")
    assert page.status_code == 200 and ">deu</a>" in page.text and ">fra</a>" not in page.text  # DEU's users only
    added = web_app.post("/users", data={"csrf": csrf, "name": "deu-2", "party": "DEU", "role": "desk_officer"})
    assert added.status_code == 201
    first = _code(added.text)
    assert web_app.get("/users").text.count(first) == 0, "the code is shown once"
    assert web_world.db.state().users["deu-2"].role is Role.DESK_OFFICER
    reset = web_app.post("/users/deu-2/reset", data={"csrf": csrf})
    assert reset.status_code == 201 and _code(reset.text) != first
    disabled = web_app.post("/users/deu-2/disable", data={"csrf": csrf})
    assert disabled.status_code == 303 and disabled.headers["location"] == "/users/deu-2"
    shown = web_app.get("/users/deu-2")
    assert "disabled." in shown.text and "user-disabled" in shown.text and "factor-reset" in shown.text
    assert not web_world.db.state().users["deu-2"].active
    assert "enrolment-issued" in web_app.get("/users").text  # the member's security log


def test_another_member_s_users_are_not_found_and_refusals_keep_what_was_typed(web_app: TestClient,
                                                                              web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "deu")
    assert web_app.get("/users/fra").status_code == 404
    assert web_app.post("/users/fra/disable", data={"csrf": csrf}).status_code == 404
    assert web_world.db.state().users["fra"].active
    other = web_app.post("/users", data={"csrf": csrf, "name": "<script>alert(1)</script>", "party": "FRA",
                                         "role": "desk_officer"})
    assert other.status_code == 403 and "Not done" in other.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in other.text and "<script>alert(1)" not in other.text
    bad = web_app.post("/users", data={"csrf": csrf, "name": "x", "party": "DEU", "role": "king"})
    assert bad.status_code == 400 and "role" in bad.text
    assert web_app.post("/users", data={"name": "y", "party": "DEU", "role": "analyst"}).status_code == 403
    assert "y" not in web_world.db.state().users
    sign_in(web_app, web_world, "analyst")
    assert web_app.get("/users").status_code == 403


def test_the_coordinator_sees_every_user_and_the_members_as_recorded(web_app: TestClient, web_world: World) -> None:
    web_world.do(svc.record_gdp, "admin", Gdp("DEU", 2023, Decimal("4121000000000"), "EUR", "test"))
    web_world.do(svc.record_iati_identifier, "admin", IatiOrganisation("DEU", "XM-DAC-5-7"))
    sign_in(web_app, web_world, "admin")
    users = web_app.get("/users")
    assert ">fra</a>" in users.text and ">deu</a>" in users.text
    members = web_app.get("/members", params={"q": "DEU"})
    assert members.status_code == 200
    row = members.text.split('class="key">DEU</th>')[1].split("</tr>")[0]
    assert "2023" in row and "4,121,000" in row and "XM-DAC-5-7" in row
