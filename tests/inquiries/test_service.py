from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.config import get_settings
from app.errors import Forbidden
from app.inquiries import service, stats
from app.inquiries.errors import (
    AlreadyVoted,
    ConfirmationRequired,
    DeadlineInvalid,
    InquiryNotFound,
    InquiryStateInvalid,
    MeetingDateInvalid,
    MeetingNotFound,
    NotAPlace,
    ReasonRequired,
    VotingClosed,
)
from app.inquiries.models import InquiryItem, InquiryVote, ItemState
from app.inquiries.schemas import (
    ConfirmationCreate,
    ExtensionCreate,
    ItemCreate,
    ItemFilter,
    ItemUpdate,
    MeetingCreate,
    ProgressCreate,
    StateChange,
)
from app.pagination import PageParams
from app.staff.models import Role, Staff
from tests.factories import COUNTY, FOLOU, HUANGLIU, SANGUANZHAI, XIXING, make_staff
from tests.inquiries.factories import days, item_data, make_item, make_meeting, meeting_data, vote

PAGE = PageParams(page=1, size=50)


@pytest.fixture
def officer(session: Session) -> Staff:
    """A township officer of 佛楼镇, where 三官寨村 is."""
    return make_staff(session, role=Role.township_officer, region_code=FOLOU)


def _state(session: Session, number: str, state: str, actor: Staff, reason: str | None = None):  # type: ignore[no-untyped-def]
    return service.change_state(
        session,
        number,
        data=StateChange.model_validate({"state": state, "reason": reason}),
        actor=actor,
        settings=get_settings(),
    )


def _board(session: Session, **filters: object) -> list[str]:
    page = service.list_items(session, filters=ItemFilter.model_validate(filters), page=PAGE)
    return [item.number for item in page.items]


# --- meetings and numbers ---------------------------------------------------------------------


def test_items_are_numbered_per_year_of_their_meeting(session: Session, officer: Staff) -> None:
    this_year = days(0).year
    first = make_item(session, officer)
    second = make_item(session, officer, meeting_id=make_meeting(session, officer).id)
    held = days(0).replace(month=1, day=1) - timedelta(days=20)  # last December
    old = make_item(
        session,
        officer,
        meeting_id=make_meeting(session, officer, held_on=held.isoformat()).id,
        deadline=(held + timedelta(days=30)).isoformat(),
    )
    assert first.number == f"WL-{this_year}-0001"
    assert second.number == f"WL-{this_year}-0002"
    assert old.number == f"WL-{this_year - 1}-0001"
    assert service.get_item(session, first.number.lower(), settings=get_settings()).number == (
        first.number
    )


def test_nothing_is_public_until_the_meeting_is_published(session: Session, officer: Staff) -> None:
    meeting = make_meeting(session, officer, published=False)
    item = make_item(session, officer, meeting_id=meeting.id)
    with pytest.raises(InquiryNotFound):
        service.get_item(session, item.number, settings=get_settings())
    assert _board(session, village_code=SANGUANZHAI) == []
    with pytest.raises(InquiryNotFound):
        vote(session, item.number, "1")

    service.publish_meeting(session, meeting.id, actor=officer)

    public = service.get_item(session, item.number, settings=get_settings())
    assert public.state == "registered" and public.meeting.kind_name == "群众来问廉"
    assert public.timeline[0].kind == "registered" and public.timeline[0].on == days(-30)
    assert _board(session, village_code=SANGUANZHAI) == [item.number]


def test_a_meeting_is_held_in_a_village_or_township_and_not_in_the_future(
    session: Session, officer: Staff
) -> None:
    commission = make_staff(session, role=Role.commission)
    with pytest.raises(NotAPlace):
        make_meeting(session, commission, village_code=COUNTY)
    with pytest.raises(MeetingDateInvalid):
        make_meeting(session, officer, held_on=days(1).isoformat())
    township_wide = make_meeting(session, officer, village_code=FOLOU, kind="shuzhi")
    assert township_wide.kind_name == "干部述职质询会" and township_wide.region_code == FOLOU


def test_a_deadline_before_the_meeting_is_refused_and_nothing_is_stored(
    session: Session, officer: Staff
) -> None:
    meeting = make_meeting(session, officer)
    with pytest.raises(DeadlineInvalid) as refused:
        make_item(session, officer, meeting_id=meeting.id, deadline=days(-31).isoformat())
    assert str(days(-30)) in str(refused.value)
    assert session.scalar(select(func.count()).select_from(InquiryItem)) == 0
    # the day of the meeting itself is a valid (already passed) deadline
    item = make_item(session, officer, meeting_id=meeting.id, deadline=days(-30).isoformat())
    assert item.overdue and item.days_overdue == 30


