"""Admin: the reference lists and the item standards of payout screening."""

from typing import Annotated, Any

from fastapi import Depends, Path, Request, status
from pydantic import BaseModel, ConfigDict

from app.config import SettingsDep
from app.db.engines import SessionDep, SortingRoute
from app.errors import problems
from app.routing import ApiRoute, ApiRouter
from app.schemas import Text
from app.screening import lists, standards
from app.screening.errors_lists import ListFileMissing
from app.screening.models import ListKind
from app.screening.schemas_lists import ListRead, ListUploadRead, StandardRead, StandardUpdate
from app.staff.deps import require_role
from app.staff.models import Role, Staff
from app.uploads import Files, parse_body

TAG = "疑点筛查"
router = ApiRouter(prefix="/api/v1/admin/screening", tags=[TAG], route_class=ApiRoute)

Screener = Annotated[Staff, Depends(require_role(Role.commission, Role.county_admin))]
ItemName = Annotated[
    Text, Path(min_length=1, max_length=64, description="补贴项目名称，与一卡通发放记录的写法相同")
]

LIST_FILE = Files(
    field="file",
    max_files=1,
    max_file_bytes=lists.MAX_LIST_BYTES,
    description="名单 CSV 文件（UTF-8 或 GBK 编码，带表头，不超过 10 MB）",
)


class _NoFields(BaseModel):
    model_config = ConfigDict(extra="ignore")


async def _list_file(request: Request) -> bytes:
    """The uploaded file, read in memory (app.uploads never spools it to disk)."""
    _, uploads = await parse_body(request, _NoFields, LIST_FILE, invalid=ListFileMissing)
    if len(uploads) != 1:
        raise ListFileMissing("请在 multipart/form-data 的 file 字段上传一个 CSV 文件。")
    return uploads[0].data


ListFile = Annotated[bytes, Depends(_list_file)]
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": LIST_FILE.description,
                        }
                    },
                }
            }
        },
    }
}


@router.get(
    "/lists",
    summary="三份名单（死亡人员、财政供养人员、干部及其近亲属）的条数和最近一次上传",
    response_model=list[ListRead],
    responses=problems(401, 403),
)
def list_lists(session: SessionDep, staff: Screener) -> list[ListRead]:
    return lists.list_lists(session)


def upload_list(
    staff: Screener, kind: ListKind, data: ListFile, session: SessionDep, settings: SettingsDep
) -> ListUploadRead:
    # `staff` first: the caller is known before the body is read.
    return lists.upload_list(session, kind, data=data, actor=staff, settings=settings)


router.add_api_route(
    "/lists/{kind}",
    upload_list,
    methods=["POST"],
    summary="上传名单 CSV，整份替换旧名单（身份证号到达即转为密钥哈希，不保存、不记录）",
    description=(
        "表头：deceased 为 `id_number,died_on`；public_employees 为 `id_number`；"
        "cadre_relatives 为 `id_number,cadre_id_number,village_code,post,relation`"
        "（干部本人关系填“本人”，亲属的村代码和职务可留空，即干部本人的）。"
        "有问题的行按行号和原因列在 `rows` 中，从不引用行的内容；"
        "整份文件没有问题才替换，之前旧名单保持不变。"
    ),
    response_model=ListUploadRead,
    responses=problems(401, 403, 422),
    openapi_extra=_UPLOAD_BODY,
    route_class_override=SortingRoute,
)


@router.get(
    "/standards",
    summary="各补贴项目的单笔最高标准（超标准发放规则用）",
    response_model=list[StandardRead],
    responses=problems(401, 403),
)
def list_standards(session: SessionDep, staff: Screener) -> list[StandardRead]:
    return standards.list_standards(session)


def update_standard(
    item_name: ItemName,
    data: StandardUpdate,
    session: SessionDep,
    staff: Screener,
    settings: SettingsDep,
) -> StandardRead:
    return standards.set_standard(
        session, item_name, data=data, actor=staff, lease_seconds=settings.sync_lease_seconds
    )


router.add_api_route(
    "/standards/{item_name}",
    update_standard,
    methods=["PUT"],
    summary="设定一个项目的单笔最高标准（元或分）及其出处",
    response_model=StandardRead,
    responses=problems(401, 403, 422),
    route_class_override=SortingRoute,
)


def delete_standard(
    item_name: ItemName, session: SessionDep, staff: Screener, settings: SettingsDep
) -> None:
    standards.delete_standard(
        session, item_name, actor=staff, lease_seconds=settings.sync_lease_seconds
    )


router.add_api_route(
    "/standards/{item_name}",
    delete_standard,
    methods=["DELETE"],
    summary="删除一个项目的单笔最高标准（该项目不再按超标准筛查）",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 422),
    route_class_override=SortingRoute,
)
