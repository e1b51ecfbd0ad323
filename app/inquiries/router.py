from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response, status

from app import public_writes, uploads
from app.config import SettingsDep
from app.db.engines import SessionDep, WriteTransactionDep
from app.db.fastpath import in_write_lane
from app.errors import Problem, ok_content, problems
from app.http_cache import immutable
from app.inquiries import pdf, service, stats
from app.inquiries.schemas import (
    ConfirmationCreate,
    ExtensionCreate,
    InquiryStats,
    ItemAdminRead,
    ItemBrief,
    ItemCreate,
    ItemFilter,
    ItemRead,
    ItemUpdate,
    MeetingBrief,
    MeetingCreate,
    MeetingFilter,
    MeetingRead,
    ProgressCreate,
    StateChange,
    VoteCreate,
    VoteReceipt,
)
from app.pagination import Page, PageDep
from app.ratelimit import ClientAddress
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId
from app.staff.deps import CurrentStaff
from app.uploads import NoFields, Upload

TAG = "阳光问廉"
ADMIN_TAG = "阳光问廉管理"
router = ApiRouter(prefix="/api/v1", tags=[TAG], route_class=ApiRoute)
admin_router = ApiRouter(prefix="/api/v1/admin", tags=[ADMIN_TAG], route_class=ApiRoute)

Number = Annotated[
    str,
    Path(
        pattern=r"^[Ww][Ll]-\d{4}-\d{4,6}$",
        description="问题编号，如 WL-2026-0001",
        examples=["WL-2026-0001"],
    ),
]
PHOTOS = uploads.Files(
    field="photos",
    max_files=service.MAX_PHOTOS,
    max_file_bytes=service.PHOTO_MAX_BYTES,
    description="照片：JPEG 或 PNG，最多 9 张，每张不超过 10 MB",
)
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "照片或请求太大"}
}


# The path parameter is named here too, so that a bad one is reported before the body is read.
async def _progress(number: Number, request: Request) -> tuple[ProgressCreate, list[Upload]]:
    return await uploads.parse_body(request, ProgressCreate, PHOTOS)


async def _photos_only(meeting_id: RowId, request: Request) -> tuple[NoFields, list[Upload]]:
    return await uploads.parse_body(request, NoFields, PHOTOS)


ProgressSubmission = Annotated[tuple[ProgressCreate, list[Upload]], Depends(_progress)]
PhotoSubmission = Annotated[tuple[NoFields, list[Upload]], Depends(_photos_only)]

RegionCode = Annotated[str | None, Query(pattern=r"^\d{12}$", description="12 位区划代码")]


@router.get(
    "/inquiries",
    summary="问廉问题清单：按村、乡镇、状态、是否逾期、年份筛选；未办完的在前",
    response_model=Page[ItemBrief],
    responses=problems(422),
)
def list_inquiries(
    session: SessionDep, page: PageDep, filters: Annotated[ItemFilter, Depends()]
) -> Page[ItemBrief]:
    return service.list_items(session, filters=filters, page=page)


@router.get(
    "/inquiries/stats",
    summary="各乡镇一年的问廉统计：会议数、问题数、销号数、按期销号数和比率、未办结、逾期、清退资金",
    response_model=InquiryStats,
    responses=problems(404, 422),
)
def read_inquiry_stats(
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年份；默认今年")] = None,
    township_code: RegionCode = None,
) -> InquiryStats:
    return stats.stats(session, year=year, township_code=township_code)


@router.get(
    "/inquiries/{number}",
    summary="一个问题的详情和整改时间线",
    response_model=ItemRead,
    responses=problems(404, 422),
)
def read_inquiry(number: Number, session: SessionDep, settings: SettingsDep) -> ItemRead:
    return service.get_item(session, number, settings=settings)


async def counted_vote(
    number: Number, data: VoteCreate, client: ClientAddress, settings: SettingsDep
) -> VoteCreate:
    """The vote's body, once the client's vote is counted (RateLimited, 429, past a limit),
    before its transaction. A body that fails validation is answered 422 before it counts."""
    for rate, name in service.vote_limits(number, settings=settings):
        await public_writes.limit_off_loop(rate, name, client)
    return data


