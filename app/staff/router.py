from typing import Annotated

from fastapi import Depends, Form, Query, Response, status

from app.config import SettingsDep
from app.db.engines import SessionDep
from app.errors import problems
from app.pagination import Page, PageDep, page_of
from app.ratelimit import ClientAddress
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId
from app.staff import imports, service
from app.staff.deps import CurrentAccount, require_role
from app.staff.errors import StaffImportInvalid
from app.staff.models import Role, Staff
from app.staff.schemas import (
    CadreImportRead,
    PasswordChange,
    RefreshRequest,
    SignInForm,
    StaffCreate,
    StaffFilter,
    StaffRead,
    StaffUpdate,
    TokenPair,
)
from app.uploads import Files, Upload, file_body, one_file

auth_router = ApiRouter(prefix="/api/v1/auth", tags=["登录"], route_class=ApiRoute)
admin_router = ApiRouter(prefix="/api/v1/admin/staff", tags=["工作人员管理"], route_class=ApiRoute)

CountyAdmin = Annotated[Staff, Depends(require_role(Role.county_admin))]
StaffReader = Annotated[
    Staff,
    Depends(
        require_role(
            Role.county_admin, Role.township_officer, Role.village_clerk, region_param="region_code"
        )
    ),
]


@auth_router.post(
    "/token",
    summary="工作人员登录，取得访问令牌和刷新令牌",
    response_model=TokenPair,
    responses=problems(401, 422, 429),
)
def create_token(
    form: Annotated[SignInForm, Form()],
    client: ClientAddress,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPair:
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1
    return service.login(
        session, username=form.username, password=form.password, client=client, settings=settings
    )


@auth_router.post(
    "/refresh",
    summary="用刷新令牌换一对新令牌（旧的刷新令牌随即失效）",
    response_model=TokenPair,
    responses=problems(401, 422),
)
def refresh_token(
    body: RefreshRequest, response: Response, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    response.headers["Cache-Control"] = "no-store"
    return service.refresh(session, refresh_token=body.refresh_token, settings=settings)


@auth_router.post(
    "/logout",
    summary="退出登录（注销刷新令牌）",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(422),
)
def logout(body: RefreshRequest, session: SessionDep) -> None:
    service.logout(session, refresh_token=body.refresh_token)


@auth_router.post(
    "/password",
    summary="修改自己的密码（工作人员和干部考试账号）；改好后所有登录失效，用新密码重新登录",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 422, 429),
)
def change_password(
    body: PasswordChange, account: CurrentAccount, session: SessionDep, settings: SettingsDep
) -> None:
    service.change_password(session, account, data=body, settings=settings)


@auth_router.get(
    "/me", summary="当前登录的工作人员", response_model=StaffRead, responses=problems(401)
)
def read_me(staff: CurrentAccount) -> Staff:
    return staff


@admin_router.get(
    "",
    summary="工作人员列表（只含本人辖区）",
    response_model=Page[StaffRead],
    responses=problems(401, 403, 422),
)
def list_staff(
    viewer: StaffReader,
    session: SessionDep,
    page: PageDep,
    filters: Annotated[StaffFilter, Query()],
) -> Page[StaffRead]:
    rows, total = service.list_staff(session, viewer=viewer, filters=filters, page=page)
    return page_of(StaffRead, rows, total, page)


@admin_router.post(
    "",
    summary="新建工作人员账号",
    response_model=StaffRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
def create_staff(data: StaffCreate, actor: CountyAdmin, session: SessionDep) -> Staff:
    return service.create_staff(session, data=data, actor=actor)


CADRE_FILE = Files(
    field="file",
    max_files=1,
    max_file_bytes=imports.MAX_IMPORT_BYTES,
    description="干部名单 CSV（UTF-8 或 GBK），表头 `username,display_name,role,region_code`",
)
CadreImporter = Annotated[Staff, Depends(require_role(Role.county_admin, Role.township_officer))]


@admin_router.post(
    "/import",
    summary="批量新建干部考试账号（角色 cadre），一次性密码只在这次回答中显示",
    description=(
        "乡镇工作人员为本乡镇的村（社区）和乡镇干部建账号。整份名单没有问题才建，"
        "有问题的行按行号列在 `rows` 中；每个账号写入审计日志（不含密码）。"
    ),
    response_model=CadreImportRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 422),
    openapi_extra=file_body(CADRE_FILE),
)
def import_cadres(
    actor: CadreImporter,
    upload: Annotated[Upload, Depends(one_file(CADRE_FILE, missing=StaffImportInvalid))],
    response: Response,
    session: SessionDep,
) -> CadreImportRead:
    response.headers["Cache-Control"] = "no-store"
    accounts = imports.import_cadres(session, data=upload.data, actor=actor)
    return CadreImportRead.model_validate(
        {"created": len(accounts), "accounts": accounts}, from_attributes=True
    )


@admin_router.get(
    "/{staff_id}",
    summary="查看一个工作人员",
    response_model=StaffRead,
    responses=problems(401, 403, 404, 422),
)
def read_staff(staff_id: RowId, viewer: StaffReader, session: SessionDep) -> Staff:
    return service.get_staff(session, staff_id, viewer=viewer)


@admin_router.patch(
    "/{staff_id}",
    summary="修改工作人员：姓名、角色、辖区、停用或启用、重设密码",
    response_model=StaffRead,
    responses=problems(401, 403, 404, 422),
)
def update_staff(
    staff_id: RowId, data: StaffUpdate, actor: CountyAdmin, session: SessionDep
) -> Staff:
    return service.update_staff(session, staff_id, data=data, actor=actor)
