"""Movement permissions (requested, granted, refused) and the last place each shipment under way reached.

Both tables are new and start empty: no event of an older log creates their rows (`MovementPermission...` and
`ShipmentReachedPlace` are new).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015_mob_plan'
down_revision = '0014_network'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('movement_permissions',
    sa.Column('key', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('shipment', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('country', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('mode', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), autoincrement=False, nullable=False),
    sa.Column('requested_on', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('ready', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('decided_on', sa.Date(), autoincrement=False, nullable=True),
    sa.Column('reason', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('shipment_positions',
    sa.Column('shipment', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('place', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('on', sa.Date(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('shipment')
    )


def downgrade() -> None:
    op.drop_table('shipment_positions')
    op.drop_table('movement_permissions')
