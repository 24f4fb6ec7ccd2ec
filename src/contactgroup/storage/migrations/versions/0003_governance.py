"""Governance: member keys, proposals and their approvals."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import contactgroup.storage.schema

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approvals',
    sa.Column('key', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('proposal', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('member', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('signer', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('note', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('approved_at', contactgroup.storage.schema.UTCDateTime(timezone=True), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('member_keys',
    sa.Column('key', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('member', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('registered_at', contactgroup.storage.schema.UTCDateTime(timezone=True), autoincrement=False, nullable=False),
    sa.Column('revoked_at', contactgroup.storage.schema.UTCDateTime(timezone=True), autoincrement=False, nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('proposals',
    sa.Column('id', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('payload', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('text', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('proposer', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('made_at', contactgroup.storage.schema.UTCDateTime(timezone=True), autoincrement=False, nullable=False),
    sa.Column('expires_at', contactgroup.storage.schema.UTCDateTime(timezone=True), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('rule', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('proposals')
    op.drop_table('member_keys')
    op.drop_table('approvals')
