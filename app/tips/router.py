from typing import Annotated, Any

from fastapi import Depends, Response, status

from app.config import SettingsDep
from app.db.engines import ReadSessionDep, SessionDep
from app.errors import Problem, problems
from app.pagination import Page, PageDep
from app.ratelimit import ClientAddress
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId
from app.tips import service
from app.tips.deps import Commission, ReceiptMessageSubmission, TipSubmission, body_schema
from app.tips.models import TipMessageKind
from app.tips.schemas import (
    ReceiptMessageCreate,
    ReceiptQuery,
    TipAssign,
    TipBrief,
    TipCounts,
    TipCreate,
    TipFilter,
    TipMessageCreate,
    TipMessageRead,
    TipRead,
    TipReceipt,
    TipStatus,
    TipTransition,
)

TAG = "信访举报"
ADMIN_TAG = "举报处理"
# No request id, address or agent is logged for these paths (app.observability).
router = ApiRouter(prefix="/api/v1/tips", tags=[TAG], route_class=ApiRoute)
admin_router = ApiRouter(prefix="/api/v1/admin/tips", tags=[ADMIN_TAG], route_class=ApiRoute)
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "附件或请求太大"}
}


@router.post(
    "",
    summary="匿名举报（可附 5 个 JPEG/PNG/PDF 附件）；返回只显示一次的回执码",
    response_model=TipReceipt,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(422, 429), **TOO_LARGE},
    openapi_extra=body_schema(TipCreate),
)
def create_tip(
    submission: TipSubmission, client: ClientAddress, session: SessionDep, settings: SettingsDep
) -> TipReceipt:
    data, uploads = submission
    return service.submit_tip(session, data=data, uploads=uploads, client=client, settings=settings)


@router.post(
    "/receipt",
    summary="凭回执码查看举报的办理情况、答复和自己补充的内容",
    response_model=TipStatus,
    responses=problems(404, 422, 429),
)
def read_tip_receipt(
    body: ReceiptQuery, client: ClientAddress, session: ReadSessionDep, settings: SettingsDep
) -> TipStatus:
    return service.receipt_status(session, body.receipt_code, client=client, settings=settings)


@router.post(
    "/receipt/messages",
    summary="凭回执码补充举报内容（可附附件）",
    response_model=TipStatus,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(404, 422, 429), **TOO_LARGE},
    openapi_extra=body_schema(ReceiptMessageCreate),
)
def create_tip_message(
    submission: ReceiptMessageSubmission,
    client: ClientAddress,
    session: SessionDep,
    settings: SettingsDep,
) -> TipStatus:
    data, uploads = submission
    return service.add_tipster_message(
        session, data=data, uploads=uploads, client=client, settings=settings
    )


@admin_router.get(
    "",
    summary="举报列表（不含内容），可按状态、类别、乡镇、提交日期筛选",
    response_model=Page[TipBrief],
    responses=problems(401, 404, 422),
)
def list_tips(
    _staff: Commission,
    session: SessionDep,
    page: PageDep,
    filters: Annotated[TipFilter, Depends()],
) -> Page[TipBrief]:
    return service.list_tips(session, filters=filters, page=page)


@admin_router.get(
    "/counts",
    summary="各状态、各类别的举报数",
    response_model=TipCounts,
    responses=problems(401, 404),
)
def read_tip_counts(_staff: Commission, session: SessionDep) -> TipCounts:
    return service.tip_counts(session)


@admin_router.get(
    "/{tip_id}",
    summary="查看一条举报的全部内容（每次查看都记入审计日志）",
    response_model=TipRead,
    responses=problems(401, 404, 422, 503),
)
def read_tip(
    tip_id: RowId, actor: Commission, session: SessionDep, settings: SettingsDep
) -> TipRead:
    return service.read_tip(session, tip_id, actor=actor, settings=settings)


@admin_router.get(
    "/{tip_id}/attachments/{attachment_id}",
    summary="下载举报的附件（已去除元数据；每次下载都记入审计日志）",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}}},
        **problems(401, 404, 422, 503),
    },
)
def read_tip_attachment(
    tip_id: RowId,
    attachment_id: RowId,
    actor: Commission,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    media_type, data = service.read_attachment(
        session, tip_id, attachment_id, actor=actor, settings=settings
    )
    return Response(data, media_type=media_type, headers={"Cache-Control": "no-store"})


@admin_router.post(
    "/{tip_id}/assign",
    summary="把举报指派给一位纪委监委工作人员",
    response_model=TipBrief,
    responses=problems(401, 404, 422),
)
def assign_tip(tip_id: RowId, body: TipAssign, actor: Commission, session: SessionDep) -> TipBrief:
    return service.assign_tip(session, tip_id, staff_id=body.staff_id, actor=actor)


@admin_router.post(
    "/{tip_id}/notes",
    summary="添加内部备注（举报人看不到）",
    response_model=TipMessageRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 404, 422, 503),
)
def create_tip_note(
    tip_id: RowId,
    body: TipMessageCreate,
    actor: Commission,
    session: SessionDep,
    settings: SettingsDep,
) -> TipMessageRead:
    return service.add_staff_message(
        session, tip_id, kind=TipMessageKind.note, body=body.body, actor=actor, settings=settings
    )


@admin_router.post(
    "/{tip_id}/replies",
    summary="答复举报人（举报人凭回执码可见）",
    response_model=TipMessageRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 404, 422, 503),
)
def create_tip_reply(
    tip_id: RowId,
    body: TipMessageCreate,
    actor: Commission,
    session: SessionDep,
    settings: SettingsDep,
) -> TipMessageRead:
    return service.add_staff_message(
        session, tip_id, kind=TipMessageKind.reply, body=body.body, actor=actor, settings=settings
    )


@admin_router.post(
    "/{tip_id}/state",
    summary="变更办理状态：受理、调查、办结（附结果）或不予受理（附理由）",
    response_model=TipBrief,
    responses=problems(401, 404, 422, 503),
)
def update_tip_state(
    tip_id: RowId,
    body: TipTransition,
    actor: Commission,
    session: SessionDep,
    settings: SettingsDep,
) -> TipBrief:
    return service.change_state(session, tip_id, data=body, actor=actor, settings=settings)
