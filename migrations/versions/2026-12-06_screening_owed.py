"""screening: runs owed to the rules whose list or standard changed during a sync

Revision ID: 5b0c2f7d9e41
Revises: 012321b5a327
Create Date: 2026-12-06 16:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b0c2f7d9e41"
down_revision: str | None = "012321b5a327"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "screening_owed",
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("owed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_screening_owed")),
    )


def downgrade() -> None:
    op.drop_table("screening_owed")
