from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, utcnow
from app.staff.models import Staff


class QuestionKind(StrEnum):
    single = "single"
    multiple = "multiple"
    true_false = "true_false"


class ExamState(StrEnum):
    draft = "draft"
    open = "open"


class Grade(StrEnum):
    highest = "highest"
    last = "last"


class Review(StrEnum):
    after_submit = "after_submit"
    after_close = "after_close"


class AttemptState(StrEnum):
    in_progress = "in_progress"
    finished = "finished"


class Finish(StrEnum):
    submitted = "submitted"  # the cadre submitted before the deadline
    deadline = "deadline"  # the server finalised it past the deadline, with what was saved


class ExamQuestion(Base):
    """A question of the bank. `answer` holds option letters ("A", "AC") or "T"/"F"; a question
    is never deleted once drawn (attempts point at it), only retired."""

    __tablename__ = "exam_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    # the SHA-256 of kind and text: the same question imported twice is kept once
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(String(8))
    explanation: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tags: Mapped[list["ExamQuestionTag"]] = relationship(
        order_by="ExamQuestionTag.tag", cascade="all, delete-orphan", lazy="selectin"
    )


class ExamQuestionTag(Base):
    __tablename__ = "exam_question_tag"
    __table_args__ = (Index("ix_exam_question_tag_tag", "tag", "question_id"),)

    question_id: Mapped[int] = mapped_column(
        ForeignKey("exam_question.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)


class PracticeTally(Base):
    """All that practice mode keeps: per question, how often it was answered and answered
    right. No account, device, address or time."""

    __tablename__ = "exam_practice_tally"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("exam_question.id", ondelete="CASCADE"), primary_key=True
    )
    answered: Mapped[int] = mapped_column(default=0)
    correct: Mapped[int] = mapped_column(default=0)


class Exam(Base):
    """A paper: how it is drawn, timed, graded and reviewed, and for which region's cadres."""

    __tablename__ = "exam"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=ExamState.draft)
    time_limit_minutes: Mapped[int]
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    attempts_allowed: Mapped[int]
    grade: Mapped[str] = mapped_column(String(16))
    pass_mark: Mapped[int]
    review: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(default=None)

    draw: Mapped[list["ExamDrawRule"]] = relationship(
        order_by="ExamDrawRule.position", cascade="all, delete-orphan", lazy="selectin"
    )


class ExamDrawRule(Base):
    __tablename__ = "exam_draw_rule"

    exam_id: Mapped[int] = mapped_column(
        ForeignKey("exam.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(32))
    count: Mapped[int]
    points: Mapped[int]


class ExamAttempt(Base):
    __tablename__ = "exam_attempt"
    __table_args__ = (
        UniqueConstraint("exam_id", "staff_id", "number"),
        Index("ix_exam_attempt_state_deadline", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey(Staff.id, ondelete="CASCADE"), index=True)
    # the cadre's region when the attempt began: the report's village or township
    region_code: Mapped[str] = mapped_column(String(12))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default=AttemptState.in_progress)
    started_at: Mapped[datetime]
    deadline: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_by: Mapped[str | None] = mapped_column(String(16), default=None)
    score: Mapped[int | None] = mapped_column(default=None)
    max_score: Mapped[int]
    passed: Mapped[bool | None] = mapped_column(default=None)

    slots: Mapped[list["ExamAttemptSlot"]] = relationship(
        order_by="ExamAttemptSlot.slot", cascade="all, delete-orphan"
    )


class ExamAttemptSlot(Base):
    """One drawn question of an attempt, in the attempt's fixed order, and the answer saved for
    it (the last one saved before the deadline)."""

    __tablename__ = "exam_attempt_slot"
    __table_args__ = (Index("ix_exam_attempt_slot_question", "question_id", "correct"),)

    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("exam_attempt.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("exam_question.id"))
    points: Mapped[int]
    answer: Mapped[str | None] = mapped_column(String(8), default=None)
    saved_at: Mapped[datetime | None] = mapped_column(default=None)
    # set when the attempt is finished
    correct: Mapped[bool | None] = mapped_column(default=None)
