"""Accounts beside the record: credentials (argon2id, TOTP, enrolment codes), passkeys and their challenges,
browser sessions and the sign-in back-off. No event changes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contactgroup.storage.schema import UTCDateTime

revision = '0011_accounts'
down_revision = '0010_publish'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credentials',
    sa.Column('user_name', sa.String(200), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('totp_secret', sa.String(64), nullable=True),
    sa.Column('totp_pending', sa.String(64), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('enrolment_hash', sa.LargeBinary(32), nullable=True),
    sa.Column('enrolment_expires', UTCDateTime(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_name'),
    sa.UniqueConstraint('enrolment_hash'),
    )
    op.create_table('sessions',
    sa.Column('id', sa.String(32), nullable=False),
    sa.Column('secret_hash', sa.LargeBinary(32), nullable=False),
    sa.Column('csrf_hash', sa.LargeBinary(32), nullable=False),
    sa.Column('user_name', sa.String(200), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('seen_at', UTCDateTime(), nullable=False),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash'),
    )
    op.create_index('ix_sessions_user_name', 'sessions', ['user_name'])
    op.create_table('passkeys',
    sa.Column('id', sa.String(512), nullable=False),
    sa.Column('user_name', sa.String(200), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('used_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_passkeys_user_name', 'passkeys', ['user_name'])
    op.create_table('webauthn_challenges',
    sa.Column('challenge_hash', sa.LargeBinary(32), nullable=False),
    sa.Column('purpose', sa.String(16), nullable=False),
    sa.Column('user_name', sa.String(200), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('challenge_hash'),
    )
    op.create_table('sign_in_failures',
    sa.Column('key', sa.String(256), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('sign_in_failures')
    op.drop_table('webauthn_challenges')
    op.drop_table('passkeys')
    op.drop_table('sessions')
    op.drop_table('credentials')
