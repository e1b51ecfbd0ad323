"""云考堂: the question bank, papers, and cadres' attempts that never lose a saved answer.

Invariants:
- The server holds the clock (`app.exams.clock`). An attempt's deadline is fixed when it
  begins: its start plus the paper's time limit, and never past the paper's window. An answer
  is accepted only before the deadline, and a 2xx means it is committed.
- An attempt's questions are drawn once, on the server, and stored in a fixed order (slots
  1…n); another phone resumes the same attempt and sees the same questions and saved answers.
- No correct answer, explanation or score reaches the cadre before the paper's review rule
  allows it (after submitting, or after the window closes).
- An attempt past its deadline is finalised with what was saved: at its next access, when the
  cadre starts another, or by the scheduler's job (`finalise_overdue`).
- A cadre can do nothing but take exams; staff (county, commission, township) build papers for
  their own region and read their reports. Staff writes are audited, and so are a cadre's start
  and submit; each saved answer is its slot's own record (which slot, what, when), not an audit
  entry: 2 000 cadres × 50 answers would bury the log.
- Practice mode keeps nothing but anonymous counts per question.
"""

import random
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import public_writes
from app.audit import service as audit
from app.db.base import dialect_insert
from app.exams import bank, clock
from app.exams.errors import (
    AnswerShapeInvalid,
    AttemptDeadlinePassed,
    AttemptFinished,
    AttemptNotFound,
    AttemptsExhausted,
    DrawExceedsBank,
    ExamNotAvailable,
    ExamNotFound,
    ExamStateInvalid,
    QuestionNotFound,
    SlotNotInAttempt,
)
from app.exams.models import (
    AttemptState,
    Exam,
    ExamAttempt,
    ExamAttemptSlot,
    ExamDrawRule,
    ExamQuestion,
    ExamQuestionTag,
    ExamState,
    Finish,
    Grade,
    PracticeTally,
    Review,
)
from app.exams.schemas import (
    AnswerSaved,
    AttemptQuestion,
    AttemptRead,
    BankImportRead,
    ExamCreate,
    ExamRead,
    MyExam,
    PracticeAnswer,
    PracticeQuestion,
    PracticeResult,
)
from app.pagination import PageParams, paginate
from app.regions import service as regions_service
from app.staff import service as staff_service
from app.staff.models import Staff

PRACTICE_LIMIT = "120/minute"
PRACTICE_MAX_QUESTIONS = 20
_random = random.SystemRandom()


# --- the bank -------------------------------------------------------------------------------


def import_questions(session: Session, *, data: bytes, actor: Staff) -> BankImportRead:
    """All the file's questions, or none (BankFileInvalid naming each bad row)."""
    summary = bank.store_questions(session, bank.check_file(data))
    audit.record(
        session,
        actor=actor,
        action="exam_question.import",
        entity_type="exam_question",
        entity_id="bank",
        after={"created": summary.created, "skipped": summary.skipped},
    )
    return BankImportRead(
        created=summary.created, skipped=summary.skipped, tags=bank.bank_counts(session)
    )


def question_read(question: ExamQuestion) -> dict[str, object]:
    return {
        "id": question.id,
        "kind": question.kind,
        "text": question.text,
        "options": question.options,
        "answer": question.answer,
        "explanation": question.explanation,
        "tags": [t.tag for t in question.tags],
        "active": question.active,
    }


def list_questions(
    session: Session, *, tag: str | None, page: PageParams
) -> tuple[list[ExamQuestion], int]:
    stmt = select(ExamQuestion).order_by(ExamQuestion.id)
    if tag:
        stmt = stmt.where(
            ExamQuestion.id.in_(
                select(ExamQuestionTag.question_id).where(ExamQuestionTag.tag == tag)
            )
        )
    return paginate(session, stmt, page)


def _available(session: Session, tag: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ExamQuestionTag)
            .join(ExamQuestion, ExamQuestion.id == ExamQuestionTag.question_id)
            .where(ExamQuestionTag.tag == tag, ExamQuestion.active.is_(True))
        )
        or 0
    )


