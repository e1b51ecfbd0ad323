from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import LocalDateTime


class ScreeningRunCreate(BaseModel):
    scope: Literal["full", "incremental"] = Field(
        default="full",
        description="full：全部发放记录；incremental：上次筛查以来同步进来的人和月份",
    )


class ScreeningRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    trigger: str = Field(
        description="sync（同步后）/ staff（手动）/ demo / list（上传名单后）/ "
        "standard（改标准后）/ owed（同步期间改了名单或标准，补做）/ schedule（每周全量）"
    )
    scope: Literal["full", "incremental"]
    sync_run_id: int | None = Field(description="触发这次筛查的同步")
    started_by_id: int | None = Field(description="手动发起的工作人员")
    started_at: LocalDateTime
    finished_at: LocalDateTime | None
    outcome: Literal["running", "succeeded", "failed"]
    error: str | None
    counts: dict[str, dict[str, int]] = Field(
        description="每条规则：found 本次发现、new 新增、reopened 重新打开、updated 数字更新、"
        "withdrawn 撤销（线索已不成立）",
        examples=[
            {"duplicate": {"found": 3, "new": 1, "reopened": 0, "updated": 0, "withdrawn": 0}}
        ],
    )


class RuleRead(BaseModel):
    code: str = Field(examples=["after_death"])
    version: int
    name: str = Field(examples=["死亡后仍发放"])
    explanation: str
    parameters: dict[str, Any] = Field(description="随版本保存的参数")
