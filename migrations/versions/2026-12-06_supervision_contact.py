"""找谁监督: the directory of supervision phones (supervision_contact)

Revision ID: 7c4d2e9a1f63
Revises: ac81ac6f43fa
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c4d2e9a1f63"
down_revision: str | None = "ac81ac6f43fa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervision_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_supervision_contact_region_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_contact")),
        sa.UniqueConstraint("region_code", "kind", name=op.f("uq_supervision_contact_region_code")),
    )
    with op.batch_alter_table("supervision_contact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supervision_contact_region_code"), ["region_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supervision_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_contact_region_code"))
    op.drop_table("supervision_contact")
