"""Surveys (民意测评): staff build a survey, villagers answer it once per device, the results are
counted by the database.

Invariants:
- A survey goes draft → open → closed → published; only a draft can be edited, and villagers see
  a survey only while it is open (to answer) or published (to read its results).
- A survey's scope is a county, township or village; staff act only on surveys inside their own
  region (a township officer: their township). Every staff write goes through the audit log.
- One response per device per survey, under the shared rules of public writes
  (app.public_writes): the device token kept only as a keyed hash scoped to the survey, the
  date only, no address or user agent, an expiring per-client limit.
- Every answer is checked against its question before anything is stored.
- Results are GROUP BY queries over `survey_answer`; free-text answers go only to staff.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app import public_writes
from app.audit import service as audit
from app.config import Settings
from app.db.base import utcnow
from app.pagination import PageParams, paginate
from app.regions import service as regions_service
from app.staff import service as staff_service
from app.staff.models import Staff
from app.surveys import export
from app.surveys.errors import (
    SurveyAlreadyAnswered,
    SurveyAnswerInvalid,
    SurveyNotFound,
    SurveyNotOpen,
    SurveyResultsNotPublished,
    SurveyStateInvalid,
)
from app.surveys.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    SurveyState,
    SurveyTarget,
)
from app.surveys.schemas import (
    AnswerCreate,
    OptionResult,
    QuestionResult,
    RatingResult,
    ResponseCreate,
    ResponseReceipt,
    SurveyCreate,
    SurveyResults,
)

ENTITY = "survey"
RESPONSE_LIMIT = "60/minute"  # generous: a village hall shares one address
_NEXT_STATE = {
    SurveyState.draft: SurveyState.open,
    SurveyState.open: SurveyState.closed,
    SurveyState.closed: SurveyState.published,
}
_STATE_NAMES = {
    SurveyState.draft: "草稿",
    SurveyState.open: "进行中",
    SurveyState.closed: "已结束",
    SurveyState.published: "已公布结果",
}


def _with_questions() -> Select[Survey]:
    return select(Survey).options(
        selectinload(Survey.targets),
        selectinload(Survey.questions).selectinload(SurveyQuestion.options),
    )


def _snapshot(survey: Survey) -> dict[str, Any]:
    return {"title": survey.title, "region_code": survey.region_code, "state": survey.state}


def _load(session: Session, survey_id: int) -> Survey | None:
    return session.scalars(_with_questions().where(Survey.id == survey_id)).one_or_none()


# --- staff ------------------------------------------------------------------------------------


def get_survey(session: Session, survey_id: int, *, staff: Staff) -> Survey:
    """The survey, when it lies inside the staff member's region (otherwise 404, not 403, so
    that ids outside the region tell nothing)."""
    survey = _load(session, survey_id)
    if survey is None or not regions_service.contains(staff.region_code, survey.region_code):
        raise SurveyNotFound(f"没有编号为 {survey_id} 的测评。")
    return survey


def list_surveys(
    session: Session, *, staff: Staff, state: SurveyState | None, page: PageParams
) -> tuple[list[Survey], int]:
    prefix = regions_service.scope_prefix(staff.region_code)
    stmt = select(Survey).where(Survey.region_code.startswith(prefix)).order_by(Survey.id.desc())
    if state is not None:
        stmt = stmt.where(Survey.state == state)
    return paginate(session, stmt, page)


def _build(survey: Survey, data: SurveyCreate) -> None:
    survey.title = data.title
    survey.description = data.description
    survey.region_code = data.region_code
    survey.targets = [
        SurveyTarget(position=i, name=t.name, kind=t.kind) for i, t in enumerate(data.targets, 1)
    ]
    survey.questions = [
        SurveyQuestion(
            position=i,
            kind=q.kind,
            text=q.text,
            required=q.required,
            per_target=q.per_target,
            options=[SurveyOption(position=j, text=o) for j, o in enumerate(q.options, 1)],
        )
        for i, q in enumerate(data.questions, 1)
    ]


def _check_scope(session: Session, staff: Staff, region_code: str) -> None:
    regions_service.get_region(session, region_code)  # raises NotFound
    staff_service.check_region(staff, region_code)  # raises Forbidden


def create_survey(session: Session, *, data: SurveyCreate, actor: Staff) -> Survey:
    _check_scope(session, actor, data.region_code)
    survey = Survey(state=SurveyState.draft, created_by_id=actor.id)
    _build(survey, data)
    session.add(survey)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="survey.create",
        entity_type=ENTITY,
        entity_id=survey.id,
        after=_snapshot(survey),
    )
    return survey


def update_survey(session: Session, survey_id: int, *, data: SurveyCreate, actor: Staff) -> Survey:
    """Replaces the whole survey: title, scope, targets and questions. Drafts only."""
    survey = get_survey(session, survey_id, staff=actor)
    if survey.state != SurveyState.draft:
        raise SurveyStateInvalid(
            f"测评{_STATE_NAMES[SurveyState(survey.state)]}，只有草稿可以修改。"
        )
    _check_scope(session, actor, data.region_code)
    before = _snapshot(survey)
    _build(survey, data)
    survey.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="survey.update",
        entity_type=ENTITY,
        entity_id=survey.id,
        before=before,
        after=_snapshot(survey),
    )
    session.refresh(survey)
    return get_survey(session, survey.id, staff=actor)


def advance_survey(session: Session, survey_id: int, *, to: SurveyState, actor: Staff) -> Survey:
    """draft → open → closed → published, one step at a time."""
    survey = get_survey(session, survey_id, staff=actor)
    current = SurveyState(survey.state)
    if _NEXT_STATE.get(current) != to:
        raise SurveyStateInvalid(
            f"测评{_STATE_NAMES[current]}，不能改为{_STATE_NAMES[to]}。",
            state=current.value,
        )
    before = _snapshot(survey)
    now = utcnow()
    survey.state = to
    if to == SurveyState.open:
        survey.opened_at = now
    elif to == SurveyState.closed:
        survey.closed_at = now
    else:
        survey.published_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"survey.{to.value}",
        entity_type=ENTITY,
        entity_id=survey.id,
        before=before,
        after=_snapshot(survey),
    )
    return survey


def staff_results(session: Session, survey_id: int, *, staff: Staff) -> SurveyResults:
    survey = get_survey(session, survey_id, staff=staff)
    if survey.state == SurveyState.draft:
        raise SurveyStateInvalid("草稿还没有人回答，没有结果。")
    return compute_results(session, survey)


def list_text_answers(
    session: Session, survey_id: int, *, staff: Staff, question_id: int | None, page: PageParams
) -> tuple[list[SurveyAnswer], int]:
    get_survey(session, survey_id, staff=staff)
    stmt = (
        select(SurveyAnswer)
        .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.text.is_not(None))
        .order_by(SurveyAnswer.id)
    )
    if question_id is not None:
        stmt = stmt.where(SurveyAnswer.question_id == question_id)
    return paginate(session, stmt, page)


def results_csv(session: Session, survey_id: int, *, staff: Staff) -> bytes:
    return export.to_csv(staff_results(session, survey_id, staff=staff))


def results_xlsx(session: Session, survey_id: int, *, staff: Staff) -> bytes:
    return export.to_xlsx(staff_results(session, survey_id, staff=staff))


# --- villagers --------------------------------------------------------------------------------


def list_open_surveys(
    session: Session, *, village_code: str, page: PageParams
) -> tuple[list[Survey], int]:
    """Open surveys whose scope is the village, its township or the county."""
    scopes = {village_code[:6] + "000000", regions_service.township_of(village_code), village_code}
    stmt = (
        select(Survey)
        .where(Survey.state == SurveyState.open, Survey.region_code.in_(scopes))
        .order_by(Survey.id.desc())
    )
    return paginate(session, stmt, page)


def get_public_survey(session: Session, survey_id: int) -> Survey:
    survey = _load(session, survey_id)
    if survey is None or survey.state not in (SurveyState.open, SurveyState.published):
        raise SurveyNotFound(f"没有编号为 {survey_id} 的测评，或它尚未开始。")
    return survey


def _invalid(number: int, question: SurveyQuestion, problem: str) -> SurveyAnswerInvalid:
    return SurveyAnswerInvalid(
        f"第 {number} 题「{question.text}」{problem}", question_id=question.id
    )


def _by_question(survey: Survey, answers: list[AnswerCreate]) -> dict[int, list[AnswerCreate]]:
    """The answers grouped by their question; an answer to no question of the survey raises."""
    by_question: dict[int, list[AnswerCreate]] = defaultdict(list)
    known = {q.id for q in survey.questions}
    for answer in answers:
        if answer.question_id not in known:
            raise SurveyAnswerInvalid(f"这次测评没有编号为 {answer.question_id} 的题目。")
        by_question[answer.question_id].append(answer)
    return by_question


def _check_score(number: int, question: SurveyQuestion, rating: int | None) -> int:
    if rating is None or not 1 <= rating <= 5:
        raise _invalid(number, question, "的评分应为 1 到 5 分")
    return rating


def _check_target_ratings(
    number: int, question: SurveyQuestion, given: list[AnswerCreate], target_ids: set[int]
) -> list[SurveyAnswer]:
    """A rating question that rates each of the survey's targets: one score per target."""
    rows: list[SurveyAnswer] = []
    rated: set[int] = set()
    for a in given:
        if a.target_id not in target_ids:
            raise _invalid(number, question, "要对列出的测评对象打分")
        if a.target_id in rated:
            raise _invalid(number, question, "对同一对象只能打一次分")
        rating = _check_score(number, question, a.rating)
        rated.add(a.target_id)
        rows.append(SurveyAnswer(question_id=question.id, target_id=a.target_id, rating=rating))
    if question.required and rated != target_ids:
        raise _invalid(number, question, "必须对每个测评对象打分")
    return rows


