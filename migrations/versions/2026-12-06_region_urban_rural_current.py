"""Regions carry their 城乡分类代码 and whether the latest imported file still lists them

Revision ID: 5e7a1c9d3b20
Revises: 9b3f5c2d8e14
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e7a1c9d3b20"
down_revision: str | None = "9b3f5c2d8e14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.add_column(sa.Column("urban_rural_code", sa.String(length=3), nullable=True))
        batch_op.add_column(
            sa.Column("current", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.drop_column("current")
        batch_op.drop_column("urban_rural_code")
