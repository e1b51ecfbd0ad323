from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response, status

from app import uploads
from app.articles import cases, service
from app.articles.models import ArticleColumn, CaseState
from app.articles.schemas import (
    ArticleAdminBrief,
    ArticleAdminRead,
    ArticleBrief,
    ArticleCreate,
    ArticleRead,
    ArticleReadsRead,
    ArticleUpdate,
    ArticleVersionRead,
    CaseAdminBrief,
    CaseAdminRead,
    CaseBrief,
    CaseCreate,
    CaseRead,
    CaseUpdate,
    ImageList,
)
from app.db.engines import SessionDep
from app.errors import Problem, ok_content, problems
from app.http_cache import NOT_MODIFIED, cached_route, immutable
from app.pagination import Page, PageDep
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId, Text
from app.staff.deps import require_role
from app.staff.models import Role, Staff
from app.tips.schemas import TipCategory
from app.uploads import NoFields, Upload

TAG = "宣传教育"
CASES_TAG = "通报曝光"
# Public answers may be kept by a phone for ten minutes (publish_at / unpublish_at take effect
# within that); a repeat with the ETag costs no body.
router = ApiRouter(prefix="/api/v1", route_class=cached_route(max_age=600), responses=NOT_MODIFIED)
image_router = ApiRouter(prefix="/api/v1", tags=[TAG], route_class=ApiRoute)
admin_router = ApiRouter(prefix="/api/v1/admin", route_class=ApiRoute)

# editors write; a township officer proposes within their township (checked by the service)
ArticleWriter = Annotated[
    Staff, Depends(require_role(Role.editor, Role.county_admin, Role.township_officer))
]
ArticlePublisher = Annotated[Staff, Depends(require_role(*service.EDITORS))]
CaseWriter = Annotated[
    Staff, Depends(require_role(Role.commission, Role.county_admin, Role.township_officer))
]
CasePublisher = Annotated[Staff, Depends(require_role(*cases.COMMISSION))]

ColumnQuery = Annotated[
    ArticleColumn | None,
    Query(
        description="栏目：policy_news 政策宣传、warning 警示教育、culture 廉政文化、work 工作动态"
    ),
]
SearchQuery = Annotated[
    Text | None,
    Query(max_length=50, description="搜索词，按相关程度排序（标题命中的在前）", examples=["低保"]),
]
RegionQuery = Annotated[str | None, Query(pattern=r"^\d{12}$", description="12 位区划代码")]
IMAGES = uploads.Files(
    field="images",
    max_files=service.MAX_IMAGES,
    max_file_bytes=service.IMAGE_MAX_BYTES,
    description="图片：JPEG 或 PNG，一次最多 9 张，每张不超过 10 MB",
)
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "图片或请求太大"}
}


async def _images_only(article_id: RowId, request: Request) -> tuple[NoFields, list[Upload]]:
    return await uploads.parse_body(request, NoFields, IMAGES)


ImageSubmission = Annotated[tuple[NoFields, list[Upload]], Depends(_images_only)]


# --- public -------------------------------------------------------------------------------------


@router.get(
    "/articles",
    tags=[TAG],
    summary="公开的文章，新的在前；可按栏目筛选，q 为中文全文搜索",
    response_model=Page[ArticleBrief],
    responses=problems(422),
)
def list_articles(
    session: SessionDep, page: PageDep, column: ColumnQuery = None, q: SearchQuery = None
) -> Page[ArticleBrief]:
    return service.list_published(session, column=column, q=(q or "").strip(), page=page)


@router.get(
    "/articles/{article_id}",
    tags=[TAG],
    summary="读一篇文章（按天计阅读次数，不记录是谁）",
    response_model=ArticleRead,
    responses=problems(404, 422),
)
def read_article(article_id: RowId, session: SessionDep) -> ArticleRead:
    return service.get_published(session, article_id)


@image_router.get(
    "/article-images/{image_id}",
    summary="文章中的图片（JPEG，已去除拍摄信息；可长期缓存）",
    response_class=Response,
    responses={**ok_content("image/jpeg", "JPEG 图片"), **problems(404, 422)},
)
def read_article_image(image_id: RowId, session: SessionDep) -> Response:
    return immutable(service.get_image(session, image_id), "image/jpeg")


