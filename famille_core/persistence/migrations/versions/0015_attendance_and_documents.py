"""Named lists and attendance, justificatifs (issue 15): the day's marks of who was there
(``attendance``) with the trace of every mark (``attendance_mark``), and the files households
attach to an absence (``supporting_document``). New tables only: no existing row changes.

Revision ID: 0015_attendance_and_documents
Revises: 0014_reservation_day_index
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015_attendance_and_documents'
down_revision: str | None = '0014_reservation_day_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('unexpected', sa.Boolean(), nullable=False),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.Column('marked_by', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_attendance_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], name=op.f('fk_attendance_child_id_child'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_attendance_family_id_family'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('child_id', 'activity_id', 'day', name=op.f('uq_attendance_child_id_activity_id_day'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_activity_day', ['activity_id', 'day'], unique=False)
        batch_op.create_index('ix_attendance_day', ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_family_id'), ['family_id'], unique=False)

    op.create_table('attendance_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attendance_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['attendance_id'], ['attendance.id'], name=op.f('fk_attendance_mark_attendance_id_attendance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_mark'))
    )
    with op.batch_alter_table('attendance_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_mark_attendance_id'), ['attendance_id'], unique=False)

    op.create_table('supporting_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('absence_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('state', sa.Enum('pending', 'accepted', 'refused', name='documentstate', native_enum=False, length=20), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('refusal_reason', sa.String(length=300), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['absence_id'], ['absence.id'], name=op.f('fk_supporting_document_absence_id_absence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_supporting_document_family_id_family'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supporting_document')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_supporting_document_storage_key'))
    )
    with op.batch_alter_table('supporting_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporting_document_absence_id'), ['absence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supporting_document_family_id'), ['family_id'], unique=False)
        batch_op.create_index('ix_supporting_document_state', ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('supporting_document', schema=None) as batch_op:
        batch_op.drop_index('ix_supporting_document_state')
        batch_op.drop_index(batch_op.f('ix_supporting_document_family_id'))
        batch_op.drop_index(batch_op.f('ix_supporting_document_absence_id'))

    op.drop_table('supporting_document')
    with op.batch_alter_table('attendance_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_mark_attendance_id'))

    op.drop_table('attendance_mark')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_family_id'))
        batch_op.drop_index('ix_attendance_day')
        batch_op.drop_index('ix_attendance_activity_day')

    op.drop_table('attendance')
