from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app import public_writes
from app.schemas import Id, IsoDate, MultilineText, Text
from app.tips.models import TipSource, TipState

TipCategory = Literal["funds", "dibao", "village_assets", "projects", "conduct", "other"]
CATEGORY_NAMES: dict[str, str] = {
    "funds": "扶贫/惠民资金",
    "dibao": "低保/救助",
    "village_assets": "村级三资",
    "projects": "工程项目",
    "conduct": "作风问题",
    "other": "其他",
}
STATE_NAMES: dict[str, str] = {
    TipState.submitted: "已提交，等待受理",
    TipState.accepted: "已受理",
    TipState.investigating: "调查中",
    TipState.concluded: "已办结",
    TipState.rejected: "不予受理",
}
SOURCE_NAMES: dict[str, str] = {
    TipSource.public: "群众举报",
    TipSource.objection: "晒账异议",
    TipSource.screening: "疑点筛查",
    TipSource.question: "云端话廉留言",
}
MAX_CONTENT = 5000
MAX_MESSAGE = 2000
_CATEGORY_HELP = "类别：" + "、".join(f"{k}（{v}）" for k, v in CATEGORY_NAMES.items())


class TipCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: TipCategory = Field(description=_CATEGORY_HELP)
    village_code: Text | None = Field(
        default=None, pattern=r"^\d{12}$", description="涉及的村（社区）的 12 位区划代码"
    )
    accused: Text | None = Field(default=None, max_length=200, description="被举报人及其职务")
    content: MultilineText = Field(min_length=10, max_length=MAX_CONTENT, description="举报内容")
    amount_involved: Text | None = Field(
        default=None,
        pattern=r"^\d{1,9}(\.\d{1,2})?$",
        description="涉及金额（元），如 356.00",
        examples=["356.00"],
    )
    contact: Text | None = Field(
        default=None, min_length=1, max_length=200, description="联系方式；填写即为实名举报"
    )
    payout_record_id: Text | None = Field(
        default=None, min_length=1, max_length=64, description="有问题的发放记录（晒账中的一行）"
    )


class TipReceipt(BaseModel):
    receipt_code: str = Field(
        description="回执码：16 位数字，四位一组，只显示这一次，请抄下",
        examples=["1234 5678 9012 3456"],
    )
    submitted_on: date


def _normalise_code(value: str) -> str:
    return public_writes.normalised_code(value, name="回执码")


class ReceiptQuery(BaseModel):
    receipt_code: Text = Field(
        max_length=40, description="16 位回执码，可带空格", examples=["1234 5678 9012 3456"]
    )

    _check = field_validator("receipt_code")(_normalise_code)


class ReceiptMessageCreate(ReceiptQuery):
    body: MultilineText = Field(min_length=1, max_length=MAX_MESSAGE, description="补充的内容")


class TipMessagePublic(BaseModel):
    author: Literal["tipster", "staff"] = Field(description="tipster 为举报人，staff 为纪委监委")
    body: str
    created_on: date
    attachment_count: int = 0


class TipStatus(BaseModel):
    """What the holder of a receipt code sees: never internal notes or staff names."""

    state: TipState
    state_name: str
    category: str
    category_name: str
    submitted_on: date
    rejection_reason: str | None = Field(description="不予受理的理由")
    public_result: str | None = Field(description="办结结果")
    messages: list[TipMessagePublic]


class TipBrief(BaseModel):
    id: int
    category: str
    category_name: str
    source: TipSource = Field(
        description="来源：public（群众举报）、objection（晒账异议）、screening（疑点筛查）"
    )
    source_name: str
    state: TipState
    village_code: str | None
    township_code: str | None
    is_real_name: bool
    assignee_id: int | None
    submitted_on: date
    closed_on: date | None
    purged: bool


class TipAttachmentRead(BaseModel):
    id: int
    media_type: str
    size: int
    created_on: date
    message_id: int | None


class TipMessageRead(BaseModel):
    id: int
    kind: Literal["tipster", "reply", "note"]
    author_id: int | None
    body: str
    created_on: date


class TipRead(TipBrief):
    accused: str | None
    content: str | None
    contact: str | None
    amount_involved: str | None
    payout_record_id: str | None
    rejection_reason: str | None
    public_result: str | None
    messages: list[TipMessageRead]
    attachments: list[TipAttachmentRead]


class TipFilter(BaseModel):
    state: TipState | None = None
    source: TipSource | None = None
    category: TipCategory | None = None
    township_code: Text | None = Field(default=None, pattern=r"^\d{12}$")
    submitted_from: IsoDate | None = None
    submitted_to: IsoDate | None = None


class TipAssign(BaseModel):
    staff_id: Id = Field(description="纪委监委工作人员的编号")


class TipMessageCreate(BaseModel):
    body: MultilineText = Field(min_length=1, max_length=MAX_MESSAGE)


class TipTransition(BaseModel):
    state: Literal["accepted", "investigating", "concluded", "rejected"]
    reason: MultilineText | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_MESSAGE,
        description="不予受理的理由（举报人可见）",
    )
    result: MultilineText | None = Field(
        default=None, min_length=1, max_length=MAX_MESSAGE, description="办结结果（举报人可见）"
    )


class CountRow(BaseModel):
    key: str
    name: str
    count: int


class TipCounts(BaseModel):
    total: int
    by_state: list[CountRow]
    by_category: list[CountRow]


class PurgeSummary(BaseModel):
    purged: int
    files_deleted: int