def _the_answer(
    number: int, question: SurveyQuestion, given: list[AnswerCreate]
) -> AnswerCreate | None:
    """The one answer to a question answered once, ignoring empty ones; None when an optional
    question was left out."""
    given = [a for a in given if a.option_ids or a.rating is not None or (a.text or "").strip()]
    if len(given) > 1:
        raise _invalid(number, question, "只能回答一次")
    if not given:
        if question.required:
            raise _invalid(number, question, "必须回答")
        return None
    if given[0].target_id is not None:
        raise _invalid(number, question, "不是对测评对象打分的题目")
    return given[0]


def _check_choice(
    number: int, question: SurveyQuestion, answer: AnswerCreate
) -> list[SurveyAnswer]:
    chosen = answer.option_ids
    if answer.rating is not None or answer.text is not None or not chosen:
        raise _invalid(number, question, "应选择选项")
    if question.kind == QuestionKind.single and len(chosen) != 1:
        raise _invalid(number, question, "只能选一项")
    if len(set(chosen)) != len(chosen) or not set(chosen) <= {o.id for o in question.options}:
        raise _invalid(number, question, "的选项不对")
    return [SurveyAnswer(question_id=question.id, option_id=o) for o in chosen]


def _check_rating(
    number: int, question: SurveyQuestion, answer: AnswerCreate
) -> list[SurveyAnswer]:
    if answer.option_ids or answer.text is not None:
        raise _invalid(number, question, "应打分")
    rating = _check_score(number, question, answer.rating)
    return [SurveyAnswer(question_id=question.id, rating=rating)]


