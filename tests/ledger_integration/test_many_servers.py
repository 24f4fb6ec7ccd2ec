"""Two `contactgroup serve` processes on one PostgreSQL database: both take writes at once — governance approvals,
and offers and requirements through `/api/v1` — and every read from either reflects every write acknowledged by
either; exactly one signs checkpoints, and if it dies the other takes over."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from contactgroup.domain.model import Category, Coalition, Item, ItemClass, ProposalKind, Role, User
from contactgroup.ledger import note
from contactgroup.services import coordination as svc
from contactgroup.services import governance as gov
from contactgroup.services import proofs, tokens
from contactgroup.services.clock import SystemClock
from contactgroup.services.coordination import Caller
from contactgroup.services.setup import init_coordination
from contactgroup.storage.database import Database
from tests.conftest import postgres_schema
from tests.ledger_integration.conftest import cli
from tests.ledger_integration.servers import Served, served, wait_for

pytestmark = [pytest.mark.xdist_group("many-servers"), pytest.mark.slow]

TIMEOUT = httpx.Timeout(60.0)


@dataclass
class Cell:
    """A coordination on PostgreSQL whose members all registered keys, with one open proposal to approve."""

    url: str
    folder: Path
    proposal: str
    text: str
    signers: dict[str, note.SignerKey]
    bearers: dict[str, dict[str, str]]  # user -> headers that sign its requests in (a write token)

    def serve(self, stack: ExitStack, *extra: str) -> Served:
        return stack.enter_context(served(self.folder, "--db", self.url, "--approvals-as", "admin", *extra))


@pytest.fixture
def cell(tmp_path: Path) -> Iterator[Cell]:
    with postgres_schema() as url:
        db, clock = Database(url), SystemClock()  # the servers' own clock: the proposal must not have expired
        init_coordination(db, clock, log_key=tmp_path / "log.key", with_members=True)
        members = sorted(db.state().members)
        signers = {code: note.generate_key(f"{code}-1")[0] for code in members}
        with db.transaction() as uow:
            admin = Caller("admin", clock)  # what offers and requirements through /api/v1 name, before governance
            svc.form_coalition(uow, admin, Coalition("artillery", "Artillery", ("FRA", "USA")))
            svc.catalogue_item(uow, admin, Item("155-a", "155 mm HE", Category.MILITARY, "round", None, None))
            svc.define_item_class(uow, admin, ItemClass("155mm", "155 mm round", "artillery", ("155-a",)))
            for code in members:
                svc.register_user(uow, admin, User(f"{code.lower()}-keys", code, Role.DESK_OFFICER))
            for code in members:
                gov.register_key(uow, Caller(f"{code.lower()}-keys", clock), code, signers[code].verifier.text)
            proposal = gov.propose(uow, Caller("deu-keys", clock), ProposalKind.REMOVE_MEMBER,
                                   {"code": members[-1]})
        bearers = {name: {"Authorization": "Bearer " + tokens.issue(db, db.state(), name, now=clock.now(),
                                                                      scope=tokens.Scope.WRITE).token}
                   for name in ["admin", *(f"{code.lower()}-keys" for code in members)]}
        db.engine.dispose()
        yield Cell(url, tmp_path, proposal.id, proposal.text, signers, bearers)


def _approved(server: Served, pid: str) -> set[str]:
    answer = httpx.get(f"{server.url}/proposals/{pid}", timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return set(answer.json()["approved"])


def _created(server: Served, cell: Cell, offer: bool, code: str) -> tuple[str, str, str]:
    """Write through `/api/v1` on `server`: an offer by `code`'s desk officer, or a requirement drafted by the
    coordinator. Where to read it back, its id, and who wrote it."""
    later = (SystemClock().now() + timedelta(days=60)).date().isoformat()  # the servers' clock is the system's
    user, where, body = ((f"{code.lower()}-keys", "offers", {"member": code, "item": "155-a", "quantity": 10,
                                                              "available_from": later, "depot": code})
                         if offer else
                         ("admin", "requirements", {"item_class": "155mm", "quantity": 100, "priority": 1,
                                                    "needed_by": later, "destination": "UKR"}))
    answer = httpx.post(f"{server.url}/api/v1/{where}", json=body, headers=cell.bearers[user], timeout=TIMEOUT)
    assert answer.status_code == 201, f"{where} by {user}: {answer.status_code} {answer.text}"
    return where, str(answer.json()["id"]), user


def _sees(server: Served, cell: Cell, user: str, where: str, ident: str) -> bool:
    answer = httpx.get(f"{server.url}/api/v1/{where}/{ident}", headers=cell.bearers[user], timeout=TIMEOUT)
    return answer.status_code == 200 and answer.json()["id"] == ident


def _listed(server: Served, cell: Cell, where: str) -> set[str]:
    answer = httpx.get(f"{server.url}/api/v1/{where}?limit=500", headers=cell.bearers["admin"], timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return {row["id"] for row in answer.json()["items"]}


def test_two_servers_take_writes_at_once_and_each_reads_every_acknowledged_write(cell: Cell) -> None:
    # 34 approvals: one short of the quorum (35 of 52), so every one of them is a write the proposal takes; beside
    # each, an offer or a requirement written through /api/v1.
    approvers = sorted(cell.signers)[:34]
    acknowledged: list[str] = []
    created: dict[str, set[str]] = {"offers": set(), "requirements": set()}
    failures: list[str] = []
    with ExitStack() as stack:
        servers = [cell.serve(stack), cell.serve(stack)]

        def hand_in(codes: list[str], first: int) -> None:
            """One writer: alternate between the servers; after each acknowledged approval, and an offer (the first
            writer) or a requirement (the second), read it back from the other server at once, as the same user."""
            for n, code in enumerate(codes):
                writer, reader = servers[(first + n) % 2], servers[(first + n + 1) % 2]
                signed = note.sign_note(cell.text, [cell.signers[code]])
                try:
                    answer = httpx.post(f"{writer.url}/proposals/{cell.proposal}/approvals", content=signed,
                                        timeout=TIMEOUT)
                    if answer.status_code != 201:
                        failures.append(f"{code}: {answer.status_code} {answer.text}")
                        continue
                    acknowledged.append(code)
                    if code not in _approved(reader, cell.proposal):
                        failures.append(f"{code}: acknowledged by {writer.url}, not seen by {reader.url}")
                    where, ident, user = _created(writer, cell, first == 0, code)
                    created[where].add(ident)
                    if not _sees(reader, cell, user, where, ident):
                        failures.append(f"{where} {ident}: acknowledged by {writer.url}, not seen by {reader.url}")
                except (httpx.HTTPError, AssertionError) as exc:  # told, not lost with the thread
                    failures.append(f"{code}: {exc!r}")

        writers = [threading.Thread(target=hand_in, args=(approvers[i::2], i)) for i in range(2)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in writers), "a writer hung"
        assert failures == []
        assert sorted(acknowledged) == approvers
        for server in servers:
            assert _approved(server, cell.proposal) == set(approvers)
            assert {where: _listed(server, cell, where) for where in created} == created
        assert len(created["offers"]) == len(created["requirements"]) == len(approvers) // 2
    code, output = cli("verify", "--db", cell.url)
    assert code == 0, output


SIGNED = re.compile(r"signed the checkpoint of size (\d+)")


def _signed_sizes(server: Served) -> list[int]:
    return [int(size) for size in SIGNED.findall(server.output)]


def _checkpoint_size(server: Served) -> int:
    answer = httpx.get(f"{server.url}/checkpoint", timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return int(answer.text.splitlines()[1])


def _approve(server: Served, cell: Cell, code: str) -> None:
    answer = httpx.post(f"{server.url}/proposals/{cell.proposal}/approvals",
                        content=note.sign_note(cell.text, [cell.signers[code]]), timeout=TIMEOUT)
    assert answer.status_code == 201, answer.text


def _tree_size(cell: Cell) -> int:
    db = Database(cell.url)
    try:
        with db.reader() as conn:
            return proofs.tree_size(conn)
    finally:
        db.engine.dispose()


def test_one_server_signs_and_another_takes_over_when_it_dies(cell: Cell) -> None:
    codes = iter(sorted(cell.signers))
    with ExitStack() as stack:
        servers = [cell.serve(stack, "--log-key", str(cell.folder / "log.key"), "--checkpoint-interval", "0.2")
                   for _ in range(2)]
        wait_for(lambda: any("this server signs the checkpoints" in s.output for s in servers), "a signer")
        signer, other = sorted(servers, key=lambda s: "this server signs the checkpoints" not in s.output)
        for _ in range(3):  # writes through both servers; the one signer signs each tree they grow
            for server in servers:
                _approve(server, cell, next(codes))
            size = _tree_size(cell)
            wait_for(lambda size=size: size in _signed_sizes(signer), f"the signer to sign the tree of size {size}")
            assert _checkpoint_size(other) == size  # the other serves what the signer signed
        assert "this server signs" not in other.output and _signed_sizes(other) == []

        signer.kill()  # no shutdown: its database session, and the signer's lock with it, simply go away
        _approve(other, cell, next(codes))
        size = _tree_size(cell)
        wait_for(lambda: size in _signed_sizes(other), f"the other server to take over and sign size {size}")
        assert "this server signs the checkpoints" in other.output
        assert _checkpoint_size(other) == size
    code, output = cli("verify", "--db", cell.url)
    assert code == 0, output
