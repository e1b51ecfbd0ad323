import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from app.articles.models import DISCIPLINE_NAMES, ArticleColumn, CaseState, Discipline
from app.policies.models import VersionState
from app.schemas import IsoDate, IsoDateTime, LocalDateTime, MultilineText, Text, Yuan
from app.tips.schemas import CATEGORY_NAMES as TIP_CATEGORY_NAMES
from app.tips.schemas import TipCategory

_COLUMN_HELP = (
    "栏目：policy_news（政策宣传）、warning（警示教育）、culture（廉政文化）、work（工作动态）"
)
_DISCIPLINE_HELP = "处理方式：" + "、".join(f"{k}（{v}）" for k, v in DISCIPLINE_NAMES.items())
_TIP_HELP = "问题类别：" + "、".join(f"{k}（{v}）" for k, v in TIP_CATEGORY_NAMES.items())

Title = Annotated[Text, Field(min_length=1, max_length=100, examples=["身边的“微腐败”要不得"])]
Summary = Annotated[MultilineText, Field(max_length=200, description="一两句话的要点（可空）")]
Author = Annotated[Text, Field(max_length=64, description="作者或来源，如 县纪委监委宣传部")]
BodyMarkdown = Annotated[
    MultilineText,
    Field(
        min_length=1,
        max_length=50_000,
        description="正文，Markdown 格式；图片先上传，"
        "再用 ![说明](/api/v1/article-images/编号) 插入",
    ),
]
PolicyCategory = Annotated[
    str, Field(pattern=r"^(0[1-9]|1[01])$", description="涉及的惠民政策类别 01–11（可空）")
]
RegionCode = Annotated[Text, Field(pattern=r"^\d{12}$", description="12 位区划代码")]

_YUAN = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


def _yuan_to_fen(value: Any) -> Any:
    """ "1200.50" or 1200.5 yuan → 120050 fen; anything else is refused in Chinese."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("应为金额（元），如 1200 或 1200.50")
    text = str(value).strip()
    if not _YUAN.match(text):
        raise ValueError("应为金额（元），最多两位小数，如 1200 或 1200.50")
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise ValueError("应为金额（元）") from exc


YuanInput = Annotated[
    int, BeforeValidator(_yuan_to_fen), Field(description='金额（元），如 "1200.50"')
]


# --- articles -----------------------------------------------------------------------------------


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    column: ArticleColumn = Field(description=_COLUMN_HELP)
    township_code: RegionCode | None = Field(
        default=None, description="由哪个乡镇提出（乡镇工作人员不填即本乡镇，只能填本乡镇）"
    )
    title: Title
    summary: Summary = ""
    author: Author = ""
    body_markdown: BodyMarkdown
    publish_at: IsoDateTime | None = Field(
        default=None, description="何时起公开（发布后才生效）；不填则发布即公开"
    )
    unpublish_at: IsoDateTime | None = Field(
        default=None, description="何时起不再公开；不填则一直公开"
    )

    @model_validator(mode="after")
    def _until_after_from(self) -> "ArticleCreate":
        if self.publish_at and self.unpublish_at and self.unpublish_at <= self.publish_at:
            raise ValueError("停止公开的时间（unpublish_at）应晚于开始公开的时间（publish_at）")
        return self


class ArticleUpdate(BaseModel):
    """The fields to change; a new draft version is made from the latest one with them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    column: ArticleColumn | None = Field(default=None, description=_COLUMN_HELP)
    title: Title | None = None
    summary: Summary | None = None
    author: Author | None = None
    body_markdown: BodyMarkdown | None = None
    publish_at: IsoDateTime | None = None
    unpublish_at: IsoDateTime | None = None


class ArticleBrief(BaseModel):
    id: int
    column: str
    column_name: str
    title: str
    summary: str
    author: str
    published_at: LocalDateTime = Field(description="公开时间")
    snippet: str | None = Field(
        default=None,
        description="搜索时：命中处的一小段文字（已做 HTML 转义），命中的词用 <mark>…</mark> 标出",
    )


class ArticleRead(BaseModel):
    id: int
    column: str
    column_name: str
    title: str
    summary: str
    author: str
    body_html: str = Field(description="正文，已净化的 HTML")
    version: int
    published_at: LocalDateTime


class ArticleVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    state: VersionState
    column: str
    title: str
    summary: str
    author: str
    body_md: str
    body_html: str
    publish_at: LocalDateTime | None
    unpublish_at: LocalDateTime | None
    created_at: LocalDateTime
    submitted_at: LocalDateTime | None
    published_at: LocalDateTime | None


class ArticleAdminRead(BaseModel):
    id: int
    township_code: str | None = Field(description="由乡镇工作人员提出时，其乡镇")
    published_version: int | None = Field(description="公开的版本号；未发布为空")
    public_now: bool = Field(description="此刻公众能否看到（已发布且在公开时段内）")
    latest: ArticleVersionRead
    created_at: LocalDateTime
    updated_at: LocalDateTime


class ArticleAdminBrief(BaseModel):
    id: int
    column: str
    title: str
    state: VersionState
    version: int
    published_version: int | None
    township_code: str | None
    updated_at: LocalDateTime


class ImageRead(BaseModel):
    id: int
    width: int
    height: int
    url: str = Field(examples=["/api/v1/article-images/12"])
    markdown: str = Field(
        description="可直接粘贴进正文", examples=["![图片](/api/v1/article-images/12)"]
    )


class ImageList(BaseModel):
    items: list[ImageRead]


class DayReads(BaseModel):
    day: date
    count: int


