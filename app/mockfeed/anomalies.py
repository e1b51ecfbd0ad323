"""Payout anomalies planted in the mock feed for screening (疑点筛查) to find, their ground
truth, and the reference lists (deceased, public employees, cadres and their relatives) of the
mock's persons, fictional like them.

With `MockFeedConfig.anomalies` = r > 0, each kind is planted n = round(r × persons) times
(fewer only when the stream has too few fitting persons or months):

- `duplicate`: a monthly payout paid again the same month under a second record_id
  (`PC{YYYYMM}-{12 000 000 + p + 1}`); every other one in another village of the township, and
  then it is also a `two_villages` finding (Planted.also).
- `two_villages`: a 临时救助 paid in a second village in a month the person is paid at home.
- `age_mismatch`, in turn: 高龄津贴 to someone 65–78, 城乡居民基础养老金 to someone 50–58, an
  education item (category 07) to someone 28–50; ages on the 1st of the period, so the
  mismatch holds whichever day of the month (or paid_at) one counts the age on.
- `over_standard`: a monthly payout at max(3 × its amount, 2 × the item's highest amount in
  app.mockfeed.catalog); every other line is within that highest amount, so the planted ones
  are all a rule finds when each item's standard is at least it.
- `village_jump`: a village's 低保 total of one month (the 7th of the stream or later) raised to
  at least 3 × the larger of its own median of the six months before and the median of its
  township's other villages that month (those that pay 低保 that month), by three or more extra
  低保 lines to persons of the village. Needs a stream of 7 months or more, and villages with
  enough persons: with 2 000 persons in the demo's 393 villages, about 10 can have one.
- `after_death`: a person on the deceased list still paid, as before, months after the month
  of death (the month of death itself is due and not an anomaly).
- `public_employee`: a person aged 22–59 on the 财政供养 list who is paid 低保 or 特困 (01).
- `cadre_relative`: a cadre's household on the roster (本人, 配偶, 父母, 子女, 兄弟姐妹), one of
  them at least paid something; each paid member is a finding.

Before any part is planted, a share of the households (SHOWCASE_SHARE) moves into 三官寨村, the
demo's poster village, and its first cadres' households (one a post) are its own: its lists and
its cadres' disclosure then read as a real village's (Plan.moved: the persons moved).

The lists also hold persons the rules must not flag: as many deceased paid only up to their
month of death (the mock drops their later months) and a few never paid; public employees paid
only 耕地地力保护补贴, and a few never paid; a few cadres' households nobody of which is paid.

A person plays one part only, and a line planted or changed is one no event of the stream
(correction, reversal, replay) touches: so no line meets a rule it was not planted for, with two
exceptions: Planted.also, and `village_jump`, whose planted months are the ones a rule must
find, not all it may (another kind's line, e.g. an over-standard 低保 in a village of five
persons, can make a small village's month jump too; sporadic items jump by nature).

The plan is drawn once per generator, from the seed (O(persons) plus the profiles of the persons
tried); it depends on the whole config (unlike the plain stream, a longer stream is not the
shorter one continued). Only the planted and the moved persons' blocks change; with r = 0
nothing does.
"""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, NamedTuple

from app.mockfeed.catalog import ITEMS
from app.mockfeed.generator import (
    _CHILD,
    _DIBAO,
    _FAULT_SLOT,
    _GAOLING,
    _GAOZHONG,
    _GENGDI,
    _HEAD,
    _HEAD_JSON,
    _LINSHI,
    _M64,
    _MONTHLY,
    _PARENT,
    _PENSION,
    _SLOTS,
    _SPOUSE,
    _TEKUN,
    _YIWU,
    _YULU,
    MAX_PERSONS,
    mix,
)
from app.schemas import yuan_amount
from app.screening.rules import RuleCode

if TYPE_CHECKING:
    from app.mockfeed.generator import FeedGenerator, _Profile

__all__ = [
    "KINDS",
    "GroundTruth",
    "Plan",
    "Planted",
    "ReferenceLists",
    "ground_truth",
    "plant",
    "reference_lists",
    "write_reference_lists",
]

_DUPLICATE_BASE = MAX_PERSONS * _SLOTS  # above every record number of the plain stream
_EDUCATION = (_YULU, _GAOZHONG, _YIWU)
_ASSISTANCE = "01"  # 社会救助


