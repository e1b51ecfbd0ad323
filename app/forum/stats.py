"""云端话廉's monthly figures, counted by the database (SQLite and PostgreSQL alike): questions
asked in a month, how many of them were answered (turned into a tip or a 阳光问廉 item counts:
the asker was told where it went), the reply rate, the median number of working days to the
reply, and the asker's mean rating. Every question counts, published or not: a question left
unanswered and unpublished must still weigh on the reply rate.

The median is read from each month's histogram of working days (a handful of values), with
running counts in a window function: one pass over the index, no row reaches Python."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, extract, func, select
from sqlalchemy.orm import Session

from app import public_writes
from app.forum.models import Question
from app.forum.schemas import MonthStats, QuestionStats


def _medians(
    session: Session, group: ColumnElement[Any], where: list[ColumnElement[bool]]
) -> dict[int, float]:
    """The median of `reply_working_days` per value of `group`."""
    days = Question.reply_working_days
    histogram = (
        select(group.label("g"), days.label("d"), func.count().label("n"))
        .where(*where, days.is_not(None))
        .group_by(group, days)
        .subquery()
    )
    running = select(
        histogram.c.g,
        histogram.c.d,
        func.sum(histogram.c.n)
        .over(partition_by=histogram.c.g, order_by=histogram.c.d)
        .label("upto"),
        func.sum(histogram.c.n).over(partition_by=histogram.c.g).label("total"),
    ).subquery()
    # the lower middle value: the first d whose running count reaches half; the upper: the
    # first that passes half (the same d when the count is odd)
    lower = func.min(case((running.c.upto * 2 >= running.c.total, running.c.d)))
    upper = func.min(case((running.c.upto * 2 > running.c.total, running.c.d)))
    stmt = select(running.c.g, lower, upper).group_by(running.c.g)
    return {int(g): (lo + hi) / 2 for g, lo, hi in session.execute(stmt)}


def _month_stats(label: str, row: Any | None, median: float | None) -> MonthStats:
    asked, answered, ratings, mean = row if row is not None else (0, 0, 0, None)
    return MonthStats(
        month=label,
        asked=asked,
        answered=answered,
        reply_rate=round(answered / asked, 3) if asked else None,
        median_working_days=median,
        mean_rating=round(float(mean), 2) if mean is not None else None,
        ratings=ratings,
    )


def stats(session: Session, *, year: int | None) -> QuestionStats:
    today = public_writes.today()
    year = year or today.year
    where = [Question.asked_on >= date(year, 1, 1), Question.asked_on < date(year + 1, 1, 1)]
    month = cast(extract("month", Question.asked_on), Integer)
    whole_year = cast(extract("year", Question.asked_on), Integer)

    def figures(group: ColumnElement[Any]) -> dict[int, Any]:
        stmt = (
            select(
                group,
                func.count(),
                func.count(Question.reply_working_days),
                func.count(Question.rating),
                func.avg(Question.rating),
            )
            .where(*where)
            .group_by(group)
        )
        return {int(g): tuple(rest) for g, *rest in session.execute(stmt)}

    by_month = figures(month)
    medians = _medians(session, month, where)
    last = 12 if year < today.year else today.month if year == today.year else 0
    months = [
        _month_stats(f"{year}-{m:02d}", by_month.get(m), medians.get(m))
        for m in range(1, max(last, max(by_month, default=0)) + 1)
    ]
    total = _month_stats(
        str(year), figures(whole_year).get(year), _medians(session, whole_year, where).get(year)
    )
    return QuestionStats(year=year, total=total, months=months)
