from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app import public_writes
from app.forum.models import ForumKind, ForumState
from app.inquiries.schemas import ItemCreate
from app.policies.schemas import PolicyBrief
from app.schemas import Id, MultilineText, StrictInt, Text
from app.tips.schemas import TipCategory, TipStatus

KIND_NAMES: dict[str, str] = {
    ForumKind.consult: "咨询",
    ForumKind.suggest: "建议",
    ForumKind.complaint: "投诉",
}
# working days to answer, counted from the day the question was asked
ANSWER_WORKING_DAYS: dict[str, int] = {
    ForumKind.consult: 5,
    ForumKind.suggest: 5,
    ForumKind.complaint: 7,
}
STATE_NAMES: dict[str, str] = {
    ForumState.submitted: "已收到，等待交办",
    ForumState.assigned: "办理中",
    ForumState.answered: "已答复",
    ForumState.published: "已答复并公开",
    ForumState.to_tip: "已转为举报办理",
    ForumState.to_inquiry: "已列入阳光问廉问题清单",
}
MAX_TITLE = 50
MAX_BODY = 3000
MAX_ANSWER = 5000
_KIND_HELP = "类别：" + "、".join(f"{k}（{v}）" for k, v in KIND_NAMES.items())


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ForumQuestionCreate(_Input):
    kind: ForumKind = Field(description=_KIND_HELP)
    village_code: Text | None = Field(
        default=None, pattern=r"^\d{12}$", description="所在或涉及的村（社区）的 12 位区划代码"
    )
    title: Text = Field(min_length=4, max_length=MAX_TITLE, description="标题，一句话说清楚")
    body: MultilineText = Field(
        min_length=10, max_length=MAX_BODY, description="留言内容（不会原样公开）"
    )


class QuestionReceipt(BaseModel):
    code: str = Field(
        description="查询码：16 位数字，四位一组，只显示这一次，请抄下；凭它查看答复和评价",
        examples=["1234 5678 9012 3456"],
    )
    submitted_on: date
    due_on: date = Field(description="答复期限（咨询、建议 5 个工作日，投诉 7 个工作日）")


class CodeQuery(_Input):
    code: Text = Field(
        max_length=40, description="16 位查询码，可带空格", examples=["1234 5678 9012 3456"]
    )

    @field_validator("code")
    @classmethod
    def _digits(cls, value: str) -> str:
        return public_writes.normalised_code(value)


class RatingCreate(CodeQuery):
    score: StrictInt = Field(ge=1, le=5, description="对答复的评价：1（很不满意）到 5（很满意）")


class ForumExtensionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    extended_on: date
    due_on: date = Field(description="延期后的答复期限")
    reason: str


class InquiryLink(BaseModel):
    number: str = Field(description="阳光问廉问题编号，如 WL-2026-0012")
    state_name: str | None = Field(description="整改状态；所在会议公开以前为空")


class QuestionStatus(BaseModel):
    """What the holder of the code sees: their own question, the answer, the clock."""

    id: int = Field(description="公开以后，公开页面的编号")
    kind: ForumKind
    kind_name: str
    state: ForumState
    state_name: str
    title: str
    asked_on: date
    due_on: date
    overdue: bool
    answerer_unit: str | None
    extensions: list[ForumExtensionRead]
    answer: str | None
    replied_on: date | None
    published: bool
    rating: int | None
    tip: TipStatus | None = Field(description="转为举报后：举报的办理情况")
    inquiry: InquiryLink | None = Field(description="列入阳光问廉问题清单后：问题编号和状态")


class QuestionBrief(BaseModel):
    id: int
    kind: ForumKind
    kind_name: str
    title: str
    village_code: str | None
    region_name: str | None
    asked_on: date
    replied_on: date | None
    reply_working_days: int | None = Field(description="从留言到答复用了几个工作日")
    answerer_unit: str | None
    rating: int | None = Field(description="留言人的评价，1–5；未评价为空")
    snippet: str | None = Field(
        default=None,
        description="搜索时：命中处的一小段文字（已做 HTML 转义），命中的词用 <mark>…</mark> 标出",
    )


class Suggestions(BaseModel):
    """What a villager sees before asking: the policies and published answers that match."""

    policies: list[PolicyBrief]
    questions: list[QuestionBrief]


class ForumQuestionRead(QuestionBrief):
    body: str
    answer: str
    first_due_on: date
    due_on: date
    extensions: list[ForumExtensionRead]


class QuestionAdmin(BaseModel):
    id: int
    kind: ForumKind
    kind_name: str
    state: ForumState
    state_name: str
    village_code: str | None
    region_name: str | None
    title: str
    body: str
    asked_on: date
    first_due_on: date
    due_on: date
    overdue: bool
    days_overdue: int = Field(description="超过答复期限的工作日数")
    answerer_unit: str | None
    assignee_id: int | None
    assigned_on: date | None
    answer: str | None
    replied_on: date | None
    reply_working_days: int | None
    public_title: str | None
    public_body: str | None
    published_on: date | None
    rating: int | None
    tip_id: int | None
    inquiry_number: str | None
    extensions: list[ForumExtensionRead]


class QuestionFilter(BaseModel):
    kind: ForumKind | None = None
    q: Text | None = Field(
        default=None, min_length=1, max_length=50, description="搜索词（中文全文搜索）"
    )
    village_code: Text | None = Field(default=None, pattern=r"^\d{12}$")


class AdminFilter(BaseModel):
    state: ForumState | None = None
    kind: ForumKind | None = None
    overdue: bool | None = Field(default=None, description="只看逾期（true）或未逾期（false）")


class AssignCreate(_Input):
    answerer_unit: Text = Field(
        min_length=2, max_length=100, description="答复单位", examples=["县民政局"]
    )
    staff_id: Id | None = Field(default=None, description="负责的纪委监委工作人员（可不填）")


class ForumExtensionCreate(_Input):
    working_days: StrictInt = Field(ge=1, le=30, description="延长几个工作日")
    reason: MultilineText = Field(min_length=4, max_length=500, description="延期理由（公开）")


class ForumAnswerCreate(_Input):
    answer: MultilineText = Field(min_length=10, max_length=MAX_ANSWER, description="答复")
    public_title: Text = Field(
        min_length=4, max_length=MAX_TITLE, description="公开的标题（去掉能认出留言人的内容）"
    )
    public_body: MultilineText = Field(
        min_length=10, max_length=MAX_BODY, description="公开的留言内容（编辑后的版本）"
    )


class TipConversion(_Input):
    category: TipCategory = Field(description="举报类别")


class InquiryConversion(ItemCreate):
    meeting_id: Id = Field(description="列入哪次问廉会议的问题清单")


class MonthStats(BaseModel):
    month: str = Field(examples=["2026-11"])
    asked: int = Field(description="当月收到的留言")
    answered: int = Field(description="其中已答复（含转为举报、列入问廉清单）")
    reply_rate: float | None = Field(description="答复率（0–1）；当月无留言为空")
    median_working_days: float | None = Field(description="答复用时的中位数（工作日）")
    mean_rating: float | None = Field(description="评价的平均分（1–5）")
    ratings: int = Field(description="评价的条数")


class QuestionStats(BaseModel):
    year: int
    total: MonthStats = Field(description="全年（month 为年份）")
    months: list[MonthStats]
