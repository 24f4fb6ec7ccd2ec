"""A desk's offers in the browser, as a browser without JavaScript uses them: the list as the API shows it to the
reader, entering, amending (a stale form is refused), withdrawing, and uploading a spreadsheet."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from contactgroup.domain.text import MAX_IMPORT_BYTES
from contactgroup.io.spreadsheet import write_xlsx
from tests.factories import World, enter_offer
from tests.web.conftest import sign_in

SCRIPT = "<script>alert(1)</script>"
FORM = {"member": "DEU", "item": "155-a", "quantity": "1,200", "available_from": "2024-08-01", "depot": "deu",
        "visibility": "member", "source": "stocks", "status": "offered", "end_use": SCRIPT}


def _version(html: str) -> str:
    found = re.search(r'name="version" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_list_shows_only_the_offers_the_reader_may_see(web_app: TestClient, web_world: World) -> None:
    mine = enter_offer(web_world, end_use=SCRIPT)
    theirs = enter_offer(web_world, "fra", member="FRA", depot="FRA", item="155-b")
    sign_in(web_app, web_world, "deu")
    page = web_app.get("/offers")
    assert page.status_code == 200
    assert f'href="/offers/{mine}"' in page.text and theirs not in page.text
    assert "3,000" in page.text  # the catalogue's unit value, with its thousands separator
    assert web_app.get(f"/offers/{theirs}").status_code == 404  # as one that does not exist
    assert web_app.get("/offers/O-99999").status_code == 404
    named = web_app.get("/offers/%3Cscript%3Ealert(1)")  # a hostile address is shown as text
    assert named.status_code == 404 and "&lt;script&gt;alert(1)" in named.text and "<script>alert" not in named.text
    shown = web_app.get(f"/offers/{mine}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text and SCRIPT not in shown.text
    sign_in(web_app, web_world, "admin")  # the coordinator sees both, and filters them
    assert theirs in web_app.get("/offers").text
    by_status = web_app.get("/offers", params={"status": "withdrawn"})
    assert mine not in by_status.text and "Nothing to show" in by_status.text
    by_member = web_app.get("/offers", params={"member": "FRA"})
    assert theirs in by_member.text and f'href="/offers/{mine}"' not in by_member.text
    assert mine in web_app.get("/offers", params={"item_class": "155mm"}).text
    assert mine not in web_app.get("/offers", params={"item_class": "fpv"}).text


def test_a_desk_enters_an_offer_and_a_bad_form_is_refused_keeping_what_was_typed(web_app: TestClient,
                                                                                 web_world: World) -> None:
    csrf = sign_in(web_app, web_world, "deu")
    assert web_app.get("/offers/new").status_code == 200
    before = web_world.event_count()
    bad = web_app.post("/offers/new", data={**FORM, "csrf": csrf, "quantity": "ten", "available_from": "1.8."})
    assert bad.status_code == 400
    assert "quantity: must be a whole number" in bad.text and "available_from: must be a date" in bad.text
    assert 'value="ten"' in bad.text and "&lt;script&gt;" in bad.text  # what was typed, escaped
    other = web_app.post("/offers/new", data={**FORM, "csrf": csrf, "member": "FRA"})  # not its member's
    assert other.status_code == 403 and "may not offer:enter for FRA" in other.text
    assert web_world.event_count() == before
    done = web_app.post("/offers/new", data={**FORM, "csrf": csrf})
    assert done.status_code == 303
    page = web_app.get(done.headers["location"])
    assert page.status_code == 200 and "1,200" in page.text and "OfferMade" in page.text


def test_an_amendment_from_a_stale_form_is_refused_and_shows_the_current_state(web_app: TestClient,
                                                                               web_world: World) -> None:
    offer = enter_offer(web_world)
    csrf = sign_in(web_app, web_world, "deu")
    form = web_app.get(f"/offers/{offer}/amend")
    read = _version(form.text)
    terms = {"csrf": csrf, "version": read, "quantity": "500", "available_from": "2024-08-01", "depot": "DEU",
             "visibility": "member", "end_use": ""}
    assert web_app.post(f"/offers/{offer}/amend", data=terms).status_code == 303
    assert "500" in web_app.get(f"/offers/{offer}").text
    before = web_world.event_count()
    stale = web_app.post(f"/offers/{offer}/amend", data={**terms, "quantity": "450"})
    assert stale.status_code == 412 and "changed since this form was read" in stale.text
    assert 'value="500"' in stale.text and _version(stale.text) != read  # the current state, to amend again
    assert web_world.event_count() == before
    refused = web_app.post(f"/offers/{offer}/amend", data={**terms, "version": _version(stale.text),
                                                           "quantity": "0"})
    assert refused.status_code == 400 and "quantity" in refused.text and 'value="0"' in refused.text


def test_a_desk_moves_its_draft_on_and_withdraws_it_with_a_reason(web_app: TestClient, web_world: World) -> None:
    offer = enter_offer(web_world, status="draft")
    csrf = sign_in(web_app, web_world, "deu")

    def move(verb: str, **data: str) -> int:
        page = web_app.get(f"/offers/{offer}")
        assert f'action="/offers/{offer}/actions/{verb}"' in page.text
        return web_app.post(f"/offers/{offer}/actions/{verb}",
                            data={"csrf": csrf, "version": _version(page.text), **data}).status_code

    assert move("make") == 303 and "offered" in web_app.get(f"/offers/{offer}").text
    assert move("commit", on="2099-01-01") == 400  # a commitment is recorded once made
    assert move("commit", on="2024-06-30") == 303
    assert "committed on 2024-06-30" in web_app.get(f"/offers/{offer}").text
    read = _version(web_app.get(f"/offers/{offer}").text)
    assert move("withdraw", reason="needed at home") == 303
    after = web_app.get(f"/offers/{offer}")
    assert "withdrawn" in after.text and "reason needed at home" in after.text
    assert "actions/withdraw" not in after.text  # nothing more to do with it
    again = web_app.post(f"/offers/{offer}/actions/withdraw", data={"csrf": csrf, "version": read, "reason": "x"})
    assert again.status_code == 412
    csrf = sign_in(web_app, web_world, "fra")  # another member's desk: as if there were no such offer
    hidden = web_app.post(f"/offers/{offer}/actions/withdraw", data={"csrf": csrf, "version": read})
    assert hidden.status_code == 404 and "no offer" in hidden.text


def _csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join(["member,item,quantity,available_from,depot,ref", *rows]) + "\n", encoding="utf-8")
    return path


def test_an_upload_shows_every_bad_row_and_writes_nothing_until_the_file_is_clean(
        web_app: TestClient, web_world: World, tmp_path: Path) -> None:
    csrf = sign_in(web_app, web_world, "deu")
    assert "Spreadsheet of offers" in web_app.get("/offers/upload").text
    bad = _csv(tmp_path / "offers.csv", "DEU,155-a,100,2024-08-01,DEU,r1", "DEU,155-a,many,2024-08-01,DEU,r2",
               f"DEU,{SCRIPT},5,2024-08-01,DEU,r3")
    before = web_world.event_count()
    refused = web_app.post("/offers/upload", data={"csrf": csrf}, files={"file": ("offers.csv", bad.read_bytes())})
    assert refused.status_code == 400 and "nothing was written" in refused.text
    table = refused.text.split('id="problems"')[1].split("</table>")[0]
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", table.split("<tbody>")[1])
    assert cells[:2] == ["3", "quantity"] and cells[3:5] == ["4", "item"]
    assert "&lt;script&gt;" in table and SCRIPT not in refused.text
    assert "contactgroup-upload" not in refused.text  # the server's folder is never shown
    assert web_world.event_count() == before
    good = _csv(tmp_path / "offers.csv", "DEU,155-a,100,2024-08-01,DEU,r1", "DEU,155-b,7,2024-08-02,DEU,r2")
    done = web_app.post("/offers/upload", data={"csrf": csrf}, files={"file": ("offers.csv", good.read_bytes())})
    assert done.status_code == 201 and "2 offers added" in done.text
    added = re.findall(r'<li><a href="/offers/(O-\d+)">', done.text)
    assert len(added) == 2 and all(web_app.get(f"/offers/{a}").status_code == 200 for a in added)
    again = web_app.post("/offers/upload", data={"csrf": csrf}, files={"file": ("offers.csv", good.read_bytes())})
    assert again.status_code == 201 and "0 offers added" in again.text and "2 unchanged" in again.text


def test_an_upload_takes_xlsx_and_refuses_a_file_over_the_limit(web_app: TestClient, web_world: World,
                                                               tmp_path: Path) -> None:
    csrf = sign_in(web_app, web_world, "deu")
    book = tmp_path / "offers.xlsx"
    write_xlsx(book, ["member", "item", "quantity", "available_from", "depot"],
               [["DEU", "155-a", 40, "2024-08-01", "DEU"]])
    done = web_app.post("/offers/upload", data={"csrf": csrf}, files={"file": ("offers.xlsx", book.read_bytes())})
    assert done.status_code == 201 and "1 offer added" in done.text
    before = web_world.event_count()
    broken = web_app.post("/offers/upload", data={"csrf": csrf}, files={"file": ("offers.xlsx", b"not a workbook")})
    assert broken.status_code == 400 and "offers.xlsx: cannot be read as an XLSX workbook" in broken.text
    assert "contactgroup-upload" not in broken.text
    huge = b"member,item,quantity,available_from,depot\n" + b"x" * MAX_IMPORT_BYTES
    refused = web_app.post("/offers/upload", data={"csrf": csrf}, files={"file": ("big.csv", huge)})
    assert refused.status_code == 413 and "larger than 5,000,000 bytes" in refused.text
    assert web_world.event_count() == before
