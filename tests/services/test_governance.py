"""The 2024 move of the coordination from the US-led cell (IDCC) to NATO (NSATU), on the demo data, with
52 member keys: refused below quorum and with forged or revoked keys, effective at quorum; afterwards only
the new authority coordinates, and every report is unchanged."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from contactgroup.domain.errors import Conflict, Forbidden
from contactgroup.domain.model import (
    Coalition,
    Member,
    MemberKind,
    Proposal,
    ProposalKind,
    ProposalStatus,
    RequirementStatus,
    Role,
    User,
    Visibility,
)
from contactgroup.ledger import note
from contactgroup.reports.burden import burden
from contactgroup.reports.coverage import coverage
from contactgroup.reports.gaps import gaps
from contactgroup.reports.lag import lag
from contactgroup.services import coordination as svc
from contactgroup.services import governance as gov
from contactgroup.services.clock import FixedClock
from contactgroup.services.verify import verify
from contactgroup.storage.database import Database
from tests.conftest import DatabaseCopies
from tests.services.conftest import build_demo_11


def reports(db: Database) -> list[object]:
    state = db.state()
    return [[dataclasses.asdict(r) for r in rows] for rows in
            (coverage(state, "requirement"), coverage(state, "tier"), burden(state), lag(state), gaps(state, 50))]


@pytest.fixture
def demo(db_url: str, tmp_path: Path, database_copies: DatabaseCopies) -> Database:
    if db_url.startswith("sqlite"):  # a copy of the as-of tests' demo
        return database_copies.copy(db_url, tmp_path, "demo-11", build_demo_11)
    # Built here: no other test copies it on PostgreSQL, and recording a template costs more than building once.
    db = Database(db_url)
    build_demo_11(db, tmp_path)
    return db


@pytest.mark.xdist_group("demo-11")  # the worker that built the demo for the as-of tests copies it
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
        proposal = gov.propose(uow, as_("deu-desk"), ProposalKind.HANDOVER,
                               {"to": "NSATU", "users": ["nsatu-admin"], "log_key": new_log_key})

    def approve(signer: note.SignerKey, user: str = "admin") -> gov.gov.Quorum:
        with demo.transaction() as uow:
            return gov.approve(uow, as_(user), proposal.id, note.sign_note(proposal.text, [signer]))

    with demo.transaction() as uow:  # handed in together: one transaction, not 34 (each approval still counts)
        for code in members[:34]:
            quorum = gov.approve(uow, as_("admin"), proposal.id, note.sign_note(proposal.text, [signers[code]]))
    assert (len(quorum.approved), quorum.needed) == (34, 35)
    state = demo.state()
    assert state.proposals[proposal.id].status is ProposalStatus.OPEN
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
    assert state.proposals[proposal.id].status is ProposalStatus.EFFECTIVE
    assert state.authority is not None and state.authority.name == "NSATU"
    assert state.setting("log_verifier_key") == new_log_key
    history = sorted(state.tables["authorities"].values(), key=lambda a: a.since)
    assert [(a.name, a.until is None) for a in history] == [("IDCC", False), ("NSATU", True)]

    # The old authority's coordinators are refused; the new one's work.
    req = next(r for r in state.requirements.values() if r.status is RequirementStatus.OPEN)
    refused = "acts for IDCC, which is not the coordinating authority \\(now NSATU\\)"
    with pytest.raises(Forbidden, match=refused), demo.transaction() as uow:
        svc.move_requirement(uow, as_("admin"), req.id, "close")
    with demo.transaction() as uow:
        svc.register_user(uow, as_("nsatu-admin"), User("nsatu-desk-1", "NSATU", Role.COORDINATOR))
    # Nothing lost: every report is identical, and the record verifies across the handover.
    assert reports(demo) == before
    assert verify(demo).ok
    # The handover event carries the signatures that made it, for anyone to check again.
    with demo.reader() as conn:
        body = conn.execute(sa.text("SELECT body FROM events WHERE type = 'AuthorityHandedOver'")).scalar_one()
    carried = json.loads(bytes(body))["data"]["approvals"]
    assert len(carried) == 35
    assert sum(any(gov.verify(s.verifier.text, n) for s in signers.values()) for n in carried) == 35


# --- the audit of issue 5: what the outgoing authority alone can no longer do ------------------------------------

from contactgroup.domain.errors import ContactGroupError, ValidationFailed  # noqa: E402
from contactgroup.domain.event import Context  # noqa: E402
from contactgroup.services import access  # noqa: E402
from tests.factories import World, enter_offer  # noqa: E402


def keyed(world: World) -> dict[str, note.SignerKey]:
    """Every member gets a desk officer `<code>-keys` (set up by the authority before governance is in force),
    which registers the member's key."""
    members = sorted(world.db.state().members)
    signers = {code: note.generate_key(f"{code}-1")[0] for code in members}
    with world.db.transaction() as uow:
        for code in members:
            svc.register_user(uow, world.caller("admin"), User(f"{code.lower()}-keys", code, Role.DESK_OFFICER))
        for code in members:
            gov.register_key(uow, world.caller(f"{code.lower()}-keys"), code, signers[code].verifier.text)
    return signers


