"""An offer in delivery is delivered as soon as an amendment lowers it to what was received, and a proposal still
pending keeps it in delivery (its units will be owed once confirmed).

No column changes: the offers projection is rebuilt by replaying the log under these rules (the events themselves
are untouched), so that `verify` finds the tables equal to the log again.
"""

from __future__ import annotations

from alembic import op

from contactgroup.storage.database import rebuild_projections

revision = '0013_loop'
down_revision = '0012_api'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rebuild_projections(op.get_bind(), ("offers",))


def downgrade() -> None:
    """The rows stay as they are (no column changed): the older rules cannot be replayed from here, so the older
    code's `verify` would name each offer these rules delivered earlier than it would have."""
