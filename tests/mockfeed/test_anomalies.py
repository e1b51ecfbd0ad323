"""The anomalies the mock plants for screening, their ground truth and reference lists, checked
against the stream as a reader of the feed keeps it (latest version of each line, paid), with
the rules written here again from SPEC.md rather than taken from the mock."""

import csv
import hashlib
import io
import json
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from statistics import median

import pytest

from app.cli import DEMO_ANOMALIES, main
from app.mockfeed.anomalies import (
    KINDS,
    POSTS,
    GroundTruth,
    ReferenceLists,
    ground_truth,
    reference_lists,
)
from app.mockfeed.catalog import ITEM_BY_NAME
from app.mockfeed.generator import FeedGenerator, MockFeedConfig
from app.screening.rules import RULES, RuleCode
from app.subsidies.identity import check_id
from tests.mockfeed.checks import age_on, birth_date, period_start, problem

DEMO = MockFeedConfig(token="t", persons=2000, months=12, anomalies=DEMO_ANOMALIES)
PLAIN = MockFeedConfig(token="t", persons=2000, months=12)
Record = dict[str, object]
RELATIONS = {"本人", "配偶", "父母", "子女", "兄弟姐妹"}


@pytest.fixture(scope="module")
def generator() -> FeedGenerator:
    return FeedGenerator(DEMO)


@pytest.fixture(scope="module")
def truth(generator: FeedGenerator) -> GroundTruth:
    return ground_truth(generator)


@pytest.fixture(scope="module")
def lists(generator: FeedGenerator) -> ReferenceLists:
    return reference_lists(generator)


def stream(generator: FeedGenerator) -> list[str]:
    return [
        line
        for m in range(generator.config.months)
        for p in range(generator.config.persons)
        for line in generator.block(m, p)
    ]


def paid_lines(generator: FeedGenerator) -> dict[str, Record]:
    """The latest version of each good line of the stream, when it is paid."""
    latest: dict[str, Record] = {}
    for line in stream(generator):
        record = json.loads(line)
        if problem(record) is None:
            known = latest.get(str(record["record_id"]))
            if known is None or int(str(known["version"])) < int(str(record["version"])):
                latest[str(record["record_id"])] = record
    return {k: r for k, r in latest.items() if r["status"] == "paid"}


@pytest.fixture(scope="module")
def lines(generator: FeedGenerator) -> dict[str, Record]:
    return paid_lines(generator)


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def cents(record: Record) -> int:
    return int(Decimal(str(record["amount"])) * 100)


def digest(generator: FeedGenerator) -> str:
    return hashlib.sha256("".join(f"{line}\n" for line in stream(generator)).encode()).hexdigest()


# Digests of the whole stream, made by the generator before anomalies existed (commit 1ab76cb).
@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (PLAIN, "6df4af5fe9082e227262082a94a2b2df4b2a92e04c0c4f84b1c9683360fb5d5b"),
        (
            MockFeedConfig(token="t", persons=400, months=14, seed=7, fault_rate=0.05),
            "86924585fd57656dc416d1aef7d9012a1863b3c6d8b1474b2cb7c755151e9180",
        ),
    ],
)
def test_without_anomalies_the_stream_is_the_one_from_before_them(
    config: MockFeedConfig, expected: str
) -> None:
    generator = FeedGenerator(config)
    assert digest(generator) == expected
    assert ground_truth(generator).planted == ()
    empty = reference_lists(generator)
    assert [content.decode().count("\n") for content in empty.files().values()] == [1, 1, 1]


def test_only_the_planted_persons_lines_differ_from_the_plain_stream(
    generator: FeedGenerator, truth: GroundTruth, lists: ReferenceLists
) -> None:
    plain = FeedGenerator(PLAIN)
    touched = {generator.person(p).id_number for a in truth.planted for p in a.persons}
    touched |= {row["id_number"] for row in rows(lists.deceased)}  # those dropped after death
    assert generator.plan is not None  # and those moved into the showcase village
    touched |= {generator.person(p).id_number for p in generator.plan.moved}
    differ = set()
    for m in range(DEMO.months):
        for p in range(DEMO.persons):
            if generator.block(m, p) != plain.block(m, p):
                differ.add(generator.person(p).id_number)
    assert differ and differ <= touched


@pytest.mark.parametrize(
    ("persons", "rate", "seed", "n"), [(2000, DEMO_ANOMALIES, 1, 6), (3000, 0.004, 5, 12)]
)
def test_each_kind_is_planted_at_the_requested_rate(
    persons: int, rate: float, seed: int, n: int
) -> None:
    config = MockFeedConfig(token="t", persons=persons, months=12, seed=seed, anomalies=rate)
    generator = FeedGenerator(config)
    truth = ground_truth(generator)
    counts = Counter(a.kind for a in truth.planted if a.kind is not RuleCode.cadre_relative)
    assert counts == {kind: n for kind in KINDS if kind is not RuleCode.cadre_relative}
    # cadre_relative: n cadres of whose household someone is paid, each paid person a finding
    paid = {generator.person(a.persons[0]).id_number for a in truth.of(RuleCode.cadre_relative)}
    roster = rows(reference_lists(generator).cadre_relatives)
    assert len({row["cadre_id_number"] for row in roster if row["id_number"] in paid}) == n
    # and each kind is in the stream: a reader of the feed finds every planted line paid
    kept = paid_lines(generator)
    assert {k for a in truth.planted for k in a.record_ids} <= set(kept)


