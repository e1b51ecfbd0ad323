"""找谁监督: the phone numbers every village's notice board carries, kept by staff."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class ContactKind(StrEnum):
    county_hotline = "county_hotline"  # 县纪委监委举报电话 (region: the county)
    township_commission = "township_commission"  # 乡镇纪委监督电话 (region: a township)
    area_leader = "area_leader"  # 包片领导的公开电话 (region: a village)


class SupervisionContact(Base):
    """One number of the directory; one of each kind per region."""

    __tablename__ = "supervision_contact"
    __table_args__ = (UniqueConstraint("region_code", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(64))  # 佛楼镇纪委
    person: Mapped[str] = mapped_column(String(64), default="")  # 包片领导：副镇长 王某
    phone: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(200), default="")
    demo: Mapped[bool] = mapped_column(default=False)  # a made-up number of the demo county
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
