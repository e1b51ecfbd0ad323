"""阳光问廉 statistics, counted by the database: per township and year, and the county's overdue
count for the gauge. An item is closed on time when its work was reported done by its first
deadline (an extension does not make a late item punctual; the villagers' confirmation may come
later). The on-time rate is over the accepted items that are closed or past that deadline, and
shown only from five such items. Items raised in earlier years that are still open are counted
beside the year's own, so that an old promise never drops out of the county's figures."""

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from app import public_writes
from app.inquiries.errors import NotAPlace
from app.inquiries.models import InquiryItem, InquiryMeeting, ItemState, MeetingState
from app.inquiries.schemas import InquiryStats, TownshipStats
from app.inquiries.service import OPEN, overdue_clause
from app.regions import service as regions_service

ON_TIME_RATE_MIN_ITEMS = 5


@dataclass(frozen=True)
class _Counts:
    meetings: int = 0
    raised: int = 0
    closed: int = 0
    closed_on_time: int = 0
    open: int = 0
    overdue: int = 0
    due: int = 0  # accepted items closed, or past their first deadline: the on-time rate's base
    funds_cents: int = 0
    earlier_open: int = 0
    earlier_overdue: int = 0

    def __add__(self, other: "_Counts") -> "_Counts":
        # not dataclasses.astuple: it deep-copies, a fifth of the statistics' time
        names = [each.name for each in fields(self)]
        return _Counts(*(getattr(self, name) + getattr(other, name) for name in names))


def _township_stats(code: str, name: str, counts: _Counts) -> TownshipStats:
    rate = None
    if counts.due >= ON_TIME_RATE_MIN_ITEMS:
        rate = round(counts.closed_on_time / counts.due, 3)
    return TownshipStats(
        township_code=code,
        township_name=name,
        meetings=counts.meetings,
        raised=counts.raised,
        closed=counts.closed,
        closed_on_time=counts.closed_on_time,
        on_time_rate=rate,
        open=counts.open,
        overdue=counts.overdue,
        funds_recovered=counts.funds_cents,
        earlier_open=counts.earlier_open,
        earlier_overdue=counts.earlier_overdue,
    )


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def stats(session: Session, *, year: int | None, township_code: str | None) -> InquiryStats:
    """Per township of the county (those without a meeting too), counted by the database."""
    today = public_writes.today()
    year = year or today.year
    closed = InquiryItem.state == ItemState.closed
    this_year = InquiryItem.year == year
    earlier = InquiryItem.year < year
    punctual = InquiryItem.rectified_on <= InquiryItem.original_deadline
    items = (
        select(
            InquiryItem.township_code,
            _count(this_year),
            _count(this_year & closed),
            _count(this_year & closed & punctual),
            _count(this_year & InquiryItem.state.in_(OPEN)),
            _count(this_year & overdue_clause(today)),
            _count(
                this_year
                & (InquiryItem.state != ItemState.not_accepted)
                & (closed | (InquiryItem.original_deadline < today))
            ),
            func.coalesce(
                func.sum(case((this_year, InquiryItem.funds_recovered_cents), else_=0)), 0
            ),
            _count(earlier & InquiryItem.state.in_(OPEN)),
            _count(earlier & overdue_clause(today)),
        )
        .where(InquiryItem.published.is_(True), InquiryItem.year <= year)
        .group_by(InquiryItem.township_code)
    )
    meetings = (
        select(InquiryMeeting.township_code, func.count())
        .where(
            InquiryMeeting.state == MeetingState.published,
            InquiryMeeting.held_on.between(date(year, 1, 1), date(year, 12, 31)),
        )
        .group_by(InquiryMeeting.township_code)
    )
    counts: dict[str, _Counts] = {}
    for code, *numbers in session.execute(items):
        counts[code] = _Counts(0, *numbers)
    for code, number in session.execute(meetings):
        counts[code] = counts.get(code, _Counts()) + _Counts(meetings=number)

    county = regions_service.county(session)
    townships = regions_service.get_region(session, county.code).children
    if township_code is not None:
        townships = [t for t in townships if t.code == township_code]
        if not townships:
            raise NotAPlace(f"{township_code} 不是本县的乡镇（街道）代码。")
    rows = [_township_stats(t.code, t.name, counts.get(t.code, _Counts())) for t in townships]
    total = sum((counts.get(t.code, _Counts()) for t in townships), _Counts())
    return InquiryStats(
        year=year, total=_township_stats(county.code, county.name, total), townships=rows
    )


def count_overdue(session: Session) -> int:
    """Published items past their deadline and not yet rectified (for the gauge)."""
    today = public_writes.today()
    return (
        session.scalar(
            select(func.count())
            .select_from(InquiryItem)
            .where(InquiryItem.published.is_(True), overdue_clause(today))
        )
        or 0
    )