def _check_draw(session: Session, rules: list[tuple[str, int]]) -> None:
    short = [
        f"“{tag}”要抽 {count} 道，题库只有 {have} 道"
        for tag, count in rules
        if (have := _available(session, tag)) < count
    ]
    if short:
        raise DrawExceedsBank("抽题数超过了题库的题数：" + "；".join(short) + "。")


# --- papers ---------------------------------------------------------------------------------


def exam_read(exam: Exam) -> ExamRead:
    return ExamRead.model_validate(
        {
            **{c: getattr(exam, c) for c in ExamRead.model_fields if hasattr(exam, c)},
            "draw": list(exam.draw),
            "max_score": max_score(exam),
            "question_count": sum(rule.count for rule in exam.draw),
        }
    )


def max_score(exam: Exam) -> int:
    return sum(rule.count * rule.points for rule in exam.draw)


def _public_fields(exam: Exam) -> dict[str, object]:
    return {
        "title": exam.title,
        "region_code": exam.region_code,
        "state": exam.state,
        "draw": [{"tag": r.tag, "count": r.count, "points": r.points} for r in exam.draw],
        "time_limit_minutes": exam.time_limit_minutes,
        "opens_at": exam.opens_at.isoformat(),
        "closes_at": exam.closes_at.isoformat(),
        "attempts_allowed": exam.attempts_allowed,
        "grade": exam.grade,
        "pass_mark": exam.pass_mark,
        "review": exam.review,
    }


def create_exam(session: Session, *, data: ExamCreate, actor: Staff) -> Exam:
    staff_service.check_region(actor, data.region_code)
    regions_service.get_region(session, data.region_code)
    _check_draw(session, [(rule.tag, rule.count) for rule in data.draw])
    exam = Exam(
        title=data.title,
        region_code=data.region_code,
        time_limit_minutes=data.time_limit_minutes,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        attempts_allowed=data.attempts_allowed,
        grade=data.grade,
        pass_mark=data.pass_mark,
        review=data.review,
        created_by_id=actor.id,
        draw=[
            ExamDrawRule(position=n, tag=rule.tag, count=rule.count, points=rule.points)
            for n, rule in enumerate(data.draw, start=1)
        ],
    )
    session.add(exam)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exam.create",
        entity_type="exam",
        entity_id=exam.id,
        after=_public_fields(exam),
    )
    return exam


def get_exam(session: Session, exam_id: int, *, viewer: Staff, manage: bool = False) -> Exam:
    """An exam for a staff member: one inside their region, or (to read, not to `manage`) one
    whose audience holds their region, such as a county exam for a township officer."""
    exam = session.get(Exam, exam_id)
    if exam is None or not (
        regions_service.contains(viewer.region_code, exam.region_code)
        or (not manage and regions_service.contains(exam.region_code, viewer.region_code))
    ):
        raise ExamNotFound("没有这次考试，或它不在您的辖区内。")
    return exam


def list_exams(session: Session, *, viewer: Staff, page: PageParams) -> tuple[list[Exam], int]:
    """Exams inside the viewer's region and those whose audience holds it."""
    prefix = regions_service.scope_prefix(viewer.region_code)
    code = viewer.region_code
    holders = {code, regions_service.township_of(code), code[:6] + "000000"}
    stmt = (
        select(Exam)
        .where(Exam.region_code.startswith(prefix) | Exam.region_code.in_(holders))
        .order_by(Exam.id.desc())
    )
    return paginate(session, stmt, page)


def open_exam(session: Session, exam_id: int, *, actor: Staff) -> Exam:
    exam = get_exam(session, exam_id, viewer=actor, manage=True)
    if exam.state != ExamState.draft:
        raise ExamStateInvalid("这次考试已经开放。")
    if exam.closes_at <= clock.now():
        raise ExamStateInvalid("考试的结束时间已过，不能再开放。")
    _check_draw(session, [(rule.tag, rule.count) for rule in exam.draw])
    before = _public_fields(exam)
    exam.state, exam.opened_at = ExamState.open, clock.now()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="exam.open",
        entity_type="exam",
        entity_id=exam.id,
        before=before,
        after=_public_fields(exam),
    )
    return exam


# --- attempts -------------------------------------------------------------------------------