SHOWCASE_VILLAGE = "511923103204"  # 佛楼镇三官寨村, the demo's poster village
# The showcase village is given this share of the households (at most SHOWCASE_HOUSEHOLDS), and
# this many of the cadres' households are its own: its lists and its cadres' disclosure then
# read as a real village's (a few relatives among dozens of paid persons), not one person's.
SHOWCASE_SHARE = 0.04
SHOWCASE_HOUSEHOLDS = 60
SHOWCASE_CADRES = len(POSTS := ("村党支部书记", "村委会主任", "村务监督委员会主任", "村文书"))

# What the mock plants: every data rule of screening (objections come from villagers).
KINDS = tuple(code for code in RuleCode if code is not RuleCode.objection)


@dataclass(frozen=True, slots=True)
class Planted:
    """One planted anomaly: the lines (latest versions, paid) a flag of its rule names. For
    `duplicate` both lines; `two_villages` the line in the second village and the person's
    lines at home that month; `village_jump` the extra lines (persons: their owners);
    `after_death` the lines of periods after the month of death; `public_employee` the
    person's 01 lines; `cadre_relative` all the person's lines."""

    kind: RuleCode
    persons: tuple[int, ...]  # indexes of the generator's persons (generator.person(p))
    record_ids: tuple[str, ...]
    village_code: str
    period: str | None  # None when the lines span periods
    item_name: str | None  # None when the lines are of several items
    also: tuple[RuleCode, ...] = ()  # other rules the same lines meet


@dataclass(frozen=True)
class GroundTruth:
    planted: tuple[Planted, ...]

    def of(self, kind: RuleCode) -> tuple[Planted, ...]:
        return tuple(a for a in self.planted if a.kind is kind)

    def record_ids(self, kind: RuleCode) -> set[str]:
        """Every line a flag of this rule should name: those planted as this kind and those
        planted as another that also meets it (village_jump: every planted month's extra lines,
        not the other months a rule may find)."""
        return {
            record_id
            for a in self.planted
            if a.kind is kind or kind in a.also
            for record_id in a.record_ids
        }


@dataclass(frozen=True)
class ReferenceLists:
    """The three lists as uploaded (SPEC.md): UTF-8 CSV with a header row."""

    deceased: bytes  # id_number,died_on
    public_employees: bytes  # id_number
    cadre_relatives: bytes  # id_number,cadre_id_number,village_code,post,relation

    def files(self) -> dict[str, bytes]:
        """By the list's kind (app.screening.models.ListKind values)."""
        return {
            "deceased": self.deceased,
            "public_employees": self.public_employees,
            "cadre_relatives": self.cadre_relatives,
        }


class _Part(NamedTuple):
    kind: RuleCode
    persons: tuple[int, ...]
    month: int  # index in the stream (after_death: the month of death)
    item: int | None
    record_ids: tuple[str, ...]  # the lines planted or changed
    village: str
    also: tuple[RuleCode, ...] = ()


class RosterEntry(NamedTuple):
    person: int
    cadre: int
    post: str
    relation: str


@dataclass(slots=True)
class _Patch:
    extra: dict[int, list[str]] = field(default_factory=dict)  # month → lines added
    amount: tuple[int, str, str, str] | None = None  # (month, record id, old, new amount)
    paid_until: str | None = None  # lines of later periods are dropped


@dataclass
class Plan:
    """What the anomalies change in the stream, and who is on which list."""

    patches: dict[int, _Patch] = field(default_factory=dict)
    parts: list[_Part] = field(default_factory=list)
    deceased: list[tuple[int, date]] = field(default_factory=list)
    public_employees: list[int] = field(default_factory=list)
    roster: list[RosterEntry] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)  # persons living in the showcase village

    def patch(self, m: int, p: int, lines: list[str]) -> list[str]:
        patch = self.patches.get(p)
        if patch is None:
            return lines
        out = list(lines)
        if patch.amount is not None and patch.amount[0] == m:
            _, record_id, old, new = patch.amount
            head = f'{{"record_id":"{record_id}","version":1,'
            out = [
                line.replace(f'"amount":"{old}"', f'"amount":"{new}"', 1)
                if line.startswith(head)
                else line
                for line in out
            ]
        if patch.paid_until is not None:
            until = patch.paid_until
            out = [line for line in out if _period_of(line) <= until]
        out += patch.extra.get(m, ())
        return out


