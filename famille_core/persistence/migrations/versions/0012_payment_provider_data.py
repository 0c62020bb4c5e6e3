"""Payments are provider-neutral: PayFiP's ``refdet``, ``exer`` and ``mode`` leave the columns of
``payment_transaction`` for its JSON ``provider_data`` (docs/payment.md, "Why a billing
plugin"), where the ``tipi_payment`` provider reads them; no row is lost.

Every row keeps its values: a non-empty column becomes the key of the same name, unless the
row's ``provider_data`` already holds that key. The downgrade puts them back (and removes the
keys it moved).

Revision ID: 0012_payment_provider_data
Revises: 0011_webhooks
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_payment_provider_data'
down_revision: str | None = '0011_webhooks'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVED = ('refdet', 'exer', 'mode')
LENGTHS = {'refdet': 30, 'exer': 4, 'mode': 1}


def _table(*columns: str) -> sa.TableClause:
    return sa.table(
        'payment_transaction',
        sa.column('id', sa.Integer()),
        sa.column('provider_data', sa.JSON()),
        *(sa.column(name, sa.String()) for name in columns),
    )


def upgrade() -> None:
    table = _table(*MOVED)
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(table.c.id, table.c.provider_data, *(table.c[name] for name in MOVED))
    ).all()
    for row in rows:
        data = dict(row.provider_data or {})
        moved = {name: row._mapping[name] for name in MOVED if row._mapping[name]}
        merged = {**moved, **data}
        if merged != data:
            bind.execute(table.update().where(table.c.id == row.id).values(provider_data=merged))
    with op.batch_alter_table('payment_transaction', schema=None) as batch_op:
        for name in MOVED:
            batch_op.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table('payment_transaction', schema=None) as batch_op:
        for name in MOVED:
            batch_op.add_column(
                sa.Column(name, sa.String(length=LENGTHS[name]), nullable=False, server_default='')
            )
    table = _table(*MOVED)
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.id, table.c.provider_data)).all()
    for row in rows:
        data = dict(row.provider_data or {})
        values = {name: str(data.pop(name, '') or '')[: LENGTHS[name]] for name in MOVED}
        bind.execute(
            table.update().where(table.c.id == row.id).values(provider_data=data, **values)
        )
