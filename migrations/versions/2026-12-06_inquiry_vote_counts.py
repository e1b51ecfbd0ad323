"""阳光问廉 items count the current round's votes themselves

Revision ID: 7c3e9a1f5b42
Revises: f31fb57f5ab0
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e9a1f5b42"
down_revision: str | None = "f31fb57f5ab0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inquiry_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("votes_resolved", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("votes_unresolved", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    # the votes already cast in each item's current round
    for column, kind in (("votes_resolved", "v.resolved"), ("votes_unresolved", "NOT v.resolved")):
        op.execute(
            f"UPDATE inquiry_item SET {column} = (SELECT count(*) FROM inquiry_vote AS v "  # noqa: S608 (constants only)
            f"WHERE v.item_id = inquiry_item.id AND v.vote_round = inquiry_item.vote_round "
            f"AND {kind})"
        )


def downgrade() -> None:
    with op.batch_alter_table("inquiry_item", schema=None) as batch_op:
        batch_op.drop_column("votes_unresolved")
        batch_op.drop_column("votes_resolved")
