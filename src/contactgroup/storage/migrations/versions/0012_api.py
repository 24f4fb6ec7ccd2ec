"""Idempotency keys of API POSTs, beside the record (kept a day per user). No event changes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contactgroup.storage.schema import UTCDateTime

revision = '0012_api'
down_revision = '0011_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('user_name', sa.String(200), nullable=False),
    sa.Column('key', sa.String(255), nullable=False),
    sa.Column('request_hash', sa.LargeBinary(32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('headers', sa.Text(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('user_name', 'key'),
    )
    op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'])


def downgrade() -> None:
    op.drop_table('idempotency_keys')
