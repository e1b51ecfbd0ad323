from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.config import Settings, get_settings
from app.db import SessionDep
from app.errors import problems
from app.subsidies import service
from app.subsidies.schemas import LookupRequest, LookupResponse

router = APIRouter(prefix="/api/v1/subsidies", tags=["补贴查询"])


@router.post(
    "/lookup",
    summary="凭身份证号和姓名查询本人领取的补贴",
    response_model=LookupResponse,
    responses=problems(404, 422, 429),
)
def lookup_subsidies(
    body: LookupRequest,
    request: Request,
    session: SessionDep,
    settings: Annotated[Settings, Depends(get_settings)],
) -> LookupResponse:
    client = request.client.host if request.client else "unknown"
    return service.lookup(session, request=body, client=client, settings=settings)
