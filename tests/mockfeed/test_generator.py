import base64
import json
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest

from app.mockfeed.catalog import ITEM_BY_KEY, ITEMS
from app.mockfeed.generator import (
    MAX_LIMIT,
    CursorError,
    FeedGenerator,
    MockFeedConfig,
    Position,
    decode_cursor,
    demo_persons,
    encode_cursor,
    total_positions,
)
from app.subsidies.items import COUNTY_ITEM_BY_NAME, COUNTY_ITEMS
from tests.mockfeed.checks import (
    VILLAGES,
    age_on,
    birth_date,
    check_good_record,
    id_number_is_valid,
    period_start,
    problem,
)

# 2025-11 .. 2026-12: every yearly and per-term month at least once.
CONFIG = MockFeedConfig(token="t", persons=400, months=14)
DEMO = MockFeedConfig(token="t", persons=2000, months=12)  # what `lianyun demo` syncs
Record = dict[str, object]


@pytest.fixture(scope="module")
def generator() -> FeedGenerator:
    return FeedGenerator(CONFIG)


@pytest.fixture(scope="module")
def stream(generator: FeedGenerator) -> list[Record]:
    return list(generator.iter_records())


@pytest.fixture(scope="module")
def demo_stream() -> list[Record]:
    return list(FeedGenerator(DEMO).iter_records())


def lines_of(generator: FeedGenerator, item_name: str, months: range) -> list[Record]:
    """The first versions of one item's lines in some months of a stream."""
    return [
        record
        for m in months
        for p in range(generator.config.persons)
        for line in generator.block(m, p)
        if item_name in line and (record := json.loads(line))["version"] == 1
    ]


def pages(
    generator: FeedGenerator, limit: int, cursor: str | None = None
) -> tuple[list[list[Record]], str]:
    """Every page from the cursor on, and the cursor to resume from."""
    result = []
    while True:
        body = json.loads(generator.page(cursor, limit).body())
        assert set(body) == {"records", "next_cursor", "has_more"}
        result.append(body["records"])
        cursor = body["next_cursor"]
        assert isinstance(cursor, str)
        if not body["has_more"]:
            return result, cursor


def test_the_same_config_gives_byte_identical_pages() -> None:
    one, two = FeedGenerator(CONFIG), FeedGenerator(CONFIG)
    other = FeedGenerator(MockFeedConfig(token="t", persons=400, months=14, seed=2))
    cursor = None
    for _ in range(5):
        a, b = one.page(cursor, 300), two.page(cursor, 300)
        assert a.body() == b.body()
        assert a.body() != other.page(cursor, 300).body()
        cursor = a.next_cursor


def test_a_prepared_generator_serves_the_same_pages_from_any_cursor(
    generator: FeedGenerator,
) -> None:
    prepared = FeedGenerator(CONFIG)
    prepared.prepare()
    cursor = None
    while True:  # the whole stream, and every page again after a jump back to the start
        a, b = prepared.page(cursor, 700), generator.page(cursor, 700)
        assert a == b
        assert prepared.page(None, 50) == generator.page(None, 50)
        if not a.has_more:
            break
        cursor = a.next_cursor


def test_id_numbers_are_valid_unique_and_match_the_person(generator: FeedGenerator) -> None:
    persons = [generator.person(p) for p in range(CONFIG.persons)]
    numbers = [person.id_number for person in persons]
    assert len(set(numbers)) == len(numbers)
    assert all(id_number_is_valid(n) and n.startswith("511923") for n in numbers)
    assert sum(n.endswith("X") for n in numbers) >= 10
    for person in persons:
        assert birth_date(person.id_number) == person.born_on
        assert int(person.id_number[16]) % 2 == (1 if person.male else 0)
        assert person.village_code in VILLAGES


def test_id_numbers_stay_unique_in_a_big_population() -> None:
    generator = FeedGenerator(MockFeedConfig(token="t", persons=40_000, months=1))
    numbers = {generator.person(p).id_number for p in range(40_000)}
    assert len(numbers) == 40_000