class ArticleReadsRead(BaseModel):
    article_id: int
    total: int
    days: list[DayReads] = Field(description="每天的阅读次数，近的在前（只计次数，不记是谁）")


# --- cases --------------------------------------------------------------------------------------


class CaseFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: Text = Field(
        min_length=1, max_length=40, description="通报文号", examples=["平纪通〔2026〕3号"]
    )
    published_on: IsoDate | None = Field(default=None, description="通报日期；不填则为发布当天")
    township_code: RegionCode = Field(description="乡镇（街道）的 12 位区划代码")
    village_code: RegionCode | None = Field(
        default=None, description="村（社区）的区划代码（可空）"
    )
    person_name: Text = Field(min_length=2, max_length=20, examples=["王某明"])
    post: Text = Field(min_length=1, max_length=40, description="职务", examples=["村委会主任"])
    problem: Text = Field(
        min_length=1, max_length=60, description="一句话的问题", examples=["违规为亲属申报低保"]
    )
    facts: MultilineText = Field(min_length=1, max_length=2000, description="查明的事实")
    facts_on: IsoDate = Field(description="问题发生的时间（开始的那天或那月的 1 日）")
    amount_involved: YuanInput | None = None
    amount_recovered: YuanInput | None = None
    disciplines: list[Discipline] = Field(min_length=1, max_length=4, description=_DISCIPLINE_HELP)
    discipline_on: IsoDate = Field(description="作出处理的日期")
    issued_by: Text = Field(min_length=1, max_length=64, examples=["县纪委监委"])
    tip_category: TipCategory = Field(description=_TIP_HELP)
    policy_category: PolicyCategory | None = None
    name_public_until: IsoDate | None = Field(
        default=None, description="这天以后，公开的内容只显示姓氏（如 王某某）"
    )
    money_returned: YuanInput | None = Field(default=None, description="通报回访：已退还群众的钱")
    rectified: bool | None = Field(default=None, description="通报回访：是否已整改")
    revisit_on: IsoDate | None = Field(default=None, description="通报回访的日期")
    revisit_note: MultilineText | None = Field(default=None, max_length=1000)


class CaseCreate(CaseFields):
    pass


class CaseUpdate(BaseModel):
    """Every field of a case may be changed (all optional); `null` clears an optional one."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: Text | None = Field(default=None, min_length=1, max_length=40)
    published_on: IsoDate | None = None
    township_code: RegionCode | None = None
    village_code: RegionCode | None = None
    person_name: Text | None = Field(default=None, min_length=2, max_length=20)
    post: Text | None = Field(default=None, min_length=1, max_length=40)
    problem: Text | None = Field(default=None, min_length=1, max_length=60)
    facts: MultilineText | None = Field(default=None, min_length=1, max_length=2000)
    facts_on: IsoDate | None = None
    amount_involved: YuanInput | None = None
    amount_recovered: YuanInput | None = None
    disciplines: list[Discipline] | None = Field(default=None, min_length=1, max_length=4)
    discipline_on: IsoDate | None = None
    issued_by: Text | None = Field(default=None, min_length=1, max_length=64)
    tip_category: TipCategory | None = None
    policy_category: PolicyCategory | None = None
    name_public_until: IsoDate | None = None
    money_returned: YuanInput | None = None
    rectified: bool | None = None
    revisit_on: IsoDate | None = None
    revisit_note: MultilineText | None = Field(default=None, max_length=1000)


class DisciplineRead(BaseModel):
    code: str
    name: str


class Revisit(BaseModel):
    """通报回访: what was found when the commission went back."""

    money_returned: Yuan | None
    rectified: bool | None
    revisit_on: date | None
    note: str | None
    text: str = Field(description="回访情况，一段话")


class CaseBrief(BaseModel):
    id: int
    number: str
    published_on: date
    title: str = Field(
        description="地点、职务、姓名和问题，如 西兴镇黄柳村村委会主任王某某违规为亲属申报低保问题"
    )
    township_code: str
    village_code: str | None
    place: str = Field(description="乡镇和村的名称")
    disciplines: list[DisciplineRead]
    tip_category: str
    tip_category_name: str
    snippet: str | None = Field(
        default=None, description="搜索时：命中处的一小段文字（已做 HTML 转义）"
    )


class CaseRead(CaseBrief):
    person_name: str = Field(description="过了公开期限只显示姓氏")
    post: str
    problem: str
    facts: str
    facts_on: date
    amount_involved: Yuan | None
    amount_recovered: Yuan | None
    discipline_on: date
    issued_by: str
    policy_category: str | None
    policy_category_name: str | None
    text: str = Field(description="通报全文，由以上各项按同一模板生成")
    revisit: Revisit | None = Field(description="通报回访；尚未回访为空")


class CaseAdminRead(BaseModel):
    """Everything as stored (the name unmasked), with the state and the public text."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    state: CaseState
    number: str
    published_on: date | None
    township_code: str
    village_code: str | None
    person_name: str
    post: str
    problem: str
    facts: str
    facts_on: date
    amount_involved: Yuan | None
    amount_recovered: Yuan | None
    disciplines: list[str]
    discipline_on: date
    issued_by: str
    tip_category: str
    policy_category: str | None
    name_public_until: date | None
    money_returned: Yuan | None
    rectified: bool | None
    revisit_on: date | None
    revisit_note: str | None
    text: str = Field(description="按模板生成的通报全文（姓名按今天的公开期限处理）")
    created_at: LocalDateTime
    updated_at: LocalDateTime


class CaseAdminBrief(BaseModel):
    id: int
    state: CaseState
    number: str
    title: str
    township_code: str
    village_code: str | None
    published_on: date | None
    updated_at: LocalDateTime
