"""The monthly payout lists of a village (晒账).

Invariants: a line shows the masked name only, never an ID number, not even masked; a month is
listed once its payouts have synced; reversed lines are shown and left out of totals.
"""

from sqlalchemy.orm import Session

from app.disclosures.schemas import DisclosureLine, DisclosureList, DisclosureMonths
from app.errors import NotFound
from app.regions import service as regions_service
from app.regions.models import Region, RegionLevel
from app.subsidies import service as subsidies_service
from app.subsidies import store
from app.subsidies.categories import category_name


def _village(session: Session, code: str) -> Region:
    region = regions_service.get_region(session, code)
    if region.level != RegionLevel.village:
        raise NotFound(f"{code} 不是村（社区）")
    return region


def list_periods(session: Session, village_code: str) -> DisclosureMonths:
    _village(session, village_code)
    return DisclosureMonths(
        village_code=village_code,
        village=regions_service.full_names(session, [village_code])[village_code],
        periods=store.village_periods(session, village_code),
    )


def month_list(
    session: Session, village_code: str, *, period: str, category: str | None
) -> DisclosureList:
    _village(session, village_code)
    lines = store.village_month_lines(session, village_code, period=period, category=category)
    items = [
        DisclosureLine(
            record_id=line.record_id,
            name_masked=line.name_masked,
            category_code=line.category_code,
            category_name=category_name(line.category_code),
            item_name=line.item_name,
            amount=line.amount_fen,
            status=line.status,
        )
        for line in lines
    ]
    if not items and not store.village_has_month(session, village_code, period):
        raise NotFound(f"{period} 没有公示的发放记录")
    totals = store.village_month_paid_by_category(
        session, village_code, period=period, category=category
    )
    by_category = subsidies_service.category_totals(totals)
    return DisclosureList(
        village_code=village_code,
        village=regions_service.full_names(session, [village_code])[village_code],
        period=period,
        total=sum(c.total for c in by_category),
        by_category=by_category,
        items=items,
    )
