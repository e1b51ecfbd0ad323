from enum import StrEnum

from sqlalchemy import ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base


class RegionLevel(StrEnum):
    county = "county"
    township = "township"
    village = "village"


class Region(Base):
    """A county, township (乡/镇/街道) or village (村/社区), by its 12-digit 统计用区划代码.

    A region missing from a newer year's file is kept, with `current` false: payouts, tips,
    posters, surveys and staff accounts may still refer to its code."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("region.code"), index=True, default=None
    )
    # 城乡分类代码 (111 主城区 … 220 村庄), villages only; None when the source file has none.
    urban_rural_code: Mapped[str | None] = mapped_column(String(3), default=None)
    current: Mapped[bool] = mapped_column(default=True, server_default=true())

    parent: Mapped["Region | None"] = relationship(remote_side=[code], back_populates="children")
    children: Mapped[list["Region"]] = relationship(back_populates="parent", order_by="Region.code")
