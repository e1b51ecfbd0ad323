"""阳光问廉 (inquiries): what villagers raise at 问廉 meetings, tracked in public until they say it
is fixed.

Invariants:
- Nothing is public until its meeting is published; then each item has a public number
  `WL-<year>-<seq>` (the year of its meeting, numbers from one counter row per year), and every
  change is a line of its timeline.
- Who raised an item is never recorded. A villager's vote follows the shared rules of public
  writes (app.public_writes): the phone only as a keyed hash scoped to the item, the date only,
  one vote per phone per round, expiring per-client limits (and one address alone never makes
  up the villagers' number for an item); votes are not in the audit log, and no row they change
  records a time of day.
- States: registered → rectifying → awaiting_confirmation → closed, or registered →
  not_accepted with a reason. Staff never close an item (409): the villagers do, through
  representatives confirming it at a later published meeting of its village or township, or
  through LIANYUN_INQUIRY_CONFIRMATIONS "已解决" votes; as many "没解决" votes return an item
  awaiting confirmation to rectification, or reopen a closed one (back on the due lists).
- Overdue is computed from the deadline and the state at read time (`overdue_clause`), never
  stored; only registered and rectifying items can be overdue, but the due lists keep items
  awaiting confirmation past their deadline, and every reopened one.
- Staff act in their own region: the commission anywhere, a township officer in their township
  (moving items on, extending to a date after today); only the commission refuses an item,
  reopens a closed one or accepts a refused one, always with a reason, and only it reads the
  villagers' comments. A village clerk adds progress to their village's items and nothing else.
  Every staff write goes through the audit log.
"""

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, selectinload, undefer

from app import images, public_writes
from app.audit import service as audit
from app.config import Settings
from app.db.base import dialect_insert, insert_for
from app.db.fastpath import FastSelect
from app.errors import Forbidden
from app.inquiries.errors import (
    AlreadyVoted,
    ConfirmationRequired,
    DeadlineInvalid,
    InquiryNotFound,
    InquiryStateInvalid,
    MeetingDateInvalid,
    MeetingNotFound,
    MeetingStateInvalid,
    NotAPlace,
    PhotoInvalid,
    PhotoNotFound,
    ReasonRequired,
    VotingClosed,
)
from app.inquiries.models import (
    EventKind,
    InquiryEvent,
    InquiryItem,
    InquiryMeeting,
    InquiryNumber,
    InquiryPhoto,
    InquiryVote,
    ItemState,
    MeetingState,
)
from app.inquiries.schemas import (
    CATEGORY_NAMES,
    KIND_NAMES,
    STATE_NAMES,
    ConfirmationCreate,
    EventRead,
    ExtensionCreate,
    ItemAdminRead,
    ItemBrief,
    ItemCreate,
    ItemFilter,
    ItemRead,
    ItemUpdate,
    MeetingBrief,
    MeetingCreate,
    MeetingFilter,
    MeetingRead,
    PhotoRead,
    ProgressCreate,
    StateChange,
    VoteCreate,
    VoteReceipt,
    Votes,
)
from app.pagination import Page, PageParams, paginate
from app.regions import service as regions_service
from app.regions.models import RegionLevel
from app.schemas import yuan_text
from app.staff import service as staff_service
from app.staff.models import Role, Staff
from app.uploads import Upload

MEETING = "inquiry_meeting"
ITEM = "inquiry_item"
ORGANISERS = (Role.commission, Role.township_officer)
READERS = (Role.county_admin, Role.commission, Role.township_officer, Role.village_clerk)
REPORTERS = (Role.commission, Role.township_officer, Role.village_clerk)
OPEN = (ItemState.registered, ItemState.rectifying, ItemState.awaiting_confirmation)
CAN_BE_OVERDUE = (ItemState.registered, ItemState.rectifying)
MAX_PHOTOS = 9  # of a meeting, and of a progress note
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_WIDTH = 1080  # px: sharp on a phone, small on a weak network
COMMISSION = (Role.commission,)
# Who may move an item from one state to another (closing is the villagers' alone: see vote and
# record_confirmation). Not accepting, and overruling a closing or a refusal, is the
# commission's: a township cannot take its own items off the list.
_MOVES: dict[tuple[str, str], tuple[Role, ...]] = {
    (ItemState.registered, ItemState.rectifying): ORGANISERS,
    (ItemState.rectifying, ItemState.awaiting_confirmation): ORGANISERS,
    (ItemState.awaiting_confirmation, ItemState.rectifying): ORGANISERS,
    (ItemState.registered, ItemState.not_accepted): COMMISSION,
    (ItemState.closed, ItemState.rectifying): COMMISSION,  # reopened by the commission
    (ItemState.not_accepted, ItemState.registered): COMMISSION,  # accepted after all
}
_NEEDS_REASON = {ItemState.not_accepted, ItemState.closed}  # moving to, or out of, these