def _exam_for_cadre(session: Session, exam_id: int, cadre: Staff) -> Exam:
    exam = session.get(Exam, exam_id)
    if (
        exam is None
        or exam.state != ExamState.open
        or not regions_service.contains(exam.region_code, cadre.region_code)
    ):
        raise ExamNotFound("没有这次考试，或您不在它的参考范围内。")
    return exam


def _attempt_for_update(session: Session, attempt_id: int, cadre: Staff) -> ExamAttempt:
    """The cadre's own attempt, its row locked (PostgreSQL) so that a save and a submit of one
    attempt go one after the other; someone else's attempt is not found."""
    attempt = session.scalar(
        select(ExamAttempt).where(ExamAttempt.id == attempt_id).with_for_update()
    )
    if attempt is None or attempt.staff_id != cadre.id:
        raise AttemptNotFound("没有这次答题。")
    return attempt


def _draw(session: Session, exam: Exam) -> list[tuple[int, int]]:
    """(question id, points) for each slot: each rule's questions at random from its tag,
    never one question twice."""
    drawn: list[tuple[int, int]] = []
    taken: set[int] = set()
    for rule in exam.draw:
        ids = [
            i
            for i in session.scalars(
                select(ExamQuestionTag.question_id)
                .join(ExamQuestion, ExamQuestion.id == ExamQuestionTag.question_id)
                .where(ExamQuestionTag.tag == rule.tag, ExamQuestion.active.is_(True))
                .order_by(ExamQuestionTag.question_id)
            )
            if i not in taken
        ]
        if len(ids) < rule.count:
            raise DrawExceedsBank(
                f"抽题数超过了题库的题数：“{rule.tag}”要抽 {rule.count} 道，"
                f"题库只有 {len(ids)} 道。请告诉出卷的工作人员。"
            )
        chosen = _random.sample(ids, rule.count)
        taken.update(chosen)
        drawn.extend((question_id, rule.points) for question_id in chosen)
    return drawn


def _review_from(exam: Exam, attempt: ExamAttempt) -> datetime | None:
    if attempt.state != AttemptState.finished or attempt.finished_at is None:
        return None
    if exam.review == Review.after_close:
        return max(exam.closes_at, attempt.finished_at)
    return attempt.finished_at


def finalise(session: Session, attempt: ExamAttempt, *, by: Finish, now: datetime) -> None:
    """Score the attempt with what was saved and close it; the caller holds its row."""
    exam = session.get_one(Exam, attempt.exam_id)
    rows = session.execute(
        select(ExamAttemptSlot, ExamQuestion.answer)
        .join(ExamQuestion, ExamQuestion.id == ExamAttemptSlot.question_id)
        .where(ExamAttemptSlot.attempt_id == attempt.id)
    ).all()
    score = 0
    for slot, answer in rows:
        slot.correct = slot.answer == answer
        score += slot.points if slot.correct else 0
    attempt.state = AttemptState.finished
    attempt.finished_by = by
    attempt.finished_at = min(now, attempt.deadline) if by == Finish.deadline else now
    attempt.score = score
    attempt.passed = score >= exam.pass_mark
    session.flush()


def _finalise_if_overdue(session: Session, attempt: ExamAttempt, now: datetime) -> None:
    if attempt.state == AttemptState.in_progress and attempt.deadline <= now:
        finalise(session, attempt, by=Finish.deadline, now=now)


