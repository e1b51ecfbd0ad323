"""The H5 app's addresses: Chinese HTML pages, not API operations (left out of openapi.json).
Forms are POSTed, so that an ID number or a receipt code never travels in a URL; paths are
read as plain text and a wrong one gets the Chinese 404 page, never a problem in JSON."""

from typing import Annotated
from urllib.parse import quote

from fastapi import Cookie, Depends, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.formparsers import MultiPartException

from app.config import SettingsDep
from app.db.engines import SessionDep
from app.db.fastpath import ReadLaneRoute, ReadTransactionDep
from app.errors import LianyunError
from app.ratelimit import ClientAddress
from app.routing import ApiRouter
from app.subsidies import service as subsidies_service
from app.subsidies.schemas import LookupRequest
from app.tips.deps import ATTACHMENTS
from app.tips.errors import TipFormInvalid
from app.tips.schemas import TipCreate
from app.uploads import Upload, parse_body
from app.web import inquiries, publicity, questions, views
from app.web.pages import (
    TEXT_COOKIE,
    TEXT_COOKIE_SECONDS,
    FormDep,
    ReaderDep,
    filled,
    local_path,
    messages,
    validated,
)

router = ApiRouter(include_in_schema=False, default_response_class=HTMLResponse)

PageNumber = Annotated[int, Query(ge=1, le=10_000)]
Text = Annotated[str | None, Query(max_length=100)]
PhoneCookie = Annotated[str | None, Cookie(alias=inquiries.PHONE_COOKIE, max_length=64)]
LOOKUP_FIELDS = ("id_number", "name")
TIP_FIELDS = ("category", "village_code", "accused", "content", "amount_involved", "contact")


@router.get("/")
def read_home(
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    township: Text = None,
    village: Text = None,
) -> HTMLResponse:
    return views.home(session, reader, township=township, village=village, settings=settings)


@router.get("/text-size")
def set_text_size(
    size: Annotated[str, Query(pattern="^(big|normal)$")] = "big",
    back: Annotated[str, Query(max_length=300)] = "/",
) -> RedirectResponse:
    """The large-text switch: one cookie that names nobody, then back to the page."""
    answer = RedirectResponse(local_path(back), status_code=status.HTTP_303_SEE_OTHER)
    if size == "big":
        answer.set_cookie(TEXT_COOKIE, "big", max_age=TEXT_COOKIE_SECONDS, samesite="lax")
    else:
        answer.delete_cookie(TEXT_COOKIE)
    return answer


# --- subsidy lookup ---------------------------------------------------------------------------


@router.get("/lookup")
def read_lookup(reader: ReaderDep, settings: SettingsDep) -> HTMLResponse:
    return views.lookup_form(reader, settings)


LookupForm = tuple[dict[str, str], LookupRequest | None, LianyunError | None, list[str]]


async def _counted_lookup(
    form: FormDep, client: ClientAddress, settings: SettingsDep
) -> LookupForm:
    """The form as the API's body, counted against the client's limit as the API counts it
    (a form that fails validation is not counted)."""
    fields = filled(form, *LOOKUP_FIELDS)
    request, errors = validated(LookupRequest, fields)
    refusal = None
    if request is not None:
        try:
            await subsidies_service.count_lookup(client, settings=settings)
        except LianyunError as error:
            refusal = error
    return fields, request, refusal, errors


def create_lookup(
    lookup: Annotated[LookupForm, Depends(_counted_lookup)],
    read_transaction: ReadTransactionDep,
    reader: ReaderDep,
    settings: SettingsDep,
) -> HTMLResponse:
    fields, request, refusal, errors = lookup
    return views.lookup_answer(
        reader,
        read_transaction,
        fields=fields,
        request=request,
        refusal=refusal,
        errors=errors,
        settings=settings,
    )


# A short read, as the API's lookup: on the read lane (app.db.fastpath), not the thread pool.
router.add_api_route("/lookup", create_lookup, methods=["POST"], route_class_override=ReadLaneRoute)


# --- policies ---------------------------------------------------------------------------------