@router.get(
    "/cases",
    tags=[CASES_TAG],
    summary="通报曝光的案例，最近通报的在前；可按乡镇、村、年份、问题类别筛选，q 为全文搜索",
    response_model=Page[CaseBrief],
    responses=problems(422),
)
def list_cases(
    session: SessionDep,
    page: PageDep,
    township_code: RegionQuery = None,
    village_code: Annotated[
        str | None, Query(pattern=r"^\d{12}$", description="只看这个村（社区）的案例")
    ] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="通报年份")] = None,
    category: Annotated[TipCategory | None, Query(description="问题类别，与举报的类别相同")] = None,
    q: SearchQuery = None,
) -> Page[CaseBrief]:
    return cases.list_published(
        session,
        township_code=township_code,
        village_code=village_code,
        year=year,
        category=category,
        q=(q or "").strip(),
        page=page,
    )


@router.get(
    "/cases/{case_id}",
    tags=[CASES_TAG],
    summary="一个案例：各项内容、按模板生成的通报全文和通报回访",
    response_model=CaseRead,
    responses=problems(404, 422),
)
def read_case(case_id: RowId, session: SessionDep) -> CaseRead:
    return cases.get_published(session, case_id)


# --- staff: articles ----------------------------------------------------------------------------


@admin_router.get(
    "/articles",
    tags=[TAG],
    summary="全部文章（含草稿），各带最新版本；乡镇工作人员只看本乡镇提出的",
    response_model=Page[ArticleAdminBrief],
    responses=problems(401, 403, 422),
)
def list_admin_articles(
    staff: ArticleWriter, session: SessionDep, page: PageDep, column: ColumnQuery = None
) -> Page[ArticleAdminBrief]:
    return service.list_articles(session, column=column, staff=staff, page=page)


@admin_router.post(
    "/articles",
    tags=[TAG],
    summary="新建文章（草稿；乡镇工作人员新建的算本乡镇提出的）",
    response_model=ArticleAdminRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 422),
)
def create_article(
    data: ArticleCreate, actor: ArticleWriter, session: SessionDep
) -> ArticleAdminRead:
    return service.create_article(session, data=data, actor=actor)


@admin_router.get(
    "/articles/{article_id}",
    tags=[TAG],
    summary="查看一篇文章及其最新版本",
    response_model=ArticleAdminRead,
    responses=problems(401, 403, 404, 422),
)
def read_admin_article(
    article_id: RowId, staff: ArticleWriter, session: SessionDep
) -> ArticleAdminRead:
    return service.get_article(session, article_id, staff=staff)


@admin_router.patch(
    "/articles/{article_id}",
    tags=[TAG],
    summary="修改文章：生成新的草稿版本（已发布的版本照常公开，直到新版本发布）",
    response_model=ArticleAdminRead,
    responses=problems(401, 403, 404, 422),
)
def update_article(
    article_id: RowId, data: ArticleUpdate, actor: ArticleWriter, session: SessionDep
) -> ArticleAdminRead:
    return service.update_article(session, article_id, data=data, actor=actor)


@admin_router.get(
    "/articles/{article_id}/versions",
    tags=[TAG],
    summary="文章的历史版本（新的在前）",
    response_model=Page[ArticleVersionRead],
    responses=problems(401, 403, 404, 422),
)
def list_article_versions(
    article_id: RowId, staff: ArticleWriter, session: SessionDep, page: PageDep
) -> Page[ArticleVersionRead]:
    return service.list_versions(session, article_id, staff=staff, page=page)


@admin_router.post(
    "/articles/{article_id}/submit",
    tags=[TAG],
    summary="提交最新的草稿，等编辑发布",
    response_model=ArticleAdminRead,
    responses=problems(401, 403, 404, 422),
)
def submit_article(
    article_id: RowId, actor: ArticleWriter, session: SessionDep
) -> ArticleAdminRead:
    return service.submit_article(session, article_id, actor=actor)


@admin_router.post(
    "/articles/{article_id}/publish",
    tags=[TAG],
    summary="发布最新的版本（从 publish_at 起公开，到 unpublish_at 为止）",
    response_model=ArticleAdminRead,
    responses=problems(401, 403, 404, 422),
)
def publish_article(
    article_id: RowId, actor: ArticlePublisher, session: SessionDep
) -> ArticleAdminRead:
    return service.publish_article(session, article_id, actor=actor)


@admin_router.post(
    "/articles/{article_id}/unpublish",
    tags=[TAG],
    summary="撤下文章：公众不再能看到和搜到（历史版本保留）",
    response_model=ArticleAdminRead,
    responses=problems(401, 403, 404, 422),
)
def unpublish_article(
    article_id: RowId, actor: ArticlePublisher, session: SessionDep
) -> ArticleAdminRead:
    return service.unpublish_article(session, article_id, actor=actor)


