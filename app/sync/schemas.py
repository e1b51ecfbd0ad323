from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Id, LocalDateTime


class SyncRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    trigger: str = Field(description="cli / schedule / admin / demo")
    started_by_id: int | None = Field(description="发起同步的工作人员（后台发起时）")
    outcome: Literal["running", "succeeded", "failed"]
    started_at: LocalDateTime
    finished_at: LocalDateTime | None
    cursor_start: str | None
    cursor_end: str | None
    pages: int
    fetched: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    error: str | None


class RejectedRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    run_id: int | None
    received_at: LocalDateTime
    record_id: str | None
    version: int | None
    reason: str = Field(examples=["unknown_village"])
    message: str = Field(examples=["未知的村（社区）编码 511923999201"])
    replayable: bool = Field(description="修正参考数据（如补录村）后可重新导入")
    payload: dict[str, Any] = Field(description="原始记录；身份证号和姓名只存掩码与密钥哈希")
    resolved_at: LocalDateTime | None


class ReplayRequest(BaseModel):
    ids: list[Id] | None = Field(
        default=None, max_length=10_000, description="省略则重放全部可重放的记录"
    )


class ReplayResult(BaseModel):
    replayed: int
    still_rejected: int


class SyncStarted(BaseModel):
    status: Literal["started"] = "started"
    run_id: int = Field(description="这次同步的编号")
    detail: str = "同步已在后台开始，请稍后查看同步记录。"
