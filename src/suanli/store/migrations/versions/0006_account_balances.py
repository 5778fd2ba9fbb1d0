"""running account balances, kept with every posting

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE accounts SET balance = "
        "(SELECT COALESCE(SUM(amount), 0) FROM postings WHERE postings.account_id = accounts.id) "
        "WHERE owner_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("balance")
