"""payout_month_total: each village's paid total of each item each month, kept by the store;
payout.synced_at indexed (the lines a sync stored, for the screening after it)

Revision ID: 8d3e61a4c2b7
Revises: 5b0c2f7d9e41
Create Date: 2026-12-06 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d3e61a4c2b7"
down_revision: str | None = "5b0c2f7d9e41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_payout_synced_at", "payout", ["synced_at"], unique=False)
    op.create_table(
        "payout_month_total",
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("item_name", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "village_code", "item_name", "period", name=op.f("pk_payout_month_total")
        ),
    )
    # The totals of the lines stored so far; from now on the store keeps them in step.
    op.execute(
        "INSERT INTO payout_month_total (village_code, item_name, period, total_fen, line_count)"
        " SELECT village_code, item_name, period, sum(amount_fen), count(*) FROM payout"
        " WHERE status = 'paid' GROUP BY village_code, item_name, period"
    )


def downgrade() -> None:
    op.drop_table("payout_month_total")
    op.drop_index("ix_payout_synced_at", table_name="payout")
