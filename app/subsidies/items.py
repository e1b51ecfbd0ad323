"""The county's 一卡通 subsidy items: the one reference list of their names.

Each item as the 一卡通 payout lists spell it (`item_name`), its category (SPEC.md), the county
department that pays it, how often it is paid, and whether it is paid to the card at all (an
item that is not, such as the 医保 premium aid deducted at enrolment, never appears in the
feed). The mock feed (app.mockfeed.catalog) builds on this list; the lookup tells a villager how
often each line of theirs is paid. A real county's feed may carry other names: they are shown
without a frequency.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from app.subsidies.categories import CATEGORIES


class Frequency(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"
    per_term = "per_term"
    installments = "installments"  # a few parts, by a schedule (years, or stages of a work)
    one_off = "one_off"


# As a villager reads it in the lookup.
FrequencyLabel = Literal["每月", "每季度", "每年", "每学期", "分期", "一次性"]
FREQUENCY_LABELS: dict[Frequency, FrequencyLabel] = {
    Frequency.monthly: "每月",
    Frequency.quarterly: "每季度",
    Frequency.yearly: "每年",
    Frequency.per_term: "每学期",
    Frequency.installments: "分期",
    Frequency.one_off: "一次性",
}


@dataclass(frozen=True, slots=True)
class CountyItem:
    key: str
    item_name: str
    category_code: str
    department: str
    frequency: Frequency
    on_card: bool = True  # False: never paid to the 一卡通 (e.g. 代缴, deducted elsewhere)

    @property
    def category_name(self) -> str:
        return CATEGORIES[self.category_code]


_MINZHENG = "平昌县民政局"
_NONGYE = "平昌县农业农村局"
_LINYE = "平昌县林业局"
_YIBAO = "平昌县医疗保障局"
_RENSHE = "平昌县人力资源和社会保障局"
_JIAOYU = "平昌县教育科技和体育局"
_WEIJIAN = "平昌县卫生健康局"
_M, _Q, _Y = Frequency.monthly, Frequency.quarterly, Frequency.yearly
_T, _I, _O = Frequency.per_term, Frequency.installments, Frequency.one_off

COUNTY_ITEMS: tuple[CountyItem, ...] = (
    CountyItem("dibao", "城乡居民最低生活保障金", "01", _MINZHENG, _M),
    CountyItem("tekun", "特困人员救助供养金", "01", _MINZHENG, _M),
    CountyItem("linshi", "临时救助金", "01", _MINZHENG, _O),
    CountyItem("gengdi", "耕地地力保护补贴", "02", _NONGYE, _Y),
    CountyItem("nongji", "农机购置与应用补贴", "02", _NONGYE, _O),
    CountyItem("tuigeng", "退耕还林补助", "03", _LINYE, _I),
    CountyItem("gongyilin", "森林生态效益补偿", "03", _LINYE, _Y),
    CountyItem("hulinyuan", "生态护林员补助", "03", _LINYE, _Q),
    CountyItem("yiliao", "医疗救助金", "04", _YIBAO, _O),
    # Paid for the villager straight into the 医保 premium at enrolment (代缴), never as cash.
    CountyItem("yibao", "城乡居民医保参保资助", "04", _YIBAO, _Y, on_card=False),
    CountyItem("pension", "城乡居民基础养老金", "05", _RENSHE, _M),
    CountyItem("gaoling", "高龄津贴", "05", _MINZHENG, _Q),
    CountyItem("kunnan_canji", "困难残疾人生活补贴", "06", _MINZHENG, _M),
    CountyItem("zhongdu_canji", "重度残疾人护理补贴", "06", _MINZHENG, _M),
    CountyItem("yiwu_shenghuo", "义务教育家庭经济困难学生生活补助", "07", _JIAOYU, _T),
    CountyItem("gaozhong", "普通高中国家助学金", "07", _JIAOYU, _T),
    CountyItem("yulu", "雨露计划补助", "07", _NONGYE, _T),
    CountyItem("weifang", "农村危房改造补助", "08", "平昌县住房和城乡建设局", _I),
    CountyItem("gongyi_gangwei", "公益性岗位补贴", "09", _RENSHE, _M),
    CountyItem("youfu", "优抚对象定期抚恤补助", "10", "平昌县退役军人事务局", _M),
    CountyItem("jiangli", "农村部分计划生育家庭奖励扶助金", "11", _WEIJIAN, _Y),
    CountyItem("tebie", "计划生育家庭特别扶助金", "11", _WEIJIAN, _Q),
    CountyItem("yuer", "育儿补贴", "11", _WEIJIAN, _Y),
)

COUNTY_ITEM_BY_KEY: dict[str, CountyItem] = {item.key: item for item in COUNTY_ITEMS}
COUNTY_ITEM_BY_NAME: dict[str, CountyItem] = {item.item_name: item for item in COUNTY_ITEMS}


def frequency_label(item_name: str) -> FrequencyLabel | None:
    """How often the county pays an item (每月 …), or None for a name it does not know."""
    item = COUNTY_ITEM_BY_NAME.get(item_name)
    return None if item is None else FREQUENCY_LABELS[item.frequency]