# --- overdue, extensions ----------------------------------------------------------------------


def test_overdue_is_computed_from_the_deadline_and_the_state(
    session: Session, officer: Staff
) -> None:
    late = make_item(session, officer, state=ItemState.rectifying, deadline=days(-2).isoformat())
    due_today = make_item(session, officer, deadline=days(0).isoformat())
    waiting = make_item(
        session, officer, state=ItemState.awaiting_confirmation, deadline=days(-5).isoformat()
    )
    assert (late.overdue, late.days_overdue) == (True, 2)
    assert (due_today.overdue, due_today.days_overdue) == (False, 0)
    assert not waiting.overdue  # rectified: now the villagers' turn
    assert _board(session, overdue=True) == [late.number]
    assert set(_board(session, overdue=False)) == {due_today.number, waiting.number}
    assert stats.count_overdue(session) == 1


def test_an_extension_must_be_later_and_is_public_with_its_reason(
    session: Session, officer: Staff
) -> None:
    item = make_item(session, officer, state=ItemState.rectifying, deadline=days(-1).isoformat())
    with pytest.raises(DeadlineInvalid):
        service.extend_deadline(
            session,
            item.number,
            data=ExtensionCreate(deadline=days(-3), reason="往前改"),
            actor=officer,
            settings=get_settings(),
        )
    extended = service.extend_deadline(
        session,
        item.number,
        data=ExtensionCreate(deadline=days(20), reason="要等县里的资金下来"),
        actor=officer,
        settings=get_settings(),
    )
    assert extended.deadline == days(20) and extended.original_deadline == days(-1)
    assert not extended.overdue
    last = extended.timeline[-1]
    assert (last.kind, last.text, last.deadline) == ("extension", "要等县里的资金下来", days(20))


# --- states and the villagers' confirmation ----------------------------------------------------


def test_a_township_cannot_close_its_own_item(session: Session, officer: Staff) -> None:
    item = make_item(session, officer, state=ItemState.awaiting_confirmation)
    with pytest.raises(ConfirmationRequired) as refused:
        _state(session, item.number, "closed", officer)
    assert "3" in str(refused.value)
    vote(session, item.number, "1")
    vote(session, item.number, "2")
    with pytest.raises(ConfirmationRequired):
        _state(session, item.number, "closed", officer)
    assert service.get_item(session, item.number, settings=get_settings()).state == (
        "awaiting_confirmation"
    )


def test_three_phones_saying_fixed_close_the_item(session: Session, officer: Staff) -> None:
    item = make_item(session, officer, state=ItemState.awaiting_confirmation)
    assert vote(session, item.number, "1").votes.resolved == 1
    with pytest.raises(AlreadyVoted):
        vote(session, item.number, "1")  # the same phone again, even from another address
    assert vote(session, item.number, "2").state == "awaiting_confirmation"
    receipt = vote(session, item.number, "3")
    assert receipt.state == "closed" and receipt.votes.resolved == 3
    closed = service.get_item(session, item.number, settings=get_settings())
    assert closed.closed_on == days(0)
    assert closed.timeline[-1].text == "3位群众扫码确认已解决，销号。"


def test_phones_saying_not_fixed_after_closing_reopen_the_item(
    session: Session, officer: Staff
) -> None:
    commission = make_staff(session, role=Role.commission)
    item = make_item(session, officer, state=ItemState.closed, deadline=days(-1).isoformat())
    assert vote(session, item.number, "1").state == "closed"  # agreeing changes nothing
    with pytest.raises(AlreadyVoted):
        vote(session, item.number, "1", resolved=False)
    vote(session, item.number, "2", resolved=False)
    vote(session, item.number, "3", resolved=False)
    receipt = vote(session, item.number, "4", resolved=False)
    assert receipt.state == "rectifying"
    reopened = service.get_item(session, item.number, settings=get_settings())
    assert reopened.reopened and reopened.closed_on is None and reopened.overdue
    assert "重新整改" in reopened.timeline[-1].text
    due = service.list_due(session, staff=commission, within_days=0, page=PAGE)
    assert [i.number for i in due.items] == [item.number]


def test_phones_saying_not_fixed_return_an_item_awaiting_confirmation(
    session: Session, officer: Staff
) -> None:
    item = make_item(session, officer, state=ItemState.awaiting_confirmation)
    for phone in "123":
        receipt = vote(session, item.number, phone, resolved=False)
    assert receipt.state == "rectifying"
    again = _state(session, item.number, "awaiting_confirmation", officer)
    assert again.votes.resolved == again.votes.unresolved == 0  # a new round
    vote(session, item.number, "1")  # the same phones may confirm the new rectification


