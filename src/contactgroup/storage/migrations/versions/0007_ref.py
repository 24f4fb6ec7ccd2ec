"""Offers and requirements gain `ref`: the desk's own reference from its spreadsheet ("" for every earlier one).

Events written before carry no `ref`; replay reads them with the default, so the projections this adds equal what
`verify` rebuilds."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_ref'
down_revision = '0006_amend'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("offers", "requirements"):
        op.add_column(table, sa.Column('ref', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    for table in ("offers", "requirements"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('ref')
