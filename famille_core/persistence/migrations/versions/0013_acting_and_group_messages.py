"""Agents acting for a family and group messages (issue 15, docs/agents.md): the audit trail
keeps the reason an agent gave for an override (``audit_record.reason``); ``group_message`` and
``group_message_recipient`` record each "Message groupé" and the households it reached.

Revision ID: 0013_acting_and_group_messages
Revises: 0012_payment_provider_data
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_acting_and_group_messages'
down_revision: str | None = '0012_payment_provider_data'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=500), nullable=False, server_default=''))
    op.create_table('group_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=50), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('audience', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('author_label', sa.String(length=200), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_message'))
    )
    with op.batch_alter_table('group_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_message_created_at'), ['created_at'], unique=False)

    op.create_table('group_message_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_message_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_group_message_recipient_family_id_family'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_message_id'], ['group_message.id'], name=op.f('fk_group_message_recipient_group_message_id_group_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_message_recipient')),
    sa.UniqueConstraint('group_message_id', 'family_id', name=op.f('uq_group_message_recipient_group_message_id_family_id'))
    )
    with op.batch_alter_table('group_message_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_message_recipient_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_message_recipient_group_message_id'), ['group_message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('group_message_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_message_recipient_group_message_id'))
        batch_op.drop_index(batch_op.f('ix_group_message_recipient_family_id'))
    op.drop_table('group_message_recipient')
    with op.batch_alter_table('group_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_message_created_at'))
    op.drop_table('group_message')
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_column('reason')
