from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, utcnow
from app.staff.models import Staff


class SurveyState(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    published = "published"


class QuestionKind(StrEnum):
    single = "single"
    multiple = "multiple"
    rating = "rating"
    text = "text"


class Survey(Base):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # a county, township or village: the survey is for the villages inside it
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=SurveyState.draft, index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)

    targets: Mapped[list["SurveyTarget"]] = relationship(
        order_by="SurveyTarget.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list["SurveyQuestion"]] = relationship(
        order_by="SurveyQuestion.position", cascade="all, delete-orphan"
    )


class SurveyTarget(Base):
    """What a rating question may rate: a department, a township's cadres."""

    __tablename__ = "survey_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))


class SurveyQuestion(Base):
    __tablename__ = "survey_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(default=True)
    # a rating question that rates each of the survey's targets
    per_target: Mapped[bool] = mapped_column(default=False)

    options: Mapped[list["SurveyOption"]] = relationship(
        order_by="SurveyOption.position", cascade="all, delete-orphan"
    )


class SurveyOption(Base):
    __tablename__ = "survey_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_question.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(100))


class SurveyResponse(Base):
    """One device's response. Anonymous: the device token only as a keyed hash, the date only,
    no IP address or user agent."""

    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("survey_id", "device_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    device_hash: Mapped[str] = mapped_column(String(64))
    submitted_on: Mapped[date]


class SurveyAnswer(Base):
    """One row per chosen option, per rating (of a target) or per text; `survey_id` is repeated
    here so that results are one GROUP BY over this table."""

    __tablename__ = "survey_answer"
    __table_args__ = (
        Index("ix_survey_answer_option", "survey_id", "option_id"),
        Index("ix_survey_answer_rating", "survey_id", "question_id", "target_id", "rating"),
        Index("ix_survey_answer_question", "question_id", "response_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id", ondelete="CASCADE"))
    option_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_option.id", ondelete="CASCADE"), default=None
    )
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_target.id", ondelete="CASCADE"), default=None
    )
    rating: Mapped[int | None] = mapped_column(default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
