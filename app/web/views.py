"""The H5 app's pages (SPEC.md, "The villagers' H5 app — web"). Each calls the service functions
the API routers call, so that no rule exists twice, and says a refusal in the same Chinese words
as the API's problem. Anonymous pages (tips, objections) set no cookie, are never stored by a
cache, and load nothing from another host, like every page."""

import re
import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.config import Settings
from app.contacts import service as contacts_service
from app.db.fastpath import ReadTransaction
from app.disclosures import service as disclosures_service
from app.errors import LianyunError
from app.pagination import PageParams
from app.policies import service as policies_service
from app.policies.schemas import PolicyCategoryList
from app.regions import service as regions_service
from app.regions.models import Region, RegionLevel
from app.screening import objections as objections_service
from app.screening.schemas_objections import ObjectionCreate
from app.subsidies import service as subsidies_service
from app.subsidies.schemas import LookupRequest, LookupResponse
from app.surveys import service as surveys_service
from app.surveys.models import QuestionKind, Survey
from app.surveys.schemas import AnswerCreate, ResponseCreate
from app.tips import service as tips_service
from app.tips.schemas import (
    CATEGORY_NAMES,
    ReceiptMessageCreate,
    ReceiptQuery,
    TipCreate,
)
from app.uploads import Upload
from app.web import chart, receipt
from app.web.pages import Reader, not_found, render, validated

VILLAGE_CODE = re.compile(r"\d{12}")
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
POLICY_PAGE_SIZE = 20
NO_VILLAGE = "没有这个村（社区），请回首页重新选择。"


def village_of(session: Session, code: str | None) -> Region | None:
    """The village of `code`, or None (not a code, not a village)."""
    if code is None or not VILLAGE_CODE.fullmatch(code):
        return None
    region = regions_service.find_region(session, code)
    if region is None or region.level != RegionLevel.village:
        return None
    return region


def village_choice(session: Session, code: str | None) -> dict[str, Any]:
    """A form's village: the one chosen (with its full name), else the tree to choose from."""
    chosen = village_of(session, code)
    return {
        "village": chosen,
        "village_name": regions_service.full_name(chosen) if chosen is not None else None,
        "tree": None if chosen is not None else regions_service.region_tree(session),
    }


def form_again(
    form_page: Callable[..., HTMLResponse],
    *,
    errors: list[str],
    refusal: LianyunError | None,
    **context: Any,
) -> HTMLResponse:
    """A form shown again with what was typed: the fields' errors (422), or the service's
    refusal in the API's words, with its status and headers (a limit's Retry-After)."""
    page = form_page(
        errors=[refusal.detail] if refusal else errors,
        status=refusal.status if refusal else 422,
        **context,
    )
    if refusal is not None:
        page.headers.update(refusal.headers)
    return page


# --- home -------------------------------------------------------------------------------------


def home(
    session: Session,
    reader: Reader,
    *,
    township: str | None,
    village: str | None,
    settings: Settings,
) -> HTMLResponse:
    """Without a village: choose the township, then the village. With one: its home page."""
    if village is not None:
        region = village_of(session, village)
        if region is None:
            return not_found(reader, settings, NO_VILLAGE)
        contacts = contacts_service.village_contacts(session, region.code)
        surveys, _ = surveys_service.list_open_surveys(
            session, village_code=region.code, page=PageParams(page=1, size=5)
        )
        periods = disclosures_service.list_periods(session, region.code).periods
        return render(
            "village_home.html",
            reader,
            settings,
            village=region,
            village_name=contacts.village,
            contacts=contacts.items,
            surveys=surveys,
            latest_period=max(periods) if periods else None,
        )
    tree = regions_service.region_tree(session)
    chosen = next((t for t in tree.townships if t.code == township), None)
    return render("home.html", reader, settings, county=tree.county, tree=tree, township=chosen)


# --- subsidy lookup ---------------------------------------------------------------------------


def lookup_form(reader: Reader, settings: Settings) -> HTMLResponse:
    return render("lookup.html", reader, settings, no_store=True, fields={}, errors=[])


