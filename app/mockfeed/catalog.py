"""The subsidy items the mock 一卡通 platform pays, with the demo figures of 平昌县.

Names, categories, departments and how often each item is paid come from the county's list
(app.subsidies.items); this adds what the mock needs to make payouts: who gets an item, and the
amounts. Items that are never paid to the card (城乡居民医保参保资助: 代缴, deducted from the 医保
premium at enrolment) are not in the feed.

The amounts that are national standards: 退耕还林 (新一轮, 1200元/亩 over five years: 500 in the
year of enrolment, 300 in the third, 400 in the fifth); 义务教育 living allowance from autumn
2025 (boarders 1250元 a year in primary school and 1500元 in junior middle school, day pupils
half, paid per term); 育儿补贴 (3600元 a year per child under 3, from 2025); the basic pension's
national minimum (143元 a month). Every other figure (per-亩 rates, bands, tiers, quarterly and
per-term amounts, shares of recipients, the months items are paid in) is a demo example, to be
replaced by the county's own.

Amounts are integer fen (cents); a payout is always within [min_cents, max_cents], and for items
paid at fixed rates it is one of `fixed_cents`. Ages are whole years, inclusive.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from app.subsidies.categories import CATEGORIES
from app.subsidies.items import COUNTY_ITEM_BY_KEY, CountyItem, Frequency

__all__ = ["CATEGORIES", "ITEMS", "ITEM_BY_KEY", "ITEM_BY_NAME", "Frequency", "Item", "Recipient"]

QUARTER_MONTHS = (3, 6, 9, 12)
TERM_MONTHS = (3, 9)  # spring and autumn terms


class Recipient(StrEnum):
    person = "person"
    household_head = "household_head"


@dataclass(frozen=True, slots=True)
class Item:
    county: CountyItem = field(repr=False)
    eligibility: str
    min_cents: int
    max_cents: int
    # Months of the year the item is paid for (quarterly, yearly, per-term and scheduled
    # items); empty for monthly and one-off ones.
    period_months: tuple[int, ...] = ()
    recipient: Recipient = Recipient.person
    min_age: int | None = None
    max_age: int | None = None
    # Items paid at fixed rates: the only amounts that occur.
    fixed_cents: tuple[int, ...] = ()
    # Items paid per unit (亩 of land, child): every amount is a multiple of this.
    unit_cents: int | None = None
    # Installments by years: (year of the household's enrolment, 1 = the first; fen per 亩).
    per_mu_schedule: tuple[tuple[int, int], ...] = ()
    # Installments by stages of a work: each part's share of the whole, in percent.
    parts_percent: tuple[int, ...] = ()

    @property
    def key(self) -> str:
        return self.county.key

    @property
    def item_name(self) -> str:
        return self.county.item_name

    @property
    def category_code(self) -> str:
        return self.county.category_code

    @property
    def department(self) -> str:
        return self.county.department

    @property
    def frequency(self) -> Frequency:
        return self.county.frequency

    @property
    def category_name(self) -> str:
        return CATEGORIES[self.category_code]

    @property
    def min_amount(self) -> Decimal:
        return Decimal(self.min_cents) / 100

    @property
    def max_amount(self) -> Decimal:
        return Decimal(self.max_cents) / 100


_COUNTY = COUNTY_ITEM_BY_KEY
_HEAD = Recipient.household_head

ITEMS: tuple[Item, ...] = (
    Item(
        _COUNTY["dibao"],
        eligibility="低保 households (any age), ~6% of persons",
        min_cents=15_000,
        max_cents=48_000,
    ),
    Item(
        _COUNTY["tekun"],
        eligibility="~0.8% of persons, mostly 60+ living alone",
        min_cents=70_200,
        max_cents=100_200,
    ),
    Item(_COUNTY["linshi"], eligibility="~1% a year", min_cents=50_000, max_cents=300_000),
    Item(
        _COUNTY["gengdi"],
        eligibility="one head of each farming household (18+), 101元 per 亩, 1–12 亩",
        min_cents=10_100,
        max_cents=121_200,
        period_months=(5,),
        recipient=_HEAD,
        min_age=18,
        unit_cents=10_100,
    ),
    Item(
        _COUNTY["nongji"],
        eligibility="~0.3% a year, 20–65, after the machine is checked",
        min_cents=80_000,
        max_cents=2_000_000,
        min_age=20,
        max_age=65,
    ),
    Item(
        _COUNTY["tuigeng"],
        eligibility="~8% of households, 1–10 亩 enrolled in one of 2019–2026 (spread evenly)",
        min_cents=30_000,
        max_cents=500_000,
        period_months=(11,),
        recipient=_HEAD,
        per_mu_schedule=((1, 50_000), (3, 30_000), (5, 40_000)),
    ),
    Item(
        _COUNTY["gongyilin"],
        eligibility="~10% of households, 14.75元 per 亩, 1–40 亩",
        min_cents=1_475,
        max_cents=59_000,
        period_months=(12,),
        recipient=_HEAD,
        unit_cents=1_475,
    ),
    Item(
        _COUNTY["hulinyuan"],
        eligibility="a few per village: ~4% of adults 18–59 of 脱贫户, 2500元 a quarter",
        min_cents=250_000,
        max_cents=250_000,
        period_months=QUARTER_MONTHS,
        min_age=18,
        max_age=59,
        fixed_cents=(250_000,),
    ),
    Item(
        _COUNTY["yiliao"],
        eligibility="~0.3% a year: 零星报销 only (the rest is settled at the hospital)",
        min_cents=20_000,
        max_cents=500_000,
    ),
    Item(
        _COUNTY["pension"],
        eligibility="everyone 60+: 143 / 163 / 183 / 203元 a month from 60 / 70 / 80 / 90",
        min_cents=14_300,
        max_cents=20_300,
        min_age=60,
    ),
    Item(
        _COUNTY["gaoling"],
        eligibility="80+ only, per quarter: 80–89 → 150, 90–99 → 300, 100+ → 900",
        min_cents=15_000,
        max_cents=90_000,
        period_months=QUARTER_MONTHS,
        min_age=80,
        fixed_cents=(15_000, 30_000, 90_000),
    ),
    Item(
        _COUNTY["kunnan_canji"],
        eligibility="~2% of persons (disabled in poor households)",
        min_cents=9_000,
        max_cents=9_000,
        fixed_cents=(9_000,),
    ),
    Item(
        _COUNTY["zhongdu_canji"],
        eligibility="~1% (grade 1–2 disability)",
        min_cents=9_000,
        max_cents=12_000,
        fixed_cents=(9_000, 12_000),
    ),
    Item(
        _COUNTY["yiwu_shenghuo"],
        eligibility="~20% of pupils 6–15, per term: boarders 625 (primary) / 750 (junior "
        "middle), day pupils half",
        min_cents=31_250,
        max_cents=75_000,
        period_months=TERM_MONTHS,
        min_age=6,
        max_age=15,
        fixed_cents=(31_250, 37_500, 62_500, 75_000),
    ),
    Item(
        _COUNTY["gaozhong"],
        eligibility="the same share of students 15–18 in high school, per term: 750 / 1150 / "
        "1750 (1500 / 2300 / 3500 a year)",
        min_cents=75_000,
        max_cents=175_000,
        period_months=TERM_MONTHS,
        min_age=15,
        max_age=18,
        fixed_cents=(75_000, 115_000, 175_000),
    ),
    Item(
        _COUNTY["yulu"],
        eligibility="中职/高职 students 16–22 of 脱贫户 and 监测户, 1500元 a term",
        min_cents=150_000,
        max_cents=150_000,
        period_months=(4, 10),
        min_age=16,
        max_age=22,
        fixed_cents=(150_000,),
    ),
    Item(
        _COUNTY["weifang"],
        eligibility="~0.2% of households a year, 10000–35000元 in two parts: 40% when the "
        "work starts, 60% after the check 2–6 months later; once per household",
        min_cents=400_000,
        max_cents=2_100_000,
        recipient=_HEAD,
        parts_percent=(40, 60),
    ),
    Item(
        _COUNTY["gongyi_gangwei"],
        eligibility="~1% of persons aged 18–59",
        min_cents=60_000,
        max_cents=120_000,
        min_age=18,
        max_age=59,
    ),
    Item(
        _COUNTY["youfu"],
        eligibility="~0.5% of persons, 40+",
        min_cents=60_000,
        max_cents=250_000,
        min_age=40,
    ),
    Item(
        _COUNTY["jiangli"],
        eligibility="~5% of persons aged 60+, 960元 a year",
        min_cents=96_000,
        max_cents=96_000,
        period_months=(7,),
        min_age=60,
        fixed_cents=(96_000,),
    ),
    Item(
        _COUNTY["tebie"],
        eligibility="rare: ~0.3% of persons 49+ (an only child disabled or died), per "
        "quarter 1200 / 1500",
        min_cents=120_000,
        max_cents=150_000,
        period_months=QUARTER_MONTHS,
        min_age=49,
        fixed_cents=(120_000, 150_000),
    ),
    Item(
        _COUNTY["yuer"],
        eligibility="the head of each household with a child under 3 on September 1st: "
        "3600元 a child",
        min_cents=360_000,
        max_cents=1_080_000,
        period_months=(9,),
        recipient=_HEAD,
        unit_cents=360_000,
    ),
)

ITEM_BY_KEY: dict[str, Item] = {item.key: item for item in ITEMS}
ITEM_BY_NAME: dict[str, Item] = {item.item_name: item for item in ITEMS}