@router.get("/policies")
def list_policies(
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    q: Text = None,
    category: Text = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    return views.policies(session, reader, q=q, category=category, page=page, settings=settings)


@router.get("/policies/{policy_id}")
def read_policy(
    policy_id: str, session: SessionDep, reader: ReaderDep, settings: SettingsDep
) -> HTMLResponse:
    return views.policy(session, reader, policy_id, settings=settings)


# --- 宣传教育 and 通报曝光 -----------------------------------------------------------------------


@router.get("/articles")
def list_articles(
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    column: Text = None,
    q: Text = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    return publicity.articles(session, reader, column=column, q=q, page=page, settings=settings)


@router.get("/articles/{article_id}")
def read_article(
    article_id: str, session: SessionDep, reader: ReaderDep, settings: SettingsDep
) -> HTMLResponse:
    return publicity.article(session, reader, article_id, settings=settings)


@router.get("/cases")
def list_cases(
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    township_code: Text = None,
    village_code: Text = None,
    year: Text = None,
    category: Text = None,
    q: Text = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    """Filters are read as plain text: one that names nothing is left out, never a JSON 422."""
    return publicity.case_list(
        session,
        reader,
        township_code=township_code or None,
        village_code=village_code or None,
        year=int(year) if year and year.isdigit() and len(year) == 4 else None,
        category=category or None,
        q=q,
        page=page,
        settings=settings,
    )


@router.get("/cases/{case_id}")
def read_case(
    case_id: str, session: SessionDep, reader: ReaderDep, settings: SettingsDep
) -> HTMLResponse:
    return publicity.case(session, reader, case_id, settings=settings)


# --- 晒账 -------------------------------------------------------------------------------------


@router.get("/villages/{code}")
def read_village(
    code: str, session: SessionDep, reader: ReaderDep, settings: SettingsDep
) -> HTMLResponse:
    return views.village_months(session, reader, code, settings=settings)


@router.get("/villages/{code}/{period}")
def read_month(
    code: str,
    period: str,
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    category: Text = None,
) -> HTMLResponse:
    return views.month_list(session, reader, code, period, category=category, settings=settings)


@router.get("/villages/{code}/{period}/objections")
def read_objection_form(
    code: str,
    period: str,
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    line: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    return views.objection_form(session, reader, code, period, record_id=line, settings=settings)


@router.post("/villages/{code}/{period}/objections")
def create_objection(
    code: str,
    period: str,
    form: FormDep,
    client: ClientAddress,
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
) -> HTMLResponse:
    fields = filled(form, "record_id", "reason")
    return views.create_objection(
        session, reader, code, period, fields=fields, client=client, settings=settings
    )


# --- tips -------------------------------------------------------------------------------------


@router.get("/tips/new")
def read_tip_form(
    session: SessionDep, reader: ReaderDep, settings: SettingsDep, village: Text = None
) -> HTMLResponse:
    return views.tip_form(session, reader, village=village, settings=settings)


TipForm = tuple[TipCreate | None, list[Upload], dict[str, str], list[str]]


async def _tip_form(request: Request) -> TipForm:
    """The tip and its files as the API reads them (app.uploads); on a refusal, what was typed,
    to show the form again."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        fields = filled(await request.form(max_files=0), *TIP_FIELDS)  # a form without files
        data, errors = validated(TipCreate, fields)
        return data, [], fields, errors
    await request.body()  # kept: read again below only when the form is shown again
    try:
        data, uploads = await parse_body(request, TipCreate, ATTACHMENTS, invalid=TipFormInvalid)
    except RequestValidationError as error:
        errors = messages(error)
    except LianyunError as error:
        errors = [error.detail]
    else:
        return data, uploads, {}, []
    try:
        fields = filled(await request.form(), *TIP_FIELDS)
    except MultiPartException:
        fields = {}
    return None, [], fields, errors


@router.post("/tips/new")
def create_tip(
    tip: Annotated[TipForm, Depends(_tip_form)],
    client: ClientAddress,
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
) -> HTMLResponse:
    data, uploads, fields, errors = tip
    return views.create_tip(
        session,
        reader,
        data=data,
        uploads=uploads,
        fields=fields,
        errors=errors,
        client=client,
        settings=settings,
    )


@router.get("/tips/receipt")
def read_tip_receipt_form(
    session: SessionDep, reader: ReaderDep, settings: SettingsDep
) -> HTMLResponse:
    return views.tip_receipt(session, reader, fields=None, client="", settings=settings)


@router.post("/tips/receipt")
def read_tip_receipt(
    form: FormDep,
    client: ClientAddress,
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
) -> HTMLResponse:
    fields = filled(form, "receipt_code", "body")
    return views.tip_receipt(session, reader, fields=fields, client=client, settings=settings)


# --- surveys ----------------------------------------------------------------------------------


@router.get("/surveys/{survey_id}")
def read_survey(
    survey_id: str, session: SessionDep, reader: ReaderDep, settings: SettingsDep
) -> HTMLResponse:
    return views.survey(session, reader, survey_id, settings=settings)


@router.post("/surveys/{survey_id}")
def answer_survey(
    survey_id: str,
    form: FormDep,
    client: ClientAddress,
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
) -> HTMLResponse:
    answers = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    return views.answer_survey(
        session, reader, survey_id, form=answers, client=client, settings=settings
    )


# --- 阳光问廉 ---------------------------------------------------------------------------------


@router.get("/inquiries")
def list_inquiries(
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    village: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    return inquiries.board(session, reader, village_code=village, page=page, settings=settings)


@router.get("/inquiries/{number}")
def read_inquiry(
    number: str,
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    phone: PhoneCookie = None,
) -> HTMLResponse:
    return inquiries.item_page(session, number, reader, cookie=phone, settings=settings)


@router.post("/inquiries/{number}/votes")
def vote_on_inquiry(
    number: str,
    form: FormDep,
    client: ClientAddress,
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    phone: PhoneCookie = None,
) -> HTMLResponse:
    return inquiries.vote_on_page(
        session,
        number,
        reader,
        resolved={"1": True, "0": False}.get(str(form.get("resolved"))),
        key=str(form.get("key", ""))[:64],
        cookie=phone,
        client=client,
        settings=settings,
    )


# --- 云端话廉 ---------------------------------------------------------------------------------


@router.get("/questions")
def list_questions(
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    kind: Text = None,
    village: Text = None,
    q: Text = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    """Filters are read as plain text: one that names nothing is left out."""
    return questions.board(
        session, reader, kind=kind, village=village, q=q, page=page, settings=settings
    )


@router.get("/questions/new")
def read_question_form(
    session: SessionDep, reader: ReaderDep, settings: SettingsDep, village: Text = None
) -> HTMLResponse:
    return questions.ask_form(session, reader, village=village, settings=settings)


def _ask_form(form: FormDep, client: ClientAddress, settings: SettingsDep) -> questions.AskForm:
    """A plain function: the code's slow hash runs in the thread pool, before the session."""
    fields = filled(form, *questions.QUESTION_FIELDS)
    return questions.read_ask_form(fields, client=client, settings=settings)


@router.post("/questions/new")
def create_question(
    asked: Annotated[questions.AskForm, Depends(_ask_form)],
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
) -> HTMLResponse:
    return questions.ask(session, reader, asked, settings=settings)


@router.get("/questions/mine")
def read_my_question_form(
    session: SessionDep, reader: ReaderDep, settings: SettingsDep
) -> HTMLResponse:
    return questions.mine(session, reader, None, settings=settings)


def _code_form(form: FormDep, client: ClientAddress, settings: SettingsDep) -> questions.CodeForm:
    """A plain function: the code's slow hash runs in the thread pool, before the session."""
    fields = filled(form, "code", "score")
    return questions.read_code_form(fields, client=client, settings=settings)


@router.post("/questions/mine")
def read_my_question(
    typed: Annotated[questions.CodeForm, Depends(_code_form)],
    session: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
) -> HTMLResponse:
    return questions.mine(session, reader, typed, settings=settings)


@router.get("/questions/{question_id}")
def read_question(
    question_id: str, session: SessionDep, reader: ReaderDep, settings: SettingsDep
) -> HTMLResponse:
    return questions.question(session, reader, question_id, settings=settings)


@router.get("/wl/{number}")
def redirect_old_inquiry(number: str) -> RedirectResponse:
    """The QR codes of lists printed before the H5 app."""
    return RedirectResponse(
        f"/inquiries/{quote(number)}", status_code=status.HTTP_308_PERMANENT_REDIRECT
    )


@router.post("/wl/{number}/votes")
def redirect_old_vote(number: str) -> RedirectResponse:
    return RedirectResponse(
        f"/inquiries/{quote(number)}/votes", status_code=status.HTTP_308_PERMANENT_REDIRECT
    )
