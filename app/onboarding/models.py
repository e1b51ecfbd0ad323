from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, utcnow
from app.regions.models import Region
from app.staff.models import Staff


class Platform(StrEnum):
    android = "android"
    ios = "ios"
    wechat = "wechat"
    other = "other"


class Poster(Base):
    """A poster put up in one village at one place (its channel); its QR code holds
    `{public_base_url}/i/{code}`."""

    __tablename__ = "poster"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    village: Mapped[Region] = relationship(lazy="raise")


class PosterScan(Base):
    """How many scans a poster had on one day (Asia/Shanghai) from one kind of phone: a counter,
    so that nothing about a single scan (time, address, user agent) is ever stored."""

    __tablename__ = "poster_scan"

    poster_id: Mapped[int] = mapped_column(
        ForeignKey("poster.id", ondelete="CASCADE"), primary_key=True
    )
    scanned_on: Mapped[date] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    scans: Mapped[int]
