from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class Role(StrEnum):
    county_admin = "county_admin"
    commission = "commission"
    township_officer = "township_officer"
    village_clerk = "village_clerk"
    editor = "editor"
    cadre = "cadre"


ROLE_NAMES: dict[Role, str] = {
    Role.county_admin: "县级管理员",
    Role.commission: "纪委监委工作人员",
    Role.township_officer: "乡镇工作人员",
    Role.village_clerk: "村（社区）廉政专干",
    Role.editor: "政策与文章编辑",
    Role.cadre: "村（社区）、乡镇干部（只能参加考试）",
}


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Access tokens issued before this moment (whole seconds) are refused: set when the
    # password is reset, so that a stolen token dies with the old password.
    tokens_valid_after: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RefreshToken(Base):
    """A refresh token, stored as its SHA-256 digest. Each refresh replaces it with a new one of
    the same family; presenting a replaced token again revokes the whole family."""

    __tablename__ = "refresh_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