def test_persons_look_like_a_rural_county(generator: FeedGenerator) -> None:
    persons = [generator.person(p) for p in range(CONFIG.persons)]
    ages = [age_on(person.born_on, date(2025, 11, 1)) for person in persons]
    assert 0.2 < sum(a >= 60 for a in ages) / len(ages) < 0.45
    assert any(a >= 80 for a in ages) and any(a < 18 for a in ages)
    households = Counter(person.household for person in persons)
    assert set(households.values()) <= set(range(1, 7)) and len(set(households.values())) >= 4
    assert sum(person.head for person in persons) == len(households)
    assert len({person.village_code for person in persons}) > 50
    names = [person.name for person in persons]
    assert all(2 <= len(n) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in n) for n in names)
    assert {len(n) for n in names} >= {2, 3}
    many = FeedGenerator(MockFeedConfig(token="t", persons=3000, months=1))
    surnames = {"欧阳", "司马", "诸葛", "上官", "令狐"}
    assert any(many.person(p).name[:2] in surnames for p in range(3000))


def test_every_clean_record_fits_its_item(stream: list[Record]) -> None:
    assert len(stream) > 1000
    for record in stream:
        check_good_record(record)
    assert {record["item_name"] for record in stream} >= {
        ITEM_BY_KEY[key].item_name
        for key in (
            "dibao", "gengdi", "tuigeng", "hulinyuan", "pension", "gaoling", "yiwu_shenghuo",
            "gaozhong", "yulu", "weifang", "jiangli", "tebie", "yuer",
        )
    }  # fmt: skip


def test_age_bound_items_follow_the_age_on_the_id(stream: list[Record]) -> None:
    for record in stream:
        born = birth_date(str(record["id_number"]))
        start = period_start(str(record["period"]))
        paid_at = date.fromisoformat(str(record["paid_at"]))
        age = age_on(born, start)
        if record["item_name"] == "高龄津贴":  # per quarter
            assert age >= 80
            band = "150.00" if age < 90 else "300.00" if age < 100 else "900.00"
            assert record["amount"] == band
        if record["item_name"] == "义务教育家庭经济困难学生生活补助":  # per term
            assert age >= 6 and age_on(born, paid_at) <= 15
            primary, junior = {"312.50", "625.00"}, {"375.00", "750.00"}  # day pupil, boarder
            levels = primary if age < 12 else junior if age > 12 else primary | junior
            assert record["amount"] in levels
        if record["item_name"] == "普通高中国家助学金":
            assert age >= 15 and age_on(born, paid_at) <= 18
        if record["item_name"] == "雨露计划补助":
            assert age >= 16 and age_on(born, paid_at) <= 22
            assert record["amount"] == "1500.00"
        if record["item_name"] == "城乡居民基础养老金":
            assert age >= 60


def test_everyone_80_or_older_gets_the_old_age_allowance(
    generator: FeedGenerator, stream: list[Record]
) -> None:
    allowance = {(r["id_number"], r["period"]) for r in stream if r["item_name"] == "高龄津贴"}
    pension = {
        (r["id_number"], r["period"]) for r in stream if r["item_name"] == "城乡居民基础养老金"
    }
    assert {str(period)[5:] for _, period in allowance} == {"03", "06", "09", "12"}
    checked = 0
    for p in range(CONFIG.persons):
        person = generator.person(p)
        for period in ("2025-12", "2026-06", "2026-12"):  # paid per quarter
            age = age_on(person.born_on, period_start(period))
            if age >= 80:
                assert (person.id_number, period) in allowance
                checked += 1
        for period in ("2025-11", "2026-06", "2026-12"):  # paid every month
            age = age_on(person.born_on, period_start(period))
            if age >= 60:
                assert (person.id_number, period) in pension
    assert checked > 10