def overdue_clause(today: date) -> ColumnElement[bool]:
    return and_(InquiryItem.state.in_(CAN_BE_OVERDUE), InquiryItem.deadline < today)


def is_overdue(item: InquiryItem, today: date) -> bool:
    return item.state in CAN_BE_OVERDUE and item.deadline < today


# --- reading -----------------------------------------------------------------------------------


def _brief(item: InquiryItem, region_name: str, today: date) -> ItemBrief:
    overdue = is_overdue(item, today)
    return ItemBrief(
        number=item.number,
        state=ItemState(item.state),
        state_name=STATE_NAMES[item.state],
        question=item.question,
        category=item.category,
        category_name=CATEGORY_NAMES.get(item.category, item.category),
        region_code=item.region_code,
        region_name=region_name,
        responsible_unit=item.responsible_unit,
        registered_on=item.registered_on,
        deadline=item.deadline,
        overdue=overdue,
        days_overdue=(today - item.deadline).days if overdue else 0,
        closed_on=item.closed_on,
        funds_recovered=item.funds_recovered_cents,
        reopened=item.reopened_count > 0,
    )


def _briefs(session: Session, items: Iterable[InquiryItem], today: date) -> list[ItemBrief]:
    items = list(items)
    names = regions_service.full_names(session, sorted({i.region_code for i in items}))
    return [_brief(i, names.get(i.region_code, i.region_code), today) for i in items]


def _meeting_brief(session: Session, meeting: InquiryMeeting) -> MeetingBrief:
    names = regions_service.full_names(session, [meeting.region_code])
    return MeetingBrief(
        id=meeting.id,
        kind=meeting.kind,
        kind_name=KIND_NAMES[meeting.kind],
        region_code=meeting.region_code,
        region_name=names.get(meeting.region_code, meeting.region_code),
        held_on=meeting.held_on,
        place=meeting.place,
    )


def _votes(item: InquiryItem, *, settings: Settings) -> Votes:
    return Votes(
        resolved=item.votes_resolved,
        unresolved=item.votes_unresolved,
        needed=settings.inquiry_confirmations,
    )


def _read(session: Session, item: InquiryItem, *, settings: Settings) -> dict[str, Any]:
    """The fields of ItemRead (the admin read adds its own)."""
    brief = _briefs(session, [item], public_writes.today())[0]
    return {
        **dict(brief),
        "answer_on_site": item.answer_on_site,
        "original_deadline": item.original_deadline,
        "not_accepted_reason": item.not_accepted_reason,
        "meeting": _meeting_brief(session, item.meeting),
        "votes": _votes(item, settings=settings),
        "timeline": [EventRead.model_validate(e) for e in item.events],
    }