def finalise_overdue(session: Session, *, limit: int = 500) -> int:
    """Finalise attempts whose deadline passed (the scheduler's job); how many were."""
    now = clock.now()
    attempts = session.scalars(
        select(ExamAttempt)
        .where(ExamAttempt.state == AttemptState.in_progress, ExamAttempt.deadline <= now)
        .order_by(ExamAttempt.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for attempt in attempts:
        finalise(session, attempt, by=Finish.deadline, now=now)
    return len(attempts)


def start_attempt(session: Session, exam_id: int, *, cadre: Staff) -> tuple[AttemptRead, bool]:
    """The cadre's attempt in progress (resumed, False), or a new one drawn now (True)."""
    exam = _exam_for_cadre(session, exam_id, cadre)
    now = clock.now()
    mine = session.scalars(
        select(ExamAttempt)
        .where(ExamAttempt.exam_id == exam.id, ExamAttempt.staff_id == cadre.id)
        .order_by(ExamAttempt.number)
        .with_for_update()
    ).all()
    for attempt in mine:
        _finalise_if_overdue(session, attempt, now)
        if attempt.state == AttemptState.in_progress:
            return attempt_read(session, attempt, exam, now), False
    if now < exam.opens_at:
        raise ExamNotAvailable(f"考试还没有开始，{_local(exam.opens_at)} 开始。")
    if now >= exam.closes_at:
        raise ExamNotAvailable(f"考试已于 {_local(exam.closes_at)} 结束。")
    if len(mine) >= exam.attempts_allowed:
        raise AttemptsExhausted(f"这次考试每人可答 {exam.attempts_allowed} 次，您已用完。")
    slots = _draw(session, exam)
    attempt = ExamAttempt(
        exam_id=exam.id,
        staff_id=cadre.id,
        region_code=cadre.region_code,
        number=len(mine) + 1,
        started_at=now,
        deadline=min(now + timedelta(minutes=exam.time_limit_minutes), exam.closes_at),
        max_score=max_score(exam),
        slots=[
            ExamAttemptSlot(slot=n, question_id=question_id, points=points)
            for n, (question_id, points) in enumerate(slots, start=1)
        ],
    )
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:
        # The same cadre started it from another phone at the same moment: that one stands.
        raise AttemptsExhausted("刚才已从另一台手机开始答题，请刷新后接着答。") from None
    audit.record(
        session,
        actor=cadre,
        action="exam_attempt.start",
        entity_type="exam_attempt",
        entity_id=attempt.id,
        after={
            "exam_id": exam.id,
            "number": attempt.number,
            "deadline": attempt.deadline.isoformat(),
        },
    )
    return attempt_read(session, attempt, exam, now), True


def _local(moment: datetime) -> str:
    from app.schemas import COUNTY_TZ

    return moment.astimezone(COUNTY_TZ).strftime("%Y-%m-%d %H:%M")


def read_attempt(session: Session, attempt_id: int, *, cadre: Staff) -> AttemptRead:
    attempt = _attempt_for_update(session, attempt_id, cadre)
    exam = session.get_one(Exam, attempt.exam_id)
    now = clock.now()
    _finalise_if_overdue(session, attempt, now)
    return attempt_read(session, attempt, exam, now)


def attempt_read(session: Session, attempt: ExamAttempt, exam: Exam, now: datetime) -> AttemptRead:
    review_from = _review_from(exam, attempt)
    review = review_from is not None and review_from <= now
    rows = session.execute(
        select(ExamAttemptSlot, ExamQuestion)
        .join(ExamQuestion, ExamQuestion.id == ExamAttemptSlot.question_id)
        .where(ExamAttemptSlot.attempt_id == attempt.id)
        .order_by(ExamAttemptSlot.slot)
    ).all()
    questions = [
        AttemptQuestion(
            slot=slot.slot,
            kind=question.kind,
            text=question.text,
            options=question.options,
            points=slot.points,
            answer=slot.answer,
            saved_at=slot.saved_at,
            correct_answer=question.answer if review else None,
            correct=slot.correct if review else None,
            explanation=question.explanation if review else None,
        )
        for slot, question in rows
    ]
    return AttemptRead(
        id=attempt.id,
        exam_id=exam.id,
        exam_title=exam.title,
        number=attempt.number,
        state=AttemptState(attempt.state),
        started_at=attempt.started_at,
        deadline=attempt.deadline,
        server_time=now,
        finished_at=attempt.finished_at,
        finished_by=Finish(attempt.finished_by) if attempt.finished_by else None,
        answered=sum(1 for q in questions if q.answer is not None),
        review_available=review,
        review_from=review_from,
        score=attempt.score if review else None,
        max_score=attempt.max_score,
        pass_mark=exam.pass_mark,
        passed=attempt.passed if review else None,
        questions=questions,
    )


# What a save needs of its attempt and slot, in one statement (the hottest write of an exam);
# the attempt's row locked on PostgreSQL, so that a save and a submit go one after the other.
_SAVE_TARGET = (
    select(
        ExamAttempt.staff_id,
        ExamAttempt.state,
        ExamAttempt.deadline,
        ExamQuestion.kind,
        ExamQuestion.options,
    )
    .select_from(ExamAttempt)
    .outerjoin(
        ExamAttemptSlot,
        (ExamAttemptSlot.attempt_id == ExamAttempt.id)
        & (ExamAttemptSlot.slot == bindparam("slot")),
    )
    .outerjoin(ExamQuestion, ExamQuestion.id == ExamAttemptSlot.question_id)
    .where(ExamAttempt.id == bindparam("attempt_id"))
    .with_for_update(of=ExamAttempt)
)
_SAVE = (
    update(ExamAttemptSlot)
    .where(
        ExamAttemptSlot.attempt_id == bindparam("target_attempt"),
        ExamAttemptSlot.slot == bindparam("target_slot"),
    )
    .values(answer=bindparam("new_answer"), saved_at=bindparam("new_saved_at"))
)


def save_answer(
    session: Session, attempt_id: int, slot: int, *, answer: str, cadre: Staff
) -> AnswerSaved:
    """Save one answer; the same answer saved again changes nothing but `saved_at`."""
    found = session.execute(_SAVE_TARGET, {"attempt_id": attempt_id, "slot": slot}).one_or_none()
    if found is None or found.staff_id != cadre.id:
        raise AttemptNotFound("没有这次答题。")
    now = clock.now()
    if found.state != AttemptState.in_progress:
        raise AttemptFinished("这次答题已经交卷，答案不能再改。")
    if found.deadline <= now:
        finalise(
            session, _attempt_for_update(session, attempt_id, cadre), by=Finish.deadline, now=now
        )
        error = AttemptDeadlinePassed(
            f"答题时间已于 {_local(found.deadline)} 截止，这个答案没有保存；"
            "截止前保存的答案已经交卷。"
        )
        error.keep_writes = True
        raise error
    if found.kind is None:
        count = _slot_count(session, attempt_id)
        raise SlotNotInAttempt(f"这次答题没有第 {slot} 题（共 {count} 题）。")
    normalised = bank.normalise_answer(found.kind, len(found.options), answer)
    if normalised is None:
        raise AnswerShapeInvalid(
            f"第 {slot} 题的答案格式不对：" + _shape_hint(found.kind, len(found.options))
        )
    session.execute(
        _SAVE,
        {
            "target_attempt": attempt_id,
            "target_slot": slot,
            "new_answer": normalised,
            "new_saved_at": now,
        },
    )
    return AnswerSaved(
        attempt_id=attempt_id, slot=slot, answer=normalised, saved_at=now, deadline=found.deadline
    )


def _slot_count(session: Session, attempt_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ExamAttemptSlot)
            .where(ExamAttemptSlot.attempt_id == attempt_id)
        )
        or 0
    )


