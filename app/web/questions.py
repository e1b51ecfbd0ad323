"""云端话廉 pages: the published questions and answers, asking, and the asker's own page by code.

They call the forum's service functions (app.forum), so a page and the API keep one set of
rules: the same limits, the same slow hash worked out before the request's transaction (see
app.forum.deps), the same Chinese refusals. Asking and the asker's page are anonymous
(app.public_writes.ANONYMOUS_PATHS): no cookie, no log line, never stored by a cache; the code
travels only in a POSTed form."""

from dataclasses import dataclass

from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import LianyunError
from app.forum import service as forum_service
from app.forum import stats as forum_stats
from app.forum.schemas import KIND_NAMES, CodeQuery, ForumQuestionCreate, QuestionFilter
from app.pagination import PageParams
from app.regions import service as regions_service
from app.web.pages import FIELD_LABELS, Reader, not_found, render, validated
from app.web.views import form_again, receipt_page, village_choice, village_of

PAGE_SIZE = 20
QUESTION_FIELDS = ("kind", "village_code", "title", "body")
LOOK_UP = "云端话廉 → 查我的留言"
LABELS = {**FIELD_LABELS, "kind": "类别", "title": "标题", "body": "详细内容", "code": "查询码"}
SCORES = {5: "很满意", 4: "满意", 3: "一般", 2: "不满意", 1: "很不满意"}


@dataclass(frozen=True)
class AskForm:
    """A question as typed, and, when it is valid and within the limit, its new code."""

    fields: dict[str, str]
    data: ForumQuestionCreate | None
    code: forum_service.NewCode | None
    errors: list[str]
    refusal: LianyunError | None = None


def read_ask_form(fields: dict[str, str], *, client: str, settings: Settings) -> AskForm:
    """Validated, counted and hashed: called before the request's transaction, so that on
    SQLite no other write waits for the hash (as the API's app.forum.deps)."""
    data, errors = validated(ForumQuestionCreate, fields, LABELS)
    if data is None:
        return AskForm(fields=fields, data=None, code=None, errors=errors)
    try:
        code = forum_service.new_code(client=client, settings=settings)
    except LianyunError as error:
        return AskForm(fields=fields, data=data, code=None, errors=[], refusal=error)
    return AskForm(fields=fields, data=data, code=code, errors=[])


@dataclass(frozen=True)
class CodeForm:
    """The code the asker typed (its slow hash), and a rating if they gave one."""

    code: str  # its 16 digits, for the rating form on the asker's page
    digest: str | None
    score: int | None
    errors: list[str]
    refusal: LianyunError | None = None


def read_code_form(fields: dict[str, str], *, client: str, settings: Settings) -> CodeForm:
    """Counted against the guessing limit and hashed before the request's transaction."""
    query, errors = validated(CodeQuery, {"code": fields.get("code", "")}, LABELS)
    score = fields.get("score", "")
    rating = int(score) if score in ("1", "2", "3", "4", "5") else None
    if query is None:
        return CodeForm(code="", digest=None, score=None, errors=errors)
    try:
        digest = forum_service.code_digest(query.code, client=client, settings=settings)
    except LianyunError as error:
        return CodeForm(code="", digest=None, score=None, errors=[], refusal=error)
    return CodeForm(code=query.code, digest=digest, score=rating, errors=[])


# --- the public ----------------------------------------------------------------------------


def board(
    session: Session,
    reader: Reader,
    *,
    kind: str | None,
    village: str | None,
    q: str | None,
    page: int,
    settings: Settings,
) -> HTMLResponse:
    """The published questions, the latest first, or those matching `q`; this year's figures."""
    chosen = village_of(session, village)
    filters = QuestionFilter(
        kind=kind if kind in KIND_NAMES else None,
        q=(q or "").strip()[:50] or None,
        village_code=chosen.code if chosen is not None else None,
    )
    found = forum_service.list_published(
        session, filters=filters, page=PageParams(page=page, size=PAGE_SIZE)
    )
    return render(
        "questions.html",
        reader,
        settings,
        kinds=KIND_NAMES,
        filters=filters,
        village=chosen,
        village_name=regions_service.full_name(chosen) if chosen is not None else None,
        found=found,
        more=found.total > page * PAGE_SIZE,
        page=page,
        year=forum_stats.stats(session, year=None).total,
    )


def question(
    session: Session, reader: Reader, question_id: str, *, settings: Settings
) -> HTMLResponse:
    if not question_id.isdigit() or len(question_id) > 9:
        return not_found(reader, settings, "没有这条公开的留言。", back="/questions")
    try:
        item = forum_service.get_published(session, int(question_id))
    except LianyunError as error:
        return not_found(reader, settings, error.detail, back="/questions")
    return render("question.html", reader, settings, item=item, scores=SCORES)


# --- the asker -----------------------------------------------------------------------------


def ask_form(
    session: Session,
    reader: Reader,
    *,
    village: str | None,
    fields: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
    settings: Settings,
) -> HTMLResponse:
    fields = fields or {}
    return render(
        "question_new.html",
        reader,
        settings,
        status=status,
        anonymous=True,
        kinds=KIND_NAMES,
        **village_choice(session, fields.get("village_code") or village),
        fields=fields,
        errors=errors or [],
    )


def ask(session: Session, reader: Reader, form: AskForm, *, settings: Settings) -> HTMLResponse:
    refusal = form.refusal
    if form.data is not None and form.code is not None:
        try:
            done = forum_service.ask(session, data=form.data, code=form.code)
        except LianyunError as error:
            refusal = error
        else:
            return receipt_page(
                reader,
                code=done.code,
                submitted_on=done.submitted_on,
                title="留言查询码",
                said=f"您的留言已经交给县纪委监委，{done.due_on:%Y年%-m月%-d日}前答复。",
                back="/questions",
                look_up=LOOK_UP,
                settings=settings,
            )
    return form_again(
        ask_form,
        errors=form.errors,
        refusal=refusal,
        session=session,
        reader=reader,
        village=None,
        fields=form.fields,
        settings=settings,
    )


def mine(
    session: Session, reader: Reader, form: CodeForm | None, *, settings: Settings
) -> HTMLResponse:
    """The asker's page: the state, the clock, the answer, and the rating. `form` None: the
    empty form (GET)."""
    if form is None:
        return render("question_mine.html", reader, settings, anonymous=True, errors=[], found=None)
    errors, status, found, said = form.errors, 422, None, None
    refusal = form.refusal
    if form.digest is not None:
        try:
            if form.score is not None:
                found = forum_service.rate(
                    session, score=form.score, digest=form.digest, settings=settings
                )
                said = "谢谢您的评价。"
            else:
                found = forum_service.status(session, form.digest, settings=settings)
        except LianyunError as error:
            refusal = error
    if refusal is not None:
        errors, status = [refusal.detail], refusal.status
    page = render(
        "question_mine.html",
        reader,
        settings,
        anonymous=True,
        status=200 if found else status,
        errors=errors,
        found=found,
        said=said,
        scores=SCORES,
        code=form.code if found else "",
    )
    if refusal is not None:
        page.headers.update(refusal.headers)
    return page
