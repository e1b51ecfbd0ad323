"""云端话廉 (forum): villagers' questions to the commission, answered in public on a clock.

Invariants:
- Asking follows the shared rules of public writes (app.public_writes): nothing identifies the
  asker, rows carry dates only, limits count in expiring counters; the code is returned once
  and kept only as its slow hash, and a lookup costs the same for right and wrong codes;
  guessing codes is limited per client as for tips' receipts.
- Nothing is public until the commission publishes it, and then only the edited public title
  and body, the answer and the asker's rating: the asker's own words stay private.
- The answer is due `ANSWER_WORKING_DAYS` working days (China's calendar, app.workdays) after
  the day of asking; an extension is kept with its reason and shown beside the answer. Overdue
  is computed from the due date and the state (`overdue_clause`), never stored.
- A question turned into a tip leaves the tips domain its words (encrypted there) and keeps
  none of them; its code then shows the tip's status. One turned into a 阳光问廉 item shows
  the item's number and state.
- The asker rates an answer once (1–5); a second rating is refused (409) by the database.
- Only the commission handles questions; every staff write goes into the audit log (states,
  dates and ids, never the words).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.orm import Session, selectinload

from app import public_writes, search, workdays
from app.audit import service as audit
from app.config import Settings
from app.forum.errors import (
    AlreadyRated,
    AnswererInvalid,
    CodeNotFound,
    NotYetAnswered,
    QuestionNotFound,
    QuestionStateInvalid,
    VillageUnknown,
)
from app.forum.models import ForumKind, ForumState, Question, QuestionExtension
from app.forum.schemas import (
    ANSWER_WORKING_DAYS,
    KIND_NAMES,
    STATE_NAMES,
    AdminFilter,
    AssignCreate,
    ForumAnswerCreate,
    ForumExtensionCreate,
    ForumExtensionRead,
    ForumQuestionCreate,
    ForumQuestionRead,
    InquiryConversion,
    InquiryLink,
    QuestionAdmin,
    QuestionBrief,
    QuestionFilter,
    QuestionReceipt,
    QuestionStatus,
    Suggestions,
    TipConversion,
)
from app.inquiries import service as inquiries_service
from app.inquiries.errors import InquiryNotFound
from app.inquiries.schemas import ItemCreate
from app.pagination import Page, PageParams, paginate
from app.policies import service as policies_service
from app.regions import service as regions_service
from app.staff.models import Role, Staff
from app.tips import service as tips_service
from app.tips.models import TipSource

ASK_LIMIT = "5/hour"
CODE_LIMIT = "10/minute"  # as tips' receipt lookups: guessing 16 digits stays hopeless
CODE_SCOPE = "question"
ENTITY = "question"
SEARCH_KIND = "question"
SUGGESTIONS = 5  # of each: policies, published answers
OPEN = (ForumState.submitted, ForumState.assigned)
ANSWERED = (ForumState.answered, ForumState.published)
TRANSFERRED_TITLE = "（已转为举报，内容由举报处理部门保管）"


def overdue_clause(today: date) -> ColumnElement[bool]:
    return and_(Question.state.in_(OPEN), Question.due_on < today)


def is_overdue(question: Question, today: date) -> bool:
    return question.state in OPEN and question.due_on < today


# --- the asker -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCode:
    """A new question's code (shown once) and its slow hash (kept)."""

    code: str
    digest: str


def new_code(*, client: str, settings: Settings) -> NewCode:
    """Counted against the client's limit, then hashed: called before the request's
    transaction begins (app.forum.deps), so that on SQLite no write waits for a hash."""
    public_writes.limit(ASK_LIMIT, "question-ask", client)
    code = public_writes.new_code()
    return NewCode(code=code, digest=public_writes.code_hash(code, _salt(settings)))


def code_digest(code: str, *, client: str, settings: Settings) -> str:
    """The slow hash of a code the asker typed, counted against the guessing limit first;
    the same work for any code. Called before the request's transaction (app.forum.deps)."""
    public_writes.limit(CODE_LIMIT, "question-code", client)
    return public_writes.code_hash(code, _salt(settings))


