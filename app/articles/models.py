from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, utcnow
from app.staff.models import Staff


class ArticleColumn(StrEnum):
    policy_news = "policy_news"
    warning = "warning"
    culture = "culture"
    work = "work"


COLUMN_NAMES: dict[str, str] = {
    ArticleColumn.policy_news: "政策宣传",
    ArticleColumn.warning: "警示教育",
    ArticleColumn.culture: "廉政文化",
    ArticleColumn.work: "工作动态",
}


class Article(Base):
    """An article; what it says lives in its versions (states as policies': draft → submitted →
    published → superseded / withdrawn). The public see it while it has a published version and
    the moment lies within [public_from, public_until): both are copied from the published
    version when it is published, so a list needs no join to know what is public."""

    __tablename__ = "article"
    # the public list of a column, newest first, and its count, from the index alone
    __table_args__ = (
        Index("ix_article_public", "column", "public_from", "public_until"),
        Index("ix_article_public_from", "public_from", "public_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_version.id", use_alter=True), default=None
    )
    # of the published version (None while none is)
    column: Mapped[str | None] = mapped_column(String(16), default=None)
    public_from: Mapped[datetime | None] = mapped_column(default=None)
    public_until: Mapped[datetime | None] = mapped_column(default=None)
    # the township of the officer who proposed it (None: county level); they may edit it
    township_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    published_version: Mapped["ArticleVersion | None"] = relationship(
        foreign_keys=[published_version_id], post_update=True
    )
    versions: Mapped[list["ArticleVersion"]] = relationship(
        back_populates="article",
        foreign_keys="ArticleVersion.article_id",
        order_by="ArticleVersion.number",
    )


class ArticleVersion(Base):
    """One version of an article's text, never changed nor deleted once made."""

    __tablename__ = "article_version"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    column: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(64))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # the body as plain text, for search and snippets
    body_text: Mapped[str] = mapped_column(Text)
    # shown from (None: from its publication) and until (None: for good)
    publish_at: Mapped[datetime | None] = mapped_column(default=None)
    unpublish_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)

    article: Mapped[Article] = relationship(back_populates="versions", foreign_keys=[article_id])


class ArticleImage(Base):
    """A picture of an article: re-encoded from its pixels alone (no EXIF, GPS or camera), at
    most 1080 px wide, kept in the database like every upload."""

    __tablename__ = "article_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey(Article.id), index=True)
    width: Mapped[int]
    height: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleReads(Base):
    """How often an article was opened on a day (county time); nothing about who."""

    __tablename__ = "article_reads"

    article_id: Mapped[int] = mapped_column(ForeignKey(Article.id), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class CaseState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    published = "published"
    withdrawn = "withdrawn"


class Discipline(StrEnum):
    admonishment = "admonishment"
    party_warning = "party_warning"
    party_serious_warning = "party_serious_warning"
    party_post_removal = "party_post_removal"
    party_probation = "party_probation"
    party_expulsion = "party_expulsion"
    gov_warning = "gov_warning"
    gov_demerit = "gov_demerit"
    gov_major_demerit = "gov_major_demerit"
    gov_demotion = "gov_demotion"
    gov_dismissal = "gov_dismissal"
    gov_expulsion = "gov_expulsion"
    judicial_transfer = "judicial_transfer"


DISCIPLINE_NAMES: dict[str, str] = {
    Discipline.admonishment: "诫勉谈话",
    Discipline.party_warning: "党内警告",
    Discipline.party_serious_warning: "党内严重警告",
    Discipline.party_post_removal: "撤销党内职务",
    Discipline.party_probation: "留党察看",
    Discipline.party_expulsion: "开除党籍",
    Discipline.gov_warning: "政务警告",
    Discipline.gov_demerit: "政务记过",
    Discipline.gov_major_demerit: "政务记大过",
    Discipline.gov_demotion: "政务降级",
    Discipline.gov_dismissal: "政务撤职",
    Discipline.gov_expulsion: "政务开除",
    Discipline.judicial_transfer: "移送司法机关",
}


class Case(Base):
    """A disciplinary case made public (通报曝光), as data: its public text is made from these
    fields by one template (app/articles/cases.py), so every case reads the same way."""

    __tablename__ = "disciplinary_case"
    __table_args__ = (
        Index("ix_disciplinary_case_public", "state", "published_on"),
        Index("ix_disciplinary_case_village", "village_code", "published_on"),
        Index("ix_disciplinary_case_township", "township_code", "published_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(40))  # 通报文号
    published_on: Mapped[date | None] = mapped_column(Date, default=None)
    township_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    village_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), default=None)
    person_name: Mapped[str] = mapped_column(String(20))
    post: Mapped[str] = mapped_column(String(40))
    problem: Mapped[str] = mapped_column(String(60))
    facts: Mapped[str] = mapped_column(Text)
    facts_on: Mapped[date] = mapped_column(Date)
    amount_involved: Mapped[int | None] = mapped_column(default=None)  # fen
    amount_recovered: Mapped[int | None] = mapped_column(default=None)  # fen
    disciplines: Mapped[list[str]] = mapped_column(JSON)
    discipline_on: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[str] = mapped_column(String(64))
    tip_category: Mapped[str] = mapped_column(String(16))
    policy_category: Mapped[str | None] = mapped_column(String(2), default=None)
    name_public_until: Mapped[date | None] = mapped_column(Date, default=None)
    # 通报回访: the return visit
    money_returned: Mapped[int | None] = mapped_column(default=None)  # fen
    rectified: Mapped[bool | None] = mapped_column(default=None)
    revisit_on: Mapped[date | None] = mapped_column(Date, default=None)
    revisit_note: Mapped[str | None] = mapped_column(Text, default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(Staff.id, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
