"""Attempt counters shared by every worker and host (login, second factor, reset limits); unused
password-reset links of the old form (the code in the URL path, which access logs record) end.

Revision ID: 0006_attempt_counter
Revises: 0005_outgoing_email
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_attempt_counter'
down_revision: str | None = '0005_outgoing_email'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attempt_counter',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_attempt_counter'))
    )
    # Links e-mailed before this version carried the code in their path: a web server may have
    # logged it when it was opened. They end here; a person asks for a new link.
    op.execute("DELETE FROM password_reset_token WHERE used_at IS NULL")


def downgrade() -> None:
    op.drop_table('attempt_counter')