def _check_text(number: int, question: SurveyQuestion, answer: AnswerCreate) -> list[SurveyAnswer]:
    if answer.option_ids or answer.rating is not None:
        raise _invalid(number, question, "应填写文字")
    return [SurveyAnswer(question_id=question.id, text=(answer.text or "").strip())]


_CHECK_ANSWER = {
    QuestionKind.single: _check_choice,
    QuestionKind.multiple: _check_choice,
    QuestionKind.rating: _check_rating,
    QuestionKind.text: _check_text,
}


def _check_answers(survey: Survey, answers: list[AnswerCreate]) -> list[SurveyAnswer]:
    """The answer rows to store, after checking every answer against its question."""
    by_question = _by_question(survey, answers)
    target_ids = {t.id for t in survey.targets}
    rows: list[SurveyAnswer] = []
    for number, question in enumerate(survey.questions, 1):
        given = by_question.get(question.id, [])
        kind = QuestionKind(question.kind)
        if kind == QuestionKind.rating and question.per_target:
            rows += _check_target_ratings(number, question, given, target_ids)
        elif (answer := _the_answer(number, question, given)) is not None:
            rows += _CHECK_ANSWER[kind](number, question, answer)
    return rows


def submit_response(
    session: Session, survey_id: int, *, data: ResponseCreate, client: str, settings: Settings
) -> ResponseReceipt:
    public_writes.limit(RESPONSE_LIMIT, "survey-response", client)
    survey = _load(session, survey_id)
    if survey is None or survey.state == SurveyState.draft:
        raise SurveyNotFound(f"没有编号为 {survey_id} 的测评，或它尚未开始。")
    if survey.state != SurveyState.open:
        raise SurveyNotOpen("这次测评已经结束，不能再提交答卷。")
    digest = public_writes.device_hash(f"survey:{survey.id}", data.device_token, settings=settings)
    answered = session.scalar(
        select(SurveyResponse.id).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.device_hash == digest
        )
    )
    already = SurveyAlreadyAnswered("这台手机已经参加过这次测评，每台手机只能提交一次。")
    if answered is not None:
        raise already
    rows = _check_answers(survey, data.answers)
    today = public_writes.today()
    response = SurveyResponse(survey_id=survey.id, device_hash=digest, submitted_on=today)
    try:
        with session.begin_nested():  # two submissions at once: the unique key decides
            session.add(response)
            session.flush()
    except IntegrityError:
        raise already from None
    for row in rows:
        row.response_id = response.id
        row.survey_id = survey.id
    session.add_all(rows)
    session.flush()
    return ResponseReceipt(survey_id=survey.id, submitted_on=today, message="感谢您参加测评！")


