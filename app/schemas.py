"""Types shared by every domain's schemas."""

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import PlainSerializer

COUNTY_TZ = ZoneInfo("Asia/Shanghai")

# A moment, sent as ISO 8601 with the county's offset (+08:00).
LocalDateTime = Annotated[
    datetime,
    PlainSerializer(
        lambda v: v.astimezone(COUNTY_TZ).isoformat(timespec="seconds"), return_type=str
    ),
]