def approve_all(world: World, pid: str, signers: dict[str, note.SignerKey], members: list[str]) -> gov.gov.Quorum:
    """Approvals handed in by `admin` one after the other, in one transaction (the rules are the same as for one
    transaction each, at a thirtieth of the cost)."""
    q = None
    with world.db.transaction() as uow:
        text = uow.state.proposals[pid].text
        for code in members:
            q = gov.approve(uow, world.caller("admin"), pid, note.sign_note(text, [signers[code]]))
    assert q is not None
    return q


def refused(world: World, error: type[ContactGroupError], match: str, fn: object, user: str, *args: object) -> None:
    """`fn` is refused with `match`, and nothing is written."""
    before = world.event_count()
    with pytest.raises(error, match=match):
        world.do(fn, user, *args)
    assert world.event_count() == before


def propose_handover(world: World, user: str = "deu", admin: str = "nsatu-admin", log_key: str = "") -> Proposal:
    log_key = log_key or note.generate_key(world.db.state().setting("origin"))[1].text
    result: Proposal = world.do(gov.propose, user, ProposalKind.HANDOVER,
                                  {"to": "NSATU", "users": [admin], "log_key": log_key})
    return result


class TestOutgoingAuthority:
    def test_cannot_block_a_handover_by_taking_the_new_authority_user_name(self, world: World) -> None:
        signers = keyed(world)
        p = propose_handover(world)
        for look_alike in ("nsatu-admin", "NSATU-ADMIN", "Nsatu_admin", "nsatu.admin"):
            refused(world, Conflict, f"user name {look_alike} is reserved by open handover proposal {p.id}",
                    svc.register_user, "admin", User(look_alike, "IDCC", Role.COORDINATOR))
        approve_all(world, p.id, signers, sorted(signers)[:35])
        assert world.db.state().authority.name == "NSATU"  # type: ignore[union-attr]

    def test_a_handover_cannot_name_a_user_too_like_an_existing_one(self, world: World) -> None:
        keyed(world)
        world.do(svc.register_user, "admin", User("nsatu-admin", "IDCC", Role.COORDINATOR))
        with pytest.raises(ValidationFailed, match="user NSATU_Admin is too like the existing user nsatu-admin"):
            propose_handover(world, admin="NSATU_Admin")
        with pytest.raises(Conflict, match=r"user Nsatu\.Admin is too like the existing user nsatu-admin"):
            world.do(svc.register_user, "admin", User("Nsatu.Admin", "IDCC", Role.COORDINATOR))

    def test_cannot_admit_members_or_form_coalitions_once_members_hold_keys(self, world: World) -> None:
        world.do(svc.admit_member, "admin", Member("CHL", "Chile", MemberKind.NATION, "EUR"))  # before: may
        keyed(world)
        refused(world, Forbidden, "admitted only by an admit-member proposal", svc.admit_member, "admin",
                Member("AAA", "Stack", MemberKind.NATION, "EUR"))
        refused(world, Forbidden, "formed only by a change-lead proposal", svc.form_coalition, "admin",
                Coalition("mines", "Demining", ("DEU",)))

    def test_cannot_add_users_to_a_member_that_has_users(self, world: World) -> None:
        signers = keyed(world)
        refused(world, Forbidden, "DEU's users are added by its own desk officers", svc.register_user, "admin",
                User("deu-fake", "DEU", Role.DESK_OFFICER))
        world.do(svc.register_user, "deu", User("deu-2", "DEU", Role.AUDITOR))  # the member itself may
        refused(world, Forbidden, "desk officer for DEU and may not user:register for FRA", svc.register_user,
                "deu", User("fra-fake", "FRA", Role.DESK_OFFICER))
        # A member admitted by proposal gets its first user from the authority, and its next from itself.
        admit = world.do(gov.propose, "deu", ProposalKind.ADMIT_MEMBER,
                         {"code": "CHL", "name": "Chile", "kind": "nation", "currency": "CLP", "nato": False,
                          "eu": False})
        approve_all(world, admit.id, signers, sorted(signers)[:35])
        world.do(svc.register_user, "admin", User("chl-desk", "CHL", Role.DESK_OFFICER))
        refused(world, Forbidden, "CHL's users are added by its own desk officers", svc.register_user, "admin",
                User("chl-2", "CHL", Role.DESK_OFFICER))
        world.do(svc.register_user, "chl-desk", User("chl-2", "CHL", Role.ANALYST))

    def test_cannot_revoke_members_keys_or_withdraw_their_proposals(self, world: World) -> None:
        signers = keyed(world)
        p = propose_handover(world)
        refused(world, Forbidden, "admin \\(coordinator for IDCC\\) may not keys:manage", gov.revoke_key, "admin",
                signers["DEU"].verifier.text)
        refused(world, Forbidden, f"only deu's party may withdraw {p.id}", gov.withdraw, "admin", p.id)
        refused(world, Forbidden, "may not governance:withdraw", gov.withdraw, "ukr", p.id)

    def test_loses_sight_of_confidential_offers_with_the_chair(self, world: World) -> None:
        signers = keyed(world)
        offer_id = enter_offer(world, visibility=Visibility.MEMBER)
        state = world.db.state()
        assert access.can_see_offer(state, state.users["admin"], state.offers[offer_id])
        approve_all(world, propose_handover(world).id, signers, sorted(signers)[:35])
        state = world.db.state()
        assert not access.can_see_offer(state, state.users["admin"], state.offers[offer_id])
        assert access.can_see_offer(state, state.users["nsatu-admin"], state.offers[offer_id])
        assert access.can_see_offer(state, state.users["deu"], state.offers[offer_id])


