"""The event log and projections on both engines: append-only, all-or-nothing, and checked by `verify`."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import contactgroup.storage
from contactgroup.domain.errors import Conflict
from contactgroup.domain.model import Fund, OfferStatus
from contactgroup.services import coordination as svc
from contactgroup.services.verify import verify
from tests.factories import World, confirmed_allocation, enter_offer, open_requirement


@pytest.fixture
def world(world: World) -> World:
    req = open_requirement(world, quantity=100)
    confirmed_allocation(world, enter_offer(world, quantity=100), req, 60)
    return world


def _unprotect(conn: sa.Connection) -> None:
    """Drop the append-only triggers, as an attacker with database access could."""
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("DROP TRIGGER events_no_update"))
        conn.execute(sa.text("DROP TRIGGER events_no_delete"))
    else:
        conn.execute(sa.text("DROP TRIGGER events_append_only ON events"))


class TestAppendOnly:
    @pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'mallory' WHERE seq = 3",
                                           "DELETE FROM events WHERE seq = 3"])
    def test_database_refuses_changing_the_log(self, world: World, statement: str) -> None:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), world.db.engine.begin() as conn:
            conn.execute(sa.text(statement))
        assert verify(world.db).ok

    def test_failed_command_writes_nothing(self, world: World) -> None:
        before = world.event_count()
        with pytest.raises(Conflict), world.db.transaction() as uow:
            svc.create_fund(uow, world.caller("admin"), Fund("F1", "A fund", "DEU", "artillery"))
            svc.create_fund(uow, world.caller("admin"), Fund("F1", "Again", "DEU", "artillery"))
        assert world.event_count() == before
        assert "F1" not in world.db.state().funds


class TestVerify:
    def test_passes_on_an_untouched_record(self, world: World) -> None:
        report = verify(world.db)
        assert report.ok, report.findings
        assert report.events == world.event_count()

    def test_names_table_and_key_of_an_edited_projection(self, world: World) -> None:
        with world.db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE offers SET quantity = 1000 WHERE id = 'O-00001'"))
        findings = [str(f) for f in verify(world.db).findings]
        assert len(findings) == 1
        assert findings[0].startswith("offers[O-00001]: differs from the log")

    def test_names_a_projection_row_no_event_created(self, world: World) -> None:
        with world.db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO funds (code, name, manager, area) VALUES ('X', 'x', 'DEU', 'it')"))
        assert [str(f) for f in verify(world.db).findings] == [
            "funds[X]: row exists in the database but no event created it"]

    def test_finds_an_edited_event_by_index(self, world: World) -> None:
        with world.db.engine.begin() as conn:
            _unprotect(conn)
            body = conn.execute(sa.text("SELECT body FROM events WHERE seq = 5")).scalar_one()
            forged = bytes(body).replace(b'"actor":"admin"', b'"actor":"nobody"')
            conn.execute(sa.text("UPDATE events SET body = :b WHERE seq = 5"), {"b": forged})
        findings = [str(f) for f in verify(world.db).findings]
        assert ("events[5]: stored leaf hash does not match the event's bytes or the commitment to its actor "
                "(edited?)") in findings

    def test_finds_a_deleted_event_by_index(self, world: World) -> None:
        last = world.event_count() - 1
        with world.db.engine.begin() as conn:
            _unprotect(conn)
            conn.execute(sa.text("DELETE FROM events WHERE seq = :s"), {"s": last - 2})
        findings = [str(f) for f in verify(world.db).findings]
        assert findings[0] == f"events[{last - 2}]: event missing (deleted?): the next stored seq is {last - 1}"


def test_the_schema_revision_constant_is_the_newest_migration() -> None:
    from contactgroup.storage.database import SCHEMA_REVISION, head_revision

    assert head_revision() == SCHEMA_REVISION


def _revision_before(name: str) -> str:
    text = (Path(contactgroup.storage.__file__).parent / "migrations" / "versions" / f"{name}.py").read_text()
    return text.split("down_revision = '", 1)[1].split("'", 1)[0]


_BEFORE_LOOP = _revision_before("0013_loop")


def _undo_network(conn: sa.Connection) -> None:
    """Take out what 0014_network adds, as a database written before it lacks it."""
    for table in ("legs", "border_rules", "zones"):
        conn.execute(sa.text(f"DROP TABLE {table}"))
    for table, columns in (("places", ("lat", "lon", "capacity", "capacity_unit", "source")),
                           ("items", ("mass_kg", "hazard_class"))):
        for column in columns:
            conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))


class TestMigrationLoop:
    def test_rebuilds_offers_an_amendment_delivered_under_the_new_rule(self, world: World) -> None:
        """A database whose offer was lowered to what arrived while the older rule kept it in delivery: the table
        says in_delivery, the log now says delivered; `migrate` rebuilds the offers so that `verify` passes."""
        from datetime import date

        d = world.do(svc.dispatch, "deu", allocation="A-00001", quantity=60, dispatched_on=date(2024, 7, 1))
        world.do(svc.receive, "ukr", d.id, received_on=date(2024, 7, 1))
        world.do(svc.amend_offer, "deu", "O-00001", quantity=60)
        with world.db.engine.begin() as conn:  # as the older code wrote it
            conn.execute(sa.text("UPDATE offers SET status = 'in_delivery' WHERE id = 'O-00001'"))
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :before"), {"before": _BEFORE_LOOP})
            _undo_network(conn)
            for table in ("movement_permissions", "shipment_positions"):  # 0015_mob_plan adds them
                conn.execute(sa.text(f"DROP TABLE {table}"))
        world.db.migrate()
        report = verify(world.db)  # without the rebuild: "offers[O-00001]: differs from the log"
        assert report.ok, [str(f) for f in report.findings]
        assert world.db.state().offers["O-00001"].status is OfferStatus.DELIVERED
