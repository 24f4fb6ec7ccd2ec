"""The verifiable record: witnesses' cosignatures, and append-only triggers on tree nodes and checkpoints."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import contactgroup.storage.schema
from contactgroup.ledger.merkle import MemoryNodeStore, leaf_hash

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Like events, these only ever grow: a changed node or checkpoint would silently rewrite what was attested.
APPEND_ONLY = ("tree_nodes", "checkpoints", "cosignatures")


def upgrade() -> None:
    op.create_table('cosignatures',
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('witness', sa.String(length=256), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('received_at', contactgroup.storage.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('size', 'witness')
    )
    _backfill_tree()
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
                )
    else:
        op.execute(
            "CREATE FUNCTION contactgroup_table_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% are append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION contactgroup_table_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION contactgroup_table_append_only()"
            )


def _backfill_tree() -> None:
    """A log written before 0002 has events but no tree nodes: build them from the stored bytes."""
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT count(*) FROM tree_nodes")).scalar_one():
        return
    store = MemoryNodeStore()
    for (body,) in conn.execute(sa.text("SELECT body FROM events ORDER BY seq")):
        store.append(leaf_hash(bytes(body)))
    rows = [{"level": level, "idx": idx, "hash": h} for level, row in enumerate(store.levels) for idx, h in enumerate(row)]
    nodes = sa.table("tree_nodes", sa.column("level"), sa.column("idx"), sa.column("hash", sa.LargeBinary))
    for start in range(0, len(rows), 10_000):
        conn.execute(nodes.insert(), rows[start:start + 10_000])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS contactgroup_table_append_only()")
    op.drop_table('cosignatures')
