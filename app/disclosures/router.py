from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.db.engines import SessionDep
from app.disclosures import service
from app.disclosures.schemas import DisclosureList, DisclosureMonths
from app.errors import problems
from app.http_cache import NOT_MODIFIED, cached_route

# A month's list changes only when a sync lands (nightly): villagers who look again, and any
# cache between, get a 304 without the list.
router = APIRouter(
    prefix="/api/v1/villages",
    tags=["村务公示（晒账）"],
    route_class=cached_route(max_age=300),
    responses=NOT_MODIFIED,
)

VillageCode = Annotated[str, Path(pattern=r"^\d{12}$", description="村（社区）的 12 位区划代码")]


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
    period: Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-10"])],
    session: SessionDep,
    category: Annotated[str | None, Query(pattern=r"^(0[1-9]|1[01])$")] = None,
) -> DisclosureList:
    return service.month_list(session, village_code, period=period, category=category)
