from typing import Annotated

from fastapi import Depends, Path, status

from app.contacts import service
from app.contacts.schemas import (
    ContactCreate,
    ContactFilter,
    ContactRead,
    ContactUpdate,
    VillageContacts,
)
from app.db.engines import SessionDep
from app.errors import problems
from app.pagination import Page, PageDep
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId
from app.staff.deps import require_role
from app.staff.models import Role, Staff

TAG = "找谁监督"
router = ApiRouter(prefix="/api/v1/villages", tags=[TAG], route_class=ApiRoute)
admin_router = ApiRouter(prefix="/api/v1/admin/contacts", tags=[TAG], route_class=ApiRoute)

Keeper = Annotated[
    Staff,
    Depends(
        require_role(
            Role.county_admin, Role.commission, Role.township_officer, region_param="region_code"
        )
    ),
]
VillageCode = Annotated[str, Path(pattern=r"^\d{12}$", description="村（社区）的 12 位区划代码")]


@router.get(
    "/{village_code}/contacts",
    summary="找谁监督：本村的乡镇纪委监督电话、县纪委监委举报电话、包片领导电话",
    response_model=VillageContacts,
    responses=problems(404, 422),
)
def list_village_contacts(village_code: VillageCode, session: SessionDep) -> VillageContacts:
    return service.village_contacts(session, village_code)


@admin_router.get(
    "",
    summary="本辖区登记的监督电话",
    response_model=Page[ContactRead],
    responses=problems(401, 403, 422),
)
def list_contacts(
    staff: Keeper,
    session: SessionDep,
    page: PageDep,
    filters: Annotated[ContactFilter, Depends()],
) -> Page[ContactRead]:
    return service.list_contacts(session, staff=staff, filters=filters, page=page)


@admin_router.post(
    "",
    summary="登记一个监督电话（每个地区每种一个；记入审计日志）",
    response_model=ContactRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
def create_contact(data: ContactCreate, actor: Keeper, session: SessionDep) -> ContactRead:
    return service.create_contact(session, data=data, actor=actor)


@admin_router.put(
    "/{contact_id}",
    summary="修改一个监督电话（记入审计日志）",
    response_model=ContactRead,
    responses=problems(401, 403, 404, 422),
)
def update_contact(
    contact_id: RowId, data: ContactUpdate, actor: Keeper, session: SessionDep
) -> ContactRead:
    return service.update_contact(session, contact_id, data=data, actor=actor)


@admin_router.delete(
    "/{contact_id}",
    summary="删除一个监督电话（记入审计日志）",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 422),
)
def delete_contact(contact_id: RowId, actor: Keeper, session: SessionDep) -> None:
    service.delete_contact(session, contact_id, actor=actor)