def test_votes_only_once_the_work_is_done(session: Session, officer: Staff) -> None:
    for state in (ItemState.registered, ItemState.rectifying, ItemState.not_accepted):
        item = make_item(session, officer, state=state)
        with pytest.raises(VotingClosed):
            vote(session, item.number, "1")


def test_representatives_confirming_at_a_later_meeting_close_the_item(
    session: Session, officer: Staff
) -> None:
    item = make_item(session, officer, state=ItemState.closed)
    assert item.state == "closed" and item.closed_on == days(0)
    last = item.timeline[-1]
    assert last.kind == "confirmation" and last.confirmed_by_count == 12
    assert "群众来问廉上确认已解决" in last.text

    def confirm(number: str, meeting_id: int, count: int = 5) -> None:
        service.record_confirmation(
            session,
            number,
            data=ConfirmationCreate(meeting_id=meeting_id, confirmed_by_count=count),
            actor=officer,
            settings=get_settings(),
        )

    rectifying = make_item(session, officer, state=ItemState.rectifying)
    today = make_meeting(session, officer, held_on=days(0).isoformat())
    with pytest.raises(InquiryStateInvalid):
        confirm(rectifying.number, today.id)  # the work is not reported done
    waiting = make_item(session, officer, state=ItemState.awaiting_confirmation)
    with pytest.raises(MeetingDateInvalid):  # held before the work was done: not a later one
        confirm(waiting.number, make_meeting(session, officer).id)
    xixing = make_staff(session, role=Role.township_officer, region_code=XIXING)
    elsewhere = make_meeting(session, xixing, village_code=HUANGLIU, held_on=days(0).isoformat())
    with pytest.raises(MeetingNotFound):
        confirm(waiting.number, elsewhere.id)
    draft = make_meeting(session, officer, published=False, held_on=days(0).isoformat())
    with pytest.raises(MeetingNotFound):
        confirm(waiting.number, draft.id)
    with pytest.raises(InquiryStateInvalid):
        confirm(waiting.number, today.id, count=87)  # 86 came to that meeting
    confirm(waiting.number, today.id, count=86)
    assert service.get_item(session, waiting.number, settings=get_settings()).state == "closed"


def test_only_the_commission_refuses_an_item_and_with_a_reason_that_is_shown(
    session: Session, officer: Staff
) -> None:
    commission = make_staff(session, role=Role.commission)
    item = make_item(session, officer)
    with pytest.raises(Forbidden):  # a township cannot take its own item off the list
        _state(session, item.number, "not_accepted", officer, reason="不归我们管。")
    with pytest.raises(ReasonRequired):
        _state(session, item.number, "not_accepted", commission)
    reason = "归县住建局管，请打12345。"
    refused = _state(session, item.number, "not_accepted", commission, reason=reason)
    assert refused.not_accepted_reason == reason and refused.timeline[-1].text == reason
    with pytest.raises(InquiryStateInvalid):
        _state(session, item.number, "rectifying", commission)
    again = _state(session, item.number, "registered", commission, reason="核实后属于镇里办理。")
    assert again.state == "registered" and again.not_accepted_reason is None


def test_the_commission_reopens_a_closed_item_with_a_reason(
    session: Session, officer: Staff
) -> None:
    commission = make_staff(session, role=Role.commission)
    item = make_item(session, officer, state=ItemState.closed)
    with pytest.raises(Forbidden):
        _state(session, item.number, "rectifying", officer, reason="再看看")
    with pytest.raises(ReasonRequired):
        _state(session, item.number, "rectifying", commission)
    reopened = _state(session, item.number, "rectifying", commission, reason="回访发现又漏水了。")
    assert reopened.reopened and reopened.closed_on is None
    due = service.list_due(session, staff=commission, within_days=0, page=PAGE)
    assert item.number in [i.number for i in due.items]  # not due for weeks, yet on the list


def test_progress_starts_the_work_and_adds_the_funds_recovered(
    session: Session, officer: Staff
) -> None:
    item = make_item(session, officer)
    for text, amount in (("已退回冒领的低保金。", "3200.00"), ("又追回一笔。", "150.50")):
        item = service.add_progress(
            session,
            item.number,
            data=ProgressCreate.model_validate(
                {"text": text, "progress": 60, "funds_recovered": amount}
            ),
            actor=officer,
            settings=get_settings(),
        )
    assert item.state == "rectifying" and item.funds_recovered == 335050
    assert item.model_dump(mode="json")["funds_recovered"] == "3350.50"
    assert item.timeline[-2].text == "已退回冒领的低保金。（本次清退资金 3200元）"
    assert item.timeline[-1].progress == 60


