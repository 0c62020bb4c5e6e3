"""An index on ``reservation (day, state)``: the agents' day headcount and the day's lists read
one day across every activity; at city scale (bench/city.py, about 3 million rows) without it
each of them scans the whole table (docs/deployment.md, "Fast pages").

Revision ID: 0014_reservation_day_index
Revises: 0013_acting_and_group_messages
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0014_reservation_day_index'
down_revision: str | None = '0013_acting_and_group_messages'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_reservation_day_state', 'reservation', ['day', 'state'])


def downgrade() -> None:
    op.drop_index('ix_reservation_day_state', table_name='reservation')
