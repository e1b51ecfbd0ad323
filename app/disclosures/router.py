from typing import Annotated

from fastapi import Depends, Path, Query, Response

from app.config import SettingsDep
from app.db.engines import SessionDep
from app.disclosures import notice, service
from app.disclosures.schemas import DisclosureList, DisclosureMonths
from app.errors import problems
from app.http_cache import NOT_MODIFIED, cached_route
from app.routing import ApiRoute, ApiRouter
from app.staff.deps import require_role
from app.staff.models import Role, Staff

# A month's list changes only when a sync lands (nightly): villagers who look again, and any
# cache between, get a 304 without the list.
router = ApiRouter(
    prefix="/api/v1/villages",
    tags=["村务公示（晒账）"],
    route_class=cached_route(max_age=300),
    responses=NOT_MODIFIED,
)

admin_router = ApiRouter(
    prefix="/api/v1/admin/villages", tags=["村务公示（晒账）"], route_class=ApiRoute
)

VillageCode = Annotated[str, Path(pattern=r"^\d{12}$", description="村（社区）的 12 位区划代码")]
Period = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-10"])]
NoticePrinter = Annotated[
    Staff,
    Depends(
        require_role(
            Role.county_admin,
            Role.commission,
            Role.township_officer,
            Role.village_clerk,
        )
    ),
]


@router.get(
    "/{village_code}/disclosures",
    summary="本村已公示的月份",
    response_model=DisclosureMonths,
    responses=problems(404, 422),
)
def list_disclosures(village_code: VillageCode, session: SessionDep) -> DisclosureMonths:
    return service.list_periods(session, village_code)


@router.get(
    "/{village_code}/disclosures/{period}",
    summary="本村某月的补贴发放明细（姓名已打码）",
    response_model=DisclosureList,
    responses=problems(404, 422),
)
def read_disclosure(
    village_code: VillageCode,
    period: Period,
    session: SessionDep,
    category: Annotated[str | None, Query(pattern=r"^(0[1-9]|1[01])$")] = None,
) -> DisclosureList:
    return service.month_list(session, village_code, period=period, category=category)


@admin_router.get(
    "/{village_code}/disclosures/{period}/notice.pdf",
    summary="打印本村某月的晒账公示（A4，姓名打码，含合计和手机查看清单的二维码），贴在村务公开栏",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problems(401, 403, 404, 422, 503)},
)
def read_disclosure_notice(
    village_code: VillageCode,
    period: Period,
    staff: NoticePrinter,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    body = notice.notice(session, village_code, period=period, staff=staff, settings=settings)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="shaizhang-{village_code}-{period}.pdf"'
        },
    )
