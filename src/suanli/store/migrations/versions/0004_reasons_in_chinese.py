"""reasons in Chinese beside the English

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reasons_zh", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("nearest_zh", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("nearest_zh")
        batch_op.drop_column("reasons_zh")
