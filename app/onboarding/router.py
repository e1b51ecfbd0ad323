from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse
from pydantic import AfterValidator, StringConstraints
from sqlalchemy.orm import Session

from app.config import Settings, SettingsDep
from app.db.engines import SessionDep
from app.errors import ok_content, problems
from app.http_cache import NOT_MODIFIED, conditional
from app.onboarding import pages, service
from app.onboarding.schemas import PosterCreate, PosterRead, PosterStats, TownshipScans
from app.pagination import Page, PageDep, page_of
from app.routing import ApiRoute, ApiRouter
from app.schemas import single_line
from app.staff.deps import require_role
from app.staff.models import Role, Staff

TAG = "扫码安装"
admin_router = ApiRouter(prefix="/api/v1/admin/posters", tags=[TAG], route_class=ApiRoute)
landing_router = ApiRouter(tags=[TAG], route_class=ApiRoute)

PosterMaker = Annotated[
    Staff,
    Depends(
        require_role(
            Role.commission, Role.county_admin, Role.township_officer, region_param="township_code"
        )
    ),
]
PosterCode = Annotated[
    str, Path(pattern=rf"^[{service.CODE_ALPHABET}]{{8}}$", description="海报码（8 位）")
]
# A poster's images also depend on settings (public base URL, app name, font) that may change:
# cached for a day, then revalidated by their ETag (a 304 when unchanged).
IMAGE_MAX_AGE = 86400
IMAGE_PROBLEMS = {**NOT_MODIFIED, **problems(401, 403, 404, 422)}