def test_the_anomalies_are_the_same_for_a_seed_and_differ_between_seeds(
    generator: FeedGenerator, truth: GroundTruth, lists: ReferenceLists
) -> None:
    again = FeedGenerator(DEMO)
    assert stream(again) == stream(generator)
    assert ground_truth(again) == truth
    assert reference_lists(again) == lists
    other = ground_truth(FeedGenerator(MockFeedConfig(token="t", seed=2, anomalies=0.003)))
    assert {a.record_ids for a in other.planted}.isdisjoint({a.record_ids for a in truth.planted})


def test_age_mismatches_contradict_the_age_on_the_id_number(
    truth: GroundTruth, lines: dict[str, Record]
) -> None:
    seen = set()
    for anomaly in truth.of(RuleCode.age_mismatch):
        [record_id] = anomaly.record_ids
        record = lines[record_id]
        born = birth_date(str(record["id_number"]))
        # the age on the 1st of the period and on the day it was paid tell the same
        ages = {
            age_on(born, period_start(str(record["period"]))),
            age_on(born, date.fromisoformat(str(record["paid_at"]))),
        }
        item = ITEM_BY_NAME[str(record["item_name"])]
        if record["item_name"] == "高龄津贴":
            assert max(ages) < 80 and min(ages) >= 60, record
            seen.add("高龄津贴")
        elif record["item_name"] == "城乡居民基础养老金":
            assert max(ages) < 60, record
            seen.add("养老金")
        else:
            assert item.category_code == "07" and min(ages) > 25, record
            seen.add("教育")
    assert seen == {"高龄津贴", "养老金", "教育"}


def test_the_rules_find_exactly_the_planted_lines(
    generator: FeedGenerator, truth: GroundTruth, lists: ReferenceLists, lines: dict[str, Record]
) -> None:
    """Each deterministic rule as SPEC.md states it, over the whole stream: it meets the lines
    planted for it and no other (over_standard: with the items' highest usual amounts as the
    standards)."""
    by_item: dict[tuple[object, ...], set[str]] = defaultdict(set)
    by_period: dict[tuple[object, ...], set[str]] = defaultdict(set)
    for k, r in lines.items():
        by_item[r["id_number"], r["item_name"], r["period"]].add(k)
        by_period[r["id_number"], r["period"]].add(k)
    duplicate = {k for ks in by_item.values() if len(ks) > 1 for k in ks}
    two_villages = {
        k
        for ks in by_period.values()
        if len({lines[k]["village_code"] for k in ks}) > 1
        for k in ks
    }
    limits = RULES[RuleCode.age_mismatch].parameters
    age_mismatch = set()
    for k, r in lines.items():
        age = age_on(birth_date(str(r["id_number"])), period_start(str(r["period"])))
        least = limits["min_age"].get(r["item_name"])
        most = limits["max_age_by_category"].get(r["category_code"])
        if (least is not None and age < least) or (most is not None and age > most):
            age_mismatch.add(k)
    over = {k for k, r in lines.items() if cents(r) > ITEM_BY_NAME[str(r["item_name"])].max_cents}
    died = {row["id_number"]: row["died_on"][:7] for row in rows(lists.deceased)}
    after_death = {
        k
        for k, r in lines.items()
        if r["id_number"] in died and str(r["period"]) > died[str(r["id_number"])]
    }
    employees = {row["id_number"] for row in rows(lists.public_employees)}
    public_employee = {
        k for k, r in lines.items() if r["id_number"] in employees and r["category_code"] == "01"
    }
    roster = {row["id_number"] for row in rows(lists.cadre_relatives)}
    cadre_relative = {k for k, r in lines.items() if r["id_number"] in roster}

    found = {
        RuleCode.duplicate: duplicate,
        RuleCode.two_villages: two_villages,
        RuleCode.age_mismatch: age_mismatch,
        RuleCode.over_standard: over,
        RuleCode.after_death: after_death,
        RuleCode.public_employee: public_employee,
        RuleCode.cadre_relative: cadre_relative,
    }
    for kind, record_ids in found.items():
        assert record_ids, kind
        assert record_ids == truth.record_ids(kind), kind
    # a duplicate in another village is a two-village finding too, and said so
    assert any(RuleCode.two_villages in a.also for a in truth.of(RuleCode.duplicate))


