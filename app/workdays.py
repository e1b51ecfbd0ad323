"""China's working days (工作日): Monday to Friday, less the official holidays, plus the weekend
days made working days by the State Council's yearly schedule (调休上班).

The calendar is the `holidays` package's (country CN), pinned in pyproject.toml, not a table of
ours: it carries each year's announced holidays and make-up days. A year the State Council has
not announced yet (each November it announces the next) is computed from the law's rules
(the holidays themselves, without make-up days) until the package is upgraded.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, make-up working days) of one year; built once, then only read (threads)."""
    calendar = holidays.country_holidays("CN", years=year)
    days_off = frozenset(day for day in calendar if day.year == year)
    make_up = frozenset(day for day in calendar.weekend_workdays if day.year == year)
    return days_off, make_up


def is_working_day(day: date) -> bool:
    days_off, make_up = _year(day.year)
    if day in make_up:
        return True
    return day.weekday() < 5 and day not in days_off


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (`start` itself not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not after it)."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count