@pytest.mark.parametrize("limit", [1, 7, 1000, MAX_LIMIT])
def test_paging_with_any_limit_yields_the_whole_stream(
    generator: FeedGenerator, stream: list[Record], limit: int
) -> None:
    got, _ = pages(generator, limit)
    assert all(len(page) == limit for page in got[:-1])
    assert 1 <= len(got[-1]) <= limit
    assert [r for page in got for r in page] == stream


def test_changes_over_time_occur(generator: FeedGenerator, stream: list[Record]) -> None:
    seen: dict[tuple[object, object], list[int]] = defaultdict(list)
    page_of: list[int] = []
    for number, page in enumerate(pages(generator, 100)[0]):
        page_of += [number] * len(page)
    history: dict[object, list[Record]] = defaultdict(list)
    for k, record in enumerate(stream):
        seen[record["record_id"], record["version"]].append(k)
        history[record["record_id"]].append(record)

    replays = [ks for ks in seen.values() if len(ks) > 1]
    assert all(len(ks) == 2 for ks in replays)
    assert all(stream[a] == stream[b] for a, b in replays)
    assert any(page_of[a] == page_of[b] for a, b in replays), "a replay in the same page"
    assert any(page_of[a] != page_of[b] for a, b in replays), "a replay across pages"

    corrections = reversals = older_after_newer = 0
    for versions in history.values():
        numbers = [int(str(r["version"])) for r in versions]
        assert numbers[0] == 1 and set(numbers) == set(range(1, max(numbers) + 1))
        first = versions[0]
        for later in versions[1:]:
            if later["version"] != 1 and later["status"] == "paid":
                assert later["amount"] != first["amount"]
                corrections += 1
            if later["status"] == "reversed":
                assert later["version"] != 1
                reversals += 1
        older_after_newer += any(b < a for a, b in pairwise(numbers))
    assert corrections >= 3 and reversals >= 3 and older_after_newer >= 1
    assert len(replays) < 0.05 * len(stream) and corrections < 0.05 * len(stream)


def test_the_stream_is_finite_and_ends_with_a_resume_cursor(
    generator: FeedGenerator, stream: list[Record]
) -> None:
    assert generator.count_records() == len(stream) <= total_positions(CONFIG)
    last = generator.page(None, MAX_LIMIT)
    while last.has_more:
        last = generator.page(last.next_cursor, MAX_LIMIT)
    assert decode_cursor(last.next_cursor, persons=CONFIG.persons) == Position(CONFIG.months, 0, 0)
    again = generator.page(last.next_cursor, 10)
    assert again.records == [] and not again.has_more
    assert again.next_cursor == last.next_cursor


def test_more_months_continue_the_stream_from_the_old_end_cursor() -> None:
    short = FeedGenerator(MockFeedConfig(token="t", persons=300, months=6))
    longer = FeedGenerator(MockFeedConfig(token="t", persons=300, months=9))
    old = list(short.iter_records())
    full = list(longer.iter_records())
    assert full[: len(old)] == old and len(full) > len(old)
    got, cursor = pages(short, 999)
    assert sum(map(len, got)) == len(old)
    rest, _ = pages(longer, 250, cursor)
    assert [r for page in rest for r in page] == full[len(old) :]


def test_without_faults_every_record_is_clean(stream: list[Record]) -> None:
    assert [r for r in stream if problem(r) is not None] == []


