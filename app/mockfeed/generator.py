"""Deterministic data of the mock 一卡通 payout feed.

The stream is a pure function of the config and a position; nothing of it is stored.

- A position is (month m, person p, line j). For each month, persons are visited in order and
  each person contributes a short "block" of lines (0 to a handful). Positions only ever grow,
  and the stream of a config with more months starts with the stream of the same config with
  fewer: the end cursor of one is where the new months begin in the other.
- Persons come from a compact table built once per generator (O(persons): household layout,
  birth dates, and the sequence numbers that make every ID number unique); everything else
  about a person (name, flags, what they are paid, the months in which something special
  happens to them) is computed from (seed, p) on first use and cached for persons who are ever
  paid (docs/performance.md#mock-feed-persons); persons never paid are only flagged idle and
  skipped.
- A block of (m, p) holds, in order: a follow-up of the event of (p, m-1), the event of
  (p, m) on one of p's payouts of month m-1 (correction, reversal, replay), p's payouts of
  month m (one of them possibly replayed right after itself), and with `fault_rate` > 0 maybe
  one malformed line. A record line's version history therefore only depends on the events of
  the two following months of the same person. Rates are in _SPECIAL_RATES.
- A malformed line is an extra line with its own record id, never a replacement: the good
  records of a feed with faults are exactly those of the same feed without.
- Record ids are `PC{period:YYYYMM}-{p*24 + slot + 1:08d}`, slot = item index (0..22) or 23 for
  a malformed line: unique per payout line without any global counter. An item paid in parts
  has at most one part in a month (危房改造: one work per household, its two parts months
  apart; 退耕还林: years apart).
"""

import base64
import binascii
import calendar
import json
import math
import re
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from app.mockfeed.catalog import ITEMS, Frequency
from app.mockfeed.names import GIVEN_NAMES, SURNAMES

if TYPE_CHECKING:
    from app.mockfeed.anomalies import Plan

MAX_PERSONS = 500_000
MAX_MONTHS = 1200
MIN_LIMIT = 1
MAX_LIMIT = 5000
DEFAULT_LIMIT = 1000
AREA_CODE = "511923"
# Upper bound of the lines of one person in one month (what a cursor's line index may be).
MAX_BLOCK = 64
PROFILE_CACHE_SIZE = MAX_PERSONS
# Each kind of anomaly takes this share of persons at most, and a person plays one part only.
MAX_ANOMALY_RATE = 0.05

_M64 = (1 << 64) - 1
_SLOTS = len(ITEMS) + 1  # record numbers per person and month: one per item, one for a fault
_FAULT_SLOT = len(ITEMS)
_NEVER = 1 << 40
_ALWAYS = -_NEVER
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True, kw_only=True)
class MockFeedConfig:
    """`persons` villagers (at most 500 000) paid for `months` months from `start` (YYYY-MM).
    `fault_rate` (0..1): about that share of records is malformed and of page requests fails
    transiently; 0 gives a perfectly clean feed. `anomalies` (0..MAX_ANOMALY_RATE): the share of
    persons with each kind of payout anomaly for screening to find (app.mockfeed.anomalies); 0
    plants none and gives the very same stream as before anomalies existed."""

    token: str
    seed: int = 1
    persons: int = 2000
    months: int = 12
    start: str = "2025-11"
    fault_rate: float = 0.0
    anomalies: float = 0.0

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("token must not be empty")
        if not 1 <= self.persons <= MAX_PERSONS:
            raise ValueError(f"persons must be 1..{MAX_PERSONS}")
        if not 0 <= self.months <= MAX_MONTHS:
            raise ValueError(f"months must be 0..{MAX_MONTHS}")
        if not re.fullmatch(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])", self.start):
            raise ValueError("start must be a month YYYY-MM")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be 0..1")
        if not 0.0 <= self.anomalies <= MAX_ANOMALY_RATE:
            raise ValueError(f"anomalies must be 0..{MAX_ANOMALY_RATE}")


class CursorError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Position:
    month: int
    person: int
    line: int


@dataclass(frozen=True, slots=True)
class Page:
    records: list[str]  # each one record as a JSON object
    next_cursor: str
    has_more: bool

    def body(self) -> bytes:
        more = "true" if self.has_more else "false"
        return (
            f'{{"records":[{",".join(self.records)}],'
            f'"next_cursor":"{self.next_cursor}","has_more":{more}}}'
        ).encode()


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    id_number: str
    name: str
    male: bool
    born_on: date
    village_code: str
    household: int
    head: bool


@dataclass(frozen=True, slots=True)
class DemoPerson:
    id_number: str
    name: str
    village_code: str
    payouts: int


def encode_cursor(position: Position) -> str:
    text = f"v1:{position.month}:{position.person}:{position.line}"
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


_CURSOR_RE = re.compile(r"[A-Za-z0-9_-]{4,64}")
_POSITION_RE = re.compile(r"v1:(0|[1-9][0-9]{0,5}):(0|[1-9][0-9]{0,6}):(0|[1-9][0-9]?)")


def decode_cursor(cursor: str | None, *, persons: int) -> Position:
    """Absent or empty means the beginning. Anything we did not issue raises CursorError."""
    if not cursor:
        return Position(0, 0, 0)
    if not _CURSOR_RE.fullmatch(cursor):
        raise CursorError("cursor")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise CursorError("cursor") from exc
    match = _POSITION_RE.fullmatch(text)
    if match is None:
        raise CursorError("cursor")
    position = Position(int(match[1]), int(match[2]), int(match[3]))
    if position.person >= persons or position.line >= MAX_BLOCK:
        raise CursorError("cursor")
    if encode_cursor(position) != cursor:
        raise CursorError("cursor")
    return position


def total_positions(config: MockFeedConfig) -> int:
    """Size of the position space: the stream has at most this many records."""
    return config.months * config.persons * MAX_BLOCK


