from fastapi import APIRouter

from app.config import SettingsDep
from app.db.fastpath import ReadTransactionDep, in_read_lane
from app.errors import problems
from app.ratelimit import ClientAddress
from app.routing import ApiRoute
from app.subsidies import service
from app.subsidies.schemas import LookupRequest, LookupResponse

router = APIRouter(prefix="/api/v1/subsidies", tags=["补贴查询"], route_class=ApiRoute)


@router.post(
    "/lookup",
    summary="凭身份证号和姓名查询本人领取的补贴",
    response_model=LookupResponse,
    responses=problems(404, 422, 429),
)
async def lookup_subsidies(
    body: LookupRequest,
    client: ClientAddress,
    read_transaction: ReadTransactionDep,
    settings: SettingsDep,
) -> LookupResponse:
    def work() -> LookupResponse:
        with read_transaction() as connection:
            return service.lookup(connection, request=body, client=client, settings=settings)

    return await in_read_lane(work)