def _period_of(line: str) -> str:
    at = line.find('"period":"') + 10
    return line[at : at + 7]


def plant(generator: "FeedGenerator") -> Plan:
    """The anomalies of the generator's config (called by FeedGenerator when anomalies > 0)."""
    return _Planter(generator).run()


class _Planter:
    def __init__(self, generator: "FeedGenerator") -> None:
        self.g = generator
        config = generator.config
        self.months = config.months
        self.n = round(config.anomalies * config.persons)
        self.salt = mix(mix(config.seed & _M64) ^ 0xA1107)
        self.order = sorted(range(config.persons), key=lambda p: mix(self.salt ^ p))
        self.used: set[int] = set()
        self.idle: dict[int, _Profile] = {}
        self.keep_paid: set[int] = set()  # their lines make a village's jump: none dropped
        self.plan = Plan()
        self.firsts = [date.fromordinal(generator._months[m][2]) for m in range(self.months)]
        self.townships: dict[str, list[str]] = {}
        for code in generator.villages:
            self.townships.setdefault(code[:9], []).append(code)

    def run(self) -> Plan:
        if self.n and self.months:
            self.showcase()
            self.village_jumps()
            self.cadres()
            self.public_employees()
            self.deaths()
            self.age_mismatches()
            self.two_villages()
            self.duplicates()
            self.over_standard()
        for p in self.plan.patches:  # keep their profiles, so that no block skips them
            self.g._profiles[p] = self.profile(p)
            self.g._idle[p] = 0
        return self.plan

    # --- helpers --------------------------------------------------------------------------

    def hash(self, kind: int, value: int) -> int:
        return mix(self.salt ^ (kind << 40) ^ value)

    def free(self) -> Iterator[int]:
        used = self.used
        return (p for p in self.order if p not in used)

    def age(self, p: int, m: int) -> int:
        """Whole years on the 1st of month m."""
        ymd, day = self.g._population.birth[p], self.firsts[m]
        return day.year - ymd // 10_000 - ((day.month, day.day) < (ymd // 100 % 100, ymd % 100))

    def profile(self, p: int) -> "_Profile":
        """The generator keeps the profiles of persons who are paid; the others are kept here,
        while planting."""
        profile = self.g._profiles.get(p) or self.idle.get(p)
        if profile is None:
            profile = self.g._profile(p)
            if self.g._idle[p]:
                self.idle[p] = profile
        return profile

    def dibao(self, p: int, m: int) -> int:
        month = self.g._start_month + m
        return sum(
            c for i, lo, hi, c in self.profile(p).monthly if i == _DIBAO and lo <= month <= hi
        )

    def paid(self, p: int, m: int) -> list[tuple[int, int]]:
        return self.g._originals(self.profile(p), p, m)

    def paid_ever(self, p: int) -> bool:
        return any(self.paid(p, m) for m in range(self.months))

    def quiet(self, p: int, m: int) -> bool:
        """No event in months m..m+2, so nothing changes p's lines of month m later."""
        return not self.profile(p).special >> m & 7

    def village(self, p: int) -> str:
        population = self.g._population
        return self.g.villages[population.household_village[population.household[p]]]

    def neighbour(self, home: str, h: int) -> str:
        """Another village of home's township, or of the county when it has none."""
        others = [v for v in self.townships[home[:9]] if v != home] or [
            v for v in self.g.villages if v != home
        ]
        return others[h % len(others)] if others else home

    def record_id(self, m: int, number: int) -> str:
        return f"PC{self.g._months[m][0]}-{number:08d}"

    def add_line(self, p: int, m: int, item: int, cents: int, record_id: str, village: str) -> str:
        g = self.g
        ident = (
            f'"id_number":"{g._id_number(p)}","name":"{g._name(p)}",'
            f'"village_code":{json.dumps(village)}'
        )
        tail = g._tails[m][item][0] if _MONTHLY[item] else g._other_tail(item, m, p, False)
        line = (
            f'{{"record_id":"{record_id}","version":1,{ident},'
            f"{_HEAD_JSON[item]}{yuan_amount(cents)}{tail}"
        )
        self.patch(p).extra.setdefault(m, []).append(line)
        return record_id

    def patch(self, p: int) -> _Patch:
        return self.plan.patches.setdefault(p, _Patch())

    def take(self, part: _Part) -> None:
        self.plan.parts.append(part)
        self.used.update(part.persons)

    def monthly_line(self, p: int, h: int) -> tuple[int, int, int] | None:
        """(month, item, amount) of one of p's monthly payouts in a quiet month."""
        if not self.profile(p).monthly:
            return None
        months = [
            m
            for m in range(self.months)
            if self.quiet(p, m) and any(_MONTHLY[i] for i, _ in self.paid(p, m))
        ]
        if not months:
            return None
        m = months[h % len(months)]
        lines = [(i, c) for i, c in self.paid(p, m) if _MONTHLY[i]]
        i, c = lines[(h >> 20) % len(lines)]
        return m, i, c

    # --- the kinds ------------------------------------------------------------------------

    def duplicates(self) -> None:
        count = 0
        for p in self.free():
            if count == self.n:
                break
            h = self.hash(1, p)
            found = self.monthly_line(p, h)
            if found is None:
                continue
            m, i, c = found
            home = self.village(p)
            village = self.neighbour(home, h >> 40) if count % 2 else home
            original = self.record_id(m, p * _SLOTS + i + 1)
            again = self.add_line(p, m, i, c, self.record_id(m, _DUPLICATE_BASE + p + 1), village)
            also = (RuleCode.two_villages,) if village != home else ()
            self.take(_Part(RuleCode.duplicate, (p,), m, i, (original, again), home, also))
            count += 1

    def two_villages(self) -> None:
        count = 0
        for p in self.free():
            if count == self.n:
                break
            h = self.hash(2, p)
            if not (self.profile(p).monthly or self.profile(p).yearly):
                continue
            months = [m for m in range(self.months) if self.quiet(p, m) and self.paid(p, m)]
            if not months:
                continue
            m = months[h % len(months)]
            home = self.village(p)
            other = self.neighbour(home, h >> 20)
            if other == home:
                return
            cents = (5 + (h >> 50) % 26) * 10_000  # 临时救助 500–3000元, as the stream pays it
            record_id = self.add_line(
                p, m, _LINSHI, cents, self.record_id(m, p * _SLOTS + _LINSHI + 1), other
            )
            self.take(_Part(RuleCode.two_villages, (p,), m, _LINSHI, (record_id,), other))
            count += 1

    def age_mismatches(self) -> None:
        """高龄津贴 under 80, the basic pension under 60, education over 25, in turn."""
        of_year = [(self.g._start_month + m) % 12 + 1 for m in range(self.months)]
        choices: list[tuple[list[tuple[int, int]], int, int]] = [
            ([(m, _GAOLING) for m in range(self.months) if of_year[m] % 3 == 0], 65, 78),
            ([(m, _PENSION) for m in range(self.months)], 50, 58),
            (
                [
                    (m, i)
                    for i in _EDUCATION
                    for m in range(self.months)
                    if of_year[m] in ITEMS[i].period_months
                ],
                28,
                50,
            ),
        ]
        choices = [choice for choice in choices if choice[0]]
        for k in range(self.n):
            at, low, high = choices[k % len(choices)]
            for p in self.free():
                fits = [(m, i) for m, i in at if low <= self.age(p, m) <= high]
                if fits:
                    break
            else:
                return
            h = self.hash(3, p)
            m, i = fits[h % len(fits)]
            fixed = ITEMS[i].fixed_cents
            cents = fixed[(h >> 32) % len(fixed)] if i != _PENSION else 14_300
            record_id = self.add_line(
                p, m, i, cents, self.record_id(m, p * _SLOTS + i + 1), self.village(p)
            )
            self.take(_Part(RuleCode.age_mismatch, (p,), m, i, (record_id,), self.village(p)))

    def over_standard(self) -> None:
        count = 0
        for p in self.free():
            if count == self.n:
                break
            found = self.monthly_line(p, self.hash(4, p))
            if found is None:
                continue
            m, i, c = found
            record_id = self.record_id(m, p * _SLOTS + i + 1)
            over = max(3 * c, 2 * ITEMS[i].max_cents)
            self.patch(p).amount = (m, record_id, yuan_amount(c), yuan_amount(over))
            self.take(_Part(RuleCode.over_standard, (p,), m, i, (record_id,), self.village(p)))
            count += 1

    def village_jumps(self) -> None:
        if self.months < 7:
            return
        population = self.g._population
        members: dict[int, list[int]] = {}
        for household, village in enumerate(population.household_village):
            start, end = population.household_start[household : household + 2]
            members.setdefault(village, []).extend(range(start, end))
        totals: dict[int, list[int]] = {}

        def totals_of(v: int) -> list[int]:
            if v not in totals:
                row = totals[v] = [0] * self.months
                start = self.g._start_month
                for q in members.get(v, ()):
                    for i, lo, hi, c in self.profile(q).monthly:
                        if i == _DIBAO:
                            for m in range(max(0, lo - start), min(self.months, hi - start + 1)):
                                row[m] += c
            return totals[v]

        index = {code: v for v, code in enumerate(self.g.villages)}
        count = 0
        for v in sorted(range(len(self.g.villages)), key=lambda v: self.hash(5, v)):
            if count == self.n:
                break
            h = self.hash(6, v)
            m = 6 + h % (self.months - 6)
            own = totals_of(v)
            usual = median(own[m - 6 : m])
            if usual <= 0:
                continue
            code = self.g.villages[v]
            # Villages without a 低保 line that month left out, as a GROUP BY over lines does:
            # the median of the others is the larger for it.
            others = [totals_of(index[w])[m] for w in self.townships[code[:9]] if w != code]
            others = [t for t in others if t]
            target = int(3 * max(usual, median(others) if others else 0, own[m]))
            fitting = sorted(
                (q for q in members[v] if q not in self.used and not self.dibao(q, m)),
                key=lambda q: self.hash(7, q),
            )
            needed = max(3, -(-(target - own[m]) // 40_000))
            if len(fitting) < needed:
                continue
            record_ids = tuple(
                self.add_line(
                    q,
                    m,
                    _DIBAO,
                    40_000 + self.hash(8, q) % 81 * 100,  # 400–480元
                    self.record_id(m, q * _SLOTS + _DIBAO + 1),
                    code,
                )
                for q in fitting[:needed]
            )
            persons = tuple(fitting[:needed])
            self.take(_Part(RuleCode.village_jump, persons, m, _DIBAO, record_ids, code))
            self.keep_paid.update(q for q in members[v] if self.dibao(q, m))
            count += 1

    def deaths(self) -> None:
        """Paid after the month of death (n), paid up to it only (n), never paid (n/2)."""
        if self.months < 2:
            return
        after = self.n if self.months >= 3 else 0
        up_to = unpaid = 0
        for p in self.free():
            if after == 0 and up_to == self.n and unpaid >= max(1, self.n // 2):
                break
            h = self.hash(9, p)
            profile = self.profile(p)
            if not profile.monthly and not profile.yearly and not profile.special:
                if unpaid < max(1, self.n // 2) and self.age(p, 0) >= 18:
                    self.died(p, h % self.months, h)
                    unpaid += 1
                continue
            if self.age(p, 0) < 60 or not profile.monthly:
                continue
            if after:
                month = h % (self.months - 2)
                if any(self.paid(p, m) for m in range(month + 1, self.months)):
                    self.died(p, month, h)
                    part = _Part(RuleCode.after_death, (p,), month, None, (), self.village(p))
                    self.take(part)
                    after -= 1
            elif up_to < self.n and p not in self.keep_paid:
                month = h % (self.months - 1)
                if self.paid(p, month):
                    self.died(p, month, h)
                    self.patch(p).paid_until = self.g._months[month][1]
                    up_to += 1

    def died(self, p: int, m: int, h: int) -> None:
        days = self.g._months[m][3]
        self.plan.deceased.append((p, date.fromordinal(self.g._months[m][2] + (h >> 32) % days)))
        self.used.add(p)

    def public_employees(self) -> None:
        """Paid 01 (n), paid only 耕地地力保护补贴 (n), never paid (n/2)."""
        assisted = only_land = unpaid = 0
        for p in self.free():
            if assisted == only_land == self.n and unpaid >= max(1, self.n // 2):
                break
            age = self.age(p, 0)
            if not 22 <= age <= 59:
                continue
            profile = self.profile(p)
            if not profile.monthly and not profile.yearly and not profile.special:
                if unpaid < max(1, self.n // 2):
                    unpaid += 1
                    self.employ(p)
                continue
            if assisted < self.n and any(e[0] in (_DIBAO, _TEKUN) for e in profile.monthly):
                assisted += 1
                self.employ(p)
                self.take(_Part(RuleCode.public_employee, (p,), 0, None, (), self.village(p)))
            elif (
                only_land < self.n
                and age >= 25
                and any(e[1] == _GENGDI for e in profile.yearly)
                and {i for m in range(self.months) for i, _ in self.paid(p, m)} == {_GENGDI}
            ):
                only_land += 1
                self.employ(p)

    def employ(self, p: int) -> None:
        self.plan.public_employees.append(p)
        self.used.add(p)

    def showcase(self) -> None:
        """Households moved into the showcase village (all their lines say so), before
        anything else is planted: the parts then see the villages as they are."""
        population = self.g._population
        if SHOWCASE_VILLAGE not in self.g.villages:
            return
        home = self.g.villages.index(SHOWCASE_VILLAGE)
        households = len(population.household_start) - 1
        wanted = min(SHOWCASE_HOUSEHOLDS, round(SHOWCASE_SHARE * households))
        moved = 0
        for household in sorted(range(households), key=lambda h: self.hash(7, h)):
            if moved >= wanted:
                break
            if population.household_village[household] == home:
                continue
            population.household_village[household] = home
            start, end = population.household_start[household : household + 2]
            self.plan.moved.extend(range(start, end))
            moved += 1

    def cadres(self) -> None:
        """n households with someone paid, and a few (n/3, at least one) with nobody paid."""
        population = self.g._population
        paid_groups = unpaid_groups = 0
        unpaid_quota = max(1, self.n // 3)
        # The demo poster's village first, so that its cadre-benefit disclosure has its cadres
        # (SHOWCASE_CADRES households, one a post), then the others.
        showcase = 0
        for p in sorted(self.free(), key=lambda p: self.village(p) != SHOWCASE_VILLAGE):
            if paid_groups == self.n and unpaid_groups >= unpaid_quota:
                break
            at_showcase = self.village(p) == SHOWCASE_VILLAGE
            if at_showcase and showcase == SHOWCASE_CADRES:
                continue
            role = population.role[p] >> 1
            if role not in (_HEAD, _SPOUSE, _CHILD) or not 28 <= self.age(p, 0) <= 60:
                continue
            household = population.household[p]
            start, end = population.household_start[household : household + 2]
            if any(q in self.used for q in range(start, end)):
                continue
            roles = {q: population.role[q] >> 1 for q in range(start, end)}
            children = sum(r == _CHILD for r in roles.values())
            group = [(p, "本人")] + [
                (q, relation)
                for q, other in roles.items()
                if q != p and (relation := _relation(role, other, children))
            ]
            if any(self.paid_ever(q) for q, _ in group):
                if paid_groups == self.n:
                    continue
                paid_groups += 1
            else:
                if unpaid_groups == unpaid_quota:
                    continue
                unpaid_groups += 1
            if at_showcase:
                post = POSTS[showcase]
                showcase += 1
            else:
                post = POSTS[(paid_groups + unpaid_groups) % len(POSTS)]
            for q, relation in group:
                self.plan.roster.append(RosterEntry(q, p, post, relation))
                self.used.add(q)


def _relation(cadre: int, other: int, children: int) -> str | None:
    """The close relation of a household member to the cadre, by their roles in it."""
    if cadre == _HEAD:
        return {_SPOUSE: "配偶", _CHILD: "子女", _PARENT: "父母"}.get(other)
    if cadre == _SPOUSE:
        return {_HEAD: "配偶", _CHILD: "子女"}.get(other)
    # an adult child of the head; a grandchild is theirs when they are the only child
    if other in (_HEAD, _SPOUSE):
        return "父母"
    if other == _CHILD:
        return "兄弟姐妹"
    return "子女" if other != _PARENT and children == 1 else None


# --- ground truth and lists ---------------------------------------------------------------


def _latest_paid(generator: "FeedGenerator", p: int) -> dict[str, dict[str, object]]:
    """Person p's lines as a reader of the feed keeps them: the latest version of each, when
    it is paid; malformed lines (faults) left out."""
    fault = f"-{p * _SLOTS + _FAULT_SLOT + 1:08d}"
    latest: dict[str, dict[str, object]] = {}
    for m in range(generator.config.months):
        for line in generator.block(m, p):
            record = json.loads(line)
            record_id = record.get("record_id")
            if not isinstance(record_id, str) or record_id.endswith(fault):
                continue
            known = latest.get(record_id)
            if known is None or int(str(known["version"])) < int(record["version"]):
                latest[record_id] = record
    return {k: r for k, r in latest.items() if r["status"] == "paid"}


def ground_truth(generator: "FeedGenerator") -> GroundTruth:
    """Which lines of the generator's stream were planted as which anomaly."""
    plan = generator.plan
    if plan is None:
        return GroundTruth(())
    cache: dict[int, dict[str, dict[str, object]]] = {}

    def lines(p: int) -> dict[str, dict[str, object]]:
        if p not in cache:
            cache[p] = _latest_paid(generator, p)
        return cache[p]

    planted = []
    for part in plan.parts:
        p = part.persons[0]
        month = generator._months[part.month][1]
        period: str | None = month
        item_name = ITEMS[part.item].item_name if part.item is not None else None
        record_ids = part.record_ids
        if part.kind is RuleCode.two_villages:
            record_ids += tuple(
                k for k, r in lines(p).items() if r["period"] == month and k not in record_ids
            )
        elif part.kind is RuleCode.after_death:
            record_ids = tuple(k for k, r in lines(p).items() if str(r["period"]) > month)
            period = None
        elif part.kind is RuleCode.public_employee:
            record_ids = tuple(k for k, r in lines(p).items() if r["category_code"] == _ASSISTANCE)
            period = None
        missing = [k for k in part.record_ids if not any(k in lines(q) for q in part.persons)]
        if missing or not record_ids:
            raise RuntimeError(f"planted {part.kind} lines are not paid: {missing}")
        planted.append(
            Planted(
                part.kind, part.persons, tuple(sorted(record_ids)), part.village, period,
                item_name, part.also,
            )
        )  # fmt: skip
    for entry in plan.roster:
        paid = lines(entry.person)
        if paid:
            planted.append(
                Planted(
                    RuleCode.cadre_relative, (entry.person,), tuple(sorted(paid)),
                    generator.person(entry.cadre).village_code, None, None,
                )
            )  # fmt: skip
    return GroundTruth(tuple(planted))


def _csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(sorted(rows))
    return out.getvalue().encode()


def reference_lists(generator: "FeedGenerator") -> ReferenceLists:
    """The deceased, public employees and cadre-relative roster of the plan, in the upload
    format; empty lists (a header only) without anomalies. The only place the mock gives
    these persons' ID numbers out: never print or log them."""
    plan = generator.plan or Plan()
    number = generator._id_number
    return ReferenceLists(
        deceased=_csv(
            ("id_number", "died_on"),
            [(number(p), died_on.isoformat()) for p, died_on in plan.deceased],
        ),
        public_employees=_csv(("id_number",), [(number(p),) for p in plan.public_employees]),
        cadre_relatives=_csv(
            ("id_number", "cadre_id_number", "village_code", "post", "relation"),
            [
                (
                    number(e.person),
                    number(e.cadre),
                    generator.person(e.cadre).village_code,
                    e.post,
                    e.relation,
                )
                for e in plan.roster
            ],
        ),
    )


def write_reference_lists(generator: "FeedGenerator", directory: Path) -> dict[str, Path]:
    """`{kind}.csv` in directory (made if missing), by list kind."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, content in reference_lists(generator).files().items():
        path = directory / f"{kind}.csv"
        path.write_bytes(content)
        written[kind] = path
    return written
