from typing import Annotated

from fastapi import Depends, Query, Response, status

from app.config import SettingsDep
from app.db.engines import SessionDep
from app.errors import ok_content, problems
from app.http_cache import NOT_MODIFIED, cached_route
from app.pagination import Page, PageDep, page_of
from app.ratelimit import ClientAddress
from app.routing import ApiRoute, ApiRouter
from app.schemas import QueryId, RowId
from app.staff.deps import require_role
from app.staff.models import Role, Staff
from app.surveys import service
from app.surveys.models import Survey, SurveyState
from app.surveys.schemas import (
    ResponseCreate,
    ResponseReceipt,
    SurveyAdminRead,
    SurveyBrief,
    SurveyCreate,
    SurveyRead,
    SurveyResults,
    TextAnswerRead,
)

TAG = "民意测评"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Phones on weak networks revalidate with If-None-Match; a survey opened or closed shows within
# five minutes.
router = ApiRouter(
    prefix="/api/v1/surveys",
    tags=[TAG],
    route_class=cached_route(max_age=300),
    responses=NOT_MODIFIED,
)
admin_router = ApiRouter(prefix="/api/v1/admin/surveys", tags=[TAG], route_class=ApiRoute)

Surveyor = Annotated[
    Staff, Depends(require_role(Role.commission, Role.county_admin, Role.township_officer))
]
VillageCode = Annotated[str, Query(pattern=r"^\d{12}$", description="村（社区）的 12 位区划代码")]


# --- villagers --------------------------------------------------------------------------------


@router.get(
    "",
    summary="本村可以参加的测评（进行中、范围包含该村）",
    response_model=Page[SurveyBrief],
    responses=problems(422),
)
def list_surveys(
    session: SessionDep, page: PageDep, village_code: VillageCode
) -> Page[SurveyBrief]:
    rows, total = service.list_open_surveys(session, village_code=village_code, page=page)
    return page_of(SurveyBrief, rows, total, page)


@router.get(
    "/{survey_id}",
    summary="查看一次测评及其题目（进行中或已公布结果）",
    response_model=SurveyRead,
    responses=problems(404, 422),
)
def read_survey(survey_id: RowId, session: SessionDep) -> Survey:
    return service.get_public_survey(session, survey_id)


@router.post(
    "/{survey_id}/responses",
    summary="提交答卷：每台手机每次测评只能提交一次，匿名",
    response_model=ResponseReceipt,
    status_code=status.HTTP_201_CREATED,
    responses=problems(404, 409, 422, 429),
)
def create_response(
    survey_id: RowId,
    data: ResponseCreate,
    client: ClientAddress,
    session: SessionDep,
    settings: SettingsDep,
) -> ResponseReceipt:
    return service.submit_response(session, survey_id, data=data, client=client, settings=settings)


@router.get(
    "/{survey_id}/results",
    summary="已公布的测评结果：各选项人数、评分均值与分布、满意率（不含文字回答）",
    response_model=SurveyResults,
    responses=problems(404, 422),
)
def read_survey_results(survey_id: RowId, session: SessionDep) -> SurveyResults:
    return service.public_results(session, survey_id)


# --- staff ------------------------------------------------------------------------------------


@admin_router.get(
    "",
    summary="本辖区的测评（新的在前）",
    response_model=Page[SurveyBrief],
    responses=problems(401, 403, 422),
)
def list_admin_surveys(
    staff: Surveyor,
    session: SessionDep,
    page: PageDep,
    state: Annotated[SurveyState | None, Query(description="只看这一状态")] = None,
) -> Page[SurveyBrief]:
    rows, total = service.list_surveys(session, staff=staff, state=state, page=page)
    return page_of(SurveyBrief, rows, total, page)


