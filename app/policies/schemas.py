from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.policies.models import VersionState
from app.schemas import LocalDateTime, MultilineText, Text

CategoryCode = Annotated[
    str, Field(pattern=r"^(0[1-9]|1[01])$", description="政策类别代码 01–11", examples=["01"])
]
Slug = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,63}$",
        description="英文短名（小写字母、数字、`-`），全局唯一",
        examples=["01-dibao"],
    ),
]
Title = Annotated[Text, Field(min_length=1, max_length=100, examples=["低保"])]
Summary = Annotated[
    MultilineText, Field(min_length=1, max_length=200, description="一两句话的要点")
]
Department = Annotated[Text, Field(min_length=1, max_length=64, examples=["县民政局"])]
Items = Annotated[
    list[Annotated[Text, Field(min_length=1, max_length=64)]],
    Field(
        max_length=20,
        description="本政策涵盖的补贴项目（与补贴发放记录中的项目名称一致）",
        examples=[["城乡居民最低生活保障金"]],
    ),
]
BodyMarkdown = Annotated[
    MultilineText, Field(min_length=1, max_length=50_000, description="正文，Markdown 格式")
]


# --- public -----------------------------------------------------------------------------------


class PolicyCategoryRead(BaseModel):
    code: str = Field(examples=["01"])
    name: str = Field(examples=["社会救助"])
    policy_count: int = Field(description="已发布的政策数")


class PolicyCategoryList(BaseModel):
    items: list[PolicyCategoryRead]


class PolicyBrief(BaseModel):
    """A list item: no body."""

    id: int
    category_code: str
    category_name: str
    title: str
    summary: str
    department: str
    published_at: LocalDateTime
    snippet: str | None = Field(
        default=None,
        description="搜索时：命中处的一小段文字（已做 HTML 转义），命中的词用 <mark>…</mark> 标出",
        examples=["…可以申请<mark>低保</mark>，政府按差额每月补到每人 540 元。"],
    )


class PolicyRead(BaseModel):
    id: int
    slug: str
    category_code: str
    category_name: str
    title: str
    summary: str
    department: str
    items: list[str]
    body_html: str = Field(description="正文，已净化的 HTML")
    version: int = Field(description="版本号")
    published_at: LocalDateTime


# --- staff ------------------------------------------------------------------------------------


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slug: Slug | None = Field(default=None, description="省略时自动生成")
    category_code: CategoryCode
    title: Title
    summary: Summary
    department: Department
    items: Items = Field(default_factory=list)
    body_md: BodyMarkdown


class PolicyUpdate(BaseModel):
    """Only the fields given change; the result is a new draft version."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category_code: CategoryCode | None = None
    title: Title | None = None
    summary: Summary | None = None
    department: Department | None = None
    items: Items | None = None
    body_md: BodyMarkdown | None = None


class PolicyVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int = Field(description="版本号，从 1 起")
    state: VersionState = Field(
        description="draft 草稿、submitted 待发布、published 已发布、superseded 已被新版本取代、"
        "withdrawn 已撤下"
    )
    category_code: str
    title: str
    summary: str
    department: str
    items: list[str]
    body_md: str
    body_html: str
    created_by_id: int | None = Field(description="编写这一版的工作人员；导入的为空")
    created_at: LocalDateTime
    submitted_at: LocalDateTime | None
    published_at: LocalDateTime | None


class PolicyAdminRead(BaseModel):
    id: int
    slug: str
    published_version: int | None = Field(description="公众看到的版本号；未发布为空")
    latest: PolicyVersionRead = Field(description="最新的版本（可能是草稿）")
    created_at: LocalDateTime
    updated_at: LocalDateTime


class PolicyAdminBrief(BaseModel):
    id: int
    slug: str
    category_code: str
    title: str
    state: VersionState = Field(description="最新版本的状态")
    version: int = Field(description="最新版本号")
    published_version: int | None
    updated_at: LocalDateTime


class ImportSummary(BaseModel):
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class PolicyFile:
    """One checked content file."""

    slug: str
    digest: str
    content: PolicyCreate
