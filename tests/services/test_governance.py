"""The 2024 move of the coordination from the US-led cell (IDCC) to NATO (NSATU), on the demo data, with
52 member keys: refused below quorum and with forged or revoked keys, effective at quorum; afterwards only
the new authority coordinates, and every report is unchanged."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from contactgroup.domain import model as m
from contactgroup.domain.errors import Conflict, Forbidden
from contactgroup.ledger import note
from contactgroup.reports.burden import burden
from contactgroup.reports.coverage import coverage
from contactgroup.reports.gaps import gaps
from contactgroup.reports.lag import lag
from contactgroup.services import coordination as svc
from contactgroup.services import governance as gov
from contactgroup.services.clock import FixedClock
from contactgroup.services.demo import build_demo
from contactgroup.services.verify import verify
from contactgroup.storage.database import Database


def reports(db: Database) -> list[object]:
    state = db.state()
    return [[dataclasses.asdict(r) for r in rows] for rows in
            (coverage(state, "requirement"), coverage(state, "tier"), burden(state), lag(state), gaps(state, 50))]


@pytest.fixture
def demo(db_url: str) -> Database:
    db = Database(db_url)
    build_demo(db, seed=11)
    return db


def test_handover_from_idcc_to_nsatu(demo: Database) -> None:
    clock = FixedClock(datetime(2026, 5, 1, 9, tzinfo=UTC))
    before = reports(demo)
    members = sorted(demo.state().members)
    assert len(members) == 52
    signers = {code: note.generate_key(f"{code}-2026")[0] for code in members}

    def as_(user: str) -> svc.Caller:
        return svc.Caller(user, clock)

    with demo.transaction() as uow:
        for code in members:
            gov.register_key(uow, as_(f"{code.lower()}-desk"), code, signers[code].verifier.text)
    new_log_key = note.generate_key(demo.state().setting("origin"))[1].text
    with demo.transaction() as uow:  # a member proposes: the outgoing authority's cooperation is not needed
        proposal = gov.propose(uow, as_("deu-desk"), m.ProposalKind.HANDOVER,
                               {"to": "NSATU", "users": ["nsatu-admin"], "log_key": new_log_key})

    def approve(signer: note.SignerKey, user: str = "admin") -> gov.gov.Quorum:
        with demo.transaction() as uow:
            return gov.approve(uow, as_(user), proposal.id, note.sign_note(proposal.text, [signer]))

    for code in members[:34]:
        quorum = approve(signers[code])
    assert (len(quorum.approved), quorum.needed) == (34, 35)
    state = demo.state()
    assert state.proposals[proposal.id].status is m.ProposalStatus.OPEN
    assert state.authority is not None and state.authority.name == "IDCC"

    # The outgoing authority alone can neither fake an approval nor block the proposal.
    with pytest.raises(Forbidden, match="no registered member key verifies this approval"):
        approve(note.generate_key(members[40])[0])
    with pytest.raises(Forbidden, match="only deu-desk's party may withdraw P-00001"), demo.transaction() as uow:
        gov.withdraw(uow, as_("admin"), proposal.id)
    # A revoked key counts for nothing, and a duplicate counts once.
    revoked = members[34]
    with demo.transaction() as uow:
        gov.revoke_key(uow, as_(f"{revoked.lower()}-desk"), signers[revoked].verifier.text)
    with pytest.raises(Conflict, match=f"{revoked}'s key {revoked}-2026 is revoked"):
        approve(signers[revoked])
    with pytest.raises(Conflict, match=f"{members[0]} already approved P-00001"):
        approve(signers[members[0]])
    assert demo.state().authority.name == "IDCC"  # type: ignore[union-attr]

    quorum = approve(signers[members[35]], user="pol-auditor")  # anyone may hand in a signed approval
    state = demo.state()
    assert state.proposals[proposal.id].status is m.ProposalStatus.EFFECTIVE
    assert state.authority is not None and state.authority.name == "NSATU"
    assert state.setting("log_verifier_key") == new_log_key
    history = sorted(state.tables["authorities"].values(), key=lambda a: a.since)
    assert [(a.name, a.until is None) for a in history] == [("IDCC", False), ("NSATU", True)]

    # The old authority's coordinators are refused; the new one's work.
    req = next(r for r in state.requirements.values() if r.status is m.RequirementStatus.OPEN)
    refused = "acts for IDCC, which is not the coordinating authority \\(now NSATU\\)"
    with pytest.raises(Forbidden, match=refused), demo.transaction() as uow:
        svc.move_requirement(uow, as_("admin"), req.id, "close")
    with demo.transaction() as uow:
        svc.register_user(uow, as_("nsatu-admin"), m.User("nsatu-desk-1", "NSATU", m.Role.COORDINATOR))
    # Nothing lost: every report is identical, and the record verifies across the handover.
    assert reports(demo) == before
    assert verify(demo).ok
    # The handover event carries the signatures that made it, for anyone to check again.
    with demo.reader() as conn:
        body = conn.execute(sa.text("SELECT body FROM events WHERE type = 'AuthorityHandedOver'")).scalar_one()
    carried = json.loads(bytes(body))["data"]["approvals"]
    assert len(carried) == 35
    assert sum(any(gov.verify(s.verifier.text, n) for s in signers.values()) for n in carried) == 35
