from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from app.public_writes import DeviceToken
from app.schemas import Id, LocalDateTime, MultilineText, StrictInt, Text, single_line
from app.surveys.models import QuestionKind, SurveyState

RegionCode = Annotated[Text, Field(pattern=r"^\d{12}$", description="12 位统计用区划代码")]
OptionText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(single_line),
]


class TargetKind(StrEnum):
    department = "department"
    cadres = "cadres"
    other = "other"


class TargetCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=64, examples=["县民政局"])
    kind: TargetKind = Field(description="department 部门，cadres 某乡镇的干部，other 其他")


class QuestionCreate(BaseModel):
    kind: QuestionKind
    text: Text = Field(min_length=1, max_length=200, examples=["您对本村低保评定是否满意？"])
    required: StrictBool = True
    options: list[OptionText] = Field(
        default=[], max_length=20, description="单选、多选题的选项（至少 2 个）"
    )
    per_target: StrictBool = Field(default=False, description="评分题：对每个测评对象分别打分")

    @model_validator(mode="after")
    def _check_kind(self) -> Self:
        choice = self.kind in (QuestionKind.single, QuestionKind.multiple)
        if choice and len(self.options) < 2:
            raise ValueError("单选、多选题至少要有 2 个选项")
        if not choice and self.options:
            raise ValueError("只有单选、多选题可以有选项")
        if self.per_target and self.kind != QuestionKind.rating:
            raise ValueError("只有评分题可以对测评对象分别打分")
        return self


class SurveyCreate(BaseModel):
    title: Text = Field(min_length=1, max_length=100, examples=["2026 年党风廉政建设社会评价"])
    description: MultilineText = Field(default="", max_length=2000)
    region_code: RegionCode
    targets: list[TargetCreate] = Field(default=[], max_length=50)
    questions: list[QuestionCreate] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _check_targets(self) -> Self:
        if any(q.per_target for q in self.questions) and not self.targets:
            raise ValueError("对测评对象打分的题目需要先列出测评对象")
        return self


class TargetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str


class OptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    text: str


class QuestionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    kind: QuestionKind
    text: str
    required: bool
    per_target: bool
    options: list[OptionRead]


class SurveyBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    region_code: str
    state: SurveyState
    opened_at: LocalDateTime | None
    closed_at: LocalDateTime | None
    published_at: LocalDateTime | None


class SurveyRead(SurveyBrief):
    description: str
    targets: list[TargetRead]
    questions: list[QuestionRead]


class SurveyAdminRead(SurveyRead):
    created_at: LocalDateTime
    updated_at: LocalDateTime


class AnswerCreate(BaseModel):
    question_id: Id
    option_ids: list[Id] = Field(default=[], max_length=20)
    rating: StrictInt | None = Field(default=None, description="评分题：1–5 分")
    target_id: Id | None = None
    text: MultilineText | None = Field(default=None, max_length=1000)


class ResponseCreate(BaseModel):
    device_token: DeviceToken
    answers: list[AnswerCreate] = Field(max_length=500)


class ResponseReceipt(BaseModel):
    survey_id: int
    submitted_on: date
    message: str = Field(examples=["感谢您参加测评！"])


class OptionResult(BaseModel):
    option_id: int
    text: str
    count: int


class RatingResult(BaseModel):
    target_id: int | None = Field(description="测评对象；为空时是题目本身的评分")
    target_name: str | None
    count: int
    mean: float | None = Field(description="平均分，保留两位小数")
    distribution: dict[str, int] = Field(description="各分值（1–5）的人数")
    satisfaction_rate: float | None = Field(description="满意率：打 4 分或 5 分的比例（0–1）")


class QuestionResult(BaseModel):
    question_id: int
    position: int
    kind: QuestionKind
    text: str
    answer_count: int = Field(description="回答了这道题的人数")
    options: list[OptionResult] = []
    ratings: list[RatingResult] = []


class SurveyResults(BaseModel):
    survey_id: int
    title: str
    state: SurveyState
    response_count: int
    questions: list[QuestionResult]


class TextAnswerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    question_id: int
    text: str
