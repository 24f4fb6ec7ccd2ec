"""Accounts beside the record: API tokens (stored only as hashes) and the security log. No event changes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contactgroup.storage.schema import UTCDateTime

revision = '0009_tokens'
down_revision = '0005_owed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.String(32), nullable=False),
    sa.Column('user_name', sa.String(200), nullable=False),
    sa.Column('secret_hash', sa.LargeBinary(32), nullable=False),
    sa.Column('scope', sa.String(8), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash'),
    )
    op.create_index('ix_api_tokens_user_name', 'api_tokens', ['user_name'])
    op.create_table('security_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('user_name', sa.String(200), nullable=False),
    sa.Column('party', sa.String(128), nullable=False),
    sa.Column('actor', sa.String(200), nullable=False),
    sa.Column('kind', sa.String(32), nullable=False),
    sa.Column('source', sa.String(64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_security_log_user_name', 'security_log', ['user_name'])
    op.create_index('ix_security_log_party', 'security_log', ['party'])


def downgrade() -> None:
    op.drop_table('security_log')
    op.drop_table('api_tokens')
