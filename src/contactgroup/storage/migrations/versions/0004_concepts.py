"""Transit times, witnesses and quorum rules get tables of their own, moved out of `settings`.

Logs written before recorded them as `SettingChanged` events with prefixed names (`transit:`, `witness:`,
`witness_quorum`, `quorum:`); replay reads those events as `TransitTimeSet`, `WitnessAdded`/`WitnessRemoved` and
`QuorumRuleSet` (`domain.event.upcast`). The new tables are filled by replaying exactly those events, so they hold
what `verify` rebuilds (a removed witness keeps the key it had, which the old settings row no longer showed), and
the settings rows they replace are deleted. The events themselves are untouched.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from contactgroup.domain.event import Event, evolve, upcast
from contactgroup.domain.state import State
from contactgroup.storage.schema import to_row

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

MOVED = ("transit_times", "witnesses", "quorum_rules")


def upgrade() -> None:
    op.create_table('transit_times',
    sa.Column('origin', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('destination', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('days', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('origin', 'destination')
    )
    op.create_table('witnesses',
    sa.Column('name', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('key', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('active', sa.Boolean(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('quorum_rules',
    sa.Column('decision', sa.Text(), autoincrement=False, nullable=False),
    sa.Column('rule', sa.Text(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('decision')
    )
    _move_settings()


def _move_settings() -> None:
    conn = op.get_bind()
    events = sa.table("events", sa.column("seq", sa.BigInteger), sa.column("type", sa.String),
                      sa.column("body", sa.LargeBinary))
    state = State()
    replaced: set[str] = set()
    query = sa.select(events.c.body).where(events.c.type == "SettingChanged").order_by(events.c.seq)
    for (body,) in conn.execute(query):
        d = json.loads(body)
        event = Event(d["type"], d["data"], d["actor"], d["party"], d["authority"], d["at"])
        if upcast(event) is not event:
            replaced.add(str(event.data["name"]))
            evolve(state, event)
    for name in MOVED:
        rows = [to_row(entity) for _, entity in sorted(state.tables[name].items())]
        if rows:
            op.bulk_insert(sa.table(name, *(sa.column(c) for c in rows[0])), rows)
    settings = sa.table("settings", sa.column("name", sa.Text))
    if replaced:
        conn.execute(settings.delete().where(settings.c.name.in_(sorted(replaced))))


def downgrade() -> None:
    op.drop_table('quorum_rules')
    op.drop_table('witnesses')
    op.drop_table('transit_times')
