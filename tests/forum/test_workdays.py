"""Working days are China's: holidays off, make-up weekend days (调休) on."""

from datetime import date

from app import workdays


def test_the_national_day_week_is_skipped_and_its_make_up_saturday_counts() -> None:
    # 2026: 1–7 October off, Saturday 10 October a working day
    assert not workdays.is_working_day(date(2026, 10, 1))
    assert workdays.is_working_day(date(2026, 10, 10))
    assert not workdays.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    # asked on 30 September: 8, 9, 10 (Saturday), 12, 13 October
    assert workdays.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert workdays.add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 15)


def test_the_spring_festival_and_its_make_up_days() -> None:
    # 2026: 15–23 February off; Saturdays 14 and 28 February working days
    assert workdays.is_working_day(date(2026, 2, 14))
    assert workdays.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert workdays.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert workdays.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6


def test_days_between_count_after_the_first_day_up_to_the_last() -> None:
    assert workdays.working_days_between(date(2026, 12, 7), date(2026, 12, 7)) == 0
    assert workdays.working_days_between(date(2026, 12, 4), date(2026, 12, 7)) == 1  # Fri → Mon
    assert workdays.working_days_between(date(2026, 12, 7), date(2026, 12, 4)) == 0
    # a year not announced yet still has its fixed holidays (元旦)
    assert not workdays.is_working_day(date(2027, 1, 1))
