from typing import Annotated

from fastapi import BackgroundTasks, Depends, Query, status

from app.config import SettingsDep
from app.db.engines import SessionDep
from app.errors import problems
from app.pagination import Page, PageDep, page_of
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId, Text
from app.staff.deps import require_role
from app.staff.models import Role, Staff
from app.sync import scheduler, service
from app.sync.schemas import (
    RejectedRecordRead,
    ReplayRequest,
    ReplayResult,
    SyncRunRead,
    SyncStarted,
)

router = ApiRouter(prefix="/api/v1/admin/sync", tags=["数据同步"], route_class=ApiRoute)
SyncAdmin = Annotated[Staff, Depends(require_role(Role.county_admin, Role.commission))]


@router.get(
    "/runs",
    summary="同步记录（新的在前）",
    response_model=Page[SyncRunRead],
    responses=problems(401, 403, 422),
)
def list_sync_runs(_staff: SyncAdmin, session: SessionDep, page: PageDep) -> Page[SyncRunRead]:
    rows, total = service.list_runs(session, page=page)
    return page_of(SyncRunRead, rows, total, page)


@router.get(
    "/runs/{run_id}",
    summary="查看一次同步",
    response_model=SyncRunRead,
    responses=problems(401, 403, 404, 422),
)
def read_sync_run(run_id: RowId, _staff: SyncAdmin, session: SessionDep) -> object:
    return service.get_run(session, run_id)


@router.post(
    "/runs",
    summary="立即开始一次同步（后台进行）",
    response_model=SyncStarted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(401, 403, 409),
)
def create_sync_run(
    staff: Annotated[Staff, Depends(require_role(Role.county_admin))],
    settings: SettingsDep,
    session: SessionDep,
    background: BackgroundTasks,
) -> SyncStarted:
    run = scheduler.start_in_background(
        settings, session=session, actor=staff, background=background
    )
    return SyncStarted(run_id=run.id)


@router.get(
    "/rejected",
    summary="被隔离的问题记录",
    response_model=Page[RejectedRecordRead],
    responses=problems(401, 403, 422),
)
def list_rejected_records(
    _staff: SyncAdmin,
    session: SessionDep,
    page: PageDep,
    reason: Annotated[Text | None, Query(max_length=32, description="按原因筛选")] = None,
    unresolved_only: Annotated[bool, Query(description="只看未解决的")] = True,
) -> Page[RejectedRecordRead]:
    rows, total = service.list_rejected(
        session, page=page, reason=reason, unresolved_only=unresolved_only
    )
    return page_of(RejectedRecordRead, rows, total, page)


@router.post(
    "/rejected/replay",
    summary="修正参考数据后重新导入问题记录",
    response_model=ReplayResult,
    responses=problems(401, 403, 409, 422),
)
def replay_rejected_records(
    body: ReplayRequest,
    staff: Annotated[Staff, Depends(require_role(Role.county_admin))],
    session: SessionDep,
    settings: SettingsDep,
) -> ReplayResult:
    summary = service.replay_rejected(
        session, ids=body.ids, actor=staff, lease_seconds=settings.sync_lease_seconds
    )
    return ReplayResult(**summary)
