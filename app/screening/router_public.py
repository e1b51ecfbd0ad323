"""Public: what a village's cadres and their close relatives were paid in a year."""

from typing import Annotated

from fastapi import Path

from app.db.engines import SessionDep
from app.disclosures.router import VillageCode
from app.errors import problems
from app.http_cache import NOT_MODIFIED, cached_route
from app.routing import ApiRouter
from app.screening import disclosure
from app.screening.schemas_lists import CadreBenefits

# Changes only when a sync lands or the roster is uploaded: cached as the village lists are.
router = ApiRouter(
    prefix="/api/v1/villages",
    tags=["干部亲属享受惠民政策公示"],
    route_class=cached_route(max_age=300),
    responses=NOT_MODIFIED,
)


@router.get(
    "/{village_code}/cadre-benefits/{year}",
    summary="本村干部及其近亲属当年领到的补贴（姓名已打码）及其占全村的比例",
    response_model=CadreBenefits,
    responses=problems(404, 422),
)
def read_cadre_benefits(
    village_code: VillageCode,
    year: Annotated[int, Path(ge=2000, le=2100, examples=[2026])],
    session: SessionDep,
) -> CadreBenefits:
    return disclosure.cadre_benefits(session, village_code, year=year)
