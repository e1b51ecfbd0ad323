from datetime import date, timedelta
from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import public_writes, workdays
from app.config import get_settings
from app.forum import service
from app.forum.models import Question
from app.forum.schemas import ANSWER_WORKING_DAYS, ForumAnswerCreate, ForumQuestionCreate
from app.staff.models import Staff
from tests.factories import SANGUANZHAI

_clients = count(1)


def question_data(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "consult",
        "village_code": SANGUANZHAI,
        "title": "我家老人的高龄津贴怎么申请",
        "body": "我父亲今年八十一岁了，听说有高龄津贴，不知道去哪里申请，要带什么材料？",
        **overrides,
    }


def make_question(
    session: Session, *, asked_on: date | None = None, **overrides: Any
) -> tuple[Question, str]:
    """A question asked through the service (each from its own client, so no limit is met),
    dated back to `asked_on` with its due date counted from then; and its code."""
    code = service.new_code(client=f"factory-{next(_clients)}", settings=get_settings())
    receipt = service.ask(
        session, data=ForumQuestionCreate.model_validate(question_data(**overrides)), code=code
    )
    question = session.scalars(select(Question).order_by(Question.id.desc()).limit(1)).one()
    if asked_on is not None:
        question.asked_on = asked_on
        due = workdays.add_working_days(asked_on, ANSWER_WORKING_DAYS[question.kind])
        question.first_due_on = question.due_on = due
        session.flush()
    return question, receipt.code


def answer_data(**overrides: Any) -> dict[str, Any]:
    return {
        "answer": "高龄津贴由户籍所在地的村（社区）受理，带身份证、户口簿到村委会填表即可，"
        "乡镇民政办审核后按月发放到社保卡。",
        "public_title": "高龄津贴怎么申请",
        "public_body": "村民咨询：家中老人年满八十岁，高龄津贴到哪里申请、带什么材料？",
        **overrides,
    }


def answered(
    session: Session, question: Question, actor: Staff, *, on: date, publish: bool = True
) -> Question:
    """Answer (and publish) the question as if on the day `on`."""
    service.answer(session, question.id, data=ForumAnswerCreate(**answer_data()), actor=actor)
    question.replied_on = on
    question.reply_working_days = workdays.working_days_between(question.asked_on, on)
    if publish:
        service.publish(session, question.id, actor=actor)
    session.flush()
    return question


def days(n: int) -> date:
    return public_writes.today() + timedelta(days=n)
