from typing import Annotated

from fastapi import Path, status

from app.config import SettingsDep
from app.db.engines import SessionDep
from app.errors import problems
from app.ratelimit import ClientAddress
from app.routing import ApiRoute, ApiRouter
from app.screening import objections as service
from app.screening.schemas_objections import ObjectionCreate
from app.tips.schemas import TipReceipt

# No request id, address or agent is logged for this path (app.public_writes.ANONYMOUS_PATHS).
router = ApiRouter(prefix="/api/v1/villages", tags=["村务公示（晒账）"], route_class=ApiRoute)

VillageCode = Annotated[str, Path(pattern=r"^\d{12}$", description="村（社区）的 12 位区划代码")]
Period = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-10"])]


@router.post(
    "/{village_code}/disclosures/{period}/objections",
    summary="对公示清单上的一条提出异议（这条不对）：匿名，返回只显示一次的回执码",
    response_model=TipReceipt,
    status_code=status.HTTP_201_CREATED,
    responses=problems(404, 422, 429),
)
def create_objection(
    village_code: VillageCode,
    period: Period,
    body: ObjectionCreate,
    client: ClientAddress,
    session: SessionDep,
    settings: SettingsDep,
) -> TipReceipt:
    return service.object_to_line(
        session, village_code, period=period, data=body, client=client, settings=settings
    )