def ask(session: Session, *, data: ForumQuestionCreate, code: NewCode) -> QuestionReceipt:
    township_code = None
    if data.village_code is not None:
        village = regions_service.find_village(session, data.village_code)
        if village is None:
            raise VillageUnknown(f"没有区划代码为 {data.village_code} 的村（社区）。")
        township_code = village.parent_code
    today = public_writes.today()
    due_on = workdays.add_working_days(today, ANSWER_WORKING_DAYS[data.kind])
    question = Question(
        kind=data.kind,
        state=ForumState.submitted,
        village_code=data.village_code,
        township_code=township_code,
        title=data.title,
        body=data.body,
        code_hash=code.digest,
        asked_on=today,
        first_due_on=due_on,
        due_on=due_on,
    )
    session.add(question)
    session.flush()
    return QuestionReceipt(
        code=public_writes.grouped(code.code), submitted_on=question.asked_on, due_on=due_on
    )


def _salt(settings: Settings) -> bytes:
    return public_writes.scoped_salt(CODE_SCOPE, settings=settings)


def _by_code(session: Session, digest: str) -> Question:
    question = session.scalar(
        select(Question)
        .where(Question.code_hash == digest)
        .options(selectinload(Question.extensions))
    )
    if question is None:
        raise CodeNotFound("没有与这个查询码相符的留言，请核对 16 位数字后再试。")
    return question


def _inquiry_link(session: Session, number: str, settings: Settings) -> InquiryLink:
    try:
        item = inquiries_service.get_item(session, number, settings=settings)
    except InquiryNotFound:  # its meeting is not public yet
        return InquiryLink(number=number, state_name=None)
    return InquiryLink(number=number, state_name=item.state_name)


def _status(session: Session, question: Question, settings: Settings) -> QuestionStatus:
    tip = None
    if question.tip_id is not None:
        tip = tips_service.public_status(session, question.tip_id, settings=settings)
    inquiry = None
    if question.inquiry_number is not None:
        inquiry = _inquiry_link(session, question.inquiry_number, settings)
    return QuestionStatus(
        id=question.id,
        kind=ForumKind(question.kind),
        kind_name=KIND_NAMES[question.kind],
        state=ForumState(question.state),
        state_name=STATE_NAMES[question.state],
        title=question.title,
        asked_on=question.asked_on,
        due_on=question.due_on,
        overdue=is_overdue(question, public_writes.today()),
        answerer_unit=question.answerer_unit,
        extensions=[ForumExtensionRead.model_validate(e) for e in question.extensions],
        answer=question.answer,
        replied_on=question.replied_on,
        published=question.state == ForumState.published,
        rating=question.rating,
        tip=tip,
        inquiry=inquiry,
    )


def status(session: Session, digest: str, *, settings: Settings) -> QuestionStatus:
    """`digest`: the hash of the code the asker typed (`code_digest`)."""
    return _status(session, _by_code(session, digest), settings)


def rate(session: Session, *, score: int, digest: str, settings: Settings) -> QuestionStatus:
    question = _by_code(session, digest)
    if question.state not in ANSWERED:
        raise NotYetAnswered("留言还没有答复，答复以后才能评价。")
    rated = session.execute(  # the row decides, even for two ratings at once
        update(Question)
        .where(Question.id == question.id, Question.rating.is_(None))
        .values(rating=score)
        .execution_options(synchronize_session=False)
    )
    if rated.rowcount == 0:  # type: ignore[attr-defined]
        raise AlreadyRated("这条留言的答复已经评价过了，每条只能评价一次。")
    session.refresh(question, ["rating"])
    return _status(session, question, settings)


# --- the public ----------------------------------------------------------------------------


def _region_names(session: Session, questions: list[Question]) -> dict[str, str]:
    codes = sorted({q.village_code for q in questions if q.village_code})
    return regions_service.full_names(session, codes) if codes else {}


