"""Each data rule flags exactly the lines it should on planted lines, and not those next to
them that it must not (the month of death itself, age exactly 80, a reversed duplicate, a
standard exactly met…)."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.screening.models import Flag, RunScope
from app.screening.rules import RuleCode
from app.screening.runs import run_screening
from tests.factories import HUANGLIU, SANGUANZHAI
from tests.screening.planting import (
    add_deceased,
    add_public_employee,
    add_roster,
    id_number,
    plant,
    plant_month_total,
    set_standard,
)

GAOSHI, DASONG, TIANMA = "511923103202", "511923103203", "511923103206"  # 佛楼镇
OLD = id_number("19400101", 11)
OLDER = id_number("19400201", 12)
YOUNG = id_number("19800101", 13)


def screen(session: Session) -> None:
    run_screening(session, scope=RunScope.full, trigger="staff")


def assert_includes(figures: dict[str, object], expected: dict[str, object]) -> None:
    assert {key: figures.get(key) for key in expected} == expected


def flagged(session: Session, rule: RuleCode) -> dict[tuple[str, ...], Flag]:
    flags = session.scalars(select(Flag).where(Flag.rule == rule, Flag.state == "open"))
    return {tuple(sorted(flag.record_ids)): flag for flag in flags}


def test_duplicate_flags_one_person_item_and_period_paid_twice_in_any_village(
    session: Session,
) -> None:
    plant(session, "D-1", OLD, amount_fen=14300)
    plant(session, "D-2", OLD, amount_fen=14300, village_code=HUANGLIU)
    plant(session, "D-3", OLD, period="2026-09")  # another month
    plant(session, "D-4", OLD, item_name="高龄津贴", category_code="05", amount_fen=5000)
    plant(session, "R-1", OLDER)
    plant(session, "R-2", OLDER, status="reversed")  # a reversed line is not paid
    screen(session)

    flags = flagged(session, RuleCode.duplicate)
    assert list(flags) == [("D-1", "D-2")]
    figures = flags[("D-1", "D-2")].figures
    assert figures["line_count"] == 2
    assert (figures["total_fen"], figures["total_yuan"]) == (28600, "286.00")
    assert figures["villages"] == sorted([SANGUANZHAI, HUANGLIU])
    assert figures["lines"][0]["amount_yuan"] == "143.00"


def test_two_villages_flags_a_person_paid_in_two_villages_in_one_period(session: Session) -> None:
    plant(session, "T-1", OLD)
    plant(
        session, "T-2", OLD, item_name="耕地地力保护补贴", category_code="02", village_code=HUANGLIU
    )
    plant(session, "T-3", OLD, period="2026-09", village_code=HUANGLIU)  # alone in its month
    plant(session, "T-4", OLDER)
    plant(session, "T-5", OLDER, item_name="耕地地力保护补贴", category_code="02")  # one village
    plant(session, "T-6", YOUNG)
    plant(session, "T-7", YOUNG, village_code=HUANGLIU, status="reversed")
    screen(session)

    flags = flagged(session, RuleCode.two_villages)
    assert list(flags) == [("T-1", "T-2")]
    figures = flags[("T-1", "T-2")].figures
    assert figures["village_count"] == 2
    assert [v["village_code"] for v in figures["villages"]] == sorted([SANGUANZHAI, HUANGLIU])


def test_age_mismatch_takes_the_age_at_the_periods_month(session: Session) -> None:
    born_1945_03 = id_number("19450315", 21)
    plant(session, "A-79", born_1945_03, period="2025-02", item_name="高龄津贴", amount_fen=5000)
    plant(session, "A-80", born_1945_03, period="2025-03", item_name="高龄津贴", amount_fen=5000)
    born_1966_06 = id_number("19660601", 22)
    plant(session, "A-59", born_1966_06, period="2026-05")  # 城乡居民基础养老金 at 59
    plant(session, "A-60", born_1966_06, period="2026-06")
    student = id_number("20000701", 23)
    study = {"item_name": "学生资助金", "category_code": "07", "amount_fen": 100000}
    plant(session, "S-25", student, period="2026-06", **study)  # 25 and 11 months
    plant(session, "S-26", student, period="2026-07", **study)
    plant(session, "S-26r", student, period="2026-08", status="reversed", **study)
    screen(session)

    flags = flagged(session, RuleCode.age_mismatch)
    assert sorted(flags) == [("A-59",), ("A-79",), ("S-26",)]
    assert_includes(flags[("A-79",)].figures, {"age": 79, "min_age": 80, "birth_month": "1945-03"})
    assert flags[("A-59",)].figures["age"] == 59
    assert_includes(flags[("S-26",)].figures, {"age": 26, "max_age": 25, "amount_yuan": "1000.00"})


def test_over_standard_flags_a_payout_above_the_items_standard(session: Session) -> None:
    set_standard(session, "高龄津贴", 10000)
    plant(session, "O-1", OLD, item_name="高龄津贴", amount_fen=10001)
    plant(session, "O-2", OLD, item_name="高龄津贴", period="2026-09", amount_fen=10000)
    plant(session, "O-3", OLDER, amount_fen=99999)  # no standard for the item
    plant(session, "O-4", YOUNG, item_name="高龄津贴", amount_fen=20000, status="reversed")
    screen(session)

    flags = flagged(session, RuleCode.over_standard)
    assert list(flags) == [("O-1",)]
    assert_includes(
        flags[("O-1",)].figures,
        {
            "amount_yuan": "100.01",
            "standard_fen": 10000,
            "standard_yuan": "100.00",
            "excess_fen": 1,
        },
    )


def test_after_death_leaves_the_month_of_death_due(session: Session) -> None:
    add_deceased(session, OLD, date(2026, 8, 31))
    plant(session, "X-07", OLD, period="2026-07")
    plant(session, "X-08", OLD, period="2026-08")  # the month of death: due
    plant(session, "X-09", OLD, period="2026-09")
    plant(session, "X-10", OLD, period="2026-10")
    plant(session, "X-11", OLD, period="2026-11", status="reversed")
    plant(session, "G-10", OLD, period="2026-10", item_name="高龄津贴", amount_fen=5000)
    plant(session, "L-10", OLDER, period="2026-10")  # alive
    screen(session)

    flags = flagged(session, RuleCode.after_death)  # one a person and item, with its months
    assert sorted(flags) == [("G-10",), ("X-09", "X-10")]
    pension = flags[("X-09", "X-10")]
    assert (pension.period, pension.item_name) == ("2026-09", "城乡居民基础养老金")
    assert_includes(
        pension.figures,
        {
            "died_on": "2026-08-31",
            "months_after_death": 2,
            "first_period": "2026-09",
            "last_period": "2026-10",
            "line_count": 2,
            "total_fen": 28600,
        },
    )
    assert [(line["period"], line["months_after_death"]) for line in pension.figures["lines"]] == [
        ("2026-09", 1),
        ("2026-10", 2),
    ]


def test_public_employee_flags_social_assistance_only(session: Session) -> None:
    add_public_employee(session, YOUNG)
    plant(session, "P-1", YOUNG, item_name="城乡低保", category_code="01", amount_fen=50000)
    plant(session, "P-4", YOUNG, item_name="城乡低保", category_code="01", period="2026-09")
    plant(session, "P-2", YOUNG, item_name="耕地地力保护补贴", category_code="02")
    plant(session, "P-3", OLD, item_name="城乡低保", category_code="01")  # not on the list
    screen(session)

    flags = flagged(session, RuleCode.public_employee)
    assert list(flags) == [("P-1", "P-4")]  # one a person and item
    assert_includes(
        flags[("P-1", "P-4")].figures,
        {"total_fen": 50000 + 14300, "line_count": 2, "category_code": "01"},
    )


def test_cadre_relative_flags_anything_paid_to_the_roster_cadre_included(
    session: Session,
) -> None:
    add_roster(session, YOUNG, YOUNG, relation="本人", post="村委会主任")
    add_roster(session, OLD, YOUNG, relation="父母", post="村委会主任")
    plant(session, "C-1", YOUNG, item_name="耕地地力保护补贴", category_code="02")
    plant(session, "C-2", OLD)
    plant(session, "C-3", OLDER)  # not on the roster
    plant(session, "C-4", OLD, period="2026-09", status="reversed")
    plant(session, "C-5", OLD, period="2026-08")  # the same item, another month
    screen(session)

    flags = flagged(session, RuleCode.cadre_relative)  # one a person and item, with its months
    assert sorted(flags) == [("C-1",), ("C-2", "C-5")]
    parent = flags[("C-2", "C-5")]
    assert parent.figures["roster"] == [
        {"relation": "父母", "post": "村委会主任", "village_code": SANGUANZHAI}
    ]
    assert_includes(
        parent.figures,
        {"first_period": "2026-08", "last_period": "2026-10", "line_count": 2},
    )
    assert flags[("C-1",)].figures["roster"][0]["relation"] == "本人"


def test_village_jump_needs_twice_its_own_median_and_well_above_the_township(
    session: Session,
) -> None:
    history = ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    for period, total in zip(history, [8000, 12000, 10000, 9000, 11000, 13000], strict=True):
        plant_month_total(session, SANGUANZHAI, period, total)
        plant_month_total(session, GAOSHI, period, 10000)
        plant_month_total(session, DASONG, period, total)
    plant_month_total(session, SANGUANZHAI, "2026-09", 50000)  # > 2 × 10000, > 2 × 20000
    plant_month_total(session, GAOSHI, "2026-09", 10000)
    plant_month_total(session, DASONG, "2026-09", 21000)  # exactly twice its median: not above
    # TIANMA: a jump with only two months before it is not judged
    plant_month_total(session, TIANMA, "2026-07", 10000)
    plant_month_total(session, TIANMA, "2026-08", 10000)
    plant_month_total(session, TIANMA, "2026-09", 50000)
    screen(session)

    flags = flagged(session, RuleCode.village_jump)
    assert [(f.village_code, f.period, f.item_name) for f in flags.values()] == [
        (SANGUANZHAI, "2026-09", "高龄津贴")
    ]
    figures = next(iter(flags.values())).figures
    assert_includes(
        figures,
        {
            "total_fen": 50000,
            "total_yuan": "500.00",
            "own_median_fen": 10500,  # (10000 + 11000) / 2
            "own_median_yuan": "105.00",
            "township_median_fen": 21000,  # 高石村 10000, 大松村 21000, 天马村 50000
            "other_villages": 3,
        },
    )
    assert [m["period"] for m in figures["months_before"]] == history
    assert len(next(iter(flags))) == 2  # the month's lines