def public_results(session: Session, survey_id: int) -> SurveyResults:
    survey = get_public_survey(session, survey_id)
    if survey.state != SurveyState.published:
        raise SurveyResultsNotPublished("测评结果尚未公布，请等测评结束并公布后再看。")
    return compute_results(session, survey)


# --- results ----------------------------------------------------------------------------------


def _rating_result(
    counts: dict[int, int], *, target_id: int | None, target_name: str | None
) -> RatingResult:
    total = sum(counts.values())
    mean = sum(score * n for score, n in counts.items()) / total if total else None
    satisfied = counts.get(4, 0) + counts.get(5, 0)
    return RatingResult(
        target_id=target_id,
        target_name=target_name,
        count=total,
        mean=None if mean is None else round(mean, 2),
        distribution={str(s): counts.get(s, 0) for s in range(1, 6)},
        satisfaction_rate=round(satisfied / total, 4) if total else None,
    )


def _response_count(session: Session, survey_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(SurveyResponse)
            .where(SurveyResponse.survey_id == survey_id)
        )
        or 0
    )


def _responses_by_question(session: Session, survey_id: int) -> dict[int, int]:
    """How many responses answered each question."""
    return {
        qid: n
        for qid, n in session.execute(
            select(SurveyAnswer.question_id, func.count(func.distinct(SurveyAnswer.response_id)))
            .where(SurveyAnswer.survey_id == survey_id)
            .group_by(SurveyAnswer.question_id)
        )
    }


