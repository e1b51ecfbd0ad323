"""Onboarding: posters and their daily scan counters

Revision ID: 156ffd1ed1c7
Revises: efb2901c93fb
Create Date: 2026-11-24 23:17:04.833757
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "156ffd1ed1c7"
down_revision: str | None = "efb2901c93fb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "poster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
            name=op.f("fk_poster_created_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["region.code"], name=op.f("fk_poster_village_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poster")),
        sa.UniqueConstraint("code", name=op.f("uq_poster_code")),
    )
    with op.batch_alter_table("poster", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poster_village_code"), ["village_code"], unique=False)

    op.create_table(
        "poster_scan",
        sa.Column("poster_id", sa.Integer(), nullable=False),
        sa.Column("scanned_on", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poster_id"],
            ["poster.id"],
            name=op.f("fk_poster_scan_poster_id_poster"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poster_id", "scanned_on", "platform", name=op.f("pk_poster_scan")),
    )


def downgrade() -> None:
    op.drop_table("poster_scan")
    with op.batch_alter_table("poster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poster_village_code"))

    op.drop_table("poster")
