"""Policies with their version history, and the policy search index

Revision ID: 96a08ab0df21
Revises: 53667dc4bcaa
Create Date: 2026-11-24 21:23:43.623354
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "96a08ab0df21"
down_revision: str | None = "53667dc4bcaa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.Column("source_digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy")),
        sa.UniqueConstraint("slug", name=op.f("uq_policy_slug")),
    )
    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("category_code", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
            name=op.f("fk_policy_version_created_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_policy_version_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_version")),
        sa.UniqueConstraint("policy_id", "number", name=op.f("uq_policy_version_policy_id")),
    )
    # policy and policy_version refer to each other: the second reference comes once both exist
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_policy_published_version_id_policy_version"),
            "policy_version",
            ["published_version_id"],
            ["id"],
        )

    # The search index (app/policies/search.py): CJK bigrams of each published policy, made by
    # hand because no model describes it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE policy_fts ("
            " policy_id INTEGER PRIMARY KEY REFERENCES policy (id) ON DELETE CASCADE,"
            " terms TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_policy_fts_terms ON policy_fts USING gin (terms)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE policy_fts USING fts5(title, summary, body, tokenize='unicode61')"
        )


def downgrade() -> None:
    op.execute("DROP TABLE policy_fts")
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_policy_published_version_id_policy_version"), type_="foreignkey"
        )
    op.drop_table("policy_version")
    op.drop_table("policy")
