from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, utcnow
from app.staff.models import Staff


class VersionState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    published = "published"
    # replaced: a draft or submission edited again, or a publication followed by a newer one
    superseded = "superseded"
    # taken off the public API by `unpublish`
    withdrawn = "withdrawn"


class Policy(Base):
    """A policy page; what it says lives in its versions. Public only while
    `published_version_id` is set."""

    __tablename__ = "policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("policy_version.id", use_alter=True), default=None
    )
    # SHA-256 of the content file last imported into this policy (None when made by staff)
    source_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    published_version: Mapped["PolicyVersion | None"] = relationship(
        foreign_keys=[published_version_id], post_update=True
    )
    versions: Mapped[list["PolicyVersion"]] = relationship(
        back_populates="policy",
        foreign_keys="PolicyVersion.policy_id",
        order_by="PolicyVersion.number",
    )


class PolicyVersion(Base):
    """One version of a policy's text. Versions are never deleted: they are the edit history."""

    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("policy_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    category_code: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(64))
    items: Mapped[list[str]] = mapped_column(JSON)
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # the body as plain text, for search and snippets
    body_text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)

    policy: Mapped[Policy] = relationship(back_populates="versions", foreign_keys=[policy_id])
