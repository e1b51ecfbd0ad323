"""疑点筛查: the staff-kept standards and reference lists, the runs, the flags they raise, and
the villagers' objections to a line of a village's list (SPEC.md, "Payout screening").

No ID number is kept: a list's people are the same keyed hash as `person.id_hash`
(app.subsidies.identity), so a rule joins them to the payouts in SQL."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow
from app.staff.models import Staff
from app.subsidies.identity import HASH_BYTES
from app.tips.models import Tip


class ListKind(StrEnum):
    deceased = "deceased"  # 死亡人员名单
    public_employees = "public_employees"  # 财政供养人员名单
    cadre_relatives = "cadre_relatives"  # 村（社区）干部及其近亲属名册


class FlagState(StrEnum):
    open = "open"
    confirmed = "confirmed"  # a person found it real
    dismissed = "dismissed"  # a person found it explained
    withdrawn = "withdrawn"  # the lines no longer meet the rule (corrected at the source)


class RunScope(StrEnum):
    full = "full"
    incremental = "incremental"


class ItemStandard(Base):
    """`over_standard`: the most one payout of an item may be, kept by the commission."""

    __tablename__ = "screening_standard"

    item_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    max_fen: Mapped[int]
    basis: Mapped[str] = mapped_column(String(200), default="")  # where the figure comes from
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReferenceList(Base):
    """The last upload of each reference list: when, by whom, how many entries."""

    __tablename__ = "screening_list"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    entries: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deceased(Base):
    __tablename__ = "screening_deceased"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES), primary_key=True)
    died_on: Mapped[date]


class PublicEmployee(Base):
    __tablename__ = "screening_public_employee"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES), primary_key=True)


class RosterEntry(Base):
    """A cadre or a close relative of one (`relation` 本人 for the cadre), in a village."""

    __tablename__ = "screening_roster"
    __table_args__ = (UniqueConstraint("id_hash", "cadre_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES))
    cadre_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES))
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    post: Mapped[str] = mapped_column(String(32))  # the cadre's post, e.g. 村党支部书记
    relation: Mapped[str] = mapped_column(String(8))  # 本人, 配偶, 父母, 子女, …


class ScreeningRun(Base):
    __tablename__ = "screening_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # sync, staff, demo
    scope: Mapped[str] = mapped_column(String(16))  # RunScope
    sync_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_run.id", ondelete="SET NULL"), default=None
    )
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str | None] = mapped_column(String(200), default=None)
    # per rule: {"duplicate": {"new": 3, "reopened": 0, "withdrawn": 1}, …}
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OwedRun(Base):
    """A rule owed a full run: a list or a standard it reads changed while a sync held the
    lease (app.screening.runs.rescreen). Carried out at the end of that sync or at the
    scheduler's next tick, then deleted; `owed_at` is renewed by each change, so a change made
    while the owed run goes on is owed again."""

    __tablename__ = "screening_owed"

    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    owed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(Base):
    """One finding of one rule on a set of lines (or a village's month, for `village_jump`).

    `key` names what was found (the rule's lines, sorted) so that a re-run finds the same flag
    instead of raising another; `figures_digest` tells whether its figures changed since."""

    __tablename__ = "screening_flag"
    __table_args__ = (
        UniqueConstraint("rule", "key"),
        Index("ix_screening_flag_state_rule", "state", "rule"),
        Index("ix_screening_flag_township_state", "township_code", "state"),
        # the list's period filter (a count over every flag without it: 17 ms at 50 000 flags)
        Index("ix_screening_flag_period_state", "period", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    rule_version: Mapped[int]
    key: Mapped[str] = mapped_column(String(64))
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    township_code: Mapped[str] = mapped_column(String(12))
    person_id: Mapped[int | None] = mapped_column(default=None)  # person.id; none for a village
    period: Mapped[str] = mapped_column(String(7))
    item_name: Mapped[str | None] = mapped_column(String(64), default=None)
    record_ids: Mapped[list[str]] = mapped_column(JSON)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    figures_digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=FlagState.open)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    tip_id: Mapped[int | None] = mapped_column(
        ForeignKey(Tip.id, ondelete="SET NULL"), default=None
    )
    first_run_id: Mapped[int | None] = mapped_column(
        ForeignKey(ScreeningRun.id, ondelete="SET NULL"), default=None
    )
    # The run that last changed the flag (raised, updated, reopened or withdrew it): a run
    # that finds a flag as it was leaves its row alone. An open flag is found by every run
    # that checks its lines, or it would be withdrawn.
    last_run_id: Mapped[int | None] = mapped_column(
        ForeignKey(ScreeningRun.id, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Objection(Base):
    """ "这条不对" on a line of a village's list: the line and the anonymous tip it became. The
    county's date only, as for every public write."""

    __tablename__ = "screening_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    village_code: Mapped[str] = mapped_column(String(12))
    period: Mapped[str] = mapped_column(String(7))
    created_on: Mapped[date]
    tip_id: Mapped[int | None] = mapped_column(
        ForeignKey(Tip.id, ondelete="SET NULL"), default=None
    )
