from typing import Annotated

from fastapi import Depends, Query, status

from app.config import SettingsDep
from app.db.engines import ReadSessionDep, SessionDep
from app.errors import problems
from app.forum import service, stats
from app.forum.deps import AskingDep, CodeDigest, RatingDep
from app.forum.schemas import (
    AdminFilter,
    AssignCreate,
    ForumAnswerCreate,
    ForumExtensionCreate,
    ForumQuestionRead,
    InquiryConversion,
    QuestionAdmin,
    QuestionBrief,
    QuestionFilter,
    QuestionReceipt,
    QuestionStats,
    QuestionStatus,
    Suggestions,
    TipConversion,
)
from app.pagination import Page, PageDep
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId, Text
from app.staff.deps import require_role
from app.staff.models import Role, Staff

TAG = "云端话廉"
ADMIN_TAG = "云端话廉办理"
# No request id, address or agent is logged for the asker's paths (app.public_writes).
router = ApiRouter(prefix="/api/v1/questions", tags=[TAG], route_class=ApiRoute)
admin_router = ApiRouter(prefix="/api/v1/admin/questions", tags=[ADMIN_TAG], route_class=ApiRoute)
Commission = Annotated[Staff, Depends(require_role(Role.commission))]


@router.post(
    "",
    summary="向县纪委监委留言（咨询、建议、投诉）；返回只显示一次的查询码",
    response_model=QuestionReceipt,
    status_code=status.HTTP_201_CREATED,
    responses=problems(422, 429),
)
def create_question(asking: AskingDep, session: SessionDep) -> QuestionReceipt:
    return service.ask(session, data=asking.data, code=asking.code)


@router.get(
    "",
    summary="已公开的留言和答复：按类别、村筛选，最新公开的在前",
    response_model=Page[QuestionBrief],
    responses=problems(422),
)
def list_questions(
    session: SessionDep, page: PageDep, filters: Annotated[QuestionFilter, Depends()]
) -> Page[QuestionBrief]:
    return service.list_published(session, filters=filters, page=page)


@router.get(
    "/suggest",
    summary="留言前先看看：与所输入的内容相符的惠民政策和已公开的答复",
    response_model=Suggestions,
    responses=problems(422),
)
def suggest_answers(
    session: SessionDep,
    q: Annotated[
        Text, Query(min_length=1, max_length=50, description="想问的事，如 低保", examples=["低保"])
    ],
) -> Suggestions:
    return service.suggest(session, q.strip())


@router.get(
    "/stats",
    summary="每月的留言数、答复数、答复率、答复用时（工作日）的中位数和评价的平均分",
    response_model=QuestionStats,
    responses=problems(422),
)
def read_question_stats(
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年份；默认今年")] = None,
) -> QuestionStats:
    return stats.stats(session, year=year)


@router.post(
    "/status",
    summary="凭查询码查看自己的留言：办理情况、答复、期限；转为举报的，看举报的办理情况",
    response_model=QuestionStatus,
    responses=problems(404, 422, 429),
)
def read_question_status(
    digest: CodeDigest, session: ReadSessionDep, settings: SettingsDep
) -> QuestionStatus:
    return service.status(session, digest, settings=settings)


@router.post(
    "/rating",
    summary="凭查询码评价答复（1–5 分），每条留言只能评价一次",
    response_model=QuestionStatus,
    responses=problems(404, 409, 422, 429),
)
def create_question_rating(
    rating: RatingDep, session: SessionDep, settings: SettingsDep
) -> QuestionStatus:
    return service.rate(session, score=rating.score, digest=rating.digest, settings=settings)


@router.get(
    "/{question_id}",
    summary="一条公开的留言、答复、答复期限（及延期理由）和留言人的评价",
    response_model=ForumQuestionRead,
    responses=problems(404, 422),
)
def read_question(question_id: RowId, session: SessionDep) -> ForumQuestionRead:
    return service.get_published(session, question_id)