def test_faults_add_malformed_records_of_every_kind(stream: list[Record]) -> None:
    config = MockFeedConfig(token="t", persons=400, months=14, fault_rate=0.1)
    faulty = list(FeedGenerator(config).iter_records())
    bad = [r for r in faulty if problem(r) is not None]
    assert 0.04 * len(faulty) < len(bad) < 0.15 * len(faulty)
    # The good records are all still there, in order: a malformed record is an extra line.
    assert [r for r in faulty if problem(r) is None] == stream
    kinds = Counter(problem(r) for r in bad)
    assert set(kinds) == {
        "missing_field",
        "id_checksum",
        "unknown_category",
        "unknown_village",
        "amount_non_numeric",
        "amount_negative",
        "amount_zero",
        "bad_paid_at",
        "bad_period",
    }


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "abc",
        base64.urlsafe_b64encode(b"v1:0:400:0").decode().rstrip("="),  # no such person
        base64.urlsafe_b64encode(b"v1:0:0:64").decode().rstrip("="),  # line out of range
        base64.urlsafe_b64encode(b"v2:0:0:0").decode().rstrip("="),
        base64.urlsafe_b64encode(b"v1:00:1:0").decode().rstrip("="),
        encode_cursor(Position(1, 2, 0)) + "=",
        "x" * 100,
    ],
)
def test_a_malformed_cursor_is_refused(generator: FeedGenerator, cursor: str) -> None:
    with pytest.raises(CursorError):
        generator.page(cursor, 10)


def test_limits_outside_the_range_are_refused(generator: FeedGenerator) -> None:
    for limit in (0, MAX_LIMIT + 1):
        with pytest.raises(ValueError):
            generator.page(None, limit)


def test_demo_persons_have_several_payouts(stream: list[Record]) -> None:
    found = demo_persons(CONFIG, n=3)
    assert len(found) == 3
    for person in found:
        theirs = [r for r in stream if r["id_number"] == person.id_number]
        assert len(theirs) >= 6 and len({r["item_name"] for r in theirs}) >= 2
        assert {(r["name"], r["village_code"]) for r in theirs} == {
            (person.name, person.village_code)
        }


@pytest.mark.parametrize(
    "overrides",
    [
        {"token": ""},
        {"persons": 0},
        {"persons": 500_001},
        {"months": -1},
        {"start": "2025-13"},
        {"start": "2025-1"},
        {"fault_rate": 1.5},
        {"fault_rate": -0.1},
    ],
)
def test_config_is_validated(overrides: dict[str, object]) -> None:
    values: dict[str, object] = {"token": "t", **overrides}
    with pytest.raises(ValueError):
        MockFeedConfig(**values)  # type: ignore[arg-type]


def test_the_feed_pays_the_countys_card_items_under_their_names(
    stream: list[Record], demo_stream: list[Record]
) -> None:
    on_card = {item.item_name for item in COUNTY_ITEMS if item.on_card}
    assert {item.item_name for item in ITEMS} == on_card
    assert {str(r["item_name"]) for r in demo_stream} == on_card  # each of them, in the demo
    for record in [*stream, *demo_stream]:
        county = COUNTY_ITEM_BY_NAME[str(record["item_name"])]
        assert (record["category_code"], record["department"]) == (
            county.category_code,
            county.department,
        )
    # 医保参保资助 is deducted from the premium (代缴): it never reaches the card.
    assert not any("医保" in str(r["item_name"]) for r in demo_stream)
    assert "城乡居民医保参保资助" in COUNTY_ITEM_BY_NAME
    assert not COUNTY_ITEM_BY_NAME["城乡居民医保参保资助"].on_card


def test_medical_aid_is_rare_and_the_student_grants_are_split(demo_stream: list[Record]) -> None:
    """医疗救助 mostly comes off the hospital bill: only 零星报销 reaches the card."""
    medical = [r for r in demo_stream if r["item_name"] == "医疗救助金"]
    assert 1 <= len(medical) <= 0.006 * DEMO.persons
    assert all(int(str(r["amount"]).split(".")[0]) <= 5000 for r in medical)
    names = {str(r["item_name"]) for r in demo_stream}
    assert "学生资助金" not in names
    assert {"义务教育家庭经济困难学生生活补助", "普通高中国家助学金", "雨露计划补助"} <= names


