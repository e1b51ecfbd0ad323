from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import IsoDateTime, LocalDateTime, QueryId, Text


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: LocalDateTime
    actor_id: int | None
    actor_username: str = Field(description="操作人用户名；命令行操作为 `system`")
    action: str = Field(examples=["staff.create"])
    entity_type: str = Field(examples=["staff"])
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditFilter(BaseModel):
    action: Text | None = Field(default=None, max_length=64)
    actor_id: QueryId | None = None
    entity_type: Text | None = Field(default=None, max_length=64)
    entity_id: Text | None = Field(default=None, max_length=64)
    since: IsoDateTime | None = Field(default=None, description="ISO 8601，须带时区")
    until: IsoDateTime | None = Field(default=None, description="ISO 8601，须带时区")
