"""capacity epoch: what snapshot caches check before they are used

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    epoch = op.create_table(
        "capacity_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("structure", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_epoch")),
    )
    op.bulk_insert(epoch, [{"id": 1, "epoch": 0, "structure": 0}])
    with op.batch_alter_table("pools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.create_index(batch_op.f("ix_pools_epoch"), ["epoch"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pools_epoch"))
        batch_op.drop_column("epoch")
    op.drop_table("capacity_epoch")
