"""Accounts at scale: invited accounts (no password until the person chooses one), activation
links and letter codes, and confirmations of a new login address — all in the one table of
single-use codes stored hashed (docs/security.md point 5).

Accounts created before this revision were made with their password: they count as activated
when they were created.

Revision ID: 0010_account_invitations
Revises: 0009_erp_round_trip
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_account_invitations'
down_revision: str | None = '0009_erp_round_trip'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('activated_at', sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE user_account SET activated_at = COALESCE(created_at, CURRENT_TIMESTAMP)"
    )
    with op.batch_alter_table('password_reset_token', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('purpose', sa.String(length=20), nullable=False, server_default='reset')
        )
        batch_op.add_column(sa.Column('new_email', sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('password_reset_token', schema=None) as batch_op:
        batch_op.drop_column('new_email')
        batch_op.drop_column('purpose')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('activated_at')
        batch_op.drop_column('invited_at')