class TestVerifyChecksGovernance:
    def rogue(self, world: World, approvals: list[str], text: str = "", to: str = "EVIL", key: str = "") -> None:
        """Whoever holds the database writes a handover and a new log key around the services."""
        new_key = key or note.generate_key(world.db.state().setting("origin"))[1].text
        with world.db.transaction() as uow:
            ctx = Context("admin", "IDCC", "IDCC", world.clock.now())
            uow.record([
                ctx.event("AuthorityHandedOver", {"proposal": "P-00001", "from": "IDCC", "to": to,
                                                  "log_key": new_key, "proposal_text": text,
                                                  "approvals": approvals}),
                ctx.event("SettingChanged", {"name": "log_verifier_key", "value": new_key})])

    def log_key(self, world: World) -> None:
        if not world.db.state().setting("log_verifier_key"):  # init makes one only beside an SQLite file
            key = note.generate_key(world.db.state().setting("origin"))[1].text
            world.do(svc.record_setting, "admin", "log_verifier_key", key)

    def test_a_handover_without_approvals_is_a_finding(self, world: World) -> None:
        self.log_key(world)
        keyed(world)
        handover_at = world.event_count()
        self.rogue(world, [])
        findings = [str(f) for f in verify(world.db).findings]
        assert any(f.startswith(f"events[{handover_at}]: authority handed over to 'EVIL' without a valid quorum")
                   for f in findings), findings
        assert any(f.startswith(f"events[{handover_at + 1}]: the log key changed to") for f in findings), findings

    def test_signatures_over_other_proposals_do_not_make_a_quorum(self, world: World) -> None:
        self.log_key(world)
        signers = keyed(world)
        members = sorted(signers)
        key = note.generate_key(world.db.state().setting("origin"))[1].text  # three proposals, one new key
        proposals = [propose_handover(world, user=f"{code.lower()}-keys", admin=f"n{i}", log_key=key)
                     for i, code in enumerate(members[:3])]
        notes = []
        for i, p in enumerate(proposals):  # 12 approvals each: none reaches 35
            approve_all(world, p.id, signers, members[12 * i:12 * (i + 1)])
            notes += [note.sign_note(p.text, [signers[code]]) for code in members[12 * i:12 * (i + 1)]]
        handover_at = world.event_count()
        self.rogue(world, notes, text=proposals[0].text, to="NSATU", key=key)
        self.rogue(world, notes, text=proposals[0].text, key=key)
        findings = [str(f) for f in verify(world.db).findings]
        # 36 genuine signatures of this very key, but only 12 over the text of the proposal it carries.
        assert (f"events[{handover_at}]: authority handed over to 'NSATU' without a valid quorum: 12 member "
                "signatures by the keys registered then, 35 needed (rule 2/3, 52 members decide)") in findings, findings
        assert (f"events[{handover_at + 2}]: authority handed over to 'EVIL' without a valid quorum: proposal "
                "P-00001 already made an earlier handover") in findings, findings
        assert f"events[{handover_at + 3}]: the log key changed to {key} without a quorum-approved handover naming " \
               "it" not in findings  # the same key again: no change