def _find_item(session: Session, number: str, *, for_update: bool = False) -> InquiryItem | None:
    stmt = (
        select(InquiryItem)
        .where(InquiryItem.number == number.upper())
        .options(
            selectinload(InquiryItem.events).selectinload(InquiryEvent.photos),
            selectinload(InquiryItem.meeting),
        )
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def _public_item(session: Session, number: str) -> InquiryItem:
    item = _find_item(session, number)
    if item is None or not item.published:
        raise InquiryNotFound(f"没有编号为 {number} 的问题，或它所在的会议还没有公开。")
    return item


def get_item(session: Session, number: str, *, settings: Settings) -> ItemRead:
    return ItemRead(**_read(session, _public_item(session, number), settings=settings))


def list_items(session: Session, *, filters: ItemFilter, page: PageParams) -> Page[ItemBrief]:
    """The public board: open items first (the most overdue on top), then the finished ones."""
    today = public_writes.today()
    stmt = select(InquiryItem).where(InquiryItem.published.is_(True))
    if filters.village_code:
        stmt = stmt.where(InquiryItem.region_code == filters.village_code)
    if filters.township_code:
        stmt = stmt.where(InquiryItem.township_code == filters.township_code)
    if filters.state:
        stmt = stmt.where(InquiryItem.state == filters.state)
    if filters.overdue is not None:
        clause = overdue_clause(today)
        stmt = stmt.where(clause if filters.overdue else ~clause)
    if filters.year:
        stmt = stmt.where(InquiryItem.year == filters.year)
    finished = case((InquiryItem.state.in_(OPEN), 0), else_=1)
    stmt = stmt.order_by(finished, InquiryItem.deadline, InquiryItem.id)
    rows, total = paginate(session, stmt, page)
    return Page(items=_briefs(session, rows, today), total=total, page=page.page, size=page.size)


def _meeting_read(session: Session, meeting: InquiryMeeting) -> MeetingRead:
    return MeetingRead(
        **_meeting_brief(session, meeting).model_dump(),
        answered_by=meeting.answered_by,
        attendee_count=meeting.attendee_count,
        summary=meeting.summary,
        state=MeetingState(meeting.state),
        published_on=meeting.published_on,
        photos=[PhotoRead.model_validate(p) for p in meeting.photos],
        items=_briefs(session, meeting.items, public_writes.today()),
    )


def _load_meeting(session: Session, meeting_id: int) -> InquiryMeeting | None:
    return session.scalar(
        select(InquiryMeeting)
        .where(InquiryMeeting.id == meeting_id)
        .options(selectinload(InquiryMeeting.items), selectinload(InquiryMeeting.photos))
    )


def get_meeting(session: Session, meeting_id: int) -> MeetingRead:
    meeting = _load_meeting(session, meeting_id)
    if meeting is None or meeting.state != MeetingState.published:
        raise MeetingNotFound(f"没有编号为 {meeting_id} 的会议，或它还没有公开。")
    return _meeting_read(session, meeting)


def _meetings_page(
    session: Session, stmt: Select[InquiryMeeting], filters: MeetingFilter, page: PageParams
) -> Page[MeetingBrief]:
    """`stmt` narrowed by the filters, the latest meeting first."""
    if filters.state:
        stmt = stmt.where(InquiryMeeting.state == filters.state)
    if filters.village_code:
        stmt = stmt.where(InquiryMeeting.region_code == filters.village_code)
    if filters.township_code:
        stmt = stmt.where(InquiryMeeting.township_code == filters.township_code)
    stmt = stmt.order_by(InquiryMeeting.held_on.desc(), InquiryMeeting.id.desc())
    rows, total = paginate(session, stmt, page)
    return Page(
        items=[_meeting_brief(session, m) for m in rows],
        total=total,
        page=page.page,
        size=page.size,
    )


def list_meetings(
    session: Session, *, village_code: str | None, township_code: str | None, page: PageParams
) -> Page[MeetingBrief]:
    published = MeetingFilter(
        state=MeetingState.published, village_code=village_code, township_code=township_code
    )
    return _meetings_page(session, select(InquiryMeeting), published, page)


# --- staff: access ------------------------------------------------------------------------------


def _check(staff: Staff, roles: tuple[Role, ...], region_code: str) -> None:
    staff_service.check_role(staff, roles)
    staff_service.check_region(staff, region_code)


def _staff_item(
    session: Session,
    number: str,
    *,
    staff: Staff,
    roles: tuple[Role, ...] = ORGANISERS,
    for_update: bool = True,
) -> InquiryItem:
    """The item for a staff member allowed `roles` in its region (403 for anyone else), locked
    for a change unless only read."""
    item = _find_item(session, number, for_update=for_update)
    if item is None:
        raise InquiryNotFound(f"没有编号为 {number} 的问题。")
    _check(staff, roles, item.region_code)
    return item


def _staff_meeting(
    session: Session, meeting_id: int, *, staff: Staff, roles: tuple[Role, ...] = ORGANISERS
) -> InquiryMeeting:
    meeting = _load_meeting(session, meeting_id)
    if meeting is None:
        raise MeetingNotFound(f"没有编号为 {meeting_id} 的会议。")
    _check(staff, roles, meeting.region_code)
    return meeting


def _item_snapshot(item: InquiryItem) -> dict[str, Any]:
    return {
        "number": item.number,
        "state": item.state,
        "deadline": item.deadline.isoformat(),
        "responsible_unit": item.responsible_unit,
        "funds_recovered_cents": item.funds_recovered_cents,
    }


def _meeting_snapshot(meeting: InquiryMeeting) -> dict[str, Any]:
    return {
        "kind": meeting.kind,
        "region_code": meeting.region_code,
        "held_on": meeting.held_on.isoformat(),
        "state": meeting.state,
        "photos": len(meeting.photos),
    }


def get_item_admin(
    session: Session, number: str, *, staff: Staff, settings: Settings
) -> ItemAdminRead:
    item = _staff_item(session, number, staff=staff, roles=READERS, for_update=False)
    comments: list[str | None] = []
    if staff.role == Role.commission:  # a clerk or township may be who the comments are about
        comments = list(
            session.scalars(
                select(InquiryVote.comment)
                .where(InquiryVote.item_id == item.id, InquiryVote.comment.is_not(None))
                .order_by(InquiryVote.id)
            )
        )
    return ItemAdminRead(
        **_read(session, item, settings=settings),
        responsible_staff_id=item.responsible_staff_id,
        comments=[c for c in comments if c],
    )


def list_meetings_admin(
    session: Session, *, staff: Staff, filters: MeetingFilter, page: PageParams
) -> Page[MeetingBrief]:
    """The meetings of the caller's region, drafts too, the latest first."""
    staff_service.check_role(staff, READERS)
    prefix = regions_service.scope_prefix(staff.region_code)
    region = select(InquiryMeeting).where(
        InquiryMeeting.region_code.startswith(prefix, autoescape=True)
    )
    return _meetings_page(session, region, filters, page)


def get_meeting_admin(session: Session, meeting_id: int, *, staff: Staff) -> MeetingRead:
    return _meeting_read(session, _staff_meeting(session, meeting_id, staff=staff, roles=READERS))


def list_due(
    session: Session, *, staff: Staff, within_days: int, page: PageParams
) -> Page[ItemBrief]:
    """Open items of the caller's region due within `within_days` days or past their deadline
    (those awaiting the villagers' confirmation too), and every reopened item still open: the
    most overdue first."""
    staff_service.check_role(staff, READERS)
    today = public_writes.today()
    prefix = regions_service.scope_prefix(staff.region_code)
    stmt = (
        select(InquiryItem)
        .where(
            InquiryItem.state.in_(OPEN),
            (InquiryItem.deadline <= today + timedelta(days=within_days))
            | (InquiryItem.reopened_count > 0),
            InquiryItem.region_code.startswith(prefix, autoescape=True),
        )
        .order_by(InquiryItem.deadline, InquiryItem.id)
    )
    rows, total = paginate(session, stmt, page)
    return Page(items=_briefs(session, rows, today), total=total, page=page.page, size=page.size)


# --- staff: meetings ----------------------------------------------------------------------------


def create_meeting(session: Session, *, data: MeetingCreate, actor: Staff) -> MeetingRead:
    region = regions_service.get_region(session, data.village_code)  # NotFound
    if region.level == RegionLevel.village:
        township_code = region.parent_code or region.code
    elif region.level == RegionLevel.township:
        township_code = region.code
    else:
        raise NotAPlace("问廉会议开在村（社区）或乡镇（街道），请填写村或乡镇的区划代码。")
    _check(actor, ORGANISERS, region.code)
    if data.held_on > public_writes.today():
        raise MeetingDateInvalid("开会日期不能晚于今天：会开过以后再登记。")
    meeting = InquiryMeeting(
        kind=data.kind,
        region_code=region.code,
        township_code=township_code,
        held_on=data.held_on,
        place=data.place,
        answered_by=data.answered_by,
        attendee_count=data.attendee_count,
        summary=data.summary,
        state=MeetingState.draft,
        created_by_id=actor.id,
    )
    session.add(meeting)
    _audited(session, meeting, "inquiry_meeting.create", actor, None)
    return _meeting_read(session, meeting)


def publish_meeting(session: Session, meeting_id: int, *, actor: Staff) -> MeetingRead:
    meeting = _staff_meeting(session, meeting_id, staff=actor)
    if meeting.state != MeetingState.draft:
        raise MeetingStateInvalid("这次会议已经公开了。")
    before = _meeting_snapshot(meeting)
    meeting.state = MeetingState.published
    meeting.published_on = public_writes.today()
    for item in meeting.items:
        item.published = True
    _audited(session, meeting, "inquiry_meeting.publish", actor, before)
    return _meeting_read(session, meeting)


def _photos(uploads: Sequence[Upload], *, already: int = 0) -> list[InquiryPhoto]:
    """Each upload as a photo for phones, without metadata; PhotoInvalid names the one that is
    not a readable JPEG or PNG, and nothing is kept of any."""
    if already + len(uploads) > MAX_PHOTOS:
        raise PhotoInvalid(f"最多 {MAX_PHOTOS} 张照片（已有 {already} 张）。")
    try:
        photos = images.photos_for_phones(
            [u.data for u in uploads], max_bytes=PHOTO_MAX_BYTES, max_width=PHOTO_WIDTH
        )
    except images.PhotoRefused as exc:
        raise PhotoInvalid(str(exc)) from exc
    return [InquiryPhoto(width=width, height=height, data=data) for data, width, height in photos]


def add_meeting_photos(
    session: Session, meeting_id: int, *, uploads: list[Upload], actor: Staff
) -> MeetingRead:
    meeting = _staff_meeting(session, meeting_id, staff=actor)
    if not uploads:
        raise PhotoInvalid("请选择要上传的照片。")
    before = _meeting_snapshot(meeting)
    meeting.photos.extend(_photos(uploads, already=len(meeting.photos)))
    _audited(session, meeting, "inquiry_meeting.photos", actor, before)
    return _meeting_read(session, meeting)


def meeting_photos(session: Session, meeting_id: int) -> list[PhotoRead]:
    """A meeting's photos, in the order they were added (for the item page, under the question
    its meeting raised: the item is public, so its meeting is)."""
    photos = session.scalars(
        select(InquiryPhoto).where(InquiryPhoto.meeting_id == meeting_id).order_by(InquiryPhoto.id)
    )
    return [PhotoRead.model_validate(p) for p in photos]


def get_photo(session: Session, photo_id: int) -> bytes:
    """A published meeting's photo, or a photo of a published item's timeline."""
    photo = session.get(InquiryPhoto, photo_id, options=[undefer(InquiryPhoto.data)])
    meeting = None
    if photo is not None and photo.meeting_id is not None:
        meeting = session.get(InquiryMeeting, photo.meeting_id)
    elif photo is not None and photo.event_id is not None:
        event = session.get(InquiryEvent, photo.event_id)
        item = session.get(InquiryItem, event.item_id) if event else None
        meeting = item.meeting if item and item.published else None
    if photo is None or meeting is None or meeting.state != MeetingState.published:
        raise PhotoNotFound(f"没有编号为 {photo_id} 的照片，或它还没有公开。")
    return photo.data


# --- staff: items -------------------------------------------------------------------------------


def _next_seq(session: Session, year: int) -> int:
    """The year's next number. The counter's row lock makes staff adding at once wait for one
    another (one UPDATE … RETURNING), so no one is refused and no number is given twice."""
    session.execute(
        dialect_insert(session, InquiryNumber)
        .values(year=year, last_seq=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    seq: int = session.execute(
        update(InquiryNumber)
        .where(InquiryNumber.year == year)
        .values(last_seq=InquiryNumber.last_seq + 1)
        .returning(InquiryNumber.last_seq)
    ).scalar_one()
    return seq


def _event(item: InquiryItem, kind: EventKind, text: str, **fields: Any) -> InquiryEvent:
    event = InquiryEvent(
        happened_on=public_writes.today(), kind=kind, state=item.state, text=text, **fields
    )
    item.events.append(event)
    return event


def add_item(
    session: Session, meeting_id: int, *, data: ItemCreate, actor: Staff, settings: Settings
) -> ItemAdminRead:
    meeting = _staff_meeting(session, meeting_id, staff=actor)
    if data.deadline < meeting.held_on:
        raise DeadlineInvalid(
            f"整改期限 {data.deadline} 早于开会日期 {meeting.held_on}，请重新填写。"
        )
    if data.responsible_staff_id is not None:
        responsible = staff_service.get_staff(session, data.responsible_staff_id, viewer=actor)
        if not regions_service.contains(responsible.region_code, meeting.region_code):
            raise Forbidden("负责的工作人员应管辖这个村（社区）。")
    year = meeting.held_on.year
    seq = _next_seq(session, year)
    item = InquiryItem(
        number=f"WL-{year}-{seq:04d}",
        year=year,
        seq=seq,
        meeting_id=meeting.id,
        region_code=meeting.region_code,
        township_code=meeting.township_code,
        published=meeting.state == MeetingState.published,
        question=data.question,
        category=data.category,
        answer_on_site=data.answer_on_site,
        responsible_unit=data.responsible_unit,
        responsible_staff_id=data.responsible_staff_id,
        original_deadline=data.deadline,
        deadline=data.deadline,
        state=ItemState.registered,
        registered_on=meeting.held_on,
    )
    session.add(item)
    registered = InquiryEvent(
        happened_on=meeting.held_on,
        kind=EventKind.registered,
        state=item.state,
        text=f"在{KIND_NAMES[meeting.kind]}上提出，交{item.responsible_unit}办理，"
        f"限{item.deadline.isoformat()}前整改。",
    )
    item.events.append(registered)
    _audited(session, item, "inquiry_item.create", actor, None)
    return get_item_admin(session, item.number, staff=actor, settings=settings)


def correct_item(
    session: Session, number: str, *, data: ItemUpdate, actor: Staff, settings: Settings
) -> ItemAdminRead:
    """Correct an item's text: while its meeting is a draft, as any organiser; once public, by
    the commission only, with the correction on the timeline. The audit log keeps which fields
    changed, never their text (a name removed from a question must not survive anywhere)."""
    item = _staff_item(session, number, staff=actor)
    if item.published:
        staff_service.check_role(actor, COMMISSION)
    changes = {
        field: value
        for field, value in data.model_dump(exclude={"reason"}, exclude_none=True).items()
        if value != getattr(item, field)
    }
    if not changes:
        raise InquiryStateInvalid("没有要更正的内容。")
    before = {**_item_snapshot(item), "fields": sorted(changes)}
    for field, value in changes.items():
        setattr(item, field, value)
    if item.published:
        _event(item, EventKind.correction, f"内容已更正：{data.reason}")
    _audited(session, item, "inquiry_item.correct", actor, before)
    return get_item_admin(session, item.number, staff=actor, settings=settings)


def _audited(
    session: Session,
    entity: InquiryItem | InquiryMeeting,
    action: str,
    actor: Staff,
    before: dict[str, Any] | None,
) -> None:
    """The audit entry of a staff write, with the entity as it is now (flushed first)."""
    session.flush()
    if isinstance(entity, InquiryItem):
        entity_type, entity_id, after = ITEM, entity.number, _item_snapshot(entity)
    else:
        entity_type, entity_id, after = MEETING, str(entity.id), _meeting_snapshot(entity)
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
    )


def add_progress(
    session: Session,
    number: str,
    *,
    data: ProgressCreate,
    actor: Staff,
    settings: Settings,
    uploads: Sequence[Upload] = (),
) -> ItemAdminRead:
    """A progress note (a village clerk may add one in their village); the first one starts
    the rectification of a registered item."""
    item = _staff_item(session, number, staff=actor, roles=REPORTERS)
    if item.state not in CAN_BE_OVERDUE:
        raise InquiryStateInvalid(f"问题{STATE_NAMES[item.state]}，不能再添加整改进展。")
    photos = _photos(uploads)
    before = _item_snapshot(item)
    item.state = ItemState.rectifying
    if data.funds_recovered is not None:
        item.funds_recovered_cents += int(data.funds_recovered * 100)
    text = data.text
    if data.funds_recovered is not None:
        text += f"（本次清退资金 {yuan_text(int(data.funds_recovered * 100))}元）"
    _event(item, EventKind.progress, text, progress=data.progress).photos.extend(photos)
    _audited(session, item, "inquiry_item.progress", actor, before)
    return get_item_admin(session, item.number, staff=actor, settings=settings)


def extend_deadline(
    session: Session, number: str, *, data: ExtensionCreate, actor: Staff, settings: Settings
) -> ItemAdminRead:
    item = _staff_item(session, number, staff=actor)
    if item.state not in CAN_BE_OVERDUE:
        raise InquiryStateInvalid(f"问题{STATE_NAMES[item.state]}，不能延期。")
    if data.deadline <= max(item.deadline, public_writes.today()):
        raise DeadlineInvalid(
            f"新的期限 {data.deadline} 应晚于现在的期限 {item.deadline}，也应晚于今天。"
        )
    before = _item_snapshot(item)
    item.deadline = data.deadline
    _event(item, EventKind.extension, data.reason, deadline=data.deadline)
    _audited(session, item, "inquiry_item.extend", actor, before)
    return get_item_admin(session, item.number, staff=actor, settings=settings)


def _next_round(item: InquiryItem) -> None:
    """A new round of votes: those of the last round no longer count."""
    item.vote_round += 1
    item.votes_resolved = item.votes_unresolved = 0


def _close(item: InquiryItem, on: date) -> None:
    item.state = ItemState.closed
    item.closed_on = on
    _next_round(item)


def _reopen(item: InquiryItem) -> None:
    """Back to rectification after closing: on the due lists again, a new round of votes."""
    item.state = ItemState.rectifying
    item.closed_on = None
    item.reopened_count += 1
    _next_round(item)


def _confirming_meeting(
    session: Session, item: InquiryItem, data: ConfirmationCreate
) -> InquiryMeeting:
    """The later meeting at which representatives confirmed the item fixed: published, of the
    item's village or township, held once the work was reported done, with enough people."""
    meeting = session.get(InquiryMeeting, data.meeting_id)
    done_on = item.rectified_on or item.registered_on
    if (
        meeting is None
        or meeting.state != MeetingState.published
        or meeting.region_code not in (item.region_code, item.township_code)
    ):
        raise MeetingNotFound(
            f"没有编号为 {data.meeting_id} 的已公开会议在{item.number}所在的村（社区）或乡镇召开。"
        )
    if meeting.held_on < done_on:
        raise MeetingDateInvalid(
            f"这次会议（{meeting.held_on}）早于整改完成（{done_on}）：确认要在之后的会上。"
        )
    if data.confirmed_by_count > meeting.attendee_count:
        raise InquiryStateInvalid(
            f"确认的群众代表（{data.confirmed_by_count} 人）多于会议到会人数"
            f"（{meeting.attendee_count} 人）。"
        )
    return meeting


def record_confirmation(
    session: Session, number: str, *, data: ConfirmationCreate, actor: Staff, settings: Settings
) -> ItemAdminRead:
    """Representatives confirmed at a later meeting that it is fixed: the item is closed, on
    that meeting's day."""
    item = _staff_item(session, number, staff=actor)
    if item.state != ItemState.awaiting_confirmation:
        raise InquiryStateInvalid(
            f"问题{STATE_NAMES[item.state]}：整改完成、等待群众确认时，才能记录群众代表的确认。"
        )
    meeting = _confirming_meeting(session, item, data)
    before = _item_snapshot(item)
    _close(item, meeting.held_on)
    text = (
        f"{data.confirmed_by_count}名群众代表在{meeting.held_on.isoformat()}的"
        f"{KIND_NAMES[meeting.kind]}上确认已解决，销号。"
    )
    if data.note:
        text += data.note
    event = _event(item, EventKind.confirmation, text, confirmed_by_count=data.confirmed_by_count)
    event.happened_on = meeting.held_on
    _audited(session, item, "inquiry_item.confirm", actor, before)
    return get_item_admin(session, item.number, staff=actor, settings=settings)


def change_state(
    session: Session, number: str, *, data: StateChange, actor: Staff, settings: Settings
) -> ItemAdminRead:
    """Staff move an item on (see _MOVES for who may do what). Closing is never theirs: 409."""
    item = _staff_item(session, number, staff=actor, roles=READERS)
    if data.state == ItemState.closed:
        votes = _votes(item, settings=settings)
        raise ConfirmationRequired(
            f"销号要由群众确认：需要 {votes.needed} 部手机扫码说“已解决”，"
            "或在之后的会上记录群众代表的确认（…/confirmations）。"
        )
    roles = _MOVES.get((item.state, data.state))
    if roles is None:
        raise InquiryStateInvalid(
            f"问题{STATE_NAMES[item.state]}，不能改为“{STATE_NAMES[data.state]}”。"
        )
    _check(actor, roles, item.region_code)
    if not data.reason and {item.state, data.state} & _NEEDS_REASON:
        raise ReasonRequired("请写明理由：不予受理时写明应由谁负责、群众该去哪里反映。")
    before = _item_snapshot(item)
    if item.state == ItemState.closed:
        _reopen(item)
    else:
        item.state = data.state
    item.not_accepted_reason = data.reason if data.state == ItemState.not_accepted else None
    if data.state == ItemState.awaiting_confirmation:
        item.rectified_on = public_writes.today()
        _next_round(item)  # votes from before the rectification do not count
    _event(item, EventKind.state, data.reason or _STATE_TEXT[data.state])
    _audited(session, item, f"inquiry_item.{data.state}", actor, before)
    return get_item_admin(session, item.number, staff=actor, settings=settings)


_STATE_TEXT: dict[str, str] = {
    ItemState.registered: "重新受理。",
    ItemState.rectifying: "开始整改。",
    ItemState.awaiting_confirmation: "整改完成，请群众扫码确认“已解决”或“没解决”。",
    ItemState.not_accepted: "不予受理。",
}


# --- villagers: votes ---------------------------------------------------------------------------


_NOTED = "谢谢！您的意见已记下。"


def _decisive(state: str, votes: Votes) -> bool:
    """Whether the votes of the round close, return or reopen an item in `state`."""
    return _closes(state, votes) or votes.unresolved >= votes.needed


def _closes(state: str, votes: Votes) -> bool:
    return state == ItemState.awaiting_confirmation and votes.resolved >= votes.needed


def _apply_votes(item: InquiryItem, votes: Votes) -> str:
    """What the votes of the round do to the item: close it, send it back to rectification or
    reopen it, once there are enough of one kind. Returns the message for the voter."""
    if _closes(item.state, votes):
        _close(item, public_writes.today())
        _event(item, EventKind.votes, f"{votes.resolved}位群众扫码确认已解决，销号。")
        return "谢谢！已有足够的群众确认已解决，这个问题已销号。"
    if votes.unresolved >= votes.needed:
        if item.state == ItemState.closed:
            _reopen(item)
            text = f"销号后有{votes.unresolved}位群众扫码说没解决，重新整改，纪委监委跟踪督办。"
        else:
            item.state = ItemState.rectifying
            _next_round(item)
            text = f"{votes.unresolved}位群众扫码说没解决，退回重新整改。"
        _event(item, EventKind.votes, text)
        return "谢谢！已有足够的群众说没解决，这个问题已退回重新整改。"
    return _NOTED


def vote_limits(number: str, *, settings: Settings) -> list[tuple[str, str]]:
    """The per-client limits a vote on item `number` counts, as (rate, name): each client's
    votes, and its votes on the item (one address never makes up the villagers' number for an
    item alone, even with fresh phone tokens). Counted before the vote's transaction (on
    SQLite, before the write lock)."""
    alone = max(settings.inquiry_confirmations - 1, 1)
    return [
        (settings.inquiry_vote_limit_per_client, "inquiry-vote"),
        (f"{alone} per 7 day", f"inquiry-vote-item:{number.upper()}"),
    ]


def count_vote(number: str, client: str, *, settings: Settings) -> None:
    """Count a vote's limits (`vote_limits`): RateLimited past either."""
    for rate, name in vote_limits(number, settings=settings):
        public_writes.limit(rate, name, client)


_ZERO: ColumnElement[int] = literal_column("0")


def _counted(votes: Any) -> Any:
    """`votes` (a bound value: 1 for the vote, -1 to take it back) added to the count of its
    kind on the item."""
    resolved = bindparam("resolved", type_=Boolean)
    return {
        InquiryItem.votes_resolved: InquiryItem.votes_resolved
        + case((resolved, votes), else_=_ZERO),
        InquiryItem.votes_unresolved: InquiryItem.votes_unresolved
        + case((resolved, _ZERO), else_=votes),
    }


# A vote is two statements on the driver (see docs/performance.md#vote): the item's count of
# its kind goes up, which locks the item's row until the commit (votes on one item are counted
# one by one) and returns what the vote needs; then the vote itself, under its unique key.
_COUNT_VOTE = FastSelect(
    update(InquiryItem)
    .where(
        InquiryItem.number == bindparam("number"),
        InquiryItem.published.is_(True),
        or_(
            InquiryItem.state == ItemState.awaiting_confirmation.value,
            InquiryItem.state == ItemState.closed.value,
        ),
    )
    .values(_counted(literal_column("1")))
    .returning(
        InquiryItem.id,
        InquiryItem.state,
        InquiryItem.vote_round,
        InquiryItem.votes_resolved,
        InquiryItem.votes_unresolved,
    )
)
_TAKE_BACK = FastSelect(
    update(InquiryItem)
    .where(InquiryItem.id == bindparam("item_id"))
    .values(_counted(literal_column("-1")))
    .returning(InquiryItem.id)
)
_INSERT_VOTE = {
    dialect: FastSelect(
        insert_for(dialect)(InquiryVote)
        .values(
            item_id=bindparam("item_id"),
            vote_round=bindparam("vote_round"),
            device_hash=bindparam("device_hash"),
            resolved=bindparam("resolved"),
            comment=bindparam("comment"),
            voted_on=bindparam("voted_on"),
        )
        # the unique key decides, even for one phone's votes at once
        .on_conflict_do_nothing(index_elements=["item_id", "vote_round", "device_hash"])
        .returning(InquiryVote.id)
    )
    for dialect in ("sqlite", "postgresql")
}


def _not_votable(session: Session, number: str) -> InquiryNotFound | VotingClosed:
    state = session.scalar(
        select(InquiryItem.state).where(
            InquiryItem.number == number.upper(), InquiryItem.published.is_(True)
        )
    )
    if state is None:
        return InquiryNotFound(f"没有编号为 {number} 的问题，或它所在的会议还没有公开。")
    return VotingClosed(f"这个问题{STATE_NAMES[state]}，整改完成、等待群众确认以后才能投票。")


def vote(session: Session, number: str, *, data: VoteCreate, settings: Settings) -> VoteReceipt:
    """One "已解决 / 没解决" per phone per round (its limits counted first by `count_vote`).
    Enough "已解决" votes close an item awaiting confirmation; enough "没解决" votes return it to
    rectification, or reopen a closed one."""
    session.flush()  # what the session holds goes first: these statements bypass it
    connection = session.connection()
    counted = _COUNT_VOTE.rows(connection, number=number.upper(), resolved=data.resolved)
    if not counted:
        raise _not_votable(session, number)
    item_id, state, vote_round, resolved, unresolved = counted[0]
    loaded = session.identity_map.get(session.identity_key(InquiryItem, item_id))
    if loaded is not None:  # read again when next used: its counts have changed
        session.expire(loaded)
    digest = public_writes.device_hash(f"inquiry:{item_id}", data.device_token, settings=settings)
    inserted = _INSERT_VOTE[connection.dialect.name].rows(
        connection,
        item_id=item_id,
        vote_round=vote_round,
        device_hash=digest,
        resolved=data.resolved,
        comment=data.comment or None,
        voted_on=public_writes.today(),
    )
    if not inserted:
        # the phone's vote of this round stands; this one is not counted (the page that shows
        # the refusal goes on in this transaction)
        _TAKE_BACK.rows(connection, item_id=item_id, resolved=data.resolved)
        raise AlreadyVoted("这台手机已经对这个问题投过票了，每台手机只能投一次。")
    votes = Votes(resolved=resolved, unresolved=unresolved, needed=settings.inquiry_confirmations)
    message = _NOTED
    if _decisive(state, votes):
        item = session.get_one(InquiryItem, item_id)
        message = _apply_votes(item, votes)
        state = item.state
        session.flush()
    return VoteReceipt(
        number=number.upper(),
        state=ItemState(state),
        state_name=STATE_NAMES[state],
        votes=votes,  # of the round this vote was cast in
        message=message,
    )