def _option_counts(session: Session, survey_id: int) -> dict[int, int]:
    return {
        oid: n
        for oid, n in session.execute(
            select(SurveyAnswer.option_id, func.count())
            .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.option_id.is_not(None))
            .group_by(SurveyAnswer.option_id)
        )
        if oid is not None
    }


def _score_counts(session: Session, survey_id: int) -> dict[tuple[int, int | None], dict[int, int]]:
    """Per (question, target or None): how many gave each score."""
    counts: dict[tuple[int, int | None], dict[int, int]] = defaultdict(dict)
    for qid, tid, score, n in session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.target_id, SurveyAnswer.rating, func.count())
        .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.rating.is_not(None))
        .group_by(SurveyAnswer.question_id, SurveyAnswer.target_id, SurveyAnswer.rating)
    ):
        if score is not None:
            counts[(qid, tid)][score] = n
    return counts


def compute_results(session: Session, survey: Survey) -> SurveyResults:
    """Four GROUP BY queries over the survey's answers; nothing per response is loaded."""
    response_count = _response_count(session, survey.id)
    answered = _responses_by_question(session, survey.id)
    option_counts = _option_counts(session, survey.id)
    ratings = _score_counts(session, survey.id)
    questions = []
    for q in survey.questions:
        result = QuestionResult(
            question_id=q.id,
            position=q.position,
            kind=QuestionKind(q.kind),
            text=q.text,
            answer_count=answered.get(q.id, 0),
        )
        if q.kind in (QuestionKind.single, QuestionKind.multiple):
            result.options = [
                OptionResult(option_id=o.id, text=o.text, count=option_counts.get(o.id, 0))
                for o in q.options
            ]
        elif q.kind == QuestionKind.rating and q.per_target:
            result.ratings = [
                _rating_result(ratings.get((q.id, t.id), {}), target_id=t.id, target_name=t.name)
                for t in survey.targets
            ]
        elif q.kind == QuestionKind.rating:
            result.ratings = [
                _rating_result(ratings.get((q.id, None), {}), target_id=None, target_name=None)
            ]
        questions.append(result)
    return SurveyResults(
        survey_id=survey.id,
        title=survey.title,
        state=SurveyState(survey.state),
        response_count=response_count,
        questions=questions,
    )


# --- demo -------------------------------------------------------------------------------------

DEMO_TITLE = "2026 年群众身边不正之风和腐败问题满意度测评（演示）"


def load_demo(session: Session, *, actor: Staff) -> int | None:
    """An open survey of the demo county, made once; its id, or None when it is there already."""
    county = regions_service.county(session)
    if session.scalar(select(Survey.id).where(Survey.title == DEMO_TITLE)) is not None:
        return None
    data = SurveyCreate.model_validate(
        {
            "title": DEMO_TITLE,
            "description": "不记名，每台手机答一次，大约两分钟。",
            "region_code": county.code,
            "targets": [
                {"name": "县民政局", "kind": "department"},
                {"name": "县农业农村局", "kind": "department"},
            ],
            "questions": [
                {
                    "kind": "single",
                    "text": "您知道低保、养老金这些补贴怎么查吗？",
                    "options": ["知道", "听说过，不会查", "不知道"],
                },
                {"kind": "rating", "text": "请给这些单位办事打分", "per_target": True},
                {
                    "kind": "multiple",
                    "text": "您从哪里了解惠民政策？（可以多选）",
                    "options": ["村里广播", "村务公开栏", "手机", "村干部告诉"],
                    "required": False,
                },
                {"kind": "text", "text": "还有什么想说的？", "required": False},
            ],
        }
    )
    survey = create_survey(session, data=data, actor=actor)
    advance_survey(session, survey.id, to=SurveyState.open, actor=actor)
    return survey.id
