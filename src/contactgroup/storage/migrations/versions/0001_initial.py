"""Initial schema: the event log (append-only, enforced by triggers), tree nodes, checkpoints, projections."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import contactgroup.storage.schema

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('allocations',
    sa.Column('id', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('offer', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('requirement', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('quantity', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('proposed_on', sa.Date(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('authorities',
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('since', contactgroup.storage.schema.UTCDateTime(timezone=True), autoincrement=False, nullable=False),
    sa.Column('until', contactgroup.storage.schema.UTCDateTime(timezone=True), autoincrement=False, nullable=True),
    sa.PrimaryKeyConstraint('name', 'since')
    )
    op.create_table('checkpoints',
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('signed_at', contactgroup.storage.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('size')
    )
    op.create_table('coalitions',
    sa.Column('area', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('leads', sa.JSON(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('area')
    )
    op.create_table('consents',
    sa.Column('id', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('offer', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('origin', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('requested_on', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('decided_on', sa.Date(), autoincrement=False, nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('contributions',
    sa.Column('id', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('fund', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('member', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('amount', sa.String(length=64), autoincrement=False, nullable=False),
    sa.Column('currency', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('pledged_on', sa.Date(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('deliveries',
    sa.Column('id', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('allocation', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('quantity', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('dispatched_on', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('received_on', sa.Date(), autoincrement=False, nullable=True),
    sa.Column('received', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('short', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('damaged', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('wrong_item', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('events',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('party', sa.String(length=128), nullable=False),
    sa.Column('authority', sa.String(length=128), nullable=False),
    sa.Column('at', contactgroup.storage.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_type'), ['type'], unique=False)

    op.create_table('funds',
    sa.Column('code', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('manager', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('area', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('gdp',
    sa.Column('member', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('year', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('amount', sa.String(length=64), autoincrement=False, nullable=False),
    sa.Column('currency', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('source', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('member', 'year')
    )
    op.create_table('item_classes',
    sa.Column('code', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('area', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('items', sa.JSON(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('items',
    sa.Column('code', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('category', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('unit', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('nsn', sa.Text(), autoincrement=False, nullable=True),
    sa.Column('unit_value_eur', sa.String(length=64), autoincrement=False, nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('members',
    sa.Column('code', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('currency', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('nato', sa.Boolean(), autoincrement=False, nullable=False),
    sa.Column('eu', sa.Boolean(), autoincrement=False, nullable=False),
    sa.Column('active', sa.Boolean(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('offers',
    sa.Column('id', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('member', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('item', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('quantity', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('available_from', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('depot', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('visibility', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('value', sa.String(length=64), autoincrement=False, nullable=True),
    sa.Column('currency', sa.Text(), autoincrement=False, nullable=True),
    sa.Column('basis', sa.String(length=32), autoincrement=False, nullable=True),
    sa.Column('consent_from', sa.Text(), autoincrement=False, nullable=True),
    sa.Column('end_use', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('committed_on', sa.Date(), autoincrement=False, nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rates',
    sa.Column('currency', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('on', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('per_eur', sa.String(length=64), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('currency', 'on')
    )
    op.create_table('requirements',
    sa.Column('id', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('item_class', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('quantity', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('priority', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('needed_by', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('destination', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('area', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('note', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('settings',
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('value', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('tracked_aid',
    sa.Column('key', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('source', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('member', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('month', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('category', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('allocated_eur', sa.String(length=64), autoincrement=False, nullable=False),
    sa.Column('committed_eur', sa.String(length=64), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('tree_nodes',
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('level', 'idx')
    )
    op.create_table('users',
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('party', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('role', sa.String(length=32), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('name')
    )

    # The log is append-only in the database itself: UPDATE and DELETE on events are refused by triggers.
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
                "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION contactgroup_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'events are append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION contactgroup_append_only()"
        )
        op.execute(
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION contactgroup_append_only()"
        )


def downgrade() -> None:
    op.drop_table('users')
    op.drop_table('tree_nodes')
    op.drop_table('tracked_aid')
    op.drop_table('settings')
    op.drop_table('requirements')
    op.drop_table('rates')
    op.drop_table('offers')
    op.drop_table('members')
    op.drop_table('items')
    op.drop_table('item_classes')
    op.drop_table('gdp')
    op.drop_table('funds')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_type'))

    op.drop_table('events')
    op.drop_table('deliveries')
    op.drop_table('contributions')
    op.drop_table('consents')
    op.drop_table('coalitions')
    op.drop_table('checkpoints')
    op.drop_table('authorities')
    op.drop_table('allocations')
