"""articles: articles with versions, pictures and daily reads; disciplinary cases

Revision ID: ac81ac6f43fa
Revises: 7c2d9e4f1a60
Create Date: 2026-12-06 16:34:43.612341

The lead re-chains down_revision at merge (written on f1478ed6908d + the search migration).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ac81ac6f43fa"
down_revision: str | None = "7c2d9e4f1a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.Column("column", sa.String(length=16), nullable=True),
        sa.Column("public_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("public_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["township_code"], ["region.code"], name=op.f("fk_article_township_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(
            "ix_article_public", ["column", "public_from", "public_until"], unique=False
        )
        batch_op.create_index(
            "ix_article_public_from", ["public_from", "public_until"], unique=False
        )

    op.create_table(
        "article_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_article_image_article_id_article")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_image")),
    )
    with op.batch_alter_table("article_image", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_image_article_id"), ["article_id"], unique=False
        )

    op.create_table(
        "article_reads",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_article_reads_article_id_article")
        ),
        sa.PrimaryKeyConstraint("article_id", "day", name=op.f("pk_article_reads")),
    )
    op.create_table(
        "article_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("column", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unpublish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_article_version_article_id_article")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
            name=op.f("fk_article_version_created_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_version")),
        sa.UniqueConstraint("article_id", "number", name=op.f("uq_article_version_article_id")),
    )
    # article and article_version refer to each other: the second reference comes once both exist
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_article_published_version_id_article_version"),
            "article_version",
            ["published_version_id"],
            ["id"],
        )
    op.create_table(
        "disciplinary_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("township_code", sa.String(length=12), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("person_name", sa.String(length=20), nullable=False),
        sa.Column("post", sa.String(length=40), nullable=False),
        sa.Column("problem", sa.String(length=60), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("facts_on", sa.Date(), nullable=False),
        sa.Column("amount_involved", sa.Integer(), nullable=True),
        sa.Column("amount_recovered", sa.Integer(), nullable=True),
        sa.Column("disciplines", sa.JSON(), nullable=False),
        sa.Column("discipline_on", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("tip_category", sa.String(length=16), nullable=False),
        sa.Column("policy_category", sa.String(length=2), nullable=True),
        sa.Column("name_public_until", sa.Date(), nullable=True),
        sa.Column("money_returned", sa.Integer(), nullable=True),
        sa.Column("rectified", sa.Boolean(), nullable=True),
        sa.Column("revisit_on", sa.Date(), nullable=True),
        sa.Column("revisit_note", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
            name=op.f("fk_disciplinary_case_created_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["township_code"],
            ["region.code"],
            name=op.f("fk_disciplinary_case_township_code_region"),
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["region.code"], name=op.f("fk_disciplinary_case_village_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disciplinary_case")),
    )
    with op.batch_alter_table("disciplinary_case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_disciplinary_case_public", ["state", "published_on"], unique=False
        )
        batch_op.create_index(
            "ix_disciplinary_case_township", ["township_code", "published_on"], unique=False
        )
        batch_op.create_index(
            "ix_disciplinary_case_village", ["village_code", "published_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("disciplinary_case", schema=None) as batch_op:
        batch_op.drop_index("ix_disciplinary_case_village")
        batch_op.drop_index("ix_disciplinary_case_township")
        batch_op.drop_index("ix_disciplinary_case_public")

    op.drop_table("disciplinary_case")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_article_published_version_id_article_version"), type_="foreignkey"
        )
    op.drop_table("article_version")
    op.drop_table("article_reads")
    with op.batch_alter_table("article_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_image_article_id"))

    op.drop_table("article_image")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_public_from")
        batch_op.drop_index("ix_article_public")

    op.drop_table("article")
