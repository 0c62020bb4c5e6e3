"""iCalendar subscriptions for a whole household: ``calendar_feed.child_id`` may be NULL (all the
household's children in one calendar, issue 17).

Revision ID: 0008_household_feed
Revises: 0007_payment_safety
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_household_feed'
down_revision: str | None = '0007_payment_safety'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.alter_column('child_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM calendar_feed WHERE child_id IS NULL")
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.alter_column('child_id', existing_type=sa.Integer(), nullable=False)
