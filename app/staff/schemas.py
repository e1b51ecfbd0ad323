from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from app.schemas import LocalDateTime, Text
from app.staff.models import Role

Username = Annotated[
    Text,
    Field(
        min_length=3,
        max_length=32,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="登录名：小写字母、数字、`_`、`.`、`-`，3–32 个字符",
        examples=["fulou.clerk"],
    ),
]


def _not_trivial(password: str) -> str:
    if len(set(password)) < 5 or password.isdigit():
        raise ValueError("密码太简单：至少要有 5 个不同的字符，且不能全是数字")
    return password


Password = Annotated[
    Text,
    Field(
        min_length=10,
        max_length=128,
        description="10–128 个字符，至少 5 个不同的字符，不能全是数字",
    ),
    AfterValidator(_not_trivial),
]
RegionCode = Annotated[Text, Field(pattern=r"^\d{12}$", description="12 位统计用区划代码")]


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="访问令牌有效秒数（不超过 1800）")
    refresh_token: str
    refresh_expires_in: int = Field(description="刷新令牌有效秒数")


class SignInForm(BaseModel):
    """The OAuth2 password form (`grant_type=password&username=…&password=…`)."""

    grant_type: Literal["password"] | None = None
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=128)
    scope: Text = Field(default="", max_length=200)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Text = Field(min_length=1, max_length=128, description="现在的密码")
    new_password: Password = Field(description="新密码")


class RefreshRequest(BaseModel):
    refresh_token: Text = Field(min_length=10, max_length=200)


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    region_code: str
    is_active: bool
    created_at: LocalDateTime


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    display_name: Text = Field(min_length=1, max_length=64, examples=["袁桂芳"])
    password: Password
    role: Role
    region_code: RegionCode | None = Field(
        default=None,
        description="所辖地区；县级角色可省略（默认全县），乡镇角色填乡镇，村级角色填村（社区）",
    )


class StaffUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: Text | None = Field(default=None, min_length=1, max_length=64)
    role: Role | None = None
    region_code: RegionCode | None = None
    is_active: StrictBool | None = Field(
        default=None, description="false 停用账号，并使其所有登录失效"
    )
    password: Password | None = Field(default=None, description="重设密码，并使其所有登录失效")


class StaffFilter(BaseModel):
    role: Role | None = None
    region_code: RegionCode | None = None
    is_active: bool | None = None


class ImportedAccount(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    region_code: str
    password: str = Field(description="一次性密码：只在这次回答中出现，服务器只存它的哈希")


class CadreImportRead(BaseModel):
    created: int
    accounts: list[ImportedAccount]
