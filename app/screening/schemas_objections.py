from pydantic import BaseModel, ConfigDict, Field

from app.schemas import MultilineText, Text

MAX_REASON = 500


class ObjectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    record_id: Text = Field(
        min_length=1, max_length=64, description="公示清单上这一条的发放记录编号"
    )
    reason: MultilineText | None = Field(
        default=None, max_length=MAX_REASON, description="哪里不对（可不填）"
    )
