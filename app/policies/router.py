from typing import Annotated

from fastapi import Depends, Query, status

from app.db.engines import SessionDep
from app.errors import problems
from app.http_cache import NOT_MODIFIED, cached_route
from app.pagination import Page, PageDep
from app.policies import service
from app.policies.schemas import (
    CategoryCode,
    PolicyAdminBrief,
    PolicyAdminRead,
    PolicyBrief,
    PolicyCategoryList,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
    PolicyVersionRead,
)
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId, Text
from app.staff.deps import require_role
from app.staff.models import Role, Staff

TAG = "惠民政策"
# Public answers may be kept by a phone for an hour; a repeat with the ETag costs no body.
router = ApiRouter(
    prefix="/api/v1",
    tags=[TAG],
    route_class=cached_route(max_age=3600),
    responses=NOT_MODIFIED,
)
admin_router = ApiRouter(prefix="/api/v1/admin/policies", tags=[TAG], route_class=ApiRoute)

Editor = Annotated[Staff, Depends(require_role(Role.editor, Role.county_admin))]
CategoryQuery = Annotated[CategoryCode | None, Query(description="只看这一类（01–11）")]


@router.get(
    "/policy-categories",
    summary="11 类惠民惠农政策及各类已发布的政策数",
    response_model=PolicyCategoryList,
)
def list_policy_categories(session: SessionDep) -> PolicyCategoryList:
    return service.category_counts(session)


@router.get(
    "/policies",
    summary="已发布的政策列表；q 为中文全文搜索（不含正文）",
    response_model=Page[PolicyBrief],
    responses=problems(422),
)
def list_policies(
    session: SessionDep,
    page: PageDep,
    category: CategoryQuery = None,
    q: Annotated[
        Text | None,
        Query(
            max_length=50, description="搜索词，如 低保、养老金；按相关程度排序", examples=["低保"]
        ),
    ] = None,
) -> Page[PolicyBrief]:
    return service.list_published(session, category=category, q=(q or "").strip(), page=page)


@router.get(
    "/policies/{policy_id}",
    summary="查看一条政策（已发布的版本）",
    response_model=PolicyRead,
    responses=problems(404, 422),
)
def read_policy(policy_id: RowId, session: SessionDep) -> PolicyRead:
    return service.get_published(session, policy_id)


@admin_router.get(
    "",
    summary="全部政策（含未发布的），各带最新版本",
    response_model=Page[PolicyAdminBrief],
    responses=problems(401, 403, 422),
)
def list_admin_policies(
    _staff: Editor, session: SessionDep, page: PageDep, category: CategoryQuery = None
) -> Page[PolicyAdminBrief]:
    return service.list_policies(session, category=category, page=page)


@admin_router.post(
    "",
    summary="新建政策（草稿，发布前公众看不到）",
    response_model=PolicyAdminRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 409, 422),
)
def create_policy(data: PolicyCreate, actor: Editor, session: SessionDep) -> PolicyAdminRead:
    return service.create_policy(session, data=data, actor=actor)


@admin_router.get(
    "/{policy_id}",
    summary="查看一条政策及其最新版本",
    response_model=PolicyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def read_admin_policy(policy_id: RowId, _staff: Editor, session: SessionDep) -> PolicyAdminRead:
    return service.get_policy(session, policy_id)


@admin_router.patch(
    "/{policy_id}",
    summary="修改政策：生成新的草稿版本（已发布的版本照常公开，直到新版本发布）",
    response_model=PolicyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def update_policy(
    policy_id: RowId, data: PolicyUpdate, actor: Editor, session: SessionDep
) -> PolicyAdminRead:
    return service.update_policy(session, policy_id, data=data, actor=actor)


@admin_router.get(
    "/{policy_id}/versions",
    summary="政策的历史版本（新的在前）",
    response_model=Page[PolicyVersionRead],
    responses=problems(401, 403, 404, 422),
)
def list_policy_versions(
    policy_id: RowId, _staff: Editor, session: SessionDep, page: PageDep
) -> Page[PolicyVersionRead]:
    return service.list_versions(session, policy_id, page=page)


@admin_router.post(
    "/{policy_id}/submit",
    summary="提交最新的草稿，等待发布",
    response_model=PolicyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def submit_policy(policy_id: RowId, actor: Editor, session: SessionDep) -> PolicyAdminRead:
    return service.submit_policy(session, policy_id, actor=actor)


@admin_router.post(
    "/{policy_id}/publish",
    summary="发布已提交的版本，取代原来公开的版本",
    response_model=PolicyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def publish_policy(policy_id: RowId, actor: Editor, session: SessionDep) -> PolicyAdminRead:
    return service.publish_policy(session, policy_id, actor=actor)


@admin_router.post(
    "/{policy_id}/unpublish",
    summary="撤下政策：公众不再能看到和搜到（历史版本保留）",
    response_model=PolicyAdminRead,
    responses=problems(401, 403, 404, 422),
)
def unpublish_policy(policy_id: RowId, actor: Editor, session: SessionDep) -> PolicyAdminRead:
    return service.unpublish_policy(session, policy_id, actor=actor)
