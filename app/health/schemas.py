from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "degraded"] = Field(
        description="degraded：仍可服务，但有依赖不可用（见各项检查），运维应尽快处理"
    )
    database: Literal["ok"] = "ok"
    redis: Literal["ok", "unavailable", "not_configured"] = Field(
        description=(
            "限流计数用的 Redis。unavailable 时各进程在本机内存中计数，村民的查询和举报照常，"
            "工作人员登录暂停（503 rate_limit_unavailable）"
        )
    )
    schema_revision: str