@admin_router.post(
    "",
    summary="新建测评（草稿）：范围、测评对象和题目",
    response_model=SurveyAdminRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
def create_survey(data: SurveyCreate, actor: Surveyor, session: SessionDep) -> Survey:
    return service.create_survey(session, data=data, actor=actor)


@admin_router.get(
    "/{survey_id}",
    summary="查看一次测评（任何状态）",
    response_model=SurveyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def read_admin_survey(survey_id: RowId, staff: Surveyor, session: SessionDep) -> Survey:
    return service.get_survey(session, survey_id, staff=staff)


@admin_router.put(
    "/{survey_id}",
    summary="修改草稿：整体替换标题、范围、测评对象和题目",
    response_model=SurveyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def update_survey(
    survey_id: RowId, data: SurveyCreate, actor: Surveyor, session: SessionDep
) -> Survey:
    return service.update_survey(session, survey_id, data=data, actor=actor)


@admin_router.post(
    "/{survey_id}/open",
    summary="开始测评：村民可以作答，题目不能再改",
    response_model=SurveyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def open_survey(survey_id: RowId, actor: Surveyor, session: SessionDep) -> Survey:
    return service.advance_survey(session, survey_id, to=SurveyState.open, actor=actor)


@admin_router.post(
    "/{survey_id}/close",
    summary="结束测评：不再接收答卷",
    response_model=SurveyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def close_survey(survey_id: RowId, actor: Surveyor, session: SessionDep) -> Survey:
    return service.advance_survey(session, survey_id, to=SurveyState.closed, actor=actor)


@admin_router.post(
    "/{survey_id}/publish",
    summary="公布结果：公众可以查看统计结果",
    response_model=SurveyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def publish_survey(survey_id: RowId, actor: Surveyor, session: SessionDep) -> Survey:
    return service.advance_survey(session, survey_id, to=SurveyState.published, actor=actor)


@admin_router.get(
    "/{survey_id}/results",
    summary="测评结果（开始后随时可看，公布前也可以）",
    response_model=SurveyResults,
    responses=problems(401, 403, 404, 422),
)
def read_admin_survey_results(
    survey_id: RowId, staff: Surveyor, session: SessionDep
) -> SurveyResults:
    return service.staff_results(session, survey_id, staff=staff)


@admin_router.get(
    "/{survey_id}/results.csv",
    summary="导出测评结果为 CSV（UTF-8 带 BOM，Excel 可直接打开）",
    response_class=Response,
    responses={**ok_content("text/csv", "CSV 文件"), **problems(401, 403, 404, 422)},
)
def read_survey_results_csv(survey_id: RowId, staff: Surveyor, session: SessionDep) -> Response:
    body = service.results_csv(session, survey_id, staff=staff)
    return _attachment(body, "text/csv; charset=utf-8", f"survey-{survey_id}-results.csv")


@admin_router.get(
    "/{survey_id}/results.xlsx",
    summary="导出测评结果为 Excel 表格（XLSX）",
    response_class=Response,
    responses={**ok_content(XLSX, "XLSX 文件"), **problems(401, 403, 404, 422)},
)
def read_survey_results_xlsx(survey_id: RowId, staff: Surveyor, session: SessionDep) -> Response:
    body = service.results_xlsx(session, survey_id, staff=staff)
    return _attachment(body, XLSX, f"survey-{survey_id}-results.xlsx")


def _attachment(body: bytes, media_type: str, filename: str) -> Response:
    """A file to save, for the commission's exports."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media_type, headers=headers)


@admin_router.get(
    "/{survey_id}/text-answers",
    summary="文字回答（只给工作人员看），可按题目筛选",
    response_model=Page[TextAnswerRead],
    responses=problems(401, 403, 404, 422),
)
def list_text_answers(
    survey_id: RowId,
    staff: Surveyor,
    session: SessionDep,
    page: PageDep,
    question_id: Annotated[QueryId | None, Query(description="题目编号")] = None,
) -> Page[TextAnswerRead]:
    rows, total = service.list_text_answers(
        session, survey_id, staff=staff, question_id=question_id, page=page
    )
    return page_of(TextAnswerRead, rows, total, page)
