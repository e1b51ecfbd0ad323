import unicodedata
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.schemas import LocalDateTime

# Printed on the poster: control and format characters (U+202E turns text around), private-use,
# unassigned and symbol characters (emoji print as boxes) are refused; letters (CJK too), marks,
# digits, spaces and punctuation such as （）·、- are kept.
_UNPRINTABLE = {"Cc", "Cf", "Cs", "Co", "Cn", "So", "Sk", "Me", "Zl", "Zp"}


def _printable(value: str) -> str:
    bad = [ch for ch in value if unicodedata.category(ch) in _UNPRINTABLE]
    if bad:
        raise ValueError(
            f"渠道名不能含表情、符号或控制字符（U+{ord(bad[0]):04X}），请只用汉字、字母、数字和常用标点"
        )
    return value


Channel = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20),
    AfterValidator(_printable),
    Field(description="张贴位置或渠道，如 村务公开栏、便民服务中心", examples=["村务公开栏"]),
]


class PosterCreate(BaseModel):
    village_code: str = Field(
        pattern=r"^\d{12}$", description="村（社区）的 12 位区划代码", examples=["511923103204"]
    )
    channel: Channel


class PosterRead(BaseModel):
    code: str = Field(description="海报码（8 位以内）", examples=["k7mq2xva"])
    url: str = Field(
        description="二维码里的地址", examples=["https://lianyun.example.cn/i/k7mq2xva"]
    )
    village_code: str
    village_name: str = Field(examples=["佛楼镇三官寨村"])
    channel: str
    created_at: LocalDateTime
    total_scans: int = Field(description="累计扫码次数")


class PlatformScans(BaseModel):
    android: int = 0
    ios: int = 0
    wechat: int = Field(default=0, description="在微信里扫码（安卓和苹果手机都算）")
    other: int = 0
    total: int = 0


class DayScans(PlatformScans):
    day: date = Field(description="日期（北京时间）")


class PosterStats(BaseModel):
    poster: PosterRead
    totals: PlatformScans
    days: list[DayScans] = Field(description="有扫码的日子，按日期先后")


class TownshipScans(BaseModel):
    township_code: str
    township_name: str = Field(examples=["佛楼镇"])
    posters: int = Field(description="海报数")
    scans: int = Field(description="累计扫码次数")
