"""The transport network (issue 14): places gain coordinates, a daily capacity and a cited source; legs, border
rules and mobility zones get tables of their own; catalogue items gain a mass per unit and a UN hazard class.

The new tables start empty (`LegSet`, `BorderRuleSet` and `ZoneDeclared` are new events), and the new columns
take the defaults with which replay reads older `PlaceDefined` and `ItemCatalogued` events, so the projections
equal what `verify` rebuilds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_network'
down_revision = '0013_loop'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('places', sa.Column('lat', sa.String(64), nullable=True))
    op.add_column('places', sa.Column('lon', sa.String(64), nullable=True))
    op.add_column('places', sa.Column('capacity', sa.BigInteger(), nullable=True))
    op.add_column('places', sa.Column('capacity_unit', sa.String(32), server_default='shipments', nullable=False))
    op.add_column('places', sa.Column('source', sa.Text(), server_default='', nullable=False))
    op.add_column('items', sa.Column('mass_kg', sa.String(64), nullable=True))
    op.add_column('items', sa.Column('hazard_class', sa.Text(), server_default='', nullable=False))
    op.create_table('legs',
    sa.Column('origin', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('to', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('mode', sa.String(32), autoincrement=False, nullable=False),
    sa.Column('transit_days', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('capacity', sa.BigInteger(), autoincrement=False, nullable=True),
    sa.Column('capacity_unit', sa.String(32), autoincrement=False, nullable=False),
    sa.Column('source', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('origin', 'to', 'mode')
    )
    op.create_table('border_rules',
    sa.Column('country', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('mode', sa.String(32), autoincrement=False, nullable=False),
    sa.Column('since', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('permission', sa.Boolean(), autoincrement=False, nullable=False),
    sa.Column('lead_days', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('dangerous_extra_days', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('preauthorised', sa.JSON(), autoincrement=False, nullable=False),
    sa.Column('source', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('country', 'mode', 'since')
    )
    op.create_table('zones',
    sa.Column('code', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('countries', sa.JSON(), autoincrement=False, nullable=False),
    sa.Column('starts', sa.Date(), autoincrement=False, nullable=False),
    sa.Column('lead_days', sa.BigInteger(), autoincrement=False, nullable=True),
    sa.Column('modes', sa.JSON(), autoincrement=False, nullable=False),
    sa.Column('source', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('code')
    )


def downgrade() -> None:
    op.drop_table('zones')
    op.drop_table('border_rules')
    op.drop_table('legs')
    with op.batch_alter_table('items') as batch:
        for column in ('hazard_class', 'mass_kg'):
            batch.drop_column(column)
    with op.batch_alter_table('places') as batch:
        for column in ('source', 'capacity_unit', 'capacity', 'lon', 'lat'):
            batch.drop_column(column)