class TestElectorateChanges:
    def test_a_proposal_takes_effect_when_a_removal_shrinks_its_electorate(self, world: World) -> None:
        signers = keyed(world)
        change = world.do(gov.propose, "fra", ProposalKind.CHANGE_LEAD, {"area": "artillery", "leads": ["POL"]})
        world.do(gov.approve, "admin", change.id, note.sign_note(change.text, [signers["FRA"]]))  # 1 of 2 leads
        removal = world.do(gov.propose, "deu", ProposalKind.REMOVE_MEMBER, {"code": "USA"})
        q = approve_all(world, removal.id, signers, [c for c in sorted(signers) if c != "USA"][:35])
        assert (len(q.approved), q.needed) == (35, 35)  # counted before USA left (not "35 of 34")
        state = world.db.state()
        assert state.proposals[change.id].status is ProposalStatus.EFFECTIVE
        assert state.coalitions["artillery"].leads == ("POL",)

    def test_proposals_stay_open_one_to_3650_days(self, world: World) -> None:
        for days in (0, 3651, 100_000_000):
            with pytest.raises(ValidationFailed, match="stays open 1 to 3650 days"):
                world.do(gov.propose, "deu", ProposalKind.REMOVE_MEMBER, {"code": "USA"}, days)

    def test_users_and_keys_registered_against_the_rules_are_findings_and_do_not_vote(self, world: World) -> None:
        """The audit's in-platform fake: desk officers registered by the authority for members that have users,
        keys registered through them. The services refuse it now; a log that holds it anyway fails `verify`."""
        keyed(world)
        fake = note.generate_key("DEU-shadow")[0]
        at = world.event_count()
        with world.db.transaction() as uow:
            uow.record([Context("admin", "IDCC", "IDCC", world.clock.now()).event(
                "UserRegistered", {"name": "deu-x", "party": "DEU", "role": "desk_officer"})])
            uow.record([Context("deu-x", "DEU", "IDCC", world.clock.now()).event(
                "MemberKeyRegistered", {"key": fake.verifier.text, "member": "DEU", "status": "active",
                                        "registered_at": world.clock.now().isoformat(), "revoked_at": None})])
        findings = [str(f) for f in verify(world.db).findings]
        assert findings[:2] == [
            f"events[{at}]: user deu-x registered for DEU by admin (IDCC), although DEU had users of its own and "
            "governance was in force",
            f"events[{at + 1}]: key DEU-shadow+{fake.key_id.hex()} registered for DEU through deu-x, a user the rules "
            "did not allow: its signatures do not count"], findings