def _shape_hint(kind: str, option_count: int) -> str:
    last = bank.LETTERS[option_count - 1]
    if kind == "true_false":
        return "判断题请答 T（正确）或 F（错误）。"
    if kind == "single":
        return f"单选题请答 A 至 {last} 中的一个字母。"
    return f"多选题请答 A 至 {last} 中的字母，如 AC。"


def submit_attempt(session: Session, attempt_id: int, *, cadre: Staff) -> AttemptRead:
    """Hand the attempt in. Submitting twice answers the same; past the deadline the attempt is
    finalised with what was saved, as it would have been anyway."""
    attempt = _attempt_for_update(session, attempt_id, cadre)
    exam = session.get_one(Exam, attempt.exam_id)
    now = clock.now()
    if attempt.state == AttemptState.in_progress:
        by = Finish.submitted if now < attempt.deadline else Finish.deadline
        finalise(session, attempt, by=by, now=now)
        audit.record(
            session,
            actor=cadre,
            action="exam_attempt.submit",
            entity_type="exam_attempt",
            entity_id=attempt.id,
            before={"state": AttemptState.in_progress},
            after={"state": attempt.state, "finished_by": by, "score": attempt.score},
        )
    return attempt_read(session, attempt, exam, now)


def graded(attempts: list[ExamAttempt], grade: str) -> ExamAttempt | None:
    """The finished attempt that counts: the highest score, or the last one."""
    finished = [a for a in attempts if a.state == AttemptState.finished]
    if not finished:
        return None
    if grade == Grade.last:
        return max(finished, key=lambda a: a.number)
    return max(finished, key=lambda a: (a.score or 0, -a.number))