def mix(x: int) -> int:
    """splitmix64's finaliser: a bijection on 64-bit ints that scrambles well."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


class _Rng:
    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _M64

    def bits(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _M64
        return mix(self._state)

    def random(self) -> float:
        return (self.bits() >> 11) * (1.0 / (1 << 53))

    def below(self, n: int) -> int:
        return self.bits() % n

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def chance(self, p: float) -> bool:
        return self.random() < p


def _weighted(rng: _Rng, cumulative: Sequence[float]) -> int:
    return bisect_right(cumulative, rng.random() * cumulative[-1])


# --- persons --------------------------------------------------------------------------------

_HEAD, _SPOUSE, _CHILD, _PARENT, _GRANDCHILD = range(5)
_HOUSEHOLD_SIZES = tuple(accumulate((18, 30, 20, 16, 10, 6)))  # sizes 1..6
_ELDER_BANDS = (60, 65, 70, 75, 80, 85, 90, 95, 100)
_ELDER_WEIGHTS = tuple(accumulate((22, 24, 20, 15, 10, 6, 2.5, 0.5, 0.12)))
_SURNAME_WEIGHTS = tuple(accumulate(w for _, w in SURNAMES))


def _elder_age(rng: _Rng) -> float:
    return _ELDER_BANDS[_weighted(rng, _ELDER_WEIGHTS)] + rng.uniform(0, 5)


def _child_of(rng: _Rng, parent_age: float) -> float:
    age = parent_age - rng.uniform(22, 34)
    return age if age > 0.2 else rng.uniform(0.2, 3)


def _compose(rng: _Rng, size: int) -> list[tuple[int, bool, float]]:
    """Members (role, male, age in years at the start month) of a rural household."""
    u = rng.random()
    if size == 1:
        if u < 0.68:
            return [(_HEAD, rng.chance(0.42), _elder_age(rng))]
        return [(_HEAD, rng.chance(0.65), rng.uniform(25, 60))]
    if (size == 2 and u < 0.52) or (size == 3 and 0.40 <= u < 0.65):
        head = _elder_age(rng)
        members = [(_HEAD, True, head), (_SPOUSE, False, max(55.0, head - rng.uniform(-3, 6)))]
        if size == 3:
            members.append((_GRANDCHILD, rng.chance(0.52), rng.uniform(2, 17)))
        return members
    if size == 2:
        if u < 0.74:
            head = rng.uniform(38, 60)
            return [(_HEAD, True, head), (_SPOUSE, False, max(20.0, head - rng.uniform(-3, 6)))]
        if u < 0.90:
            return [
                (_HEAD, rng.chance(0.5), rng.uniform(58, 82)),
                (_GRANDCHILD, rng.chance(0.52), rng.uniform(3, 16)),
            ]
        head = rng.uniform(35, 58)
        return [(_HEAD, rng.chance(0.6), head), (_CHILD, rng.chance(0.52), _child_of(rng, head))]
    if size == 3 and u >= 0.85:
        elder = rng.uniform(65, 92)
        adult = _child_of(rng, elder)
        return [
            (_HEAD, rng.chance(0.45), elder),
            (_CHILD, rng.chance(0.55), adult),
            (_GRANDCHILD, rng.chance(0.52), _child_of(rng, adult)),
        ]
    head = rng.uniform(35, 58) if size == 3 and u >= 0.65 else rng.uniform(28, 56)
    members = [(_HEAD, True, head), (_SPOUSE, False, max(20.0, head - rng.uniform(-3, 6)))]
    parents = min(size - 3, (0, 0, 1, 1, 2)[rng.below(5)]) if size > 3 else int(u >= 0.65)
    for k in range(parents):
        members.append((_PARENT, k == 0 if parents == 2 else rng.chance(0.45), head + 26))
    while len(members) < size:
        members.append((_CHILD, rng.chance(0.52), _child_of(rng, head)))
    # Parents are roughly a generation older than the head, and no older than 104.
    return [
        (role, male, min(104.0, age + rng.uniform(-4, 8)) if role == _PARENT else age)
        for role, male, age in members
    ]


class _Population:
    """The compact person table: household layout, birth dates and ID sequence numbers."""

    def __init__(self, salt: int, persons: int, start_on: date, village_count: int) -> None:
        self.birth = array("I")  # YYYYMMDD
        self.seq = array("H")  # the ID number's 3-digit sequence; odd for men
        self.role = array("B")
        self.household = array("I")
        self.household_start = array("I")
        self.household_village = array("H")
        village_weights = list(
            accumulate(
                0.4 + (mix(salt ^ (0xF00D << 20) ^ v) % 1000) / 1000 for v in range(village_count)
            )
        )
        start_ordinal = start_on.toordinal()
        taken: dict[int, int] = {}
        household = 0
        while len(self.birth) < persons:
            rng = _Rng(mix(salt ^ household))
            size = min(1 + _weighted(rng, _HOUSEHOLD_SIZES), persons - len(self.birth))
            self.household_start.append(len(self.birth))
            self.household_village.append(_weighted(rng, village_weights))
            for role, male, age in _compose(rng, size):
                born = date.fromordinal(start_ordinal - 1 - int(age * 365.2425))
                ymd = born.year * 10_000 + born.month * 100 + born.day
                key = ymd * 2 + male
                nth = taken.get(key, 0)
                if nth >= 500:
                    raise RuntimeError("more than 500 persons share a birth date and sex")
                taken[key] = nth + 1
                offset = mix(salt ^ (key << 8)) % 500
                self.seq.append(((offset + nth * 37) % 500) * 2 + male)
                self.birth.append(ymd)
                self.role.append(role * 2 + male)
                self.household.append(household)
            household += 1
        self.household_start.append(persons)


# --- the items and what a person is paid ----------------------------------------------------

_INDEX = {item.key: i for i, item in enumerate(ITEMS)}
_DIBAO, _TEKUN, _LINSHI, _GENGDI, _NONGJI, _TUIGENG, _GONGYILIN, _HULINYUAN, _YILIAO = (
    _INDEX[k]
    for k in (
        "dibao", "tekun", "linshi", "gengdi", "nongji", "tuigeng", "gongyilin", "hulinyuan",
        "yiliao",
    )
)  # fmt: skip
_PENSION, _GAOLING, _KUNNAN, _ZHONGDU, _YIWU, _GAOZHONG, _YULU, _WEIFANG = (
    _INDEX[k]
    for k in (
        "pension", "gaoling", "kunnan_canji", "zhongdu_canji", "yiwu_shenghuo", "gaozhong",
        "yulu", "weifang",
    )
)  # fmt: skip
_GONGYI, _YOUFU, _JIANGLI, _TEBIE, _YUER = (
    _INDEX[k] for k in ("gongyi_gangwei", "youfu", "jiangli", "tebie", "yuer")
)
_MONTHLY = tuple(item.frequency is Frequency.monthly for item in ITEMS)
# Items whose amounts are tied to a rate or to another part: a correction would break them,
# so their events reverse the line instead.
_NOT_CORRECTED = tuple(
    bool(item.fixed_cents or item.per_mu_schedule or item.parts_percent) for item in ITEMS
)
_MONTHS_OF = tuple(item.period_months for item in ITEMS)
_TUIGENG_MONTH = ITEMS[_TUIGENG].period_months[0]
_TUIGENG_SCHEDULE = ITEMS[_TUIGENG].per_mu_schedule
_YUER_MONTH = ITEMS[_YUER].period_months[0]
_YUER_CENTS = ITEMS[_YUER].unit_cents or 0
_WEIFANG_FIRST_PERCENT = ITEMS[_WEIFANG].parts_percent[0]


def _fragment(**fields: str) -> str:
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))[1:-1]


# A record is '{"record_id":…,"version":…,' + person + _HEAD + amount + tail.
_HEAD_JSON = tuple(
    _fragment(category_code=item.category_code, item_name=item.item_name) + ',"amount":"'
    for item in ITEMS
)
_DEPARTMENT_JSON = tuple(_fragment(department=item.department) for item in ITEMS)

# Besides their regular payouts, at most one of these happens to a person in a month: a one-off
# payout, or an event on one of their payouts (of last month, or of this month for a replay).
_ONE_OFF_ITEMS = (_LINSHI, _NONGJI, _YILIAO, _WEIFANG)
_WEIFANG_KIND = _ONE_OFF_ITEMS.index(_WEIFANG)
_NO_EVENT, _CORRECTION, _REVERSAL, _REPLAY_NEXT, _CORRECTION_STALE, _CORRECTION_REVERSAL = range(6)
_SAME_MONTH_REPLAY = 6
_FOLLOW_UPS = (_CORRECTION_STALE, _CORRECTION_REVERSAL)
_SPECIAL_RATES = (
    # 临时救助 1%, 农机 0.3%, 医疗救助 (零星报销 only) 0.3% of persons a year; 危房 0.2% of
    # households (heads; a household's first only)
    *(rate / 12 for rate in (0.01, 0.003, 0.003, 0.002 * 2.9)),
    # correction, reversal, replay next month, correction then the old version again,
    # correction then reversal, replay in the same month
    *(0.012, 0.006, 0.006, 0.004, 0.003, 0.007),
)
_SPECIAL_RATE = sum(_SPECIAL_RATES)
_SPECIAL = tuple(accumulate(round(r / _SPECIAL_RATE * (1 << 24)) for r in _SPECIAL_RATES))
_LOG_ORDINARY = math.log1p(-_SPECIAL_RATE)


def _kind(h: int) -> int:
    return min(bisect_right(_SPECIAL, h & 0xFFFFFF), len(_SPECIAL) - 1)


def _event(h: int) -> int:
    kind = _kind(h)
    return kind - len(_ONE_OFF_ITEMS) + 1 if kind >= len(_ONE_OFF_ITEMS) else _NO_EVENT


MALFORMED_KINDS = (
    "missing_field",
    "id_checksum",
    "unknown_category",
    "unknown_village",
    "amount_non_numeric",
    "amount_negative",
    "amount_zero",
    "bad_paid_at",
    "bad_period",
)
_FIELDS = (
    "record_id", "version", "id_number", "name", "village_code", "category_code", "item_name",
    "amount", "period", "paid_at", "status", "department",
)  # fmt: skip
UNKNOWN_VILLAGE_CODES = ("511923999001", "511921001001", "511923001999")

_EMPTY: list[str] = []  # shared; never mutated


def _tuopin(house: int) -> bool:
    """Whether a household (by its hash) is a 脱贫户 or 监测户: about 15%."""
    return _chance(mix(house ^ 0x7D), 0, 0.15)


def _periodic(
    yearly: list[tuple[int, int, int, int, int]], item: int, lo: int, hi: int, cents: int
) -> None:
    """An item paid in some months of each year, from month lo to month hi."""
    yearly.extend((month, item, lo, hi, cents) for month in _MONTHS_OF[item])


def _chance(bits: int, shift: int, p: float) -> bool:
    """A decision of probability p from 16 bits of a hash."""
    return (bits >> shift & 0xFFFF) < p * 65536


# (item, first, last, amount) of an item paid every month, months as ordinals (year * 12 +
# month - 1), first and last inclusive, amounts in fen; and (month of year, item, first, last,
# amount): one entry per month of the year an item is paid in.
_Monthly = list[tuple[int, int, int, int]]
_Yearly = list[tuple[int, int, int, int, int]]


def _age_bounds(ymd: int) -> tuple[int, int]:
    """(at, under) as month ordinals, of a person born on ymd (YYYYMMDD): they are at least a
    years old on the 1st of month at + 12a, and still under b+1 years old until the end of the
    month after month under + 12(b+1) (so also on a paid_at up to a month after the period)."""
    born = (ymd // 10_000) * 12 + ymd // 100 % 100 - 1
    return born + (0 if ymd % 100 == 1 else 1), born - 2


def _assistance(monthly: _Monthly, *, dibao: bool, tekun: bool, amounts: int) -> None:
    """低保 and 特困人员救助供养."""
    if dibao:
        monthly.append((_DIBAO, _ALWAYS, _NEVER, (150 + (amounts & 0xFFF) % 331) * 100))
    if tekun:
        monthly.append((_TEKUN, _ALWAYS, _NEVER, 70_200 + (amounts >> 12 & 0xFFF) % 31 * 1000))


def _old_age(monthly: _Monthly, yearly: _Yearly, *, at: int, last: int) -> None:
    """The basic pension from 60, by age band, and 高龄津贴 per quarter from 80."""
    if at + 720 <= last:
        a70, a80, a90, a100 = at + 840, at + 960, at + 1080, at + 1200
        monthly += [
            (_PENSION, at + 720, a70 - 1, 14_300),
            (_PENSION, a70, a80 - 1, 16_300),
            (_PENSION, a80, a90 - 1, 18_300),
            (_PENSION, a90, _NEVER, 20_300),
        ]
        if a80 <= last:
            _periodic(yearly, _GAOLING, a80, a90 - 1, 15_000)
            _periodic(yearly, _GAOLING, a90, a100 - 1, 30_000)
            _periodic(yearly, _GAOLING, a100, _NEVER, 90_000)


def _disability(monthly: _Monthly, *, bits: int, poor: bool) -> None:
    """困难残疾人生活补贴 (mostly to the poor) and 重度残疾人护理补贴 (more for grade one)."""
    if _chance(bits, 16, 0.2 if poor else 0.01):
        monthly.append((_KUNNAN, _ALWAYS, _NEVER, 9_000))
    if _chance(bits, 32, 0.01):
        monthly.append((_ZHONGDU, _ALWAYS, _NEVER, 12_000 if _chance(bits, 48, 0.4) else 9_000))


def _work_and_service(monthly: _Monthly, *, bits: int, amounts: int, at: int, under: int) -> None:
    """公益性岗位 (of working age) and 优抚对象."""
    if _chance(bits, 16, 0.01):
        cents = (600 + (amounts >> 24 & 0xFFF) % 13 * 50) * 100
        monthly.append((_GONGYI, at + 216, under + 720, cents))
    if _chance(bits, 32, 0.005):
        cents = (600 + (amounts >> 36 & 0xFFF) % 191 * 10) * 100
        monthly.append((_YOUFU, at + 480, _NEVER, cents))


def _farming(yearly: _Yearly, *, house: int, at: int) -> None:
    """What a household's land brings its head: 耕地地力保护补贴 (a farming household),
    退耕还林 (by the year of enrolment), 生态公益林."""
    mu = mix(house)
    if _chance(house, 16, 0.85):
        _periodic(yearly, _GENGDI, at + 216, _NEVER, (1 + (mu & 0xFFFF) % 12) * 10_100)
    if _chance(house, 32, 0.08):
        area = 1 + (mu >> 16 & 0xFFFF) % 10
        enrolled = 2019 + (mix(mu) >> 16) % 8
        for year, per_mu in _TUIGENG_SCHEDULE:
            month = (enrolled + year - 1) * 12 + _TUIGENG_MONTH - 1
            yearly.append((_TUIGENG_MONTH, _TUIGENG, month, month, area * per_mu))
    if _chance(house, 48, 0.10):
        _periodic(yearly, _GONGYILIN, _ALWAYS, _NEVER, (1 + (mu >> 32 & 0xFFFF) % 40) * 1_475)


def _schooling(
    yearly: _Yearly, *, at: int, under: int, bits: int, more: int, amounts: int, poor: bool
) -> None:
    """School from 6 or 7: six years of primary, three of junior middle, then three of high
    school, or 中职/高职 (雨露计划, for 脱贫户 and 监测户, `poor`) from 16. A pupil of a family
    in difficulty gets the living allowance of 义务教育, then the 高中 grant."""
    entry = 6 + (more >> 48 & 1)
    boarder = more >> 49 & 1
    needy = _chance(bits, 0, 0.2)
    if needy:
        junior = at + 12 * (entry + 6)
        _periodic(yearly, _YIWU, at + 12 * entry, junior - 1, 62_500 if boarder else 31_250)
        _periodic(yearly, _YIWU, junior, under + 12 * (entry + 9), 75_000 if boarder else 37_500)
    if _chance(more, 32, 0.35) and poor:
        _periodic(yearly, _YULU, at + 192, under + 12 * (entry + 16), 150_000)
    elif needy:
        cents = (75_000, 115_000, 175_000)[(amounts >> 50) % 3]
        _periodic(yearly, _GAOZHONG, at + 12 * (entry + 9), under + 12 * (entry + 12), cents)


def _family_planning(yearly: _Yearly, *, at: int, bits: int, more: int) -> None:
    """计划生育奖励扶助 from 60 and 计划生育特别扶助 from 49."""
    if _chance(bits, 48, 0.05):
        _periodic(yearly, _JIANGLI, at + 720, _NEVER, 96_000)
    if _chance(more, 16, 0.003):
        _periodic(yearly, _TEBIE, at + 588, _NEVER, 150_000 if more >> 56 & 1 else 120_000)


class _Profile(NamedTuple):
    """What is known of a person for the whole stream. A tuple of atoms, so that the garbage
    collector stops tracking the cached ones."""

    ident: str  # JSON fragment: id_number, name, village_code
    # Month ordinals (year * 12 + month - 1), first and last inclusive, and amounts in fen.
    monthly: tuple[tuple[int, int, int, int], ...]  # (item, first, last, amount)
    # Items paid in given months of the year (quarterly, yearly, per term) and the parts of
    # items paid in installments: (month of year, item, first, last, amount).
    yearly: tuple[tuple[int, int, int, int, int], ...]
    year_mask: int  # bit k set: something in `yearly` for month k of the year
    # Bit m set: month m has a one-off payout or an event, whose hash is in special_hashes.
    special: int
    special_hashes: tuple[int, ...]
    head: bool
    weifang: int  # the month whose event starts the household's 危房改造 (-1: none)


_GIVEN_BY_YEAR = tuple(limit for limit, _, _ in GIVEN_NAMES)
_AREA_SUM = sum(int(c) * w for c, w in zip(AREA_CODE, _ID_WEIGHTS, strict=False))
_SEQ_SUM = tuple(
    sum(int(c) * w for c, w in zip(f"{s:03d}", _ID_WEIGHTS[14:], strict=True)) for s in range(1000)
)


class FeedGenerator:
    """The stream of one config. Not thread-safe: callers serialise access (the app locks)."""

    def __init__(self, config: MockFeedConfig, *, villages: Sequence[str] | None = None) -> None:
        if villages is None:
            villages = _demo_villages()
        if not villages:
            raise ValueError("no villages")
        self.config = config
        self.villages = tuple(villages)
        seed = mix(config.seed & _M64)
        self._salt_household = mix(seed ^ 0x01)
        self._salt_person = mix(seed ^ 0x02)
        self._salt_month = mix(seed ^ 0x03)
        self._salt_name = mix(seed ^ 0x04)
        self._salt_fault = mix(seed ^ 0x05)
        self._salt_paid = mix(seed ^ 0x06)
        self._salt_amount = mix(seed ^ 0x07)
        year, month = map(int, config.start.split("-"))
        self._start_month = year * 12 + month - 1
        self._population = _Population(
            mix(seed ^ 0x08), config.persons, date(year, month, 1), len(self.villages)
        )
        self._profiles: dict[int, _Profile] = {}
        # 1 for persons known to never have a line in this stream (no payouts, no events).
        self._idle = bytearray(config.persons)
        self._birth_sums: dict[int, int] = {}
        self._village_json = tuple(json.dumps(v) for v in self.villages)
        # Per month index: YYYYMM, YYYY-MM, ordinal of its 1st day, its days; and per item the
        # tail of a record (period, paid_at, status, department) for monthly items, which are
        # paid to everyone on one day of the month.
        self._months: list[tuple[str, str, int, int]] = []
        self._tails: list[tuple[tuple[str, str], ...]] = []
        for m in range(config.months):
            y, mo = divmod(self._start_month + m, 12)
            first = date(y, mo + 1, 1)
            period = f"{y}-{mo + 1:02d}"
            self._months.append(
                (f"{y}{mo + 1:02d}", period, first.toordinal(), calendar.monthrange(y, mo + 1)[1])
            )
            tails: list[tuple[str, str]] = []
            for i in range(len(ITEMS)):
                if not _MONTHLY[i]:
                    tails.append(("", ""))  # each payout has its own day: see _other_tail
                    continue
                day = first + timedelta(days=4 + mix(self._salt_paid ^ (m << 8) ^ i) % 20)
                paid, rev = (self._tail(i, period, day.isoformat(), r) for r in (False, True))
                tails.append((paid, rev))
            self._tails.append(tuple(tails))
        self._peeked: tuple[int, int, list[str]] | None = None
        # The lines of person p in month m, each a JSON object. Without anomalies this is the
        # plain block itself: the stream pays nothing for a feature it does not use.
        self.block: Callable[[int, int], list[str]] = self._plain_block
        self.plan: Plan | None = None
        if config.anomalies:
            from app.mockfeed.anomalies import plant

            plan = self.plan = plant(self)
            plain = self._plain_block
            self.block = lambda m, p: plan.patch(m, p, plain(m, p))

    # --- paging ---------------------------------------------------------------------------

    def decode_cursor(self, cursor: str | None) -> Position:
        return decode_cursor(cursor, persons=self.config.persons)

    def page(self, cursor: str | None, limit: int = DEFAULT_LIMIT) -> Page:
        if not MIN_LIMIT <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be {MIN_LIMIT}..{MAX_LIMIT}")
        return self.page_at(self.decode_cursor(cursor), limit)

    def page_at(self, position: Position, limit: int) -> Page:
        months, persons = self.config.months, self.config.persons
        m, p, j = position.month, position.person, position.line
        records: list[str] = []
        block = self.block
        peeked = self._peeked
        if peeked is not None and (peeked[0], peeked[1]) != (m, p):
            peeked = None
        idle = self._idle
        while m < months:
            if idle[p]:
                lines = _EMPTY
            elif peeked is not None:
                lines, peeked = peeked[2], None
            else:
                lines = block(m, p)
            if j < len(lines):
                taken = lines[j : j + limit - len(records)]
                records += taken
                j += len(taken)
                if j < len(lines):
                    break
            p, j = p + 1, 0
            if p == persons:
                m, p = m + 1, 0
            if len(records) == limit:
                break
        # Skip blocks without lines, so that has_more is false exactly when nothing follows.
        self._peeked = None
        while m < months:
            lines = _EMPTY if idle[p] else block(m, p)
            if j < len(lines):
                self._peeked = (m, p, lines)
                break
            p, j = p + 1, 0
            if p == persons:
                m, p = m + 1, 0
        return Page(records, encode_cursor(Position(m, p, j)), m < months)

    def iter_records(self) -> Iterator[dict[str, object]]:
        """The whole stream, parsed (tests and small configs)."""
        for m in range(self.config.months):
            for p in range(self.config.persons):
                for line in self.block(m, p):
                    yield json.loads(line)

    def count_records(self) -> int:
        """The number of records in the whole stream: O(months × persons)."""
        return sum(
            len(self.block(m, p))
            for m in range(self.config.months)
            for p in range(self.config.persons)
        )

    # --- persons --------------------------------------------------------------------------

    def person(self, p: int) -> Person:
        population = self._population
        ymd = population.birth[p]
        household = population.household[p]
        return Person(
            index=p,
            id_number=self._id_number(p),
            name=self._name(p),
            male=bool(population.role[p] & 1),
            born_on=date(ymd // 10_000, ymd // 100 % 100, ymd % 100),
            village_code=self.villages[population.household_village[household]],
            household=household,
            head=population.household_start[household] == p,
        )

    def _id_number(self, p: int) -> str:
        ymd, seq = self._population.birth[p], self._population.seq[p]
        birth_sum = self._birth_sums.get(ymd)
        if birth_sum is None:
            digits = f"{ymd:08d}"
            birth_sum = sum(int(c) * w for c, w in zip(digits, _ID_WEIGHTS[6:14], strict=True))
            self._birth_sums[ymd] = birth_sum
        check = _ID_CHECK[(_AREA_SUM + birth_sum + _SEQ_SUM[seq]) % 11]
        return f"{AREA_CODE}{ymd:08d}{seq:03d}{check}"

    def _name(self, p: int) -> str:
        population = self._population
        role, male = divmod(population.role[p], 2)
        bits = mix(self._salt_name ^ p)
        if role == _SPOUSE or (role == _PARENT and not male):
            family = bits >> 32  # she keeps her own surname
        else:
            family = mix(self._salt_name ^ (population.household[p] | 1 << 40)) >> 32
        surname = SURNAMES[
            bisect_right(_SURNAME_WEIGHTS, family / (1 << 32) * _SURNAME_WEIGHTS[-1])
        ][0]
        _, men, women = GIVEN_NAMES[bisect_right(_GIVEN_BY_YEAR, population.birth[p] // 10_000)]
        pool = men if male else women
        return surname + pool[(bits & 0xFFFFFFFF) % len(pool)]

    def prepare(self) -> None:
        """Work out every person's profile now (what they are paid, and when), as a platform's
        records exist before anyone asks for them: serving the first month then costs what
        serving any other does, and the feed takes less of a shared machine from the client it
        serves. The same profiles are kept as serving would keep (PROFILE_CACHE_SIZE holds
        them all), so memory ends the same; the records themselves are still made page by
        page."""
        profile = self._profile
        for p in range(self.config.persons):
            profile(p)

    def _profile(self, p: int) -> _Profile:
        profile = self._profiles.get(p)
        if profile is None:
            if len(self._profiles) >= PROFILE_CACHE_SIZE:
                del self._profiles[next(iter(self._profiles))]
            profile = self._build_profile(p)
            if profile.monthly or profile.yearly or profile.special:
                self._profiles[p] = profile
            else:
                self._idle[p] = 1  # never asked for again by page_at; not worth the memory
        return profile

    def _build_profile(self, p: int) -> _Profile:
        population = self._population
        first, last = self._start_month, self._start_month + self.config.months - 1
        at, under = _age_bounds(population.birth[p])
        household = population.household[p]
        start = population.household_start[household]
        head = start == p
        house = mix(self._salt_household ^ household)
        # The person's hashes: each decision takes 16 bits of one, each amount some bits of
        # `amounts`; `more` decides the items added later, so that the older ones stay put.
        bits = mix(self._salt_person ^ p)
        bits2 = mix(bits)
        amounts = mix(bits2)
        more = mix(amounts)
        dibao = _chance(house, 0, 0.06)
        alone_and_old = population.household_start[household + 1] - start == 1 and (
            at + 720 <= first
        )
        tekun = not dibao and _chance(bits, 0, 0.17 if alone_and_old else 0.0012)

        # The order of the entries is the order of the records in a month's block.
        monthly: _Monthly = []
        yearly: _Yearly = []
        _assistance(monthly, dibao=dibao, tekun=tekun, amounts=amounts)
        _old_age(monthly, yearly, at=at, last=last)
        _disability(monthly, bits=bits, poor=dibao or tekun)
        _work_and_service(monthly, bits=bits2, amounts=amounts, at=at, under=under)
        if head:
            _farming(yearly, house=house, at=at)
            self._childcare(p, first, last, yearly)
        if _chance(more, 0, 0.04) and _tuopin(house):  # 生态护林员
            _periodic(yearly, _HULINYUAN, at + 216, under + 720, 250_000)
        if at + 72 <= last and under + 276 >= first:  # of school age within the stream
            poor = dibao or _tuopin(house)
            _schooling(
                yearly, at=at, under=under, bits=bits2, more=more, amounts=amounts, poor=poor
            )
        _family_planning(yearly, at=at, bits=bits2, more=more)
        special, hashes, weifang = self._special_months(p, head=head, yearly=yearly)

        name = self._name(p)  # from the pools in names.py: nothing to escape in JSON
        village = self._village_json[population.household_village[household]]
        # Only what can be paid within the stream, so that most blocks stay cheap.
        yearly = [e for e in yearly if e[2] <= last and e[3] >= first and e[2] <= e[3]]
        return _Profile(
            ident=f'"id_number":"{self._id_number(p)}","name":"{name}","village_code":{village}',
            monthly=tuple(e for e in monthly if e[1] <= last and e[2] >= first and e[1] <= e[2]),
            yearly=tuple(yearly),
            year_mask=sum({1 << e[0] for e in yearly}),
            special=special,
            special_hashes=tuple(hashes),
            head=head,
            weifang=weifang,
        )

    def _special_months(self, p: int, *, head: bool, yearly: _Yearly) -> tuple[int, list[int], int]:
        """The months with something special (a bit mask), their hashes, and the month whose
        event starts the household's 危房改造 (-1: none; its second part goes into `yearly`).
        Drawn by geometric gaps: O(1) per person, and the same months whatever the stream's
        length."""
        special, hashes = 0, []
        state = mix(self._salt_month ^ p)
        weifang = -1
        m = -1
        while True:
            state = mix(state)
            m += 1 + int(math.log1p(-(state >> 11) / (1 << 53)) / _LOG_ORDINARY)
            if m >= self.config.months:
                break
            special |= 1 << m
            h = mix(state ^ self._salt_month)
            hashes.append(h)
            if head and weifang < 0 and _kind(h) == _WEIFANG_KIND:
                # A household's one 危房改造: the rest after the check, 2 to 6 months later.
                weifang = m
                _, rest, after = self._weifang_parts(h)
                month = self._start_month + m + after
                yearly.append((month % 12 + 1, _WEIFANG, month, month, rest))
        return special, hashes, weifang

    def _childcare(
        self, p: int, first: int, last: int, yearly: list[tuple[int, int, int, int, int]]
    ) -> None:
        """育儿补贴 to the head of household p: 3600元 for each child under 3 on the 1st of the
        month it is paid for."""
        population = self._population
        household = population.household[p]
        young = []
        for q in range(
            population.household_start[household], population.household_start[household + 1]
        ):
            at, _ = _age_bounds(population.birth[q])
            if at + 35 >= first:  # under 3 on the 1st of some month of the stream
                young.append(at)
        if not young:
            return
        year = first // 12 + (first % 12 >= _YUER_MONTH)
        while (month := year * 12 + _YUER_MONTH - 1) <= min(last, max(young) + 35):
            children = sum(at <= month <= at + 35 for at in young)
            if children:
                _periodic(yearly, _YUER, month, month, children * _YUER_CENTS)
            year += 1

    # --- blocks ---------------------------------------------------------------------------

    @staticmethod
    def _special(profile: _Profile, m: int) -> int | None:
        """The hash of month m if something special happens in it."""
        mask = profile.special
        if m < 0 or not mask >> m & 1:
            return None
        return profile.special_hashes[(mask & ((1 << m) - 1)).bit_count()]

    def _originals(self, profile: _Profile, p: int, m: int) -> list[tuple[int, int]]:
        """(item, amount) of the payouts of a person for month m."""
        month = self._start_month + m
        paid = [(i, c) for i, lo, hi, c in profile.monthly if lo <= month <= hi]
        if profile.yearly:
            of_year = month % 12 + 1
            paid += [
                (i, c) for mo, i, lo, hi, c in profile.yearly if mo == of_year and lo <= month <= hi
            ]
        h = self._special(profile, m)
        if h is not None and _kind(h) < len(_ONE_OFF_ITEMS):
            item = _ONE_OFF_ITEMS[_kind(h)]
            bits = mix(h ^ self._salt_amount)
            if item == _LINSHI:
                paid.append((item, (5 + bits % 26) * 10_000))
            elif item == _NONGJI:
                at, under = _age_bounds(self._population.birth[p])
                if at + 240 <= month <= under + 792:  # aged 20..65
                    paid.append((item, (8 + bits % 193) * 10_000))
            elif item == _YILIAO:
                r = (bits >> 11) / (1 << 53)
                paid.append((item, 20_000 + int(480_000 * r * r)))
            elif m == profile.weifang:  # the household's 危房改造 starts: its first part
                paid.append((item, self._weifang_parts(h)[0]))
        return paid

    def _weifang_parts(self, h: int) -> tuple[int, int, int]:
        """A 危房改造 of the event hash h: its first part, the rest, and the months from the
        first to the rest."""
        bits = mix(h ^ self._salt_amount)
        whole = (10_000 + bits % 26 * 1000) * 100
        part = whole * _WEIFANG_FIRST_PERCENT // 100
        return part, whole - part, 2 + (bits >> 32) % 5

    def _corrected(self, item: int, cents: int, h: int) -> int | None:
        """The amount a correction sets; None for items paid at fixed rates or by a schedule
        (they get reversed)."""
        if _NOT_CORRECTED[item]:
            return None
        spec = ITEMS[item]
        step = spec.unit_cents or 100
        low, high = -(-spec.min_cents // step), spec.max_cents // step
        k = cents // step
        bits = mix(h ^ self._salt_amount ^ 0xC0)
        delta = 1 + bits % 3
        new = k - delta if bits >> 32 & 1 else k + delta
        if not low <= new <= high:
            new = k + delta if new < low else k - delta
        new = min(high, max(low, new))
        if new * step == cents:
            new = low if new != low else high
        return new * step

    def _plain_block(self, m: int, p: int) -> list[str]:
        if self._idle[p]:
            return _EMPTY
        profile = self._profiles.get(p) or self._profile(p)
        if (profile.special << 1) >> m & 3:  # something special in month m-1 or m
            return self._eventful_block(m, p, profile)
        # The common case: this month's payouts, all first versions; rendered straight away.
        month = self._start_month + m
        of_year = month % 12 + 1
        yearly = profile.year_mask >> of_year & 1
        if not profile.monthly and not yearly:
            return _EMPTY
        ym, tails, ident, base = self._months[m][0], self._tails[m], profile.ident, p * _SLOTS + 1
        out = [
            f'{{"record_id":"PC{ym}-{base + i:08d}","version":1,{ident},'
            f"{_HEAD_JSON[i]}{c // 100}.{c % 100:02d}{tails[i][0]}"
            for i, lo, hi, c in profile.monthly
            if lo <= month <= hi
        ]
        if yearly:
            out += [
                f'{{"record_id":"PC{ym}-{base + i:08d}","version":1,{ident},'
                f"{_HEAD_JSON[i]}{c // 100}.{c % 100:02d}{self._other_tail(i, m, p, False)}"
                for mo, i, lo, hi, c in profile.yearly
                if mo == of_year and lo <= month <= hi
            ]
        if not out:
            return _EMPTY
        if self.config.fault_rate:
            self._add_fault(out, p, m)
        return out

    def _eventful_block(self, m: int, p: int, profile: _Profile) -> list[str]:
        # (item, month, version, amount, reversed)
        lines: list[tuple[int, int, int, int, bool]] = []
        h_prev = self._special(profile, m - 1)
        if h_prev is not None and _event(h_prev) in _FOLLOW_UPS:
            # The second step of last month's event on a payout of the month before.
            before = self._originals(profile, p, m - 2) if m >= 2 else []
            if before:
                i, c = before[(h_prev >> 56) % len(before)]
                new = self._corrected(i, c, h_prev)
                if _event(h_prev) == _CORRECTION_STALE:
                    lines.append((i, m - 2, 1, c, False))
                elif new is not None:
                    lines.append((i, m - 2, 3, new, True))
        originals = self._originals(profile, p, m)
        special = self._special(profile, m)
        h = special or 0
        event = _NO_EVENT if special is None else _event(h)
        replayed = -1
        if event == _SAME_MONTH_REPLAY:
            if originals:
                replayed = (h >> 56) % len(originals)
        elif event != _NO_EVENT and m >= 1:
            before = self._originals(profile, p, m - 1)
            if before:
                i, c = before[(h >> 56) % len(before)]
                if event == _REPLAY_NEXT:
                    lines.append((i, m - 1, 1, c, False))
                elif event == _REVERSAL:
                    lines.append((i, m - 1, 2, c, True))
                else:
                    new = self._corrected(i, c, h)
                    lines.append(
                        (i, m - 1, 2, c, True) if new is None else (i, m - 1, 2, new, False)
                    )
        for k, (i, c) in enumerate(originals):
            lines.append((i, m, 1, c, False))
            if k == replayed:
                lines.append((i, m, 1, c, False))
        return self._render(m, p, profile, lines) if lines else _EMPTY

    def _render(
        self, m: int, p: int, profile: _Profile, lines: list[tuple[int, int, int, int, bool]]
    ) -> list[str]:
        ident = profile.ident
        months, tails = self._months, self._tails
        base = p * _SLOTS + 1
        out = []
        for i, lm, v, c, rev in lines:
            out.append(
                f'{{"record_id":"PC{months[lm][0]}-{base + i:08d}","version":{v},{ident},'
                f"{_HEAD_JSON[i]}{c // 100}.{c % 100:02d}"
                f"{tails[lm][i][rev] if _MONTHLY[i] else self._other_tail(i, lm, p, rev)}"
            )
        if self.config.fault_rate:
            self._add_fault(out, p, m)
        return out

    def _add_fault(self, out: list[str], p: int, m: int) -> None:
        """With chance fault_rate × lines, add a malformed copy of one of the lines."""
        fault = mix(self._salt_fault ^ (p << 16 | m))
        if (fault >> 11) * (1.0 / (1 << 53)) < self.config.fault_rate * len(out):
            source = json.loads(out[fault % len(out)])
            out.insert(fault % (len(out) + 1), self._malformed(source, p, m, fault))

    @staticmethod
    def _tail(item: int, period: str, paid_at: str, reversed_: bool) -> str:
        status = "reversed" if reversed_ else "paid"
        return (
            f'","period":"{period}","paid_at":"{paid_at}","status":"{status}",'
            f"{_DEPARTMENT_JSON[item]}}}"
        )

    def _other_tail(self, item: int, m: int, p: int, reversed_: bool) -> str:
        """Yearly, per-term and one-off items reach the card in their month or up to 15 days
        after, each on its own day."""
        _, period, first, days = self._months[m]
        offset = mix(self._salt_paid ^ (p << 24 | m << 5 | item)) % (days + 15)
        return self._tail(item, period, date.fromordinal(first + offset).isoformat(), reversed_)

    def _malformed(self, record: dict[str, object], p: int, m: int, h: int) -> str:
        ym, period, first, days = self._months[m]
        bits = mix(h ^ 0xBAD)
        # A new line of this month, broken in one way only.
        record["record_id"] = f"PC{ym}-{p * _SLOTS + _FAULT_SLOT + 1:08d}"
        record["version"] = 1
        record["period"] = period
        record["paid_at"] = date.fromordinal(first + (bits >> 8) % days).isoformat()
        record["status"] = "paid"
        kind = MALFORMED_KINDS[bits % len(MALFORMED_KINDS)]
        variant = bits >> 32 & 3
        amount, paid_at = str(record["amount"]), str(record["paid_at"])
        if kind == "missing_field":
            del record[_FIELDS[(bits >> 40) % len(_FIELDS)]]
        elif kind == "id_checksum":
            number = str(record["id_number"])
            wrong = _ID_CHECK[(_ID_CHECK.index(number[-1]) + 1 + (bits >> 40) % 10) % 11]
            record["id_number"] = number[:-1] + wrong
        elif kind == "unknown_category":
            record["category_code"] = ("12", "99", "00", "7")[variant]
        elif kind == "unknown_village":
            record["village_code"] = UNKNOWN_VILLAGE_CODES[variant % len(UNKNOWN_VILLAGE_CODES)]
        elif kind == "amount_non_numeric":
            record["amount"] = ("一百元", amount[:-1] + "O", "N/A", "")[variant]
        elif kind == "amount_negative":
            record["amount"] = "-" + amount
        elif kind == "amount_zero":
            record["amount"] = ("0.00", "0", "0.00", "-0.00")[variant]
        elif kind == "bad_paid_at":
            record["paid_at"] = (
                period + ("-30" if period.endswith("-02") else "-32"),
                paid_at.replace("-", "/"),
                paid_at.replace("-", ""),
                "",
            )[variant]
        else:
            record["period"] = (
                period[:4] + "-13",
                period[:4] + "-00",
                period.replace("-", ""),
                "",
            )[variant]
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _demo_villages() -> list[str]:
    from app.regions import service as regions_service
    from app.regions.models import RegionLevel

    return [r.code for r in regions_service.read_csv() if r.level is RegionLevel.village]


def demo_persons(config: MockFeedConfig, n: int = 3) -> list[DemoPerson]:
    """A few persons with several different payouts in the stream, to try the lookup with."""
    generator = FeedGenerator(config)
    found: list[DemoPerson] = []
    for p in range(config.persons):
        profile = generator._profile(p)
        paid = [
            item for m in range(config.months) for item, _ in generator._originals(profile, p, m)
        ]
        if len(paid) >= 6 and len(set(paid)) >= 2:
            person = generator.person(p)
            found.append(DemoPerson(person.id_number, person.name, person.village_code, len(paid)))
            if len(found) == n:
                break
    return found
