from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, computed_field

from app.inquiries.models import EventKind, ItemState, MeetingKind, MeetingState
from app.public_writes import DeviceToken
from app.schemas import FormInt, Id, IsoDate, MultilineText, StrictInt, Text, Yuan
from app.tips.schemas import CATEGORY_NAMES, TipCategory

__all__ = ["CATEGORY_NAMES"]

KIND_NAMES: dict[str, str] = {
    MeetingKind.wenlian: "群众来问廉",
    MeetingKind.shuzhi: "干部述职质询会",
    MeetingKind.xunjian: "村居巡检",
}
STATE_NAMES: dict[str, str] = {
    ItemState.registered: "已登记",
    ItemState.rectifying: "整改中",
    ItemState.awaiting_confirmation: "待群众确认",
    ItemState.closed: "已销号",
    ItemState.not_accepted: "不予受理",
}
MAX_QUESTION = 1000
MAX_TEXT = 2000


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MeetingCreate(_Input):
    kind: MeetingKind = Field(
        description="wenlian 群众来问廉、shuzhi 干部述职质询会、xunjian 村居巡检"
    )
    village_code: Text = Field(
        pattern=r"^\d{12}$", description="开会的村（社区）的 12 位区划代码；全乡镇的会用乡镇代码"
    )
    held_on: IsoDate = Field(description="开会日期，不能晚于今天")
    place: Text = Field(min_length=2, max_length=100, examples=["三官寨村村委会院坝"])
    answered_by: Text = Field(
        min_length=2,
        max_length=200,
        description="现场答复的单位和职务（不写姓名也可）",
        examples=["佛楼镇纪委、镇民政办、村党支部书记"],
    )
    attendee_count: StrictInt = Field(ge=1, le=100_000, description="到会群众人数")
    summary: MultilineText = Field(default="", max_length=MAX_TEXT)


class ItemCreate(_Input):
    question: MultilineText = Field(
        min_length=5, max_length=MAX_QUESTION, description="群众提出的问题（不写提问人）"
    )
    category: TipCategory
    answer_on_site: MultilineText = Field(default="", max_length=MAX_TEXT, description="现场答复")
    responsible_unit: Text = Field(min_length=2, max_length=100, examples=["佛楼镇民政办"])
    responsible_staff_id: Id | None = None
    deadline: IsoDate = Field(description="整改期限，不能早于开会日期")


class ItemUpdate(_Input):
    question: MultilineText | None = Field(default=None, min_length=5, max_length=MAX_QUESTION)
    answer_on_site: MultilineText | None = Field(default=None, max_length=MAX_TEXT)
    responsible_unit: Text | None = Field(default=None, min_length=2, max_length=100)
    reason: Text = Field(
        min_length=2,
        max_length=200,
        description="为什么更正（公开的问题更正后，时间线上写明“内容已更正”和这个理由）",
        examples=["删去了提问群众的姓名"],
    )


class ProgressCreate(_Input):
    text: MultilineText = Field(min_length=2, max_length=MAX_TEXT)
    progress: FormInt | None = Field(default=None, ge=0, le=100, description="完成百分比")
    funds_recovered: Decimal | None = Field(
        default=None,
        ge=Decimal("0.01"),
        le=Decimal("99999999.99"),
        decimal_places=2,
        description="这次清退（追回）的资金，元",
        examples=["3200.00"],
    )


class ExtensionCreate(_Input):
    deadline: IsoDate = Field(description="新的整改期限，必须晚于现在的期限")
    reason: MultilineText = Field(min_length=2, max_length=500)


class ConfirmationCreate(_Input):
    meeting_id: Id = Field(
        description="确认所在的会议：已公开、同村（社区）或同乡镇、在整改完成以后召开"
    )
    confirmed_by_count: StrictInt = Field(
        ge=1, le=10_000, description="到会确认已解决的群众代表人数（不超过会议到会人数）"
    )
    note: MultilineText = Field(default="", max_length=500)


class StateChange(_Input):
    state: Literal["registered", "rectifying", "awaiting_confirmation", "closed", "not_accepted"]
    reason: MultilineText | None = Field(
        default=None,
        min_length=2,
        max_length=500,
        description="不予受理（纪委监委）时必填：应由谁负责、群众该去哪里反映；纪委监委重新打开"
        "已销号或不予受理的问题时也必填。销号只能由群众确认（本接口答 409）",
    )


class VoteCreate(_Input):
    device_token: DeviceToken
    resolved: StrictBool = Field(description="true：已解决；false：没解决")
    comment: MultilineText | None = Field(default=None, max_length=200)


class MeetingFilter(BaseModel):
    state: MeetingState | None = None
    village_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    township_code: str | None = Field(default=None, pattern=r"^\d{12}$")


class ItemFilter(BaseModel):
    village_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    township_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    state: ItemState | None = None
    overdue: bool | None = None
    year: int | None = Field(default=None, ge=2000, le=2100)


class PhotoRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    width: int
    height: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return f"/api/v1/inquiry-photos/{self.id}"


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    on: date = Field(validation_alias="happened_on")
    kind: EventKind
    state: ItemState
    text: str
    progress: int | None
    deadline: date | None
    confirmed_by_count: int | None
    photos: list[PhotoRead]


class ItemBrief(BaseModel):
    number: str = Field(examples=["WL-2026-0001"])
    state: ItemState
    state_name: str
    question: str
    category: str
    category_name: str
    region_code: str
    region_name: str
    responsible_unit: str
    registered_on: date
    deadline: date
    overdue: bool
    days_overdue: int
    closed_on: date | None
    funds_recovered: Yuan = Field(examples=["3200.00"])
    reopened: bool = Field(description="群众投票说“没解决”而重新整改过")


class Votes(BaseModel):
    resolved: int
    unresolved: int
    needed: int = Field(description="销号（或重新整改）需要的票数")


class MeetingBrief(BaseModel):
    id: int
    kind: MeetingKind
    kind_name: str
    region_code: str
    region_name: str
    held_on: date
    place: str


class ItemRead(ItemBrief):
    answer_on_site: str
    original_deadline: date
    not_accepted_reason: str | None
    meeting: MeetingBrief
    votes: Votes
    timeline: list[EventRead]


class ItemAdminRead(ItemRead):
    responsible_staff_id: int | None
    comments: list[str] = Field(description="群众投票时留的话（只给纪委监委看）")


class MeetingRead(MeetingBrief):
    answered_by: str
    attendee_count: int
    summary: str
    state: MeetingState
    published_on: date | None
    photos: list[PhotoRead]
    items: list[ItemBrief]


class VoteReceipt(BaseModel):
    number: str
    state: ItemState
    state_name: str
    votes: Votes
    message: str


class TownshipStats(BaseModel):
    township_code: str
    township_name: str
    meetings: int
    raised: int
    closed: int
    closed_on_time: int
    on_time_rate: float | None = Field(description="按期销号率；事项少于 5 件时不计算（null）")
    open: int
    overdue: int
    funds_recovered: Yuan
    earlier_open: int = Field(description="往年提出、至今仍未办结的问题（不计入当年的各项数字）")
    earlier_overdue: int = Field(description="其中已超过整改期限的")


class InquiryStats(BaseModel):
    year: int
    total: TownshipStats
    townships: list[TownshipStats]
