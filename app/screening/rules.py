"""The screening rules' catalogue: each rule's code, version, Chinese name, one-line
explanation and parameters (SPEC.md, "Payout screening"). A rule's parameters are kept with its
version: change one, raise the version. The SQL that finds each rule's lines is in
app.screening.checks (objections: app.screening.objections)."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RuleCode(StrEnum):
    duplicate = "duplicate"
    two_villages = "two_villages"
    age_mismatch = "age_mismatch"
    over_standard = "over_standard"
    village_jump = "village_jump"
    after_death = "after_death"
    public_employee = "public_employee"
    cadre_relative = "cadre_relative"
    objection = "objection"


@dataclass(frozen=True)
class Rule:
    code: RuleCode
    version: int
    name: str
    explanation: str
    parameters: dict[str, Any] = field(default_factory=dict)


RULES: dict[RuleCode, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            RuleCode.duplicate,
            1,
            "重复发放",
            "同一人同一项目同一期，以两条以上发放记录领取（不论在哪个村）",
        ),
        Rule(
            RuleCode.two_villages,
            1,
            "多村领取",
            "同一人在同一期于两个以上村（社区）领取补贴",
        ),
        Rule(
            RuleCode.age_mismatch,
            1,
            "年龄不符",
            "按身份证出生日期算到发放期的年龄不符合项目条件：高龄津贴不满80岁、"
            "城乡居民基础养老金不满60岁、教育资助超过25岁",
            {
                "min_age": {"高龄津贴": 80, "城乡居民基础养老金": 60},
                "max_age_by_category": {"07": 25},
            },
        ),
        Rule(
            RuleCode.over_standard,
            1,
            "超标准发放",
            "一笔发放金额高于纪委监委维护的该项目单笔最高标准",
        ),
        Rule(
            RuleCode.village_jump,
            1,
            "村月总额异常",
            "某村某项目一个月的发放总额超过本村前六个月中位数的两倍，且明显高于本乡镇其他村",
            {
                "months_before": 6,
                "min_months_before": 3,
                "times_own_median": 2,
                "times_township_median": 2,
            },
        ),
        Rule(
            RuleCode.after_death,
            2,  # 2: one flag a person and item, with all its months (1: one a line)
            "死亡后仍发放",
            "死亡名单上的人在死亡当月之后的期次仍被发放（死亡当月仍应发放）；"
            "每人每个项目一条疑点，列出全部这样的发放",
        ),
        Rule(
            RuleCode.public_employee,
            2,  # 2: one flag a person and item, with all its months (1: one a line)
            "财政供养人员领取救助",
            "财政供养人员名单上的人领取社会救助类补贴；每人每个项目一条疑点，列出全部这样的发放",
            {"categories": ["01"]},
        ),
        Rule(
            RuleCode.cadre_relative,
            2,  # 2: one flag a person and item, with all its months (1: one a line)
            "干部及近亲属领取",
            "村（社区）干部本人或其近亲属领取补贴：需要复核，不是认定；"
            "每人每个项目一条疑点，列出全部发放",
        ),
        Rule(
            RuleCode.objection,
            1,
            "群众提出异议",
            "群众在村里的晒账清单上对这一条点了“这条不对”",
        ),
    )
}
