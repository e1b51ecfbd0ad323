from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow
from app.subsidies.identity import HASH_BYTES


class Person(Base):
    """A recipient, known only by the keyed hash of their ID number.

    `id` is given by the one writer of persons (the sync, under its lease: see `store_payouts`)
    in the order persons are first met. The feed brings a county's payouts month after month in
    much the same order of persons, so a month's lines land in the payout's person index in
    runs, where the random hash put each on a page of its own."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    id_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES), unique=True)
    name_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES))
    name_masked: Mapped[str] = mapped_column(String(32))
    id_masked: Mapped[str] = mapped_column(String(18))
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    birth_on: Mapped[date]
    sex: Mapped[str] = mapped_column(String(1))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Payout(Base):
    """The latest version of one payout line of the 一卡通 platform. Amounts are in fen."""

    __tablename__ = "payout"
    __table_args__ = (
        Index("ix_payout_person_period", "person_id", "period"),
        Index("ix_payout_village_period", "village_code", "period", "category_code"),
        # the lines a sync stored, for the screening after it (a scan of every line otherwise)
        Index("ix_payout_synced_at", "synced_at"),
        # SQLite: the rows live in the record_id b-tree itself, one index fewer to write.
        {"sqlite_with_rowid": False},
    )

    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    category_code: Mapped[str] = mapped_column(String(2))
    item_name: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int]
    period: Mapped[str] = mapped_column(String(7))
    paid_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayoutVersion(Base):
    """A version of a payout line that is no longer the latest (a correction is kept). Its
    person is kept by hash: a version superseded within one page may name a person who is
    stored nowhere else."""

    __tablename__ = "payout_version"
    __table_args__ = (UniqueConstraint("record_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    person_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES))
    village_code: Mapped[str] = mapped_column(String(12))
    category_code: Mapped[str] = mapped_column(String(2))
    item_name: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int]
    period: Mapped[str] = mapped_column(String(7))
    paid_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayoutMonthTotal(Base):
    """Each village's paid total of each item each month (the latest version of each line,
    status `paid`), kept by the store as it writes lines, in the same transaction: screening's
    `village_jump` reads these instead of summing a million lines. A total whose lines were all
    reversed stays, with `line_count` 0."""

    __tablename__ = "payout_month_total"

    village_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    item_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    line_count: Mapped[int]
