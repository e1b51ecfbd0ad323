from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class SyncRun(Base):
    """One run of the payout sync, with what it did."""

    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # cli, schedule, admin, demo
    started_by_id: Mapped[int | None] = mapped_column(  # the staff member, for `admin`
        ForeignKey("staff.id", ondelete="SET NULL")
    )
    outcome: Mapped[str] = mapped_column(String(16), default="running", index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    cursor_start: Mapped[str | None] = mapped_column(Text)
    cursor_end: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(default=0)
    fetched: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SyncCursor(Base):
    """Where the next run resumes; saved in the same transaction as each page."""

    __tablename__ = "sync_cursor"

    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncLease(Base):
    """Held by the one process that syncs; expires if that process dies."""

    __tablename__ = "sync_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class RejectedRecord(Base):
    """A record the sync could not take, with why. The payload holds no ID number or full
    name: only their keyed hashes and masked forms."""

    __tablename__ = "sync_rejected"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_run.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    record_id: Mapped[str | None] = mapped_column(String(64), index=True)
    version: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(32), index=True)
    message: Mapped[str] = mapped_column(Text)
    replayable: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    resolved_at: Mapped[datetime | None]