@admin_router.get(
    "",
    summary="全部留言（含未公开的原文）：未办完的按答复期限排在前",
    response_model=Page[QuestionAdmin],
    responses=problems(401, 403, 422),
)
def list_questions_admin(
    _staff: Commission,
    session: SessionDep,
    page: PageDep,
    filters: Annotated[AdminFilter, Depends()],
) -> Page[QuestionAdmin]:
    return service.list_questions(session, filters=filters, page=page)


@admin_router.get(
    "/overdue",
    summary="超过答复期限还没有答复的留言，逾期最久的在前",
    response_model=Page[QuestionAdmin],
    responses=problems(401, 403, 422),
)
def list_overdue_questions(
    _staff: Commission, session: SessionDep, page: PageDep
) -> Page[QuestionAdmin]:
    return service.list_overdue(session, page=page)


@admin_router.get(
    "/{question_id}",
    summary="一条留言的全部内容",
    response_model=QuestionAdmin,
    responses=problems(401, 403, 404, 422),
)
def read_question_admin(
    question_id: RowId, _staff: Commission, session: SessionDep
) -> QuestionAdmin:
    return service.get_question(session, question_id)


@admin_router.post(
    "/{question_id}/assign",
    summary="交办：指定答复单位（和负责的工作人员）",
    response_model=QuestionAdmin,
    responses=problems(401, 403, 404, 422),
)
def assign_question(
    question_id: RowId, body: AssignCreate, actor: Commission, session: SessionDep
) -> QuestionAdmin:
    return service.assign(session, question_id, data=body, actor=actor)


@admin_router.post(
    "/{question_id}/extend",
    summary="延长答复期限（按工作日），延期理由随答复公开",
    response_model=QuestionAdmin,
    responses=problems(401, 403, 404, 422),
)
def extend_question(
    question_id: RowId, body: ForumExtensionCreate, actor: Commission, session: SessionDep
) -> QuestionAdmin:
    return service.extend(session, question_id, data=body, actor=actor)


@admin_router.post(
    "/{question_id}/answer",
    summary="答复，并写好要公开的标题和内容（留言原文不公开）",
    response_model=QuestionAdmin,
    responses=problems(401, 403, 404, 422),
)
def answer_question(
    question_id: RowId, body: ForumAnswerCreate, actor: Commission, session: SessionDep
) -> QuestionAdmin:
    return service.answer(session, question_id, data=body, actor=actor)


@admin_router.post(
    "/{question_id}/publish",
    summary="公开编辑后的留言和答复",
    response_model=QuestionAdmin,
    responses=problems(401, 403, 404, 422),
)
def publish_question(question_id: RowId, actor: Commission, session: SessionDep) -> QuestionAdmin:
    return service.publish(session, question_id, actor=actor)


@admin_router.post(
    "/{question_id}/to-tip",
    summary="转为举报办理（留言内容加密移入举报，留言人凭同一个查询码查看举报的办理情况）",
    response_model=QuestionAdmin,
    responses=problems(401, 403, 404, 422, 503),
)
def convert_question_to_tip(
    question_id: RowId,
    body: TipConversion,
    actor: Commission,
    session: SessionDep,
    settings: SettingsDep,
) -> QuestionAdmin:
    return service.to_tip(session, question_id, data=body, actor=actor, settings=settings)


@admin_router.post(
    "/{question_id}/to-inquiry",
    summary="列入一次问廉会议的问题清单（阳光问廉），留言人凭查询码查看问题编号和整改状态",
    response_model=QuestionAdmin,
    responses=problems(401, 403, 404, 422),
)
def convert_question_to_inquiry(
    question_id: RowId,
    body: InquiryConversion,
    actor: Commission,
    session: SessionDep,
    settings: SettingsDep,
) -> QuestionAdmin:
    return service.to_inquiry(session, question_id, data=body, actor=actor, settings=settings)
