"""Amendments: a user can be disabled (`users.active`), and a requirement entered after the fact keeps the day it
was really raised (`requirements.entered_on`).

Every existing user is active and every existing requirement was entered when its event was recorded, which is what
replaying the log gives (the events written before carry neither field; the entities' defaults apply).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_amend'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('requirements') as batch:
        batch.add_column(sa.Column('entered_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('requirements') as batch:
        batch.drop_column('entered_on')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('active')