def _brief(question: Question, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": question.id,
        "kind": ForumKind(question.kind),
        "kind_name": KIND_NAMES[question.kind],
        "title": question.public_title or "",
        "village_code": question.village_code,
        "region_name": names.get(question.village_code) if question.village_code else None,
        "asked_on": question.asked_on,
        "replied_on": question.replied_on,
        "reply_working_days": question.reply_working_days,
        "answerer_unit": question.answerer_unit,
        "rating": question.rating,
    }


def _snippet(question: Question, query_runs: list[str]) -> str | None:
    if not query_runs:
        return None
    texts = [question.public_body or "", question.answer or "", question.public_title or ""]
    return search.snippet(texts, query_runs)


def list_published(
    session: Session, *, filters: QuestionFilter, page: PageParams
) -> Page[QuestionBrief]:
    """Published questions, the latest published first; with `q`, those matching it (the
    shared Chinese search over the public title, the public text and the answer), best first,
    each with a marked snippet."""
    stmt = select(Question).where(Question.state == ForumState.published)
    if filters.kind is not None:
        stmt = stmt.where(Question.kind == filters.kind)
    if filters.village_code is not None:
        stmt = stmt.where(Question.village_code == filters.village_code)
    query_runs = search.runs(filters.q) if filters.q else []
    if filters.q and not query_runs:  # only punctuation: nothing can match
        return Page[QuestionBrief](items=[], total=0, page=page.page, size=page.size)
    if query_runs:
        hits = search.hits(session, SEARCH_KIND, query_runs)
        stmt = stmt.join(hits, hits.c.ref_id == Question.id).order_by(
            hits.c.score.desc(), Question.id.desc()
        )
    else:
        stmt = stmt.order_by(Question.published_on.desc(), Question.id.desc())
    rows, total = paginate(session, stmt, page)
    names = _region_names(session, rows)
    return Page[QuestionBrief](
        items=[QuestionBrief(**_brief(q, names), snippet=_snippet(q, query_runs)) for q in rows],
        total=total,
        page=page.page,
        size=page.size,
    )


def suggest(session: Session, q: str) -> Suggestions:
    """Before asking: the best few published policies and published answers matching `q`."""
    if not search.runs(q):  # blank or only punctuation: nothing can match
        return Suggestions(policies=[], questions=[])
    first = PageParams(page=1, size=SUGGESTIONS)
    policies = policies_service.list_published(session, category=None, q=q, page=first)
    questions = list_published(session, filters=QuestionFilter(q=q), page=first)
    return Suggestions(policies=policies.items, questions=questions.items)


def get_published(session: Session, question_id: int) -> ForumQuestionRead:
    question = session.get(Question, question_id, options=[selectinload(Question.extensions)])
    if question is None or question.state != ForumState.published:
        raise QuestionNotFound(f"没有编号为 {question_id} 的公开留言。")
    return ForumQuestionRead(
        **_brief(question, _region_names(session, [question])),
        body=question.public_body or "",
        answer=question.answer or "",
        first_due_on=question.first_due_on,
        due_on=question.due_on,
        extensions=[ForumExtensionRead.model_validate(e) for e in question.extensions],
    )


# --- the commission ------------------------------------------------------------------------


def _admin(question: Question, names: dict[str, str], today: date) -> QuestionAdmin:
    overdue = is_overdue(question, today)
    return QuestionAdmin(
        id=question.id,
        kind=ForumKind(question.kind),
        kind_name=KIND_NAMES[question.kind],
        state=ForumState(question.state),
        state_name=STATE_NAMES[question.state],
        village_code=question.village_code,
        region_name=names.get(question.village_code) if question.village_code else None,
        title=question.title,
        body=question.body,
        asked_on=question.asked_on,
        first_due_on=question.first_due_on,
        due_on=question.due_on,
        overdue=overdue,
        days_overdue=workdays.working_days_between(question.due_on, today) if overdue else 0,
        answerer_unit=question.answerer_unit,
        assignee_id=question.assignee_id,
        assigned_on=question.assigned_on,
        answer=question.answer,
        replied_on=question.replied_on,
        reply_working_days=question.reply_working_days,
        public_title=question.public_title,
        public_body=question.public_body,
        published_on=question.published_on,
        rating=question.rating,
        tip_id=question.tip_id,
        inquiry_number=question.inquiry_number,
        extensions=[ForumExtensionRead.model_validate(e) for e in question.extensions],
    )


