from sqlalchemy import select
from sqlalchemy.orm import Session

from app import public_writes
from app.config import get_settings
from app.inquiries import demo, service, stats
from app.inquiries.models import InquiryItem, ItemState
from app.inquiries.schemas import ItemFilter
from app.pagination import PageParams
from app.staff.models import Role
from tests.factories import SANGUANZHAI, make_staff


def test_the_demo_year_shows_real_life_on_the_board(session: Session) -> None:
    commission = make_staff(session, role=Role.commission)
    assert demo.load_demo(session, actor=commission, settings=get_settings()) == 45
    items = session.scalars(select(InquiryItem)).all()
    assert {i.state for i in items} == set(ItemState)
    assert any(i.deadline != i.original_deadline for i in items)  # one extended
    assert [i.reopened_count for i in items if i.reopened_count] == [1]  # one reopened
    board = service.list_items(
        session,
        filters=ItemFilter(village_code=SANGUANZHAI),
        page=PageParams(page=1, size=100),
    )
    assert {i.state for i in board.items} == set(ItemState)
    assert any(i.overdue for i in board.items)
    totals = [
        stats.stats(session, year=year, township_code=None).total
        for year in {i.year for i in items}  # a demo loaded in January spans two years
    ]
    assert sum(t.funds_recovered for t in totals) > 0 and sum(t.closed for t in totals) == 17
    # last year's meeting left work undone: this year's stats show it apart, one item overdue
    this_year = stats.stats(session, year=public_writes.today().year, township_code=None).total
    assert this_year.earlier_open >= 3 and this_year.earlier_overdue >= 1
    meeting = service.get_meeting(session, items[0].meeting_id)
    assert len(meeting.photos) == 2
    assert any(
        e.photos
        for i in board.items
        for e in service.get_item(session, i.number, settings=get_settings()).timeline
    )
    assert demo.load_demo(session, actor=commission, settings=get_settings()) == 0  # once
