"""Payments: one pending transaction per invoice, overpayments to refund, no secret in the answer
URLs (docs/security.md points 33 and 37).

Before the unique index, an invoice holding several pending transactions (the bug this revision
closes) keeps its newest one pending; the older ones are expired "without a result", so that
``famille reconcile-payments`` still asks the provider about them and a late "paid" is credited
or recorded as an overpayment (docs/payment.md, "Late answers").

Revision ID: 0007_payment_safety
Revises: 0006_attempt_counter
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_payment_safety'
down_revision: str | None = '0006_attempt_counter'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("state = 'pending'")


def _expire_duplicate_pending() -> None:
    table = sa.table(
        'payment_transaction',
        sa.column('id', sa.Integer()),
        sa.column('invoice_id', sa.Integer()),
        sa.column('state', sa.String()),
        sa.column('provider_data', sa.JSON()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(table.c.id, table.c.invoice_id, table.c.provider_data)
        .where(table.c.state == 'pending')
        .order_by(table.c.invoice_id, table.c.id.desc())
    ).all()
    newest: set[int] = set()
    for row in rows:
        if row.invoice_id not in newest:
            newest.add(row.invoice_id)
            continue
        data = {**(row.provider_data or {}), 'reason': 'no_result_in_time'}
        bind.execute(
            table.update()
            .where(table.c.id == row.id)
            .values(state='expired', provider_data=data)
        )


def upgrade() -> None:
    op.create_table('overpayment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.Enum('to_refund', 'refunded', name='refundstate', native_enum=False, length=20), nullable=False),
    sa.Column('refunded_at', sa.DateTime(), nullable=True),
    sa.Column('refunded_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], name=op.f('fk_overpayment_family_id_family'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_overpayment_invoice_id_invoice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['refunded_by'], ['user_account.id'], name=op.f('fk_overpayment_refunded_by_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['transaction_id'], ['payment_transaction.id'], name=op.f('fk_overpayment_transaction_id_payment_transaction'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overpayment')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_overpayment_transaction_id'))
    )
    with op.batch_alter_table('overpayment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_overpayment_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_overpayment_invoice_id'), ['invoice_id'], unique=False)

    _expire_duplicate_pending()
    with op.batch_alter_table('payment_transaction', schema=None) as batch_op:
        batch_op.create_index('uq_payment_transaction_one_pending', ['invoice_id'], unique=True, postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.drop_column('secret_hash')


def downgrade() -> None:
    with op.batch_alter_table('payment_transaction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_hash', sa.String(length=128), nullable=False, server_default=''))
        batch_op.drop_index('uq_payment_transaction_one_pending', postgresql_where=PENDING, sqlite_where=PENDING)

    with op.batch_alter_table('overpayment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_overpayment_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_overpayment_family_id'))

    op.drop_table('overpayment')
