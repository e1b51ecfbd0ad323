"""Persons, payouts with their version history, sync runs, cursor, lease and quarantine

Revision ID: 53667dc4bcaa
Revises: 12ea7aef00bd
Create Date: 2026-11-24 21:14:48.872589
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "53667dc4bcaa"
down_revision: str | None = "12ea7aef00bd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "payout_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_hash", sa.String(length=64), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("category_code", sa.String(length=2), nullable=False),
        sa.Column("item_name", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_version")),
        sa.UniqueConstraint("record_id", "version", name=op.f("uq_payout_version_record_id")),
    )
    with op.batch_alter_table("payout_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payout_version_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "sync_cursor",
        sa.Column("feed", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feed", name=op.f("pk_sync_cursor")),
    )
    op.create_table(
        "sync_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_lease")),
    )
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cursor_start", sa.Text(), nullable=True),
        sa.Column("cursor_end", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
    )
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_run_outcome"), ["outcome"], unique=False)

    op.create_table(
        "person",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("name_hash", sa.String(length=64), nullable=False),
        sa.Column("name_masked", sa.String(length=32), nullable=False),
        sa.Column("id_masked", sa.String(length=18), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("birth_on", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["village_code"], ["region.code"], name=op.f("fk_person_village_code_region")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_person")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_village_code"), ["village_code"], unique=False)

    op.create_table(
        "sync_rejected",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("replayable", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_run.id"],
            name=op.f("fk_sync_rejected_run_id_sync_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_rejected")),
    )
    with op.batch_alter_table("sync_rejected", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_rejected_reason"), ["reason"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_rejected_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_rejected_run_id"), ["run_id"], unique=False)

    op.create_table(
        "payout",
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_hash", sa.String(length=64), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("category_code", sa.String(length=2), nullable=False),
        sa.Column("item_name", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_hash"], ["person.id_hash"], name=op.f("fk_payout_person_hash_person")
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["region.code"], name=op.f("fk_payout_village_code_region")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_payout")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.create_index("ix_payout_person_period", ["person_hash", "period"], unique=False)
        batch_op.create_index(
            "ix_payout_village_period", ["village_code", "period", "category_code"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.drop_index("ix_payout_village_period")
        batch_op.drop_index("ix_payout_person_period")

    op.drop_table("payout")
    with op.batch_alter_table("sync_rejected", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_rejected_run_id"))
        batch_op.drop_index(batch_op.f("ix_sync_rejected_record_id"))
        batch_op.drop_index(batch_op.f("ix_sync_rejected_reason"))

    op.drop_table("sync_rejected")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_village_code"))

    op.drop_table("person")
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_run_outcome"))

    op.drop_table("sync_run")
    op.drop_table("sync_lease")
    op.drop_table("sync_cursor")
    with op.batch_alter_table("payout_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_version_record_id"))

    op.drop_table("payout_version")
