from typing import Annotated

from fastapi import Depends, Response

from app.config import SettingsDep
from app.db.engines import SessionDep
from app.errors import ok_content, problems
from app.pagination import Page, PageDep
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId
from app.screening import flags as service
from app.screening.schemas_flags import FlagClose, FlagDetail, FlagFilter, FlagRead, RulePrecision
from app.staff.deps import require_role
from app.staff.models import Role, Staff

TAG = "疑点处理"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
router = ApiRouter(prefix="/api/v1/admin/screening", tags=[TAG], route_class=ApiRoute)

# A township officer reads the flags of their own township; only the commission and the county
# administrators close them or open tips.
FlagReader = Annotated[
    Staff, Depends(require_role(Role.commission, Role.county_admin, Role.township_officer))
]
FlagKeeper = Annotated[Staff, Depends(require_role(Role.commission, Role.county_admin))]


@router.get(
    "/flags",
    summary="疑点列表：可按规则、状态、乡镇、村、期次筛选（乡镇工作人员只看本乡镇）",
    response_model=Page[FlagRead],
    responses=problems(401, 403, 422),
)
def list_flags(
    staff: FlagReader,
    session: SessionDep,
    page: PageDep,
    filters: Annotated[FlagFilter, Depends()],
) -> Page[FlagRead]:
    return service.list_flags(session, filters=filters, page=page, staff=staff)


@router.get(
    "/flags.xlsx",
    summary="导出待处理的疑点为 Excel 表格（XLSX，姓名打码），筛选同疑点列表",
    response_class=Response,
    responses={**ok_content(XLSX, "XLSX 文件"), **problems(401, 403, 422)},
)
def read_flags_xlsx(
    staff: FlagReader, session: SessionDep, filters: Annotated[FlagFilter, Depends()]
) -> Response:
    body = service.open_flags_xlsx(session, filters=filters, staff=staff)
    headers = {"Content-Disposition": 'attachment; filename="screening-flags.xlsx"'}
    return Response(body, media_type=XLSX, headers=headers)


@router.get(
    "/flags/{flag_id}",
    summary="一个疑点：规则、数据、涉及的发放记录（当前版本）和处理记录",
    response_model=FlagDetail,
    responses=problems(401, 403, 404, 422),
)
def read_flag(flag_id: RowId, staff: FlagReader, session: SessionDep) -> FlagDetail:
    return service.read_flag(session, flag_id, staff=staff)


@router.post(
    "/flags/{flag_id}/close",
    summary="处理疑点：确认属实（confirmed）或排除（dismissed），须填写理由",
    response_model=FlagDetail,
    responses=problems(401, 403, 404, 409, 422),
)
def close_flag(
    flag_id: RowId, body: FlagClose, actor: FlagKeeper, session: SessionDep
) -> FlagDetail:
    return service.close_flag(session, flag_id, data=body, actor=actor)


@router.post(
    "/flags/{flag_id}/tip",
    summary="把确认属实的疑点转为举报，交纪委监委办理（每个疑点一次）",
    response_model=FlagDetail,
    responses=problems(401, 403, 404, 409, 422, 503),
)
def create_flag_tip(
    flag_id: RowId, actor: FlagKeeper, session: SessionDep, settings: SettingsDep
) -> FlagDetail:
    return service.open_tip(session, flag_id, actor=actor, settings=settings)


@router.get(
    "/precision",
    summary="各规则的准确率：确认属实 ÷（确认属实 + 排除）",
    response_model=list[RulePrecision],
    responses=problems(401, 403),
)
def read_precision(_staff: FlagKeeper, session: SessionDep) -> list[RulePrecision]:
    return service.precision(session)