def lookup_answer(
    reader: Reader,
    read_transaction: ReadTransaction,
    *,
    fields: dict[str, str],
    request: LookupRequest | None,
    refusal: LianyunError | None,
    errors: list[str],
    settings: Settings,
) -> HTMLResponse:
    """The lookup of a POSTed form that its dependency validated and counted (app.web.router):
    the answer is never stored by any cache (no-store)."""
    status, answer = 200, None
    if refusal is None and request is not None:
        try:
            with read_transaction() as connection:
                answer = subsidies_service.lookup(connection, request=request, settings=settings)
        except LianyunError as error:
            refusal = error
    if refusal is not None:
        status, errors = refusal.status, [refusal.detail]
    elif errors:
        status = 422
    if answer is None:
        page = render(
            "lookup.html",
            reader,
            settings,
            status=status,
            no_store=True,
            fields=fields,
            errors=errors,
        )
        if refusal is not None:
            page.headers.update(refusal.headers)
        return page
    return render(
        "lookup_answer.html",
        reader,
        settings,
        no_store=True,
        answer=answer,
        by_category=_category_chart(answer),
        by_year=chart.bars(
            [(f"{y.year}年", y.total) for y in answer.summary.by_year], label="每年领到的合计"
        ),
    )


def _category_chart(answer: LookupResponse) -> Markup:
    rows = [(c.category_name, c.total) for c in answer.summary.by_category]
    return chart.bars(rows, label="各类补贴的合计")


# --- policies ---------------------------------------------------------------------------------


def policies(
    session: Session,
    reader: Reader,
    *,
    q: str | None,
    category: str | None,
    page: int,
    settings: Settings,
) -> HTMLResponse:
    categories: PolicyCategoryList = policies_service.category_counts(session)
    if category is not None and category not in {c.code for c in categories.items}:
        category = None
    query = (q or "").strip()[:50] or None
    found = policies_service.list_published(
        session, category=category, q=query, page=PageParams(page=page, size=POLICY_PAGE_SIZE)
    )
    return render(
        "policies.html",
        reader,
        settings,
        categories=categories.items,
        category=category,
        q=query or "",
        found=found,
        more=found.total > page * POLICY_PAGE_SIZE,
        page=page,
    )


def policy(session: Session, reader: Reader, policy_id: str, *, settings: Settings) -> HTMLResponse:
    if not policy_id.isdigit() or len(policy_id) > 9:
        return not_found(reader, settings, "没有这篇政策。")
    try:
        item = policies_service.get_published(session, int(policy_id))
    except LianyunError as error:
        return not_found(reader, settings, error.detail)
    return render("policy.html", reader, settings, policy=item)


# --- 晒账 -------------------------------------------------------------------------------------


def village_months(
    session: Session, reader: Reader, code: str, *, settings: Settings
) -> HTMLResponse:
    region = village_of(session, code)
    if region is None:
        return not_found(reader, settings, NO_VILLAGE)
    months = disclosures_service.list_periods(session, code)
    return render(
        "village_months.html",
        reader,
        settings,
        months=months,
        periods=sorted(months.periods, reverse=True),
    )


def month_list(
    session: Session,
    reader: Reader,
    code: str,
    period: str,
    *,
    category: str | None,
    settings: Settings,
) -> HTMLResponse:
    if village_of(session, code) is None or not PERIOD.fullmatch(period):
        return not_found(reader, settings, NO_VILLAGE)
    if category is not None and not re.fullmatch(r"0[1-9]|1[01]", category):
        category = None
    try:
        month = disclosures_service.month_list(session, code, period=period, category=category)
    except LianyunError as error:
        return not_found(reader, settings, error.detail, back=f"/villages/{code}")
    return render(
        "month.html",
        reader,
        settings,
        month=month,
        category=category,
        chart=chart.bars(
            [(c.category_name, c.total) for c in month.by_category], label="本月各类补贴合计"
        ),
    )