def list_questions(
    session: Session, *, filters: AdminFilter, page: PageParams
) -> Page[QuestionAdmin]:
    """Every question; the open ones by due date (the most overdue first), then the rest,
    the latest asked first."""
    today = public_writes.today()
    stmt = select(Question).options(selectinload(Question.extensions))
    if filters.state is not None:
        stmt = stmt.where(Question.state == filters.state)
    if filters.kind is not None:
        stmt = stmt.where(Question.kind == filters.kind)
    if filters.overdue is not None:
        clause = overdue_clause(today)
        stmt = stmt.where(clause if filters.overdue else ~clause)
    finished = case((Question.state.in_(OPEN), 0), else_=1)
    stmt = stmt.order_by(
        finished,
        case((Question.state.in_(OPEN), Question.due_on)),
        Question.asked_on.desc(),
        Question.id.desc(),
    )
    rows, total = paginate(session, stmt, page)
    names = _region_names(session, rows)
    return Page[QuestionAdmin](
        items=[_admin(q, names, today) for q in rows],
        total=total,
        page=page.page,
        size=page.size,
    )


def list_overdue(session: Session, *, page: PageParams) -> Page[QuestionAdmin]:
    return list_questions(session, filters=AdminFilter(overdue=True), page=page)


def count_overdue(session: Session) -> int:
    """Questions past their due date and not yet answered (for the gauge)."""
    today = public_writes.today()
    return (
        session.scalar(select(func.count()).select_from(Question).where(overdue_clause(today))) or 0
    )


def _question(session: Session, question_id: int, *, for_update: bool = True) -> Question:
    """The question, locked for a change unless only read."""
    stmt = (
        select(Question)
        .where(Question.id == question_id)
        .options(selectinload(Question.extensions))
    )
    question = session.scalar(stmt.with_for_update() if for_update else stmt)
    if question is None:
        raise QuestionNotFound(f"没有编号为 {question_id} 的留言。")
    return question


def get_question(session: Session, question_id: int) -> QuestionAdmin:
    question = _question(session, question_id, for_update=False)
    return _admin(question, _region_names(session, [question]), public_writes.today())


def _snapshot(question: Question) -> dict[str, Any]:
    return {
        "state": question.state,
        "due_on": question.due_on.isoformat(),
        "answerer_unit": question.answerer_unit,
        "assignee_id": question.assignee_id,
        "rating": question.rating,
    }


def _audited(
    session: Session, question: Question, action: str, actor: Staff, before: dict[str, Any]
) -> QuestionAdmin:
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"question.{action}",
        entity_type=ENTITY,
        entity_id=question.id,
        before=before,
        after=_snapshot(question),
    )
    return _admin(question, _region_names(session, [question]), public_writes.today())


def _check_open(question: Question, doing: str) -> None:
    if question.state not in OPEN:
        raise QuestionStateInvalid(f"留言{STATE_NAMES[question.state]}，不能再{doing}。")


def assign(
    session: Session, question_id: int, *, data: AssignCreate, actor: Staff
) -> QuestionAdmin:
    question = _question(session, question_id)
    _check_open(question, "交办")
    if data.staff_id is not None:
        assignee = session.get(Staff, data.staff_id)
        if assignee is None or not assignee.is_active or assignee.role != Role.commission:
            raise AnswererInvalid("只能交给在职的纪委监委工作人员。")
    before = _snapshot(question)
    question.answerer_unit = data.answerer_unit
    question.assignee_id = data.staff_id
    question.assigned_on = public_writes.today()
    question.state = ForumState.assigned
    return _audited(session, question, "assign", actor, before)


