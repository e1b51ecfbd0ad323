from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.audit.schemas import AuditEntryRead
from app.schemas import LocalDateTime, MultilineText, Text, Yuan
from app.screening.models import FlagState
from app.screening.rules import RuleCode

STATE_NAMES: dict[str, str] = {
    FlagState.open: "待处理",
    FlagState.confirmed: "确认属实",
    FlagState.dismissed: "排除",
    FlagState.withdrawn: "已撤销（数据已更正）",
}
MAX_REASON = 2000
REGION_CODE = r"^\d{12}$"
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


class FlagFilter(BaseModel):
    rule: RuleCode | None = Field(default=None, description="规则代码")
    state: FlagState | None = Field(default=None, description="状态")
    township_code: Text | None = Field(
        default=None, pattern=REGION_CODE, description="乡镇（街道）区划代码"
    )
    village_code: Text | None = Field(
        default=None, pattern=REGION_CODE, description="村（社区）区划代码"
    )
    period: Text | None = Field(default=None, pattern=PERIOD, description="期次，如 2026-10")


class FlagPerson(BaseModel):
    name_masked: str
    id_number_masked: str


class FlagRead(BaseModel):
    id: int
    rule: RuleCode
    rule_version: int
    rule_name: str
    village_code: str
    village: str | None = Field(description="村（社区）全称")
    person: FlagPerson | None = Field(description="涉及的人（打码）；村月总额类疑点为空")
    period: str
    item_name: str | None
    record_ids: list[str]
    figures: dict[str, Any] = Field(description="判断依据的数字")
    state: FlagState
    state_name: str
    reason: str | None = Field(description="处理理由")
    tip_id: int | None = Field(description="转成的举报编号")
    created_at: LocalDateTime
    updated_at: LocalDateTime


class FlagLine(BaseModel):
    """A line of a flag, as it stands now (the latest version of the record)."""

    record_id: str
    village_code: str
    village: str | None
    category_code: str
    item_name: str
    amount: Yuan
    period: str
    paid_on: date
    status: str
    department: str


class FlagDetail(FlagRead):
    rule_explanation: str
    lines: list[FlagLine]
    history: list[AuditEntryRead] = Field(description="处理记录（审计日志）")


class FlagClose(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    state: Literal["confirmed", "dismissed"] = Field(
        description="confirmed（确认属实）或 dismissed（排除）"
    )
    reason: MultilineText | None = Field(
        default=None, max_length=MAX_REASON, description="处理理由（必填）"
    )


class RulePrecision(BaseModel):
    rule: RuleCode
    rule_name: str
    open: int
    confirmed: int
    dismissed: int
    precision: float | None = Field(description="确认属实 ÷（确认属实 + 排除）；还没有处理过的为空")
