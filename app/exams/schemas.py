from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.exams.models import AttemptState, ExamState, Finish, Grade, QuestionKind, Review
from app.schemas import Id, IsoDateTime, LocalDateTime, StrictInt, Text

Tag = Annotated[Text, Field(min_length=1, max_length=32, examples=["纪律处分条例"])]
AnswerText = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=16,
        description="选项字母（单选 `A`，多选 `AC`），判断题 `T`（正确）或 `F`（错误）",
        examples=["A", "AC", "T"],
    ),
]


class QuestionRead(BaseModel):
    """A question as staff see it in the bank, with its answer."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: QuestionKind
    text: str
    options: list[str]
    answer: str
    explanation: str
    tags: list[str]
    active: bool


class BankImportRead(BaseModel):
    created: int = Field(description="新加入题库的题数")
    skipped: int = Field(description="题库里已有（题型和题目相同）而跳过的题数")
    tags: dict[str, int] = Field(description="导入后题库中各标签的题数")


class DrawRule(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    tag: Tag
    count: StrictInt = Field(ge=1, le=100, description="从这个标签的题中随机抽几道")
    points: StrictInt = Field(ge=1, le=100, description="每道题的分值")


class ExamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text = Field(min_length=1, max_length=100, examples=["2026年第四季度党纪学习测试"])
    draw: list[DrawRule] = Field(min_length=1, max_length=20)
    time_limit_minutes: StrictInt = Field(ge=1, le=600)
    opens_at: IsoDateTime
    closes_at: IsoDateTime
    attempts_allowed: StrictInt = Field(ge=1, le=10)
    grade: Grade = Field(description="几次答题中算哪一次：highest 最高分，last 最后一次")
    pass_mark: StrictInt = Field(ge=0, le=10_000, description="及格分（不低于此分为及格）")
    region_code: Text = Field(
        pattern=r"^\d{12}$", description="参考范围：县、乡镇或村（社区）的区划代码"
    )
    review: Review = Field(
        description="何时可看成绩和解析：after_submit 交卷后，after_close 考试结束后"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at 应晚于 opens_at")
        tags = [rule.tag for rule in self.draw]
        if len(set(tags)) != len(tags):
            raise ValueError("抽题规则中同一个标签只能出现一次")
        total = sum(rule.count * rule.points for rule in self.draw)
        if self.pass_mark > total:
            raise ValueError(f"及格分不能高于总分 {total}")
        return self


class ExamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    region_code: str
    state: ExamState
    draw: list[DrawRule]
    time_limit_minutes: int
    opens_at: LocalDateTime
    closes_at: LocalDateTime
    attempts_allowed: int
    grade: Grade
    pass_mark: int
    max_score: int
    question_count: int
    review: Review
    created_at: LocalDateTime
    opened_at: LocalDateTime | None


class MyExam(BaseModel):
    """An exam as a cadre sees it in their list."""

    id: int
    title: str
    opens_at: LocalDateTime
    closes_at: LocalDateTime
    time_limit_minutes: int
    question_count: int
    max_score: int
    pass_mark: int
    attempts_allowed: int
    attempts_used: int
    grade: Grade
    review: Review
    in_progress_attempt_id: int | None = Field(description="未交卷的答题（换手机后从这里接着答）")
    score: int | None = Field(description="按 grade 计的成绩；可查看成绩之前为 null")
    passed: bool | None


class AttemptQuestion(BaseModel):
    slot: int = Field(description="题号，从 1 开始，顺序固定")
    kind: QuestionKind
    text: str
    options: list[str]
    points: int
    answer: str | None = Field(description="已保存的本人答案")
    saved_at: LocalDateTime | None
    correct_answer: str | None = Field(default=None, description="可查看解析后才有")
    correct: bool | None = None
    explanation: str | None = None


class AttemptRead(BaseModel):
    id: int
    exam_id: int
    exam_title: str
    number: int = Field(description="第几次答题")
    state: AttemptState
    started_at: LocalDateTime
    deadline: LocalDateTime = Field(description="服务器的截止时间：之后保存的答案不再接受")
    server_time: LocalDateTime = Field(description="服务器现在的时间，用来校准手机上的倒计时")
    finished_at: LocalDateTime | None
    finished_by: Finish | None
    answered: int
    review_available: bool
    review_from: LocalDateTime | None = Field(description="何时起可看成绩和解析（交卷后才知道）")
    score: int | None
    max_score: int
    pass_mark: int
    passed: bool | None
    questions: list[AttemptQuestion]


class AnswerSave(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: AnswerText


class AnswerSaved(BaseModel):
    attempt_id: int
    slot: int
    answer: str
    saved_at: LocalDateTime
    deadline: LocalDateTime


class PracticeQuestion(BaseModel):
    id: int
    kind: QuestionKind
    text: str
    options: list[str]
    tags: list[str]


class PracticeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: Id
    answer: AnswerText


class PracticeResult(BaseModel):
    correct: bool
    correct_answer: str
    explanation: str


class GroupFigures(BaseModel):
    code: str
    name: str
    cadres: int = Field(description="参考范围内的干部账号数")
    took: int = Field(description="至少交卷一次的人数")
    completion_rate: float | None = Field(description="参考率：took ÷ cadres")
    mean_score: float | None = Field(description="参考人员的平均分（按 grade 计）")
    pass_rate: float | None = Field(description="及格率：及格人数 ÷ took")


class TownshipReport(GroupFigures):
    villages: list[GroupFigures]


class ExamineeRow(BaseModel):
    username: str
    display_name: str
    region_code: str
    region_name: str
    attempts: int
    score: int | None
    passed: bool | None


class QuestionFigures(BaseModel):
    question_id: int
    text: str
    tags: list[str]
    answered: int = Field(description="交卷的答题中抽到这道题的次数")
    right: int
    share_right: float | None = Field(description="答对的比例；偏低的题可能出得不好")


class ExamReport(BaseModel):
    exam_id: int
    title: str
    max_score: int
    pass_mark: int
    grade: Grade
    total: GroupFigures
    townships: list[TownshipReport]
    examinees: list[ExamineeRow]
    questions: list[QuestionFigures]
