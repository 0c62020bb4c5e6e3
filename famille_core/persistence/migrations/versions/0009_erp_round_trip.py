"""The ERP round trip (issue 16): an audit row names the API client that read a bank or health
record (``audit_record.api_client_id``, docs/security.md point 25).

Revision ID: 0009_erp_round_trip
Revises: 0008_household_feed
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_erp_round_trip'
down_revision: str | None = '0008_household_feed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_client_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_record_api_client_id'), ['api_client_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_record_api_client_id_api_client'), 'api_client', ['api_client_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_record_api_client_id_api_client'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_record_api_client_id'))
        batch_op.drop_column('api_client_id')
