from datetime import date
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base


class TipState(StrEnum):
    submitted = "submitted"
    accepted = "accepted"
    investigating = "investigating"
    concluded = "concluded"
    rejected = "rejected"


class TipSource(StrEnum):
    """How a tip came in: a villager's own tip, an objection to a line of a village's list
    (anonymous too), a confirmed screening flag opened by the commission itself, or a
    question to the commission (云端话廉) it turned into a tip."""

    public = "public"
    objection = "objection"
    screening = "screening"
    question = "question"


class TipKeyring(Base):
    """The one row holding the installation's receipt-code salt, wrapped by the master key."""

    __tablename__ = "tip_keyring"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    wrapped_salt: Mapped[bytes] = mapped_column(LargeBinary)


class Tip(Base):
    """A tip. Free text is encrypted under the tip's own data key (`wrapped_key`); no column
    holds anything about the tipster beyond what they wrote, and times are dates only.
    A purged tip keeps only category, place, state and dates (for counts)."""

    __tablename__ = "tip"
    __table_args__ = (Index("ix_tip_state_category", "state", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(
        String(16), default=TipSource.public, server_default=TipSource.public.value
    )
    village_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)
    amount_involved_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    is_real_name: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default=TipState.submitted)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    submitted_on: Mapped[date] = mapped_column(index=True)
    closed_on: Mapped[date | None]
    purged_on: Mapped[date | None]

    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    accused_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Encrypted too: a payout line may be the tipster's own.
    payout_record_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    rejection_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    public_result_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    messages: Mapped[list["TipMessage"]] = relationship(
        order_by="TipMessage.id", cascade="all, delete-orphan", passive_deletes=True
    )
    attachments: Mapped[list["TipAttachment"]] = relationship(
        order_by="TipAttachment.id", cascade="all, delete-orphan", passive_deletes=True
    )


class TipMessageKind(StrEnum):
    tipster = "tipster"  # a follow-up by the tipster
    reply = "reply"  # a public reply by staff, shown to the tipster
    note = "note"  # an internal note, never shown to the tipster


class TipMessage(Base):
    __tablename__ = "tip_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[date]


class TipAttachment(Base):
    """A file, re-encoded without metadata and kept encrypted in the database (a file on disk
    would carry the filesystem's change and birth times, which user space cannot reset)."""

    __tablename__ = "tip_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("tip_message.id", ondelete="CASCADE"))
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    data_enc: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_on: Mapped[date]
