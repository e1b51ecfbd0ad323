"""Surveys: questions, rating targets, anonymous responses and their answers

Revision ID: efb2901c93fb
Revises: 22e3344e6430
Create Date: 2026-11-24 22:55:06.673318
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "efb2901c93fb"
down_revision: str | None = "22e3344e6430"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
            name=op.f("fk_survey_created_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_survey_region_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey")),
    )
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_state"), ["state"], unique=False)

    op.create_table(
        "survey_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("per_target", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_question_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_question")),
    )
    with op.batch_alter_table("survey_question", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_question_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "survey_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_response_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_response")),
        sa.UniqueConstraint("survey_id", "device_hash", name=op.f("uq_survey_response_survey_id")),
    )
    op.create_table(
        "survey_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_target_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_target")),
    )
    with op.batch_alter_table("survey_target", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_target_survey_id"), ["survey_id"], unique=False)

    op.create_table(
        "survey_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_question.id"],
            name=op.f("fk_survey_option_question_id_survey_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_option")),
    )
    with op.batch_alter_table("survey_option", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_option_question_id"), ["question_id"], unique=False
        )

    op.create_table(
        "survey_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["survey_option.id"],
            name=op.f("fk_survey_answer_option_id_survey_option"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_question.id"],
            name=op.f("fk_survey_answer_question_id_survey_question"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_response.id"],
            name=op.f("fk_survey_answer_response_id_survey_response"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_answer_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["survey_target.id"],
            name=op.f("fk_survey_answer_target_id_survey_target"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answer")),
    )
    with op.batch_alter_table("survey_answer", schema=None) as batch_op:
        batch_op.create_index("ix_survey_answer_option", ["survey_id", "option_id"], unique=False)
        batch_op.create_index(
            "ix_survey_answer_question", ["question_id", "response_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_answer_rating",
            ["survey_id", "question_id", "target_id", "rating"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_answer_rating")
        batch_op.drop_index("ix_survey_answer_question")
        batch_op.drop_index("ix_survey_answer_option")

    op.drop_table("survey_answer")
    with op.batch_alter_table("survey_option", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_option_question_id"))

    op.drop_table("survey_option")
    with op.batch_alter_table("survey_target", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_target_survey_id"))

    op.drop_table("survey_target")
    op.drop_table("survey_response")
    with op.batch_alter_table("survey_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_question_survey_id"))

    op.drop_table("survey_question")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_state"))
        batch_op.drop_index(batch_op.f("ix_survey_region_code"))

    op.drop_table("survey")
