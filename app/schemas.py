"""Types shared by every domain's schemas.

Every text a request brings in (body fields, query and path parameters, form fields) is one of
`Text` (a line: a name, a title) or `MultilineText` (content, bodies): neither takes a control
character (NUL, which PostgreSQL cannot store, the rest of C0 and C1, DEL) nor a lone surrogate
(not UTF-8 at all), so such text is a 422 on every database instead of a 500 on one. Multi-line
text keeps tab, line feed and carriage return. Every id is an `Id` (a JSON integer, no `true`,
no `"5"`, within the id columns' range) or, in a path or query, a `RowId`/`QueryId`.
"""

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, PlainSerializer

COUNTY_TZ = ZoneInfo("Asia/Shanghai")

# A moment, sent as ISO 8601 with the county's offset (+08:00).
LocalDateTime = Annotated[
    datetime,
    PlainSerializer(
        lambda v: v.astimezone(COUNTY_TZ).isoformat(timespec="seconds"), return_type=str
    ),
]

# --- text -------------------------------------------------------------------------------------

_LINE_BREAKS_AND_TABS = frozenset("\t\n\r")


def _first_refused(value: str, allowed: frozenset[str]) -> str | None:
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed:
            return ch
    return None


def single_line(value: str) -> str:
    refused = _first_refused(value, frozenset())
    if refused is not None:
        raise ValueError(f"不能含控制字符或换行（U+{ord(refused):04X}）")
    return value


def multiline(value: str) -> str:
    refused = _first_refused(value, _LINE_BREAKS_AND_TABS)
    if refused is not None:
        raise ValueError(f"不能含控制字符（U+{ord(refused):04X}）")
    return value


Text = Annotated[str, AfterValidator(single_line)]
MultilineText = Annotated[str, AfterValidator(multiline)]
# Where surrounding white space is stripped, strip before checking: `Annotated[str,
# StringConstraints(strip_whitespace=True), AfterValidator(single_line)]`.

# --- ids and numbers --------------------------------------------------------------------------

# The id columns are 32-bit INTEGER: no larger id can exist, and a larger number must not reach
# the database (SQLite overflows past 64 bits). Strict: `true` or "5" is not an id.
MAX_ID = 2_147_483_647
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
# A row id in a path or query (a string there, so not strict; `true` is no integer anyway).
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="编号")]
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
# A count or amount in a JSON body: an integer, never `true`, `1.0` or "1".
StrictInt = Annotated[int, Field(strict=True)]


def _digits_or_int(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("应为整数")
    if isinstance(value, str) and not value.strip().isdigit():
        raise ValueError("应为整数")
    return int(value)


# An integer in a body that may also come as a form (multipart fields are text): an integer or
# its digits, never `true` or `1.5`.
FormInt = Annotated[int, BeforeValidator(_digits_or_int)]

# --- money ------------------------------------------------------------------------------------


# Money travels as a decimal string in yuan with two places; it is kept in fen.
def yuan_amount(fen: int) -> str:
    """An amount in fen as yuan with two places, as the feed and the staff read it: "143.00"."""
    return f"{fen // 100}.{fen % 100:02d}"


# Pydantic calls the serializer for every amount of an answer; a county pays a few dozen
# standard amounts, so most are found in the cache, in C, without running yuan_amount again.
Yuan = Annotated[int, PlainSerializer(lru_cache(maxsize=4096)(yuan_amount), return_type=str)]


def yuan_text(fen: int) -> str:
    """Yuan as a villager reads them on a page: 320000 → "3200", 320050 → "3200.5"."""
    whole, cents = divmod(fen, 100)
    return str(whole) if not cents else f"{whole}.{cents:02d}".rstrip("0")


# --- dates ------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_8601_only(value: Any) -> Any:
    """pydantic reads `0.5` or `1700000000` as a Unix time; a client means ISO 8601."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and not _ISO_DATE.match(value.strip())
    ):
        raise ValueError("应为 ISO 8601 格式，如 2026-10-01 或 2026-10-01T08:00:00+08:00")
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_8601_only)]
IsoDate = Annotated[date, BeforeValidator(_iso_8601_only)]