# --- who may do what -----------------------------------------------------------------------------


def test_a_village_clerk_adds_progress_in_their_village_and_nothing_else(
    session: Session, officer: Staff
) -> None:
    item = make_item(session, officer, state=ItemState.awaiting_confirmation)
    open_item = make_item(session, officer)
    clerk = make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI)
    other_clerk = make_staff(session, role=Role.village_clerk, region_code=HUANGLIU)
    progress = ProgressCreate(text="清理了名单。")
    service.add_progress(
        session, open_item.number, data=progress, actor=clerk, settings=get_settings()
    )
    with pytest.raises(Forbidden):
        service.add_progress(
            session, open_item.number, data=progress, actor=other_clerk, settings=get_settings()
        )
    with pytest.raises(ConfirmationRequired):  # closing is no one's on staff
        _state(session, item.number, "closed", clerk)
    with pytest.raises(Forbidden):
        _state(session, item.number, "rectifying", clerk)
    with pytest.raises(Forbidden):
        service.extend_deadline(
            session,
            open_item.number,
            data=ExtensionCreate(deadline=days(60), reason="延期"),
            actor=clerk,
            settings=get_settings(),
        )
    with pytest.raises(Forbidden):
        make_meeting(session, clerk)


def test_a_township_officer_acts_only_in_their_township(session: Session, officer: Staff) -> None:
    xixing = make_staff(session, role=Role.township_officer, region_code=XIXING)
    with pytest.raises(Forbidden):
        make_meeting(session, xixing)  # 三官寨村 is in 佛楼镇
    item = make_item(session, officer)
    with pytest.raises(Forbidden):
        _state(session, item.number, "rectifying", xixing)
    with pytest.raises(Forbidden):
        service.get_item_admin(session, item.number, staff=xixing, settings=get_settings())
    assert service.list_due(session, staff=xixing, within_days=30, page=PAGE).total == 0
    assert service.list_due(session, staff=officer, within_days=30, page=PAGE).total == 1
    meeting = make_meeting(session, officer, published=False)
    with pytest.raises(Forbidden):
        service.add_item(
            session,
            meeting.id,
            data=ItemCreate.model_validate(item_data()),
            actor=xixing,
            settings=get_settings(),
        )


def test_every_staff_write_is_audited_but_no_vote_is(session: Session, officer: Staff) -> None:
    before = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    item = make_item(session, officer, state=ItemState.awaiting_confirmation)
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.id > before).order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "inquiry_meeting.create",
        "inquiry_meeting.publish",
        "inquiry_item.create",
        "inquiry_item.rectifying",
        "inquiry_item.awaiting_confirmation",
    ]
    after_writes = session.scalar(select(func.count()).select_from(AuditEntry))
    for phone in "123":
        vote(session, item.number, phone)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == after_writes


def test_a_vote_keeps_only_a_keyed_hash_of_the_phone_and_the_date(
    session: Session, officer: Staff
) -> None:
    item = make_item(session, officer, state=ItemState.awaiting_confirmation)
    vote(session, item.number, "7")
    stored = session.scalars(select(InquiryVote)).one()
    assert "phone-token" not in stored.device_hash and len(stored.device_hash) == 64
    assert stored.voted_on == days(0)
    assert {c.name for c in InquiryVote.__table__.columns} == {
        "id",
        "item_id",
        "vote_round",
        "device_hash",
        "resolved",
        "comment",
        "voted_on",
    }


# --- statistics ----------------------------------------------------------------------------------


