from typing import Annotated

from fastapi import Depends, Query

from app.audit import service
from app.audit.schemas import AuditEntryRead, AuditFilter
from app.db.engines import SessionDep
from app.errors import problems
from app.pagination import Page, PageDep, page_of
from app.routing import ApiRoute, ApiRouter
from app.staff.deps import require_role
from app.staff.models import Role, Staff

router = ApiRouter(prefix="/api/v1/admin/audit", tags=["审计日志"], route_class=ApiRoute)


@router.get(
    "",
    summary="审计日志：每一次工作人员写操作（新的在前）",
    response_model=Page[AuditEntryRead],
    responses=problems(401, 403, 422),
)
def list_audit_entries(
    _admin: Annotated[Staff, Depends(require_role(Role.county_admin))],
    session: SessionDep,
    page: PageDep,
    filters: Annotated[AuditFilter, Query()],
) -> Page[AuditEntryRead]:
    rows, total = service.list_entries(session, filters=filters, page=page)
    return page_of(AuditEntryRead, rows, total, page)