def objection_form(
    session: Session,
    reader: Reader,
    code: str,
    period: str,
    *,
    record_id: str | None,
    reason: str = "",
    errors: list[str] | None = None,
    status: int = 200,
    settings: Settings,
) -> HTMLResponse:
    """ "这条不对" on one line of the month's list: the line, and a box for what is wrong."""
    line = None
    if village_of(session, code) is not None and PERIOD.fullmatch(period) and record_id:
        try:
            month = disclosures_service.month_list(session, code, period=period, category=None)
        except LianyunError:
            month = None
        if month is not None:
            line = next((each for each in month.items if each.record_id == record_id), None)
    if line is None:
        return render(
            "not_found.html",
            reader,
            settings,
            status=404,
            anonymous=True,
            message=f"{period} 的公示清单里没有这一条，请回到清单重新选择。",
            back=f"/villages/{code}/{period}" if VILLAGE_CODE.fullmatch(code) else "/",
        )
    return render(
        "objection.html",
        reader,
        settings,
        status=status,
        anonymous=True,
        code=code,
        period=period,
        line=line,
        reason=reason,
        errors=errors or [],
    )


def create_objection(
    session: Session,
    reader: Reader,
    code: str,
    period: str,
    *,
    fields: dict[str, str],
    client: str,
    settings: Settings,
) -> HTMLResponse:
    data, errors = validated(ObjectionCreate, fields)
    refusal: LianyunError | None = None
    if data is not None and village_of(session, code) is not None and PERIOD.fullmatch(period):
        try:
            done = objections_service.object_to_line(
                session, code, period=period, data=data, client=client, settings=settings
            )
        except LianyunError as error:
            refusal = error
        else:
            return receipt_page(
                reader,
                code=done.receipt_code,
                submitted_on=done.submitted_on,
                title="异议回执码",
                said="您对这一条的异议已经交给县纪委监委核实。",
                back=f"/villages/{code}/{period}",
                settings=settings,
            )
    return form_again(
        objection_form,
        errors=errors,
        refusal=refusal,
        session=session,
        reader=reader,
        code=code,
        period=period,
        record_id=fields.get("record_id"),
        reason=fields.get("reason", ""),
        settings=settings,
    )


def receipt_page(
    reader: Reader,
    *,
    code: str,
    submitted_on: date,
    title: str,
    said: str,
    back: str,
    look_up: str = receipt.TIP_LOOK_UP,
    settings: Settings,
) -> HTMLResponse:
    """The code shown once, large, and as a picture to keep; `look_up`: where to type it in."""
    return render(
        "receipt_code.html",
        reader,
        settings,
        status=201,
        anonymous=True,
        code=code,
        submitted_on=submitted_on,
        title=title,
        said=said,
        back=back,
        look_up=look_up,
        image=receipt.data_url(
            code, title=title, submitted_on=submitted_on, look_up=look_up, settings=settings
        ),
    )


# --- tips -------------------------------------------------------------------------------------


def tip_form(
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
        "tip_new.html",
        reader,
        settings,
        status=status,
        anonymous=True,
        categories=CATEGORY_NAMES,
        **village_choice(session, fields.get("village_code") or village),
        fields=fields,
        errors=errors or [],
    )


def create_tip(
    session: Session,
    reader: Reader,
    *,
    data: TipCreate | None,
    uploads: list[Upload],
    fields: dict[str, str],
    errors: list[str],
    client: str,
    settings: Settings,
) -> HTMLResponse:
    refusal: LianyunError | None = None
    if data is not None:
        try:
            done = tips_service.submit_tip(
                session, data=data, uploads=uploads, client=client, settings=settings
            )
        except LianyunError as error:
            refusal = error
        else:
            return receipt_page(
                reader,
                code=done.receipt_code,
                submitted_on=done.submitted_on,
                title="举报回执码",
                said="您的举报已经提交，县纪委监委会受理。",
                back="/",
                settings=settings,
            )
    return form_again(
        tip_form,
        errors=errors,
        refusal=refusal,
        session=session,
        reader=reader,
        village=None,
        fields=fields,
        settings=settings,
    )


