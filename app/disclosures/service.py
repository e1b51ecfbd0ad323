"""The monthly payout lists of a village (晒账).

Invariants: a line shows the masked name only, never an ID number, not even masked; a month is
listed once its payouts have synced; reversed lines are shown and left out of totals.
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.disclosures.schemas import DisclosureLine, DisclosureList, DisclosureMonths
from app.errors import NotFound
from app.regions import service as regions_service
from app.regions.models import Region, RegionLevel
from app.subsidies.categories import category_name
from app.subsidies.models import Payout, Person
from app.subsidies.schemas import CategoryTotal


def _village(session: Session, code: str) -> Region:
    region = regions_service.get_region(session, code)
    if region.level != RegionLevel.village:
        raise NotFound(f"{code} 不是村（社区）")
    return region


def _has_month(session: Session, village_code: str, period: str) -> bool:
    return (
        session.scalar(
            select(Payout.record_id)
            .where(Payout.village_code == village_code, Payout.period == period)
            .limit(1)
        )
        is not None
    )


def list_periods(session: Session, village_code: str) -> DisclosureMonths:
    _village(session, village_code)
    periods = session.scalars(
        select(Payout.period)
        .where(Payout.village_code == village_code)
        .group_by(Payout.period)
        .order_by(Payout.period.desc())
    )
    return DisclosureMonths(
        village_code=village_code,
        village=regions_service.full_names(session, [village_code])[village_code],
        periods=list(periods),
    )


def month_list(
    session: Session, village_code: str, *, period: str, category: str | None
) -> DisclosureList:
    _village(session, village_code)
    conditions = [Payout.village_code == village_code, Payout.period == period]
    if category is not None:
        conditions.append(Payout.category_code == category)
    rows = session.execute(
        select(
            Payout.record_id,
            Person.name_masked,
            Payout.category_code,
            Payout.item_name,
            Payout.amount_fen,
            Payout.status,
        )
        .join(Person, Person.id == Payout.person_id)
        .where(*conditions)
        .order_by(Payout.category_code, Payout.item_name, Payout.record_id)
    )
    items = [
        DisclosureLine(
            record_id=record_id,
            name_masked=name,
            category_code=code,
            category_name=category_name(code),
            item_name=item,
            amount=amount,
            status=status,
        )
        for record_id, name, code, item, amount, status in rows
    ]
    if not items and not _has_month(session, village_code, period):
        raise NotFound(f"{period} 没有公示的发放记录")
    totals = session.execute(
        select(Payout.category_code, func.sum(Payout.amount_fen), func.count())
        .where(*conditions, Payout.status == "paid")
        .group_by(Payout.category_code)
        .order_by(Payout.category_code)
    )
    by_category = [
        CategoryTotal(category_code=c, category_name=category_name(c), total=t, count=n)
        for c, t, n in totals
    ]
    return DisclosureList(
        village_code=village_code,
        village=regions_service.full_names(session, [village_code])[village_code],
        period=period,
        total=sum(c.total for c in by_category),
        by_category=by_category,
        items=items,
    )
