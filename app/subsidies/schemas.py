from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field

from app.schemas import StrictInt, Text, Yuan
from app.subsidies.items import FrequencyLabel


class PayoutIn(NamedTuple):  # a tuple: made, pickled and read fastest, per feed record
    """One checked payout line from the feed, with the person already reduced to hashes."""

    record_id: str
    version: int
    id_hash: bytes
    id_masked: str
    name_hash: bytes
    name_masked: str
    birth_on: date
    sex: str
    village_code: str
    category_code: str
    item_name: str
    amount_fen: int
    period: str
    paid_on: date
    status: str
    department: str


@dataclass(frozen=True)
class StoreCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Records whose record_id and version were had already with other content: not stored.
    conflicts: tuple[PayoutIn, ...] = ()


class LookupRequest(BaseModel):
    id_number: Text = Field(
        min_length=1,
        max_length=40,
        description="18 位身份证号（社会保障号码）",
        examples=["511923195203220271"],
    )
    name: Text = Field(
        min_length=1, max_length=32, description="姓名，须与登记的一致", examples=["徐平"]
    )
    year: StrictInt | None = Field(default=None, ge=2000, le=2100, description="只看这一年")
    category: Text | None = Field(
        default=None, pattern=r"^(0[1-9]|1[01])$", description="只看这一类（01–11）"
    )


class PersonRead(BaseModel):
    name_masked: str = Field(examples=["张*英"])
    id_number_masked: str = Field(examples=["511923********002X"])
    village: str = Field(examples=["平昌县佛楼镇三官寨村"])
    village_code: str


class CategoryTotal(BaseModel):
    category_code: str
    category_name: str
    total: Yuan = Field(examples=["1716.00"])
    count: int


class YearTotal(BaseModel):
    year: int
    total: Yuan = Field(examples=["3432.00"])
    count: int


class Summary(BaseModel):
    total: Yuan = Field(examples=["3432.00"], description="已发放合计（不含已追回/撤销的）")
    by_category: list[CategoryTotal]
    by_year: list[YearTotal]


class PayoutRead(BaseModel):
    record_id: str
    category_code: str
    category_name: str
    item_name: str
    amount: Yuan = Field(examples=["356.00"])
    period: str = Field(examples=["2026-10"])
    paid_at: date
    status: Literal["paid", "reversed"]
    department: str
    frequency: FrequencyLabel | None = Field(
        examples=["每月"], description="这项补贴多久发一次；县里名录之外的项目为 null"
    )
    policy_id: int | None = Field(description="讲解这项补贴的政策（GET /api/v1/policies/{id}）")


class LookupResponse(BaseModel):
    person: PersonRead
    summary: Summary
    payouts: list[PayoutRead]