def tip_receipt(
    session: Session,
    reader: Reader,
    *,
    fields: dict[str, str] | None,
    client: str,
    settings: Settings,
) -> HTMLResponse:
    """The receipt code's follow-up: the state, the replies, and a box to add to the tip.
    `fields` None: the empty form (GET)."""
    if fields is None:
        return render(
            "tip_receipt.html", reader, settings, anonymous=True, errors=[], status_of=None
        )
    data, errors = validated(ReceiptQuery, {"receipt_code": fields.get("receipt_code", "")})
    status, found, said = 422, None, None
    if data is not None:
        try:
            if fields.get("body", "").strip():
                message, errors = validated(ReceiptMessageCreate, fields)
                if message is not None:
                    found = tips_service.add_tipster_message(
                        session, data=message, uploads=[], client=client, settings=settings
                    )
                    said = "补充的内容已经交给县纪委监委。"
            else:
                found = tips_service.receipt_status(
                    session, data.receipt_code, client=client, settings=settings
                )
        except LianyunError as error:
            status, errors = error.status, [error.detail]
    return render(
        "tip_receipt.html",
        reader,
        settings,
        anonymous=True,
        status=200 if found else status,
        errors=errors,
        status_of=found,
        said=said,
        code=data.receipt_code if (data is not None and found) else "",
    )


# --- surveys ----------------------------------------------------------------------------------


def survey(
    session: Session,
    reader: Reader,
    survey_id: str,
    *,
    said: str | None = None,
    errors: list[str] | None = None,
    status: int = 200,
    settings: Settings,
) -> HTMLResponse:
    if not survey_id.isdigit() or len(survey_id) > 9:
        return not_found(reader, settings, "没有这次测评。")
    try:
        item = surveys_service.get_public_survey(session, int(survey_id))
        results = (
            surveys_service.public_results(session, item.id) if item.state == "published" else None
        )
    except LianyunError as error:
        return not_found(reader, settings, error.detail)
    return render(
        "survey.html",
        reader,
        settings,
        status=status,
        anonymous=True,
        survey=item,
        results=results,
        said=said,
        errors=errors or [],
        device_token=secrets.token_hex(16),
    )


def _answers(item: Survey, form: list[tuple[str, str]]) -> list[AnswerCreate]:
    """The form's answers: q{id} (an option, a score or a text), q{id}_t{target} (a score)."""
    given: dict[str, list[str]] = {}
    for name, value in form:
        if value.strip():
            given.setdefault(name, []).append(value.strip())
    answers = []
    for question in item.questions:
        name = f"q{question.id}"
        values = given.get(name, [])
        if question.kind in (QuestionKind.single, QuestionKind.multiple):
            ids = [int(v) for v in values if v.isdigit() and len(v) < 10]
            if ids:
                answers.append(AnswerCreate(question_id=question.id, option_ids=ids))
        elif question.kind == QuestionKind.rating and question.per_target:
            for target in item.targets:
                score = given.get(f"{name}_t{target.id}", [""])[0]
                if score.isdigit() and len(score) == 1:
                    answers.append(
                        AnswerCreate(
                            question_id=question.id, rating=int(score), target_id=target.id
                        )
                    )
        elif question.kind == QuestionKind.rating:
            if values and values[0].isdigit() and len(values[0]) == 1:
                answers.append(AnswerCreate(question_id=question.id, rating=int(values[0])))
        elif values:
            answers.append(AnswerCreate(question_id=question.id, text=values[0][:1000]))
    return answers


def answer_survey(
    session: Session,
    reader: Reader,
    survey_id: str,
    *,
    form: list[tuple[str, str]],
    client: str,
    settings: Settings,
) -> HTMLResponse:
    if not survey_id.isdigit() or len(survey_id) > 9:
        return not_found(reader, settings, "没有这次测评。")
    token = next((value for name, value in form if name == "device_token"), "")
    try:
        item = surveys_service.get_public_survey(session, int(survey_id))
        data, errors = validated(
            ResponseCreate, {"device_token": token, "answers": _answers(item, form)}
        )
        if data is None:
            return survey(session, reader, survey_id, errors=errors, status=422, settings=settings)
        done = surveys_service.submit_response(
            session, item.id, data=data, client=client, settings=settings
        )
    except LianyunError as error:
        page = survey(
            session,
            reader,
            survey_id,
            errors=[error.detail],
            status=error.status,
            settings=settings,
        )
        page.headers.update(error.headers)
        return page
    return render(
        "survey_done.html", reader, settings, anonymous=True, survey_id=item.id, said=done.message
    )
