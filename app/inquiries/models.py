from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, utcnow
from app.staff.models import Staff


class MeetingKind(StrEnum):
    wenlian = "wenlian"  # 群众来问廉
    shuzhi = "shuzhi"  # 干部述职质询会
    xunjian = "xunjian"  # 村居巡检


class MeetingState(StrEnum):
    draft = "draft"
    published = "published"


class ItemState(StrEnum):
    registered = "registered"
    rectifying = "rectifying"
    awaiting_confirmation = "awaiting_confirmation"
    closed = "closed"
    not_accepted = "not_accepted"


class EventKind(StrEnum):
    registered = "registered"  # raised at a meeting
    state = "state"  # a staff member moved the item on
    progress = "progress"  # a progress note
    extension = "extension"  # a new deadline, with its reason
    confirmation = "confirmation"  # representatives confirmed it fixed at a meeting
    votes = "votes"  # the villagers' votes closed, returned or reopened it
    correction = "correction"  # the text corrected (e.g. a name that must not be public)


class InquiryMeeting(Base):
    """A 群众来问廉 meeting, a 干部述职质询会 or a 村居巡检 round: drafted, then published."""

    __tablename__ = "inquiry_meeting"
    __table_args__ = (Index("ix_inquiry_meeting_township_held", "township_code", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # the village, or the township for a township-wide meeting
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    township_code: Mapped[str] = mapped_column(String(12))
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(100))
    answered_by: Mapped[str] = mapped_column(String(200))
    attendee_count: Mapped[int]
    summary: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=MeetingState.draft)
    published_on: Mapped[date | None] = mapped_column(default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list["InquiryItem"]] = relationship(
        back_populates="meeting", order_by="InquiryItem.id"
    )
    photos: Mapped[list["InquiryPhoto"]] = relationship(
        order_by="InquiryPhoto.id", cascade="all, delete-orphan"
    )


class InquiryNumber(Base):
    """The last sequence number given in a year: taken by one UPDATE … RETURNING, so that staff
    adding items at once across the county wait for one another instead of failing."""

    __tablename__ = "inquiry_number"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(default=0)


class InquiryItem(Base):
    """One demand raised at a meeting (问题清单 entry), public as `WL-<year>-<seq>` once its
    meeting is published. Who raised it is never recorded. Overdue is computed, not stored."""

    __tablename__ = "inquiry_item"
    __table_args__ = (
        UniqueConstraint("year", "seq"),
        Index("ix_inquiry_item_region_state", "region_code", "state"),
        # covers every column the statistics count (app.inquiries.stats): read without the rows
        Index(
            "ix_inquiry_item_stats",
            "township_code",
            "year",
            "published",
            "state",
            "deadline",
            "original_deadline",
            "rectified_on",
            "funds_recovered_cents",
        ),
        Index("ix_inquiry_item_state_deadline", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int]
    seq: Mapped[int]
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey(InquiryMeeting.id, ondelete="CASCADE"), index=True
    )
    region_code: Mapped[str] = mapped_column(String(12))  # the meeting's
    township_code: Mapped[str] = mapped_column(String(12))
    # copied from the meeting when it is published: the public reads need no join
    published: Mapped[bool] = mapped_column(default=False)
    question: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    answer_on_site: Mapped[str] = mapped_column(Text, default="")
    responsible_unit: Mapped[str] = mapped_column(String(100))
    responsible_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    original_deadline: Mapped[date]  # what "closed on time" is measured against
    deadline: Mapped[date]  # after any extensions
    state: Mapped[str] = mapped_column(String(32), default=ItemState.registered)
    registered_on: Mapped[date]
    # When the work was last reported done (→ awaiting_confirmation): "closed on time" is this
    # against the first deadline; the villagers' confirmation may come at a later meeting.
    rectified_on: Mapped[date | None] = mapped_column(default=None)
    closed_on: Mapped[date | None] = mapped_column(default=None)
    funds_recovered_cents: Mapped[int] = mapped_column(default=0)
    not_accepted_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # Votes count per round: a round ends when the votes close, return or reopen the item.
    vote_round: Mapped[int] = mapped_column(default=0)
    # The current round's votes, counted by the statement that takes each vote (inquiry_vote
    # keeps them one by one): see docs/performance.md#vote.
    votes_resolved: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    votes_unresolved: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    reopened_count: Mapped[int] = mapped_column(default=0)
    # No time of the last change: a vote that closes or reopens an item would be dated by it.

    meeting: Mapped[InquiryMeeting] = relationship(back_populates="items")
    events: Mapped[list["InquiryEvent"]] = relationship(
        order_by="InquiryEvent.id", cascade="all, delete-orphan"
    )


class InquiryEvent(Base):
    """One line of an item's public timeline. Dates only; no staff member's name."""

    __tablename__ = "inquiry_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey(InquiryItem.id, ondelete="CASCADE"), index=True)
    happened_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32))  # the item's state after the event
    text: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[int | None] = mapped_column(default=None)
    deadline: Mapped[date | None] = mapped_column(default=None)  # an extension's new deadline
    confirmed_by_count: Mapped[int | None] = mapped_column(default=None)

    photos: Mapped[list["InquiryPhoto"]] = relationship(
        order_by="InquiryPhoto.id", cascade="all, delete-orphan"
    )


class InquiryPhoto(Base):
    """A photo of a meeting or of a progress note: re-encoded from its pixels alone (no EXIF,
    GPS or camera), at most 1080 px wide, kept in the database like every upload."""

    __tablename__ = "inquiry_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey(InquiryMeeting.id, ondelete="CASCADE"), index=True, default=None
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiry_event.id", ondelete="CASCADE"), index=True, default=None
    )
    width: Mapped[int]
    height: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class InquiryVote(Base):
    """A villager's "已解决 / 没解决" from a phone: the phone only as a keyed hash scoped to the
    item (app.public_writes), the date only."""

    __tablename__ = "inquiry_vote"
    __table_args__ = (UniqueConstraint("item_id", "vote_round", "device_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey(InquiryItem.id, ondelete="CASCADE"))
    vote_round: Mapped[int]
    device_hash: Mapped[str] = mapped_column(String(64))
    resolved: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    voted_on: Mapped[date]