def test_stats_count_per_township_and_rate_only_from_five_items(
    session: Session, officer: Staff
) -> None:
    meeting = make_meeting(session, officer)
    for _ in range(3):  # done in time (deadline in 10 days), confirmed at a meeting today
        make_item(session, officer, meeting_id=meeting.id, state=ItemState.closed)
    late = days(-5).isoformat()  # reported done today, after its deadline
    make_item(session, officer, meeting_id=meeting.id, state=ItemState.closed, deadline=late)
    make_item(session, officer, meeting_id=meeting.id, state=ItemState.rectifying)
    overdue = days(-3).isoformat()
    make_item(session, officer, meeting_id=meeting.id, state=ItemState.rectifying, deadline=overdue)
    make_item(session, officer, meeting_id=meeting.id, state=ItemState.not_accepted)
    make_meeting(session, officer, published=False)  # a draft counts nowhere
    year = days(0).year
    [row] = stats.stats(session, year=year, township_code=FOLOU).townships
    # 1 meeting + the 4 at which representatives confirmed an item
    assert (row.meetings, row.raised, row.closed, row.open, row.overdue) == (5, 7, 4, 2, 1)
    # on time: 3 of the 5 accepted items closed or past their deadline (the refused one is not)
    assert row.closed_on_time == 3 and row.on_time_rate == pytest.approx(0.6)
    everyone = stats.stats(session, year=year, township_code=None)
    assert len(everyone.townships) > 20  # every township, those without meetings too
    assert everyone.total.raised == 7 and everyone.total.on_time_rate == pytest.approx(0.6)
    xixing = next(t for t in everyone.townships if t.township_code == XIXING)
    assert xixing.raised == 0 and xixing.on_time_rate is None
    with pytest.raises(NotAPlace):
        stats.stats(session, year=year, township_code=SANGUANZHAI)


def test_stats_keep_last_years_open_items_in_sight(session: Session, officer: Staff) -> None:
    """An item raised last year and still not fixed is counted this year too, apart from the
    year's own, so an old promise never drops out of the figures."""
    year = days(0).year
    last_year = days(0).replace(year=year - 1, month=6, day=1)
    old = make_meeting(session, officer, held_on=last_year.isoformat())
    late = (last_year + timedelta(days=30)).isoformat()
    make_item(session, officer, meeting_id=old.id, state=ItemState.rectifying, deadline=late)
    make_item(session, officer, meeting_id=old.id, state=ItemState.registered)  # not yet due
    make_item(session, officer, meeting_id=old.id, state=ItemState.closed, deadline=late)
    make_item(session, officer, state=ItemState.rectifying)  # this year's own
    [row] = stats.stats(session, year=year, township_code=FOLOU).townships
    assert (row.raised, row.open, row.overdue) == (1, 1, 0)
    assert (row.earlier_open, row.earlier_overdue) == (2, 1)
    [then] = stats.stats(session, year=year - 1, township_code=FOLOU).townships
    assert (then.raised, then.open, then.earlier_open) == (3, 2, 0)


def test_stats_give_no_rate_below_five_items(session: Session, officer: Staff) -> None:
    meeting = make_meeting(session, officer)
    for _ in range(4):
        make_item(session, officer, meeting_id=meeting.id, state=ItemState.closed)
    make_item(session, officer, meeting_id=meeting.id, state=ItemState.not_accepted)
    [row] = stats.stats(session, year=None, township_code=FOLOU).townships
    assert row.raised == 5 and row.closed_on_time == 4 and row.on_time_rate is None


def test_a_meeting_create_refuses_an_unknown_region(session: Session, officer: Staff) -> None:
    from app.errors import NotFound

    with pytest.raises(NotFound):
        service.create_meeting(
            session,
            data=MeetingCreate.model_validate(meeting_data(village_code="511923999999")),
            actor=officer,
        )


def test_a_name_typed_into_a_question_can_be_taken_out_and_leaves_no_trace(
    session: Session, officer: Staff
) -> None:
    named = "三组的王大妈说村里的低保评议没有开会。"
    meeting = make_meeting(session, officer, published=False)
    draft = make_item(session, officer, meeting_id=meeting.id, question=named)
    fix = ItemUpdate(question="村里的低保评议没有开会。", reason="删去提问群众的姓名")
    corrected = service.correct_item(
        session, draft.number, data=fix, actor=officer, settings=get_settings()
    )
    assert corrected.question == fix.question and len(corrected.timeline) == 1  # a draft: no note

    public = make_item(session, officer, question=named)
    with pytest.raises(Forbidden):  # once public, only the commission corrects
        service.correct_item(
            session, public.number, data=fix, actor=officer, settings=get_settings()
        )
    commission = make_staff(session, role=Role.commission)
    done = service.correct_item(
        session, public.number, data=fix, actor=commission, settings=get_settings()
    )
    assert done.question == fix.question
    assert done.timeline[-1].kind == "correction"
    assert done.timeline[-1].text == "内容已更正：删去提问群众的姓名"
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "inquiry_item.correct"))
    assert all("王大妈" not in str(e.before) + str(e.after) for e in entries)
    with pytest.raises(InquiryStateInvalid):  # nothing to change
        service.correct_item(
            session, public.number, data=fix, actor=commission, settings=get_settings()
        )
