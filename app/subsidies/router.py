from typing import Annotated

from fastapi import Depends

from app.config import SettingsDep
from app.db.fastpath import ReadLaneRoute, ReadTransactionDep
from app.errors import problems
from app.ratelimit import ClientAddress
from app.routing import ApiRouter
from app.subsidies import service
from app.subsidies.schemas import LookupRequest, LookupResponse

router = ApiRouter(prefix="/api/v1/subsidies", tags=["补贴查询"], route_class=ReadLaneRoute)


async def counted_lookup(
    body: LookupRequest, client: ClientAddress, settings: SettingsDep
) -> LookupRequest:
    """The lookup's body, once the client's lookup is counted (RateLimited, 429, past the
    limit). A body that fails validation is answered 422 before it counts."""
    await service.count_lookup(client, settings=settings)
    return body


@router.post(
    "/lookup",
    summary="凭身份证号和姓名查询本人领取的补贴",
    response_model=LookupResponse,
    responses=problems(404, 422, 429),
)
def lookup_subsidies(
    request: Annotated[LookupRequest, Depends(counted_lookup)],
    read_transaction: ReadTransactionDep,
    settings: SettingsDep,
) -> LookupResponse:
    with read_transaction() as connection:
        return service.lookup(connection, request=request, settings=settings)