def my_exams(session: Session, *, cadre: Staff) -> list[MyExam]:
    """Open exams whose audience holds the cadre, newest first, with the cadre's attempts."""
    now = clock.now()
    exams = [
        exam
        for exam in session.scalars(
            select(Exam).where(Exam.state == ExamState.open).order_by(Exam.opens_at.desc())
        )
        if regions_service.contains(exam.region_code, cadre.region_code)
    ]
    mine: dict[int, list[ExamAttempt]] = {}
    for attempt in session.scalars(
        select(ExamAttempt)
        .where(ExamAttempt.staff_id == cadre.id)
        .order_by(ExamAttempt.number)
        .with_for_update()
    ):
        _finalise_if_overdue(session, attempt, now)
        mine.setdefault(attempt.exam_id, []).append(attempt)
    answer: list[MyExam] = []
    for exam in exams:
        attempts = mine.get(exam.id, [])
        counted = graded(attempts, exam.grade)
        review_from = _review_from(exam, counted) if counted else None
        review = review_from is not None and review_from <= now
        answer.append(
            MyExam(
                id=exam.id,
                title=exam.title,
                opens_at=exam.opens_at,
                closes_at=exam.closes_at,
                time_limit_minutes=exam.time_limit_minutes,
                question_count=sum(rule.count for rule in exam.draw),
                max_score=max_score(exam),
                pass_mark=exam.pass_mark,
                attempts_allowed=exam.attempts_allowed,
                attempts_used=len(attempts),
                grade=Grade(exam.grade),
                review=Review(exam.review),
                in_progress_attempt_id=next(
                    (a.id for a in attempts if a.state == AttemptState.in_progress), None
                ),
                score=counted.score if counted and review else None,
                passed=counted.passed if counted and review else None,
            )
        )
    return answer


# --- practice -------------------------------------------------------------------------------


def practice_questions(session: Session, *, tag: str | None, count: int) -> list[PracticeQuestion]:
    """Questions at random from the bank, without their answers."""
    stmt = select(ExamQuestion.id).where(ExamQuestion.active.is_(True))
    if tag:
        stmt = stmt.where(
            ExamQuestion.id.in_(
                select(ExamQuestionTag.question_id).where(ExamQuestionTag.tag == tag)
            )
        )
    ids = list(session.scalars(stmt))
    chosen = _random.sample(ids, min(count, len(ids)))
    questions = session.scalars(select(ExamQuestion).where(ExamQuestion.id.in_(chosen))).all()
    by_id = {q.id: q for q in questions}
    return [
        PracticeQuestion(
            id=q.id,
            kind=q.kind,
            text=q.text,
            options=q.options,
            tags=[t.tag for t in q.tags],
        )
        for q in (by_id[i] for i in chosen)
    ]


def check_practice_answer(session: Session, *, data: PracticeAnswer, client: str) -> PracticeResult:
    """Whether the answer is right, with the explanation; only the question's counts are kept."""
    public_writes.limit(PRACTICE_LIMIT, "exam-practice", client)
    question = session.get(ExamQuestion, data.question_id)
    if question is None or not question.active:
        raise QuestionNotFound("题库里没有这道题。")
    normalised = bank.normalise_answer(question.kind, len(question.options), data.answer)
    if normalised is None:
        raise AnswerShapeInvalid(
            "答案格式不对：" + _shape_hint(question.kind, len(question.options))
        )
    correct = normalised == question.answer
    insert = dialect_insert(session, PracticeTally)
    session.execute(
        insert.values(
            question_id=question.id, answered=1, correct=int(correct)
        ).on_conflict_do_update(
            index_elements=[PracticeTally.question_id],
            set_={
                "answered": PracticeTally.answered + 1,
                "correct": PracticeTally.correct + int(correct),
            },
        )
    )
    return PracticeResult(
        correct=correct, correct_answer=question.answer, explanation=question.explanation
    )
