"""Members' IATI organisation identifiers (`member iati`), which a public release publishes activities under.

The table is new and starts empty: no event of an older log creates its rows (`IatiIdentifierRecorded` is new).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_publish'
down_revision = '0009_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('iati_organisations',
    sa.Column('member', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('identifier', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('member')
    )


def downgrade() -> None:
    op.drop_table('iati_organisations')
