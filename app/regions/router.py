from typing import Annotated

from fastapi import Path

from app.db.engines import SessionDep
from app.errors import problems
from app.http_cache import cached_route
from app.regions import service
from app.regions.schemas import RegionRead, RegionTree
from app.routing import ApiRouter

# Reference data: a phone may keep it for an hour and revalidate with its ETag.
router = ApiRouter(prefix="/api/v1/regions", tags=["地区"], route_class=cached_route(3600))

RegionCode = Annotated[
    str, Path(pattern=r"^\d{12}$", description="12 位统计用区划代码", examples=["511923103204"])
]


@router.get(
    "", summary="全县乡镇及其村（社区）", response_model=RegionTree, responses=problems(404)
)
def list_regions(session: SessionDep) -> RegionTree:
    return service.region_tree(session)


@router.get(
    "/{code}",
    summary="查看一个地区及其上下级",
    response_model=RegionRead,
    responses=problems(404, 422),
)
def read_region(code: RegionCode, session: SessionDep) -> RegionRead:
    return service.region_detail(session, code)
