"""Exams' factories and the controllable clock; they flush, never commit."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exams import bank, service
from app.exams.models import Exam, ExamAttemptSlot, ExamQuestion
from app.exams.schemas import ExamCreate
from app.staff.models import Role, Staff
from tests.factories import FOLOU, SANGUANZHAI, make_staff

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in the county


@dataclass
class Clock:
    """The exams' clock, moved by the test."""

    now: datetime = START

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def exam_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "佛楼镇党纪学习测试",
        "draw": [
            {"tag": "纪律处分条例", "count": 3, "points": 10},
            {"tag": "惠民政策", "count": 2, "points": 5},
        ],
        "time_limit_minutes": 30,
        "opens_at": START.isoformat(),
        "closes_at": (START + timedelta(days=7)).isoformat(),
        "attempts_allowed": 2,
        "grade": "highest",
        "pass_mark": 24,
        "region_code": FOLOU,
        "review": "after_submit",
    }
    return {**data, **overrides}


def load_bank(session: Session) -> None:
    bank.load_starter_bank(session)


def make_exam(session: Session, officer: Staff, *, open_it: bool = True, **overrides: Any) -> Exam:
    exam = service.create_exam(
        session, data=ExamCreate.model_validate(exam_data(**overrides)), actor=officer
    )
    if open_it:
        service.open_exam(session, exam.id, actor=officer)
    return exam


def make_officer(session: Session) -> Staff:
    return make_staff(session, role=Role.township_officer, region_code=FOLOU)


def make_cadre(session: Session, region_code: str = SANGUANZHAI) -> Staff:
    return make_staff(session, role=Role.cadre, region_code=region_code)


def right_answers(session: Session, attempt_id: int) -> dict[int, str]:
    """slot → the bank's answer (what a cadre never receives before review)."""
    rows = session.execute(
        select(ExamAttemptSlot.slot, ExamQuestion.answer)
        .join(ExamQuestion, ExamQuestion.id == ExamAttemptSlot.question_id)
        .where(ExamAttemptSlot.attempt_id == attempt_id)
    )
    return {slot: answer for slot, answer in rows}


def wrong(answer: str) -> str:
    if answer in ("T", "F"):
        return "F" if answer == "T" else "T"
    return "A" if answer != "A" else "B"
