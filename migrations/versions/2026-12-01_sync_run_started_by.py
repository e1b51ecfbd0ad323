"""A sync run records the staff member who started it

Revision ID: 9b3f5c2d8e14
Revises: 4d2b8e61c0a7
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b3f5c2d8e14"
down_revision: str | None = "4d2b8e61c0a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sync_run_started_by_id_staff"),
            "staff",
            ["started_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sync_run_started_by_id_staff"), type_="foreignkey")
        batch_op.drop_column("started_by_id")