def test_forest_ranger_pay_goes_to_a_few_adults_per_village(demo_stream: list[Record]) -> None:
    rangers = {
        (r["village_code"], r["id_number"])
        for r in demo_stream
        if r["item_name"] == "生态护林员补助"
    }
    assert len(rangers) >= 5
    assert max(Counter(village for village, _ in rangers).values()) <= 3
    periods = {r["period"] for r in demo_stream if r["item_name"] == "生态护林员补助"}
    assert periods == {"2025-12", "2026-03", "2026-06", "2026-09"}


def test_grain_for_green_is_paid_500_300_400_per_mu_in_years_1_3_5() -> None:
    """新一轮退耕还林: 1200元/亩 in three installments, two years apart, in November."""
    config = MockFeedConfig(token="t", persons=1500, months=61, start="2020-11")
    generator = FeedGenerator(config)
    novembers = range(0, config.months, 12)  # 2020-11 .. 2025-11
    paid: dict[object, dict[int, int]] = defaultdict(dict)
    for record in lines_of(generator, "退耕还林补助", novembers):
        paid[record["id_number"]][int(str(record["period"])[:4])] = int(
            Decimal(str(record["amount"])) * 100
        )
    assert len(paid) >= 20
    rates = {0: 50_000, 2: 30_000, 4: 40_000}  # years after enrolment: fen per 亩
    whole = 0
    for years in paid.values():
        first = min(years)
        # Enrolled in the first year paid, or before the stream began.
        fits = [
            enrolled
            for enrolled in range(first - 4, first + 1)
            if all(y - enrolled in rates for y in years)
            and len({years[y] // rates[y - enrolled] for y in years}) == 1
            and all(years[y] % rates[y - enrolled] == 0 for y in years)
            and (enrolled < 2020 or all(enrolled + k not in years for k in (1, 3)))
        ]
        assert fits, years
        if len(years) == 3:
            whole += 1
            assert sum(years.values()) % 120_000 == 0  # 1200元 per 亩 in all
    assert whole >= 2
    # In one year, households at every stage: 500, 300 and 400 per 亩.
    in_2025 = [r for r in lines_of(generator, "退耕还林补助", range(60, 61))]
    assert len(in_2025) >= 3


def test_rural_housing_aid_comes_in_two_parts_once_per_household() -> None:
    config = MockFeedConfig(token="t", persons=3000, months=24)
    generator = FeedGenerator(config)
    parts: dict[object, list[tuple[int, int]]] = defaultdict(list)
    for record in lines_of(generator, "农村危房改造补助", range(config.months)):
        year, month = map(int, str(record["period"]).split("-"))
        parts[record["id_number"]].append(
            (year * 12 + month, int(Decimal(str(record["amount"])) * 100))
        )
    start = 2025 * 12 + 11
    complete = 0
    for lines in parts.values():
        assert len(lines) <= 2, lines
        if len(lines) == 2:
            (started, first), (checked, rest) = sorted(lines)
            assert 2 <= checked - started <= 6
            assert first * 60 == rest * 40  # 40% when work starts, 60% after the check
            assert 10_000_00 <= first + rest <= 35_000_00
            complete += 1
        else:  # a work begun late in the stream, or its first part before it
            assert lines[0][0] >= start + config.months - 7 or lines[0][0] <= start + 6
    assert complete >= 5


def test_childcare_goes_to_each_household_with_a_child_under_3(
    generator: FeedGenerator, stream: list[Record]
) -> None:
    """育儿补贴: 3600元 a year for each child under 3, to the head of the household."""
    persons = [generator.person(p) for p in range(CONFIG.persons)]
    september = date(2026, 9, 1)
    under_3: Counter[int] = Counter(
        person.household for person in persons if age_on(person.born_on, september) < 3
    )
    heads = {person.id_number: person for person in persons if person.head}
    paid = {
        heads[str(r["id_number"])].household: r["amount"]
        for r in stream
        if r["item_name"] == "育儿补贴"
    }
    assert {r["period"] for r in stream if r["item_name"] == "育儿补贴"} == {"2026-09"}
    assert paid == {household: f"{3600 * n}.00" for household, n in under_3.items()}
    assert len(paid) >= 3