@router.post(
    "/inquiries/{number}/confirmations",
    summary="群众确认“已解决”或“没解决”：每台手机每轮只能投一次，匿名",
    response_model=VoteReceipt,
    status_code=status.HTTP_201_CREATED,
    responses=problems(404, 409, 422, 429),
)
async def create_inquiry_vote(
    number: Number,
    data: Annotated[VoteCreate, Depends(counted_vote)],
    write_transaction: WriteTransactionDep,
    settings: SettingsDep,
) -> VoteReceipt:
    def vote() -> VoteReceipt:  # its transaction whole on the write lane: docs/performance.md#vote
        with write_transaction() as session:
            return service.vote(session, number, data=data, settings=settings)

    return await in_write_lane(vote)


@router.get(
    "/inquiry-photos/{photo_id}",
    summary="会议或整改进展的照片（JPEG，已去除拍摄信息；可长期缓存）",
    response_class=Response,
    responses={**ok_content("image/jpeg", "JPEG 照片"), **problems(404, 422)},
)
def read_inquiry_photo(photo_id: RowId, session: SessionDep) -> Response:
    return immutable(service.get_photo(session, photo_id), "image/jpeg")


@router.get(
    "/inquiry-meetings",
    summary="已公开的问廉会议，最近的在前",
    response_model=Page[MeetingBrief],
    responses=problems(422),
)
def list_inquiry_meetings(
    session: SessionDep,
    page: PageDep,
    village_code: RegionCode = None,
    township_code: RegionCode = None,
) -> Page[MeetingBrief]:
    return service.list_meetings(
        session, village_code=village_code, township_code=township_code, page=page
    )


@router.get(
    "/inquiry-meetings/{meeting_id}",
    summary="一次问廉会议和会上提出的问题",
    response_model=MeetingRead,
    responses=problems(404, 422),
)
def read_inquiry_meeting(meeting_id: RowId, session: SessionDep) -> MeetingRead:
    return service.get_meeting(session, meeting_id)


# --- staff --------------------------------------------------------------------------------------


@admin_router.post(
    "/inquiry-meetings",
    summary="登记一次问廉会议（草稿，公开后群众才能看到）",
    response_model=MeetingRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
def create_inquiry_meeting(
    data: MeetingCreate, actor: CurrentStaff, session: SessionDep
) -> MeetingRead:
    return service.create_meeting(session, data=data, actor=actor)


@admin_router.get(
    "/inquiry-meetings",
    summary="所辖地区的问廉会议（含草稿），最近的在前",
    response_model=Page[MeetingBrief],
    responses=problems(401, 403, 422),
)
def list_inquiry_meetings_admin(
    actor: CurrentStaff,
    session: SessionDep,
    page: PageDep,
    filters: Annotated[MeetingFilter, Depends()],
) -> Page[MeetingBrief]:
    return service.list_meetings_admin(session, staff=actor, filters=filters, page=page)


@admin_router.get(
    "/inquiry-meetings/{meeting_id}",
    summary="查看一次会议（含草稿）",
    response_model=MeetingRead,
    responses=problems(401, 403, 404, 422),
)
def read_inquiry_meeting_admin(
    meeting_id: RowId, actor: CurrentStaff, session: SessionDep
) -> MeetingRead:
    return service.get_meeting_admin(session, meeting_id, staff=actor)


@admin_router.post(
    "/inquiry-meetings/{meeting_id}/publish",
    summary="公开会议和会上登记的问题",
    response_model=MeetingRead,
    responses=problems(401, 403, 404, 422),
)
def publish_inquiry_meeting(
    meeting_id: RowId, actor: CurrentStaff, session: SessionDep
) -> MeetingRead:
    return service.publish_meeting(session, meeting_id, actor=actor)


@admin_router.post(
    "/inquiry-meetings/{meeting_id}/items",
    summary="登记会上提出的一个问题，返回它的编号 WL-年份-序号",
    response_model=ItemAdminRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
def create_inquiry_item(
    meeting_id: RowId,
    data: ItemCreate,
    actor: CurrentStaff,
    session: SessionDep,
    settings: SettingsDep,
) -> ItemAdminRead:
    return service.add_item(session, meeting_id, data=data, actor=actor, settings=settings)


@admin_router.get(
    "/inquiry-meetings/{meeting_id}/list.pdf",
    summary="打印问题清单（A4，每个问题一个二维码，扫码看整改进展）",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problems(401, 403, 404, 422, 503)},
)
def read_inquiry_list_pdf(
    meeting_id: RowId, actor: CurrentStaff, session: SessionDep, settings: SettingsDep
) -> Response:
    body = pdf.meeting_list(session, meeting_id, staff=actor, settings=settings)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="wenlian-{meeting_id}.pdf"'},
    )


