"""Governance in the browser: proposing, the text to sign, a signed note handed in as a file, the counts."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from contactgroup.ledger import note
from contactgroup.services import governance as gov
from tests.factories import World
from tests.web.conftest import sign_in

XSS = "<script>alert(1)</script>"


def _keys(world: World) -> dict[str, note.SignerKey]:
    """DEU's and FRA's registered member keys (governance is then in force)."""
    signers = {}
    for member in ("DEU", "FRA"):
        signer, verifier = note.generate_key(f"{member}-1")
        world.do(gov.register_key, member.lower(), member, verifier.text)
        signers[member] = signer
    return signers


def _text(html: str) -> str:
    found = re.search(r'<pre class="signed-text"[^>]*>(.*?)</pre>', html, re.S)
    assert found is not None
    return found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"').replace("&#39;", "'") \
        .replace("&amp;", "&")


def test_a_proposal_is_made_signed_offline_and_handed_in_as_a_file(web_app: TestClient, web_world: World) -> None:
    signers = _keys(web_world)
    csrf = sign_in(web_app, web_world, "deu")
    listed = web_app.get("/governance")
    assert listed.status_code == 200 and "Propose to admit a member" in listed.text
    made = web_app.post("/governance/propose/admit-member",
                        data={"csrf": csrf, "code": "AND", "name": f"Andorra {XSS}", "currency": "EUR", "nato": "yes",
                              "days": "30"})
    assert made.status_code == 303, made.text
    where = made.headers["location"]
    page = web_app.get(where)
    assert page.status_code == 200 and "0 of " in page.text and 'hx-trigger="every 5s"' in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and XSS not in page.text
    assert XSS not in web_app.get("/governance").text
    text = _text(page.text)
    assert text == web_world.db.state().proposals[where.rsplit("/", 1)[1]].text
    signed = note.sign_note(text, [signers["DEU"]])
    handed = web_app.post(f"{where}/approvals", data={"csrf": csrf},
                          files={"note": ("P-DEU.note", signed.encode(), "text/plain")})
    assert handed.status_code == 303 and handed.headers["location"] == where
    counts = web_app.get(f"{where}/approvals")
    assert counts.status_code == 200 and counts.text.lstrip().startswith('<div id="approvals"')
    assert "<strong>1 of " in counts.text and 'class="key">DEU</th><td>counts' in counts.text
    again = web_app.post(f"{where}/approvals", data={"csrf": csrf},
                         files={"note": ("P-DEU.note", signed.encode(), "text/plain")})
    assert again.status_code == 409 and "Not done" in again.text


def test_a_bad_note_is_refused_and_counts_nothing(web_app: TestClient, web_world: World) -> None:
    _keys(web_world)
    pid = web_world.do(gov.propose, "admin", gov.ProposalKind.REMOVE_MEMBER, {"code": "USA"}).id
    csrf = sign_in(web_app, web_world, "fra")
    empty = web_app.post(f"/governance/{pid}/approvals", data={"csrf": csrf},
                         files={"note": ("x.note", b"", "text/plain")})
    assert empty.status_code == 400 and "choose the signed note" in empty.text
    binary = web_app.post(f"/governance/{pid}/approvals", data={"csrf": csrf},
                          files={"note": ("x.note", b"\xff\xfe", "text/plain")})
    assert binary.status_code == 400 and "not UTF-8" in binary.text
    stranger, _ = note.generate_key("FRA-2")  # not registered
    text = web_world.db.state().proposals[pid].text
    forged = web_app.post(f"/governance/{pid}/approvals", data={"csrf": csrf},
                          files={"note": ("x.note", note.sign_note(text, [stranger]).encode(), "text/plain")})
    assert forged.status_code == 403
    assert "No approval yet" in web_app.get(f"/governance/{pid}/approvals").text
    assert web_app.get("/governance/P-99999").status_code == 404


def test_who_may_not_propose_is_told_and_a_bad_value_keeps_what_was_typed(web_app: TestClient,
                                                                         web_world: World) -> None:
    sign_in(web_app, web_world, "analyst")
    assert "Propose to" not in web_app.get("/governance").text
    assert web_app.get("/governance/propose/admit-member").status_code == 403
    csrf = sign_in(web_app, web_world, "admin")
    assert web_app.get("/governance/propose/nonsense").status_code == 404
    bad = web_app.post("/governance/propose/change-quorum",
                       data={"csrf": csrf, "kind": "admit_member", "rule": "7/5", "days": "30"})
    assert bad.status_code == 400 and 'value="7/5"' in bad.text and "Not done" in bad.text
    days = web_app.post("/governance/propose/remove-member", data={"csrf": csrf, "code": "USA", "days": "many"})
    assert days.status_code == 400 and "days" in days.text
    assert web_world.db.state().proposals == {}


def test_a_proposal_is_withdrawn_by_its_proposer_s_party_only(web_app: TestClient, web_world: World) -> None:
    pid = web_world.do(gov.propose, "admin", gov.ProposalKind.REMOVE_MEMBER, {"code": "USA"}).id
    csrf = sign_in(web_app, web_world, "deu")
    refused = web_app.post(f"/governance/{pid}/withdraw", data={"csrf": csrf})
    assert refused.status_code == 403 and "Not done" in refused.text
    csrf = sign_in(web_app, web_world, "admin")
    assert "Withdraw this proposal" in web_app.get(f"/governance/{pid}").text
    done = web_app.post(f"/governance/{pid}/withdraw", data={"csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == f"/governance/{pid}"
    page = web_app.get(f"/governance/{pid}").text
    assert "withdrawn" in page and "Hand in" not in page and "every 5s" not in page
