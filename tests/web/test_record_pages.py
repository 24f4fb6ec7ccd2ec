"""The record's page: the latest checkpoint, each witness and what it last cosigned, and `verify` run in the
background on request, its result and time kept."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from contactgroup.ledger.cosignature import generate_cosigner
from contactgroup.ledger.note import b64encode
from contactgroup.services import checkpoints, key_files, log_keys, witness_policy
from tests.factories import World
from tests.web.conftest import sign_in


def _verified(client: TestClient, csrf: str) -> str:
    """Run verify from the page, wait for it; the page after."""
    started = client.post("/record/verify", data={"csrf": csrf})
    assert started.status_code == 303 and started.headers["location"] == "/record#verify"
    client.app.state.page_jobs.latest("verify").wait(120)  # type: ignore[attr-defined]
    page = client.get("/record")
    assert page.status_code == 200
    return page.text


def test_the_record_shows_its_checkpoint_and_each_witness(web_app: TestClient, web_world: World) -> None:
    sign_in(web_app, web_world, "analyst")
    empty = web_app.get("/record")
    assert empty.status_code == 200 and "No checkpoint signed yet" in empty.text and "Not run since" in empty.text
    cosigners = {name: generate_cosigner(name) for name in ("w1.example", "w2.example")}
    for name, (_, key) in cosigners.items():
        web_world.do(witness_policy.add_witness, "admin", name, key.text)
    path = log_keys.resolve_log_key_path(web_world.db, None)
    assert path is not None
    checkpoint, _, _ = checkpoints.sign_checkpoint(web_world.db, key_files.read_signer_key(path), web_world.clock)
    line = cosigners["w1.example"][0].cosign(checkpoint, int(web_world.clock.now().timestamp())).line
    checkpoints.add_cosignature(web_world.db, line, checkpoint.size, web_world.clock)
    page = web_app.get("/record").text
    assert b64encode(checkpoint.root) in page and f"{checkpoint.size:,} events" in page
    assert web_world.clock.now().strftime("%Y-%m-%d %H:%MZ") in page  # when it was signed
    w1 = page.split('class="key">w1.example</th>')[1].split("</tr>")[0]
    w2 = page.split('class="key">w2.example</th>')[1].split("</tr>")[0]
    assert f">{checkpoint.size:,}<" in w1 and "none yet" in w2


def test_verify_runs_in_the_background_and_its_result_is_kept(web_app: TestClient, web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "analyst")
    assert web_app.post("/record/verify").status_code == 403  # no CSRF token: nothing starts
    passed = _verified(web_app, csrf)
    assert "<strong>Passed</strong>" in passed and "events and" in passed
    with web_world.db.engine.begin() as conn:  # someone edits a projection behind the log's back
        conn.execute(sa.text("UPDATE items SET name = '<b>changed</b>' WHERE code = '155-a'"))
    sign_in(web_app, web_world, "admin")  # another reader sees the same kept result
    failed = _verified(web_app, web_app.cookies["cg_csrf"])
    assert "<strong>Failed</strong>" in failed and "items[155-a]" in failed
    assert "<b>changed</b>" not in failed


def test_the_record_needs_a_signed_in_user(web_app: TestClient) -> None:
    assert web_app.get("/record").status_code == 303
