"""云端话廉's monthly figures, counted by the database (SQLite and PostgreSQL alike): questions
asked in a month, how many of them were answered (turned into a tip or a 阳光问廉 item counts:
the asker was told where it went), the reply rate, the median number of working days to the
reply, and the asker's mean rating. Every question counts, published or not: a question left
unanswered and unpublished must still weigh on the reply rate.

One statement: the year's questions are read once, in the order of the index
`ix_question_month`, into a histogram of (month, working days to the reply) with its counts;
the months and the whole year are summed from it, and each median is read off the histogram's
running counts (a window function), so no question reaches Python."""

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import public_writes
from app.forum.models import month_number
from app.forum.schemas import MonthStats, QuestionStats

YEAR = 0  # the `m` of the whole year's row
# m: a month (202612) or YEAR; d: working days to the reply (NULL: no reply yet); n: questions
_FIGURES = text(
    """
    WITH histogram AS (
        SELECT asked_month AS m, reply_working_days AS d, COUNT(*) AS n,
               COUNT(rating) AS rated, SUM(rating) AS score
        FROM question
        WHERE asked_month BETWEEN :first AND :last
        GROUP BY asked_month, reply_working_days
    ),
    groups AS (
        SELECT m, d, n, rated, score FROM histogram
        UNION ALL
        SELECT 0, d, SUM(n), SUM(rated), SUM(score) FROM histogram GROUP BY d
    ),
    running AS (
        SELECT m, d, n, rated, score,
               SUM(n) OVER (PARTITION BY m) AS asked,
               SUM(CASE WHEN d IS NULL THEN 0 ELSE n END) OVER (PARTITION BY m) AS answered,
               SUM(CASE WHEN d IS NULL THEN 0 ELSE n END)
                   OVER (PARTITION BY m ORDER BY d ROWS UNBOUNDED PRECEDING) AS upto
        FROM groups
    )
    SELECT m, MAX(asked), MAX(answered), SUM(rated), SUM(score),
           MIN(CASE WHEN d IS NOT NULL AND upto * 2 >= answered THEN d END),
           MIN(CASE WHEN d IS NOT NULL AND upto * 2 > answered THEN d END)
    FROM running
    GROUP BY m
    """
)
# The lower middle value is the first d whose running count reaches half the replies; the
# upper, the first that passes half (the same d when the count is odd). NULL d (no reply) adds
# nothing to the running count, wherever a database sorts NULL.


def _figures(label: str, row: Any | None) -> MonthStats:
    if row is None:
        return MonthStats(
            month=label,
            asked=0,
            answered=0,
            reply_rate=None,
            median_working_days=None,
            mean_rating=None,
            ratings=0,
        )
    _m, asked, answered, rated, score, lower, upper = row
    return MonthStats(
        month=label,
        asked=int(asked),
        answered=int(answered),
        reply_rate=round(int(answered) / int(asked), 3) if asked else None,
        median_working_days=(lower + upper) / 2 if lower is not None else None,
        mean_rating=round(float(score) / int(rated), 2) if rated else None,
        ratings=int(rated),
    )


def stats(session: Session, *, year: int | None) -> QuestionStats:
    today = public_writes.today()
    year = year or today.year
    rows = {
        int(row[0]): row
        for row in session.execute(
            _FIGURES,
            {"first": month_number(date(year, 1, 1)), "last": month_number(date(year, 12, 1))},
        )
    }
    last = 12 if year < today.year else today.month if year == today.year else 0
    last = max([last, *(m % 100 for m in rows if m != YEAR)])
    months = [_figures(f"{year}-{m:02d}", rows.get(year * 100 + m)) for m in range(1, last + 1)]
    return QuestionStats(year=year, total=_figures(str(year), rows.get(YEAR)), months=months)