def test_each_planted_village_jump_meets_the_rule(
    truth: GroundTruth, lines: dict[str, Record]
) -> None:
    parameters = RULES[RuleCode.village_jump].parameters
    totals: Counter[tuple[str, str | None, str]] = Counter()
    for r in lines.values():
        totals[str(r["village_code"]), str(r["item_name"]), str(r["period"])] += cents(r)
    jumps = truth.of(RuleCode.village_jump)
    assert jumps
    for jump in jumps:
        assert len(jump.record_ids) >= 3 and jump.period is not None
        assert {lines[k]["village_code"] for k in jump.record_ids} == {jump.village_code}
        year, month = map(int, jump.period.split("-"))
        at = year * 12 + month - 1
        before = [
            f"{(at - back) // 12}-{(at - back) % 12 + 1:02d}"
            for back in range(1, parameters["months_before"] + 1)
        ]
        assert min(before) >= f"{DEMO.start}"  # all six in the stream
        total = totals[jump.village_code, jump.item_name, jump.period]
        own = median(totals[jump.village_code, jump.item_name, p] for p in before)
        others = [
            t
            for (village, item, period), t in totals.items()
            if village[:9] == jump.village_code[:9]
            and village != jump.village_code
            and (item, period) == (jump.item_name, jump.period)
        ]
        assert own > 0 and total > parameters["times_own_median"] * own
        assert total > parameters["times_township_median"] * median(others or [0])


def test_the_lists_are_csv_of_valid_id_numbers_and_hold_negatives_too(
    generator: FeedGenerator, lists: ReferenceLists, lines: dict[str, Record]
) -> None:
    persons = {generator.person(p).id_number: generator.person(p) for p in range(DEMO.persons)}
    items_of: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in lines.values():
        items_of[str(r["id_number"])][str(r["period"])].add(str(r["item_name"]))
    first, last = date(2025, 11, 1), date(2026, 10, 31)

    deceased = rows(lists.deceased)
    assert list(deceased[0]) == ["id_number", "died_on"]
    for row in deceased:
        assert check_id(row["id_number"]) == row["id_number"] in persons
        assert first <= date.fromisoformat(row["died_on"]) <= last
    month_of = {row["id_number"]: row["died_on"][:7] for row in deceased}
    paid_to_death = [
        number
        for number, month in month_of.items()
        if number in items_of and max(items_of[number]) == month
    ]
    assert len(paid_to_death) >= 3  # paid in the month of death, and not after
    assert any(number not in items_of for number in month_of)  # never paid

    employees = rows(lists.public_employees)
    assert list(employees[0]) == ["id_number"]
    for row in employees:
        assert check_id(row["id_number"]) == row["id_number"] in persons
    paid_items = [
        set().union(*items_of[row["id_number"]].values()) if row["id_number"] in items_of else set()
        for row in employees
    ]
    assert sum(items == {"耕地地力保护补贴"} for items in paid_items) >= 3
    assert set() in paid_items

    roster = rows(lists.cadre_relatives)
    assert list(roster[0]) == ["id_number", "cadre_id_number", "village_code", "post", "relation"]
    cadres = {row["cadre_id_number"] for row in roster}
    for row in roster:
        assert check_id(row["id_number"]) == row["id_number"] in persons
        assert check_id(row["cadre_id_number"]) == row["cadre_id_number"] in persons
        assert row["relation"] in RELATIONS and row["post"] in POSTS
        assert persons[row["id_number"]].village_code == row["village_code"]
    for cadre in cadres:
        [own] = [
            row for row in roster if row["cadre_id_number"] == cadre and row["id_number"] == cadre
        ]
        assert own["relation"] == "本人"
        assert len({row["post"] for row in roster if row["cadre_id_number"] == cadre}) == 1
    assert {row["relation"] for row in roster} >= {"本人", "配偶", "子女"}
    assert any(row["id_number"] not in items_of for row in roster)  # on the roster, never paid
    # no one plays two parts
    everyone = [row["id_number"] for row in deceased + employees]
    assert len(everyone) == len(set(everyone)) and not set(everyone) & {
        r["id_number"] for r in roster
    }


def test_mock_feed_writes_the_lists_and_prints_no_id_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served = []
    monkeypatch.setattr("app.mockfeed.serve_mock_feed", lambda config, **_: served.append(config))
    argv = ["mock-feed", "--token", "t", "--anomalies", str(DEMO_ANOMALIES)]
    assert main([*argv, "--write-lists", str(tmp_path / "lists")]) == 0
    [config] = served
    assert config.anomalies == DEMO_ANOMALIES
    expected = reference_lists(FeedGenerator(config))
    for kind, content in expected.files().items():
        assert (tmp_path / "lists" / f"{kind}.csv").read_bytes() == content
    out = capsys.readouterr()
    numbers = {row["id_number"] for content in expected.files().values() for row in rows(content)}
    assert len(numbers) > 20
    assert not any(number[:14] in out.out + out.err for number in numbers)
    assert "deceased" in out.out
    assert main([*argv[:-1], "0.5"]) == 2  # more than a kind's greatest share