@admin_router.get(
    "/inquiries/due",
    summary="所辖地区内即将到期或已逾期的问题，逾期最久的在前",
    response_model=Page[ItemBrief],
    responses=problems(401, 403, 422),
)
def list_due_inquiries(
    actor: CurrentStaff,
    session: SessionDep,
    page: PageDep,
    within_days: Annotated[int, Query(ge=0, le=365, description="几天内到期")] = 3,
) -> Page[ItemBrief]:
    return service.list_due(session, staff=actor, within_days=within_days, page=page)


@admin_router.get(
    "/inquiries/{number}",
    summary="查看一个问题（含群众投票时留的话）",
    response_model=ItemAdminRead,
    responses=problems(401, 403, 404, 422),
)
def read_inquiry_admin(
    number: Number, actor: CurrentStaff, session: SessionDep, settings: SettingsDep
) -> ItemAdminRead:
    return service.get_item_admin(session, number, staff=actor, settings=settings)


@admin_router.patch(
    "/inquiries/{number}",
    summary="更正问题的文字（会议公开后只有纪委监委可以，并在时间线上写明）",
    response_model=ItemAdminRead,
    responses=problems(401, 403, 404, 422),
)
def correct_inquiry(
    number: Number,
    data: ItemUpdate,
    actor: CurrentStaff,
    session: SessionDep,
    settings: SettingsDep,
) -> ItemAdminRead:
    return service.correct_item(session, number, data=data, actor=actor, settings=settings)


@admin_router.post(
    "/inquiries/{number}/progress",
    summary="添加整改进展（可附 9 张照片；村廉政专干也可以）；已登记的问题随之转入整改中",
    response_model=ItemAdminRead,
    responses={**problems(401, 403, 404, 422), **TOO_LARGE},
    openapi_extra=uploads.body_schema(ProgressCreate, PHOTOS),
)
def create_inquiry_progress(
    number: Number,
    actor: CurrentStaff,  # before the body: who asks is checked first
    submission: ProgressSubmission,
    session: SessionDep,
    settings: SettingsDep,
) -> ItemAdminRead:
    data, photos = submission
    return service.add_progress(
        session, number, data=data, actor=actor, settings=settings, uploads=photos
    )


@admin_router.post(
    "/inquiry-meetings/{meeting_id}/photos",
    summary="上传会议照片（字段 photos，共不超过 9 张；去除拍摄信息，缩到 1080 像素宽）",
    response_model=MeetingRead,
    responses={**problems(401, 403, 404, 422), **TOO_LARGE},
    openapi_extra=uploads.body_schema(NoFields, PHOTOS),
)
def create_inquiry_meeting_photos(
    meeting_id: RowId, actor: CurrentStaff, submission: PhotoSubmission, session: SessionDep
) -> MeetingRead:
    _, photos = submission
    return service.add_meeting_photos(session, meeting_id, uploads=photos, actor=actor)


@admin_router.post(
    "/inquiries/{number}/extend",
    summary="延期：新的期限和理由公开在时间线上",
    response_model=ItemAdminRead,
    responses=problems(401, 403, 404, 422),
)
def extend_inquiry(
    number: Number,
    data: ExtensionCreate,
    actor: CurrentStaff,
    session: SessionDep,
    settings: SettingsDep,
) -> ItemAdminRead:
    return service.extend_deadline(session, number, data=data, actor=actor, settings=settings)


@admin_router.post(
    "/inquiries/{number}/confirmations",
    summary="记录群众代表在会上确认已解决（随之销号）",
    response_model=ItemAdminRead,
    responses=problems(401, 403, 404, 422),
)
def create_inquiry_confirmation(
    number: Number,
    data: ConfirmationCreate,
    actor: CurrentStaff,
    session: SessionDep,
    settings: SettingsDep,
) -> ItemAdminRead:
    return service.record_confirmation(session, number, data=data, actor=actor, settings=settings)


@admin_router.post(
    "/inquiries/{number}/state",
    summary="改变问题的状态；没有群众确认的销号会被拒绝（409 confirmation_required）",
    response_model=ItemAdminRead,
    responses=problems(401, 403, 404, 409, 422),
)
def change_inquiry_state(
    number: Number,
    data: StateChange,
    actor: CurrentStaff,
    session: SessionDep,
    settings: SettingsDep,
) -> ItemAdminRead:
    return service.change_state(session, number, data=data, actor=actor, settings=settings)