@admin_router.post(
    "/articles/{article_id}/images",
    tags=[TAG],
    summary="上传文章图片（字段 images；去除拍摄信息，缩到 1080 像素宽），返回可插入正文的地址",
    response_model=ImageList,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 404, 422), **TOO_LARGE},
    openapi_extra=uploads.body_schema(NoFields, IMAGES),
)
def create_article_images(
    article_id: RowId, actor: ArticleWriter, submission: ImageSubmission, session: SessionDep
) -> ImageList:
    _, files = submission
    return service.add_images(session, article_id, uploads=files, actor=actor)


@admin_router.get(
    "/articles/{article_id}/images",
    tags=[TAG],
    summary="这篇文章已上传的图片",
    response_model=ImageList,
    responses=problems(401, 403, 404, 422),
)
def list_article_images(article_id: RowId, staff: ArticleWriter, session: SessionDep) -> ImageList:
    return service.list_images(session, article_id, staff=staff)


@admin_router.get(
    "/articles/{article_id}/reads",
    tags=[TAG],
    summary="每天的阅读次数",
    response_model=ArticleReadsRead,
    responses=problems(401, 403, 404, 422),
)
def read_article_reads(
    article_id: RowId, staff: ArticleWriter, session: SessionDep
) -> ArticleReadsRead:
    return service.reads(session, article_id, staff=staff)


# --- staff: cases -------------------------------------------------------------------------------


@admin_router.get(
    "/cases",
    tags=[CASES_TAG],
    summary="全部案例（含草稿），最近修改的在前；乡镇工作人员只看本乡镇的",
    response_model=Page[CaseAdminBrief],
    responses=problems(401, 403, 422),
)
def list_admin_cases(
    staff: CaseWriter,
    session: SessionDep,
    page: PageDep,
    state: Annotated[CaseState | None, Query(description="只看这个状态")] = None,
) -> Page[CaseAdminBrief]:
    return cases.list_cases(session, state=state, staff=staff, page=page)


@admin_router.post(
    "/cases",
    tags=[CASES_TAG],
    summary="登记案例（草稿）；乡镇工作人员只能登记本乡镇的",
    response_model=CaseAdminRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 422),
)
def create_case(data: CaseCreate, actor: CaseWriter, session: SessionDep) -> CaseAdminRead:
    return cases.create_case(session, data=data, actor=actor)


@admin_router.get(
    "/cases/{case_id}",
    tags=[CASES_TAG],
    summary="查看一个案例（姓名不打码）",
    response_model=CaseAdminRead,
    responses=problems(401, 403, 404, 422),
)
def read_admin_case(case_id: RowId, staff: CaseWriter, session: SessionDep) -> CaseAdminRead:
    return cases.get_case(session, case_id, staff=staff)


@admin_router.patch(
    "/cases/{case_id}",
    tags=[CASES_TAG],
    summary="修改案例（含通报回访）；已公开的只能由纪委监委修改，立即按新内容公开",
    response_model=CaseAdminRead,
    responses=problems(401, 403, 404, 422),
)
def update_case(
    case_id: RowId, data: CaseUpdate, actor: CaseWriter, session: SessionDep
) -> CaseAdminRead:
    return cases.update_case(session, case_id, data=data, actor=actor)


@admin_router.post(
    "/cases/{case_id}/submit",
    tags=[CASES_TAG],
    summary="提交草稿，等纪委监委发布",
    response_model=CaseAdminRead,
    responses=problems(401, 403, 404, 422),
)
def submit_case(case_id: RowId, actor: CaseWriter, session: SessionDep) -> CaseAdminRead:
    return cases.submit_case(session, case_id, actor=actor)


@admin_router.post(
    "/cases/{case_id}/publish",
    tags=[CASES_TAG],
    summary="公开案例（通报日期不填则为今天）",
    response_model=CaseAdminRead,
    responses=problems(401, 403, 404, 422),
)
def publish_case(case_id: RowId, actor: CasePublisher, session: SessionDep) -> CaseAdminRead:
    return cases.publish_case(session, case_id, actor=actor)


@admin_router.post(
    "/cases/{case_id}/unpublish",
    tags=[CASES_TAG],
    summary="撤下案例：公众不再能看到和搜到",
    response_model=CaseAdminRead,
    responses=problems(401, 403, 404, 422),
)
def unpublish_case(case_id: RowId, actor: CasePublisher, session: SessionDep) -> CaseAdminRead:
    return cases.unpublish_case(session, case_id, actor=actor)
