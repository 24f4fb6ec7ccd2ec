"""Owed units and remembered declines: allocations keep what a decline said (date, party, reason, whether a plan
superseded it, whether the pair was reopened) and the owed units released; consents keep the reason of a decision.

Receipts now count only good units as delivered, so an offer whose shipments arrived short stays `in_delivery`
while the units are owed. The projections those rules touch are rebuilt by replaying the log under them; the
events themselves are untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from contactgroup.storage.database import rebuild_projections

revision = '0005_owed'
down_revision = '0008_places'
branch_labels = None
depends_on = None

REBUILT = ("allocations", "consents", "offers", "requirements", "deliveries")


def upgrade() -> None:
    op.add_column('allocations', sa.Column('released', sa.BigInteger(), nullable=False, server_default='0'))
    op.add_column('allocations', sa.Column('declined_on', sa.Date(), nullable=True))
    op.add_column('allocations', sa.Column('declined_by', sa.Text(), nullable=False, server_default=''))
    op.add_column('allocations', sa.Column('reason', sa.Text(), nullable=False, server_default=''))
    op.add_column('allocations', sa.Column('superseded', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('allocations', sa.Column('reopened', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('consents', sa.Column('reason', sa.Text(), nullable=False, server_default=''))
    rebuild_projections(op.get_bind(), REBUILT)


def downgrade() -> None:
    op.drop_column('consents', 'reason')
    for column in ('reopened', 'superseded', 'reason', 'declined_by', 'declined_on', 'released'):
        op.drop_column('allocations', column)
