"""Tips: encrypted reports, their messages and attachments, and the receipt-code keyring

Revision ID: 22e3344e6430
Revises: 96a08ab0df21
Create Date: 2026-11-24 22:22:59.211224
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "22e3344e6430"
down_revision: str | None = "96a08ab0df21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tip_keyring",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("wrapped_salt", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_keyring")),
    )
    op.create_table(
        "tip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.Column("amount_involved_enc", sa.LargeBinary(), nullable=True),
        sa.Column("is_real_name", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("purged_on", sa.Date(), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("content_enc", sa.LargeBinary(), nullable=True),
        sa.Column("accused_enc", sa.LargeBinary(), nullable=True),
        sa.Column("contact_enc", sa.LargeBinary(), nullable=True),
        sa.Column("payout_record_enc", sa.LargeBinary(), nullable=True),
        sa.Column("rejection_reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("public_result_enc", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff.id"],
            name=op.f("fk_tip_assignee_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["region.code"], name=op.f("fk_tip_village_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip")),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_tip_receipt_hash")),
    )
    with op.batch_alter_table("tip", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tip_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index("ix_tip_state_category", ["state", "category"], unique=False)
        batch_op.create_index(batch_op.f("ix_tip_submitted_on"), ["submitted_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_tip_township_code"), ["township_code"], unique=False)

    op.create_table(
        "tip_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff.id"],
            name=op.f("fk_tip_message_author_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["tip.id"], name=op.f("fk_tip_message_tip_id_tip"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_message")),
    )
    with op.batch_alter_table("tip_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tip_message_tip_id"), ["tip_id"], unique=False)

    op.create_table(
        "tip_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["tip_message.id"],
            name=op.f("fk_tip_attachment_message_id_tip_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["tip.id"], name=op.f("fk_tip_attachment_tip_id_tip"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_attachment")),
    )
    with op.batch_alter_table("tip_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tip_attachment_tip_id"), ["tip_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tip_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tip_attachment_tip_id"))

    op.drop_table("tip_attachment")
    with op.batch_alter_table("tip_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tip_message_tip_id"))

    op.drop_table("tip_message")
    with op.batch_alter_table("tip", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tip_township_code"))
        batch_op.drop_index(batch_op.f("ix_tip_submitted_on"))
        batch_op.drop_index("ix_tip_state_category")
        batch_op.drop_index(batch_op.f("ix_tip_assignee_id"))

    op.drop_table("tip")
    op.drop_table("tip_keyring")
