from datetime import date
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.db.base import Base
from app.staff.models import Staff


class ForumKind(StrEnum):
    consult = "consult"  # 咨询
    suggest = "suggest"  # 建议
    complaint = "complaint"  # 投诉


class ForumState(StrEnum):
    submitted = "submitted"  # received, nobody answering yet
    assigned = "assigned"  # an answerer has it
    answered = "answered"  # answered; the asker reads it by code, the public not yet
    published = "published"  # the edited public version and the answer are public
    to_tip = "to_tip"  # handled as a tip: the code shows the tip's status
    to_inquiry = "to_inquiry"  # put on a 阳光问廉 list as an item


def month_number(day: date) -> int:
    """The month of `day` as one integer: 2026-12-07 → 202612."""
    return day.year * 100 + day.month


class Question(Base):
    """A villager's question to the commission. The asker's own title and body are never
    public (the public sees `public_title`/`public_body`, edited by staff); nothing about the
    asker is kept but what they wrote, and every day is a date."""

    __tablename__ = "question"
    __table_args__ = (
        Index("ix_question_public", "state", "published_on", "id"),
        Index("ix_question_public_kind", "state", "kind", "published_on", "id"),
        Index("ix_question_village", "village_code", "state", "published_on", "id"),
        # the monthly figures read this index alone, in its order (app.forum.stats)
        Index("ix_question_month", "asked_month", "reply_working_days", "rating"),
        Index("ix_question_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ForumState.submitted)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    township_code: Mapped[str | None] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(100))
    # emptied when the question becomes a tip (the tip keeps it, encrypted)
    body: Mapped[str] = mapped_column(Text)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    asked_on: Mapped[date]
    asked_month: Mapped[int]  # 202612 for any day of December 2026: kept by `_month`
    first_due_on: Mapped[date]
    due_on: Mapped[date]

    answerer_unit: Mapped[str | None] = mapped_column(String(100), default=None)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    assigned_on: Mapped[date | None] = mapped_column(default=None)
    answer: Mapped[str | None] = mapped_column(Text, default=None)
    # answered, or turned into a tip or an inquiry item: when, and how many working days after
    # the question was asked (for the monthly figures, counted by the database)
    replied_on: Mapped[date | None] = mapped_column(default=None)
    reply_working_days: Mapped[int | None] = mapped_column(default=None)
    public_title: Mapped[str | None] = mapped_column(String(100), default=None)
    public_body: Mapped[str | None] = mapped_column(Text, default=None)
    published_on: Mapped[date | None] = mapped_column(default=None)
    rating: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    tip_id: Mapped[int | None] = mapped_column(
        ForeignKey("tip.id", ondelete="SET NULL"), default=None
    )
    inquiry_number: Mapped[str | None] = mapped_column(String(20), default=None)

    @validates("asked_on")
    def _month(self, _key: str, asked_on: date) -> date:
        self.asked_month = month_number(asked_on)
        return asked_on

    extensions: Mapped[list["QuestionExtension"]] = relationship(
        order_by="QuestionExtension.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class QuestionExtension(Base):
    """A later due date, public with its reason."""

    __tablename__ = "question_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    extended_on: Mapped[date]
    due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