def extend(
    session: Session, question_id: int, *, data: ForumExtensionCreate, actor: Staff
) -> QuestionAdmin:
    question = _question(session, question_id)
    _check_open(question, "延期")
    before = _snapshot(question)
    today = public_writes.today()
    question.due_on = workdays.add_working_days(max(question.due_on, today), data.working_days)
    question.extensions.append(
        QuestionExtension(extended_on=today, due_on=question.due_on, reason=data.reason)
    )
    return _audited(session, question, "extend", actor, before)


def _replied(question: Question, today: date) -> None:
    question.replied_on = today
    question.reply_working_days = workdays.working_days_between(question.asked_on, today)


def answer(
    session: Session, question_id: int, *, data: ForumAnswerCreate, actor: Staff
) -> QuestionAdmin:
    """The answer (the asker reads it by code at once) and the edited public version of the
    question, to be published next. An answer not yet published may be corrected."""
    question = _question(session, question_id)
    if question.state not in (*OPEN, ForumState.answered):
        raise QuestionStateInvalid(f"留言{STATE_NAMES[question.state]}，不能再答复。")
    before = _snapshot(question)
    if question.replied_on is None:
        _replied(question, public_writes.today())
    question.answer = data.answer
    question.public_title = data.public_title
    question.public_body = data.public_body
    question.answerer_unit = question.answerer_unit or "县纪委监委"
    question.state = ForumState.answered
    return _audited(session, question, "answer", actor, before)


def publish(session: Session, question_id: int, *, actor: Staff) -> QuestionAdmin:
    question = _question(session, question_id)
    if question.state != ForumState.answered:
        raise QuestionStateInvalid(
            f"留言{STATE_NAMES[question.state]}：答复以后、公开以前才能公开。"
        )
    before = _snapshot(question)
    question.state = ForumState.published
    question.published_on = public_writes.today()
    search.write(
        session,
        SEARCH_KIND,
        question.id,
        title=question.public_title or "",
        summary=question.public_body or "",
        body=question.answer or "",
    )
    return _audited(session, question, "publish", actor, before)


def to_tip(
    session: Session,
    question_id: int,
    *,
    data: TipConversion,
    actor: Staff,
    settings: Settings,
) -> QuestionAdmin:
    """The question becomes a tip of the tips domain (its words go there, encrypted, and are
    removed here); the asker follows the tip with the question's code."""
    question = _question(session, question_id)
    _check_open(question, "转为举报")
    before = _snapshot(question)
    tip = tips_service.open_screening_tip(
        session,
        category=data.category,
        village_code=question.village_code,
        content=f"{question.title}\n\n{question.body}",
        payout_record_id=None,
        actor=actor,
        settings=settings,
        source=TipSource.question,
    )
    question.tip_id = tip.id
    question.title = TRANSFERRED_TITLE
    question.body = ""
    question.state = ForumState.to_tip
    _replied(question, public_writes.today())
    return _audited(session, question, "to_tip", actor, before)


def to_inquiry(
    session: Session,
    question_id: int,
    *,
    data: InquiryConversion,
    actor: Staff,
    settings: Settings,
) -> QuestionAdmin:
    """The question becomes an item of a 阳光问廉 meeting's list (the item's text is the
    staff's, without the asker's name); the asker follows the item by the question's code."""
    question = _question(session, question_id)
    _check_open(question, "列入问廉清单")
    before = _snapshot(question)
    item = inquiries_service.add_item(
        session,
        data.meeting_id,
        data=ItemCreate(**data.model_dump(exclude={"meeting_id"})),
        actor=actor,
        settings=settings,
    )
    question.inquiry_number = item.number
    question.state = ForumState.to_inquiry
    _replied(question, public_writes.today())
    return _audited(session, question, "to_inquiry", actor, before)
