from typing import Annotated, NamedTuple

from fastapi import Depends, Request

from app.config import Settings, SettingsDep
from app.db.fastpath import ReadLaneRoute, ReadTransactionDep
from app.errors import problems
from app.ratelimit import client_address
from app.routing import ApiRouter, DirectRoute
from app.subsidies import service
from app.subsidies.schemas import LookupRequest, LookupResponse


class LookupRoute(DirectRoute, ReadLaneRoute):
    """The lookup's handler on the read lane, its requests handled directly (app.routing)."""


router = ApiRouter(prefix="/api/v1/subsidies", tags=["补贴查询"], route_class=LookupRoute)


class CountedLookup(NamedTuple):
    body: LookupRequest
    settings: Settings


async def counted_lookup(
    body: LookupRequest, request: Request, settings: SettingsDep
) -> CountedLookup:
    """The lookup's body, once the client's lookup is counted (RateLimited, 429, past the
    limit), with the settings it was counted under. A body that fails validation is answered
    422 before it counts. The lookup's one dependency beside its read transaction: each more
    costs every lookup (docs/performance.md#lookup-dependencies)."""
    await service.count_lookup(client_address(request), settings=settings)
    return CountedLookup(body, settings)


@router.post(
    "/lookup",
    summary="凭身份证号和姓名查询本人领取的补贴",
    response_model=LookupResponse,
    responses=problems(404, 422, 429),
)
def lookup_subsidies(
    lookup: Annotated[CountedLookup, Depends(counted_lookup)],
    read_transaction: ReadTransactionDep,
) -> LookupResponse:
    with read_transaction() as connection:
        return service.lookup(connection, request=lookup.body, settings=lookup.settings)
