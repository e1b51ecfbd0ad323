"""The subsidy items the mock 一卡通 platform pays (the demo figures of 平昌县).

Amounts are integer fen (cents); a payout is always within [min_cents, max_cents], and for items
paid at fixed rates it is one of `fixed_cents`. Ages are whole years, inclusive.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app.subsidies.categories import CATEGORIES


class Frequency(StrEnum):
    monthly = "monthly"
    yearly = "yearly"
    per_term = "per_term"
    one_off = "one_off"


class Recipient(StrEnum):
    person = "person"
    household_head = "household_head"


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    category_code: str
    item_name: str
    department: str
    frequency: Frequency
    eligibility: str
    min_cents: int
    max_cents: int
    # Months of the year the item is paid for (yearly / per-term items); empty otherwise.
    period_months: tuple[int, ...] = ()
    recipient: Recipient = Recipient.person
    min_age: int | None = None
    max_age: int | None = None
    # Items paid at fixed rates: the only amounts that occur.
    fixed_cents: tuple[int, ...] = ()
    # Items paid per mu of land: every amount is a multiple of this.
    unit_cents: int | None = None

    @property
    def category_name(self) -> str:
        return CATEGORIES[self.category_code]

    @property
    def min_amount(self) -> Decimal:
        return Decimal(self.min_cents) / 100

    @property
    def max_amount(self) -> Decimal:
        return Decimal(self.max_cents) / 100


ITEMS: tuple[Item, ...] = (
    Item(
        key="dibao",
        category_code="01",
        item_name="城乡居民最低生活保障金",
        department="县民政局",
        frequency=Frequency.monthly,
        eligibility="低保 households (any age), ~6% of persons",
        min_cents=15_000,
        max_cents=48_000,
    ),
    Item(
        key="tekun",
        category_code="01",
        item_name="特困人员救助供养金",
        department="县民政局",
        frequency=Frequency.monthly,
        eligibility="~0.8% of persons, mostly 60+ living alone",
        min_cents=70_200,
        max_cents=100_200,
    ),
    Item(
        key="linshi",
        category_code="01",
        item_name="临时救助金",
        department="县民政局",
        frequency=Frequency.one_off,
        eligibility="~1% a year",
        min_cents=50_000,
        max_cents=300_000,
    ),
    Item(
        key="gengdi",
        category_code="02",
        item_name="耕地地力保护补贴",
        department="县农业农村局",
        frequency=Frequency.yearly,
        eligibility="one head of each farming household (18+)",
        min_cents=10_100,
        max_cents=121_200,
        period_months=(5,),
        recipient=Recipient.household_head,
        min_age=18,
        unit_cents=10_100,
    ),
    Item(
        key="nongji",
        category_code="02",
        item_name="农机购置补贴",
        department="县农业农村局",
        frequency=Frequency.one_off,
        eligibility="~0.3% a year, 20–65",
        min_cents=80_000,
        max_cents=2_000_000,
        min_age=20,
        max_age=65,
    ),
    Item(
        key="tuigeng",
        category_code="03",
        item_name="退耕还林补助",
        department="县林业局",
        frequency=Frequency.yearly,
        eligibility="~8% of households",
        min_cents=15_000,
        max_cents=150_000,
        period_months=(11,),
        recipient=Recipient.household_head,
        unit_cents=15_000,
    ),
    Item(
        key="gongyilin",
        category_code="03",
        item_name="生态公益林补偿",
        department="县林业局",
        frequency=Frequency.yearly,
        eligibility="~10% of households",
        min_cents=1_475,
        max_cents=59_000,
        period_months=(12,),
        recipient=Recipient.household_head,
        unit_cents=1_475,
    ),
    Item(
        key="yiliao",
        category_code="04",
        item_name="医疗救助金",
        department="县医疗保障局",
        frequency=Frequency.one_off,
        eligibility="~2% a year",
        min_cents=20_000,
        max_cents=1_000_000,
    ),
    Item(
        key="yibao",
        category_code="04",
        item_name="城乡居民医保参保资助",
        department="县医疗保障局",
        frequency=Frequency.yearly,
        eligibility="低保/特困/disabled persons",
        min_cents=10_000,
        max_cents=40_000,
        period_months=(1,),
    ),
    Item(
        key="pension",
        category_code="05",
        item_name="城乡居民基础养老金",
        department="县社会保险事业管理局",
        frequency=Frequency.monthly,
        eligibility="everyone 60+",
        min_cents=14_300,
        max_cents=20_300,
        min_age=60,
    ),
    Item(
        key="gaoling",
        category_code="05",
        item_name="高龄津贴",
        department="县民政局",
        frequency=Frequency.monthly,
        eligibility="80+ only: 80–89 → 50.00, 90–99 → 100.00, 100+ → 300.00",
        min_cents=5_000,
        max_cents=30_000,
        min_age=80,
        fixed_cents=(5_000, 10_000, 30_000),
    ),
    Item(
        key="kunnan_canji",
        category_code="06",
        item_name="困难残疾人生活补贴",
        department="县残疾人联合会",
        frequency=Frequency.monthly,
        eligibility="~2% of persons (disabled in poor households)",
        min_cents=9_000,
        max_cents=9_000,
        fixed_cents=(9_000,),
    ),
    Item(
        key="zhongdu_canji",
        category_code="06",
        item_name="重度残疾人护理补贴",
        department="县残疾人联合会",
        frequency=Frequency.monthly,
        eligibility="~1% (grade 1–2 disability)",
        min_cents=9_000,
        max_cents=12_000,
        fixed_cents=(9_000, 12_000),
    ),
    Item(
        key="student",
        category_code="07",
        item_name="学生资助金",
        department="县教育局",
        frequency=Frequency.per_term,
        eligibility="ages 6–22, ~20% of that age band",
        min_cents=50_000,
        max_cents=150_000,
        period_months=(3, 9),
        min_age=6,
        max_age=22,
        fixed_cents=(50_000, 62_500, 100_000, 150_000),
    ),
    Item(
        key="weifang",
        category_code="08",
        item_name="农村危房改造补助",
        department="县住房和城乡建设局",
        frequency=Frequency.one_off,
        eligibility="~0.2% of households a year",
        min_cents=1_000_000,
        max_cents=3_500_000,
        recipient=Recipient.household_head,
    ),
    Item(
        key="gongyi_gangwei",
        category_code="09",
        item_name="公益性岗位补贴",
        department="县人力资源和社会保障局",
        frequency=Frequency.monthly,
        eligibility="~1% of persons aged 18–59",
        min_cents=60_000,
        max_cents=120_000,
        min_age=18,
        max_age=59,
    ),
    Item(
        key="youfu",
        category_code="10",
        item_name="优抚对象抚恤补助",
        department="县退役军人事务局",
        frequency=Frequency.monthly,
        eligibility="~0.5% of persons, 40+",
        min_cents=60_000,
        max_cents=250_000,
        min_age=40,
    ),
    Item(
        key="jihua",
        category_code="11",
        item_name="农村计划生育家庭奖励扶助金",
        department="县卫生健康委员会",
        frequency=Frequency.yearly,
        eligibility="~5% of persons aged 60+",
        min_cents=96_000,
        max_cents=96_000,
        period_months=(7,),
        min_age=60,
        fixed_cents=(96_000,),
    ),
)

ITEM_BY_KEY: dict[str, Item] = {item.key: item for item in ITEMS}
ITEM_BY_NAME: dict[str, Item] = {item.item_name: item for item in ITEMS}
