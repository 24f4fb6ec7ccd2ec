"""Places (handover points a requirement may name) and tracked donors (a tracker's donors that are not members).

Both tables are new and start empty: no event of an older log creates their rows (`PlaceDefined` and
`DonorTracked` are new), and requirements keep the destinations they were written with.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_places'
down_revision = '0007_ref'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('places',
    sa.Column('code', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('country', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('region', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('tracked_donors',
    sa.Column('code', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('source', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('code')
    )


def downgrade() -> None:
    op.drop_table('tracked_donors')
    op.drop_table('places')