def _image(
    request: Request, body: bytes, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    response = Response(body, media_type=media_type, headers=headers)
    return conditional(request, response, max_age=IMAGE_MAX_AGE, private=True)


# --- staff ------------------------------------------------------------------------------------


@admin_router.post(
    "",
    summary="为某村某处（渠道）新建海报，得到海报码和二维码地址（同村同渠道只能有一张）",
    response_model=PosterRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
def create_poster(
    data: PosterCreate, actor: PosterMaker, session: SessionDep, settings: SettingsDep
) -> PosterRead:
    return service.create_poster(session, data=data, actor=actor, settings=settings)


@admin_router.get(
    "",
    summary="本辖区的海报（新的在前），含累计扫码次数；可按乡镇或村筛选",
    response_model=Page[PosterRead],
    responses=problems(401, 403, 422),
)
def list_posters(
    staff: PosterMaker,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    township_code: Annotated[
        str | None, Query(pattern=r"^\d{9}000$", description="乡镇（街道）的 12 位区划代码")
    ] = None,
    village_code: Annotated[
        str | None, Query(pattern=r"^\d{12}$", description="村（社区）的 12 位区划代码")
    ] = None,
) -> Page[PosterRead]:
    rows, total = service.list_posters(
        session,
        staff=staff,
        township_code=township_code,
        village_code=village_code,
        page=page,
        settings=settings,
    )
    return page_of(PosterRead, rows, total, page)


@admin_router.get(
    "/townships",
    summary="各乡镇的海报数和累计扫码次数（本辖区内每个乡镇，没有海报的记 0）",
    response_model=list[TownshipScans],
    responses=problems(401, 403),
)
def list_township_scans(staff: PosterMaker, session: SessionDep) -> list[TownshipScans]:
    return service.township_scans(session, staff=staff)


@admin_router.get(
    "/{code}",
    summary="查看一张海报",
    response_model=PosterRead,
    responses=problems(401, 403, 404, 422),
)
def read_poster(
    code: PosterCode, staff: PosterMaker, session: SessionDep, settings: SettingsDep
) -> PosterRead:
    return service.read_poster(session, code, staff=staff, settings=settings)


@admin_router.get(
    "/{code}/stats",
    summary="海报的扫码统计：按日期（北京时间）和手机类型",
    response_model=PosterStats,
    responses=problems(401, 403, 404, 422),
)
def read_poster_stats(
    code: PosterCode, staff: PosterMaker, session: SessionDep, settings: SettingsDep
) -> PosterStats:
    return service.poster_stats(session, code, staff=staff, settings=settings)


@admin_router.get(
    "/{code}/qr.svg",
    summary="海报的二维码（SVG，纠错等级 Q，保留 4 格白边）",
    response_class=Response,
    responses={**ok_content("image/svg+xml", "SVG 图片"), **IMAGE_PROBLEMS},
)
def read_qr_svg(
    code: PosterCode,
    request: Request,
    staff: PosterMaker,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    body = service.qr_svg(session, code, staff=staff, settings=settings)
    return _image(request, body, "image/svg+xml")


@admin_router.get(
    "/{code}/qr.png",
    summary="海报的二维码（PNG，纠错等级 Q，保留 4 格白边）",
    response_class=Response,
    responses={**ok_content("image/png", "PNG 图片"), **IMAGE_PROBLEMS},
)
def read_qr_png(
    code: PosterCode,
    request: Request,
    staff: PosterMaker,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    body = service.qr_png(session, code, staff=staff, settings=settings)
    return _image(request, body, "image/png")


@admin_router.get(
    "/{code}/poster.png",
    summary="可打印的 A4 海报（300 dpi PNG）：应用名、村名、功能介绍和二维码",
    response_class=Response,
    responses={
        **ok_content("image/png", "A4 海报，2480×3508 像素"),
        **NOT_MODIFIED,
        **problems(401, 403, 404, 422, 503),
    },
)
def read_poster_png(
    code: PosterCode,
    request: Request,
    staff: PosterMaker,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    body = service.poster_png(session, code, staff=staff, settings=settings)
    disposition = {"Content-Disposition": f'inline; filename="poster-{code}.png"'}
    return _image(request, body, "image/png", disposition)


# --- villagers --------------------------------------------------------------------------------

# Each visit must reach the server to be counted, and the page must not linger in a cache.
NO_STORE = {"Cache-Control": "no-store"}
ScanCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True),  # a scanner may add a line break
    AfterValidator(single_line),
    Path(description="海报码（不分大小写，前后的空白不计）"),
]
UserAgent = Annotated[
    str, Header(description="只用来判断手机类型（安卓、苹果、微信、其他），不保存、不记日志")
]


def _landing(
    code: str, user_agent: str, session: Session, settings: Settings, *, count: bool
) -> HTMLResponse:
    platform = pages.platform_of(user_agent)
    item = service.record_scan(session, code, platform=platform, count=count)
    if item is None:
        return HTMLResponse(pages.not_found(settings), status_code=404, headers=NO_STORE)
    page = pages.landing(
        village_name=service.village_name(item.village),
        village_code=item.village.code,
        platform=platform,
        settings=settings,
    )
    return HTMLResponse(page, headers=NO_STORE)


@landing_router.get(
    "/i/{code}",
    summary="扫码落地页（H5）：记一次扫码（只记日期和手机类型），按手机类型给出安装方式",
    description="安卓手机：下载安装包；苹果手机：App Store；微信里：提示在浏览器打开，"
    "并给出小程序。海报码不存在时是一张中文的 404 页面。",
    response_class=Response,
    responses={
        **ok_content("text/html", "中文 H5 页面"),
        404: {"content": {"text/html": {}}, "description": "没有这个海报码：中文 H5 页面"},
        **problems(422),
    },
)
def read_landing_page(
    code: ScanCode, session: SessionDep, settings: SettingsDep, user_agent: UserAgent = ""
) -> HTMLResponse:
    return _landing(code, user_agent, session, settings, count=True)


@landing_router.head("/i/{code}", include_in_schema=False)
def head_landing_page(
    code: ScanCode, session: SessionDep, settings: SettingsDep, user_agent: UserAgent = ""
) -> HTMLResponse:
    """Link checkers and previews ask with HEAD: answered, never counted."""
    return _landing(code, user_agent, session, settings, count=False)


@landing_router.api_route("/i", methods=["GET", "HEAD"], include_in_schema=False)
@landing_router.api_route("/i/", methods=["GET", "HEAD"], include_in_schema=False)
def read_landing_without_code(settings: SettingsDep) -> HTMLResponse:
    """A scan that lost its code (a cut-off link): the same Chinese page as an unknown code."""
    return HTMLResponse(pages.not_found(settings), status_code=404, headers=NO_STORE)
