"""Household and global data versions for the fast pages (issue 14): ``family.data_version``
and the table ``portal_version`` (its row ``pages`` is written at the first global bump), both bumped in the transaction of
every change a family's page may show (famille_core/persistence/page_versions.py). No existing
value changes.

Revision ID: 0016_page_versions
Revises: 0015_attendance_and_documents
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016_page_versions'
down_revision: str | None = '0015_attendance_and_documents'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite accepts it with a constant default): a batch copy of ``family``
    # would drop the old table, and with foreign keys on, cascade the drop to every household row.
    op.add_column('family', sa.Column('data_version', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
    op.create_table('portal_version',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_portal_version'))
    )


def downgrade() -> None:
    op.drop_table('portal_version')
    op.execute('ALTER TABLE family DROP COLUMN data_version')  # no batch copy: see upgrade()
