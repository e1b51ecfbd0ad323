"""Types shared by every domain's schemas."""

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import PlainSerializer

COUNTY_TZ = ZoneInfo("Asia/Shanghai")

# A moment, sent as ISO 8601 with the county's offset (+08:00).
LocalDateTime = Annotated[
    datetime,
    PlainSerializer(
        lambda v: v.astimezone(COUNTY_TZ).isoformat(timespec="seconds"), return_type=str
    ),
]

# A row id in a path: bounded, so that an absurd number is a 422, not a database overflow.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647, description="编号")]
