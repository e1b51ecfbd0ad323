from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.schemas import LocalDateTime


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
    action: str | None = None
    actor_id: int | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
