from typing import Literal

from pydantic import BaseModel, Field

from app.schemas import Yuan
from app.subsidies.schemas import CategoryTotal


class DisclosureMonths(BaseModel):
    village_code: str
    village: str = Field(examples=["平昌县佛楼镇三官寨村"])
    periods: list[str] = Field(
        examples=[["2026-10", "2026-09"]], description="已公示的月份，新的在前"
    )


class DisclosureLine(BaseModel):
    record_id: str = Field(description="举报时可引用这一行")
    name_masked: str = Field(examples=["张*明"])
    category_code: str
    category_name: str
    item_name: str
    amount: Yuan = Field(examples=["356.00"])
    status: Literal["paid", "reversed"]


class DisclosureList(BaseModel):
    village_code: str
    village: str
    period: str
    total: Yuan = Field(examples=["35600.00"], description="已发放合计（不含已追回/撤销的）")
    by_category: list[CategoryTotal]
    items: list[DisclosureLine]
