from typing import Annotated

from fastapi import Depends, status

from app.config import SettingsDep
from app.db.engines import SessionDep, SortingRoute
from app.errors import problems
from app.pagination import Page, PageDep, page_of
from app.routing import ApiRoute, ApiRouter
from app.screening import runs
from app.screening.models import RunScope, ScreeningRun
from app.screening.schemas_runs import RuleRead, ScreeningRunCreate, ScreeningRunRead
from app.staff.deps import require_role
from app.staff.models import Role, Staff

router = ApiRouter(prefix="/api/v1/admin/screening", tags=["疑点筛查"], route_class=ApiRoute)
ScreeningAdmin = Annotated[Staff, Depends(require_role(Role.commission, Role.county_admin))]


def create_screening_run(
    body: ScreeningRunCreate, staff: ScreeningAdmin, session: SessionDep, settings: SettingsDep
) -> ScreeningRun:
    return runs.run_now(
        session,
        scope=RunScope(body.scope),
        actor=staff,
        lease_seconds=settings.sync_lease_seconds,
    )


router.add_api_route(
    "/runs",
    create_screening_run,
    methods=["POST"],
    summary="立即筛查一次（在同步租约下进行；同步进行中时返回 409）",
    response_model=ScreeningRunRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 409, 422),
    route_class_override=SortingRoute,
)


@router.get(
    "/runs",
    summary="筛查记录（新的在前）",
    response_model=Page[ScreeningRunRead],
    responses=problems(401, 403, 422),
)
def list_screening_runs(
    _staff: ScreeningAdmin, session: SessionDep, page: PageDep
) -> Page[ScreeningRunRead]:
    rows, total = runs.list_runs(session, page=page)
    return page_of(ScreeningRunRead, rows, total, page)


@router.get(
    "/rules",
    summary="筛查规则：代码、版本、名称、说明和参数",
    response_model=list[RuleRead],
    responses=problems(401, 403),
)
def list_screening_rules(_staff: ScreeningAdmin) -> list[RuleRead]:
    return [RuleRead.model_validate(rule, from_attributes=True) for rule in runs.rules()]
