"""云考堂 for `lianyun demo`: the starter bank, a township officer of 佛楼镇 (password shown once),
one open exam for 佛楼镇's cadres, twelve cadres of four of its villages, eight of whom have
taken it (answers chosen at random, mostly right), so that the report shows numbers. Made
through the services, so every rule holds. The exam and its cadres are made once."""

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exams import bank, clock, service
from app.exams.models import Exam, ExamAttemptSlot, ExamQuestion
from app.exams.schemas import ExamCreate
from app.regions import service as regions_service
from app.staff import imports
from app.staff import service as staff_service
from app.staff.models import Role, Staff
from app.staff.schemas import StaffCreate

TOWNSHIP = "511923103000"  # 佛楼镇
OFFICER = "fulou"
EXAM_TITLE = "2026年佛楼镇村干部党纪学习测试（演示）"
CADRES_PER_VILLAGE = 3
VILLAGES = 4
TAKERS = 8


@dataclass(frozen=True)
class DemoExams:
    questions_added: int
    officer_password: str | None
    exam_id: int | None
    cadres: int
    finished: int


def _officer(session: Session) -> tuple[Staff, str | None]:
    officer = staff_service.find_by_username(session, OFFICER)
    if officer is not None:
        return officer, None
    password = secrets.token_urlsafe(12)
    officer = staff_service.create_staff(
        session,
        data=StaffCreate(
            username=OFFICER,
            display_name="佛楼镇纪委演示账号",
            password=password,
            role=Role.township_officer,
            region_code=TOWNSHIP,
        ),
        actor=None,
    )
    return officer, password


def load_demo(session: Session) -> DemoExams:
    added = bank.load_starter_bank(session).created
    officer, password = _officer(session)
    if session.scalar(select(Exam.id).where(Exam.title == EXAM_TITLE)) is not None:
        return DemoExams(added, password, None, 0, 0)
    now = clock.now()
    exam = service.create_exam(
        session,
        data=ExamCreate(
            title=EXAM_TITLE,
            draw=[
                {"tag": "纪律处分条例", "count": 5, "points": 5},
                {"tag": "八项规定", "count": 5, "points": 5},
                {"tag": "群众纪律", "count": 5, "points": 5},
                {"tag": "惠民政策", "count": 5, "points": 5},
            ],
            time_limit_minutes=30,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            attempts_allowed=2,
            grade="highest",
            pass_mark=60,
            region_code=TOWNSHIP,
            review="after_submit",
        ),
        actor=officer,
    )
    service.open_exam(session, exam.id, actor=officer)
    township = regions_service.get_region(session, TOWNSHIP)
    villages = [v for v in township.children if v.current][:VILLAGES]
    lines = ["username,display_name,role,region_code"]
    # Posts, not names: a demo name could be a demo villager's, whose full name is never stored.
    posts = ("书记", "主任", "文书")
    for v, village in enumerate(villages, start=1):
        for n in range(1, CADRES_PER_VILLAGE + 1):
            name = f"{village.name}{posts[(n - 1) % len(posts)]}（演示）"
            lines.append(f"fulou.cadre{v}{n},{name},cadre,{village.code}")
    cadres = [
        staff_service.find_by_username(session, account.username)
        for account in imports.import_cadres(session, data="\n".join(lines).encode(), actor=officer)
    ]
    rng = random.Random(24)  # noqa: S311 (demo answers, the same on every machine)
    for cadre in [c for c in cadres if c is not None][:TAKERS]:
        attempt, _ = service.start_attempt(session, exam.id, cadre=cadre)
        right_answers = session.execute(
            select(ExamAttemptSlot.slot, ExamQuestion.answer)
            .join(ExamQuestion, ExamQuestion.id == ExamAttemptSlot.question_id)
            .where(ExamAttemptSlot.attempt_id == attempt.id)
        ).all()
        for slot, right in right_answers:
            chosen = right if rng.random() < 0.78 else _wrong(right)
            service.save_answer(session, attempt.id, slot, answer=chosen, cadre=cadre)
        service.submit_attempt(session, attempt.id, cadre=cadre)
    return DemoExams(added, password, exam.id, len(cadres), TAKERS)


def _wrong(right: str) -> str:
    if right in ("T", "F"):
        return "F" if right == "T" else "T"
    return "A" if right != "A" else "B"
