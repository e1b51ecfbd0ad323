"""Articles (宣传教育): four columns, versions like policies', scheduled publication, pictures.

Invariants:
- What an article says lives in its versions, numbered from 1, never changed nor deleted; every
  edit adds a draft. A version goes draft → (submitted →) published; publishing a newer one
  supersedes the one before, `unpublish` withdraws it.
- The public see an article while it has a published version and the moment lies within its
  `publish_at` .. `unpublish_at`: checked on every read, so no job has to run at those moments.
- The search index holds the published version of each published article (whether or not its
  time has come: the read filters).
- Editors (and the county admin) do everything; a township officer proposes: writes, edits and
  submits drafts of their township's articles, and uploads their pictures, never publishes.
- A body is refused, not silently cleaned, when it holds scripts, frames, `javascript:` links or
  pictures that are not this article's uploads.
- Reads are counted per article and day (county time), nothing else about them.
- Every staff write goes through the audit log.
"""

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, defer, selectinload, undefer

from app import images, search
from app.articles.errors import (
    ArticleImageNotFound,
    ArticleNotFound,
    ArticleStateInvalid,
    ImageInvalid,
    OutsideTownship,
    UnsafeMarkdown,
)
from app.articles.models import (
    COLUMN_NAMES,
    Article,
    ArticleImage,
    ArticleReads,
    ArticleVersion,
)
from app.articles.schemas import (
    ArticleAdminBrief,
    ArticleAdminRead,
    ArticleBrief,
    ArticleCreate,
    ArticleRead,
    ArticleReadsRead,
    ArticleUpdate,
    ArticleVersionRead,
    DayReads,
    ImageList,
    ImageRead,
)
from app.audit import service as audit
from app.db.base import dialect_insert, utcnow
from app.db.engines import transaction
from app.pagination import Page, PageParams, paginate
from app.policies import rendering, versions
from app.policies.models import VersionState
from app.public_writes import today
from app.regions import service as regions
from app.regions.models import RegionLevel
from app.staff.models import Role, Staff
from app.uploads import Upload

logger = logging.getLogger(__name__)

ENTITY = "article"
KIND = "article"
EDITORS = (Role.editor, Role.county_admin)
MAX_IMAGES = 9  # in one upload
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_WIDTH = 1080
IMAGE_URL = "/api/v1/article-images/{id}"
_OUR_IMAGE = re.compile(r"/api/v1/article-images/(\d{1,10})")
_PICTURE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]*)")
_CONTENT = ("column", "title", "summary", "author", "body_md", "publish_at", "unpublish_at")


def _now() -> datetime:
    return utcnow()


def _public(now: datetime) -> Any:
    """The articles the public may see at `now` (`public_from` is set exactly while a version
    is published)."""
    return and_(
        Article.public_from <= now,
        or_(Article.public_until.is_(None), Article.public_until > now),
    )


def _published_versions() -> Select[ArticleVersion, datetime | None]:
    """Published versions with the moment their article is public from; bodies deferred."""
    return (
        select(ArticleVersion, Article.public_from)
        .join(Article, Article.published_version_id == ArticleVersion.id)
        .options(defer(ArticleVersion.body_md))
    )


# --- public ------------------------------------------------------------------------------------


_BRIEF = (
    ArticleVersion.article_id,
    ArticleVersion.column,
    ArticleVersion.title,
    ArticleVersion.summary,
    ArticleVersion.author,
    Article.public_from,
)


def list_published(
    session: Session, *, column: str | None, q: str | None, page: PageParams
) -> Page[ArticleBrief]:
    """The public articles of a column, newest first; with `q`, those that match, best first,
    each with a marked snippet."""
    query_runs = search.runs(q) if q else []
    if q and not query_runs:  # only punctuation: nothing can match
        return Page[ArticleBrief](items=[], total=0, page=page.page, size=page.size)
    shown = [_public(_now())] + ([Article.column == column] if column is not None else [])
    # counted on the article rows alone (their index covers it): no version is read to count
    count = select(func.count()).select_from(Article).where(*shown)
    # columns, not ORM objects: a list is read on every visit
    columns = (*_BRIEF, ArticleVersion.body_text) if query_runs else _BRIEF
    stmt = (
        select(*columns)
        .join(Article, Article.published_version_id == ArticleVersion.id)
        .where(*shown)
    )
    if query_runs:
        hits = search.hits(session, KIND, query_runs)
        count = count.join(hits, hits.c.ref_id == Article.id)
        stmt = stmt.join(hits, hits.c.ref_id == Article.id).order_by(
            hits.c.score.desc(), Article.public_from.desc(), Article.id.desc()
        )
    else:
        stmt = stmt.order_by(Article.public_from.desc(), Article.id.desc())
    total = session.scalar(count) or 0
    items = [
        ArticleBrief(
            id=row.article_id,
            column=row.column,
            column_name=COLUMN_NAMES[row.column],
            title=row.title,
            summary=row.summary,
            author=row.author,
            published_at=row.public_from,
            snippet=search.snippet([row.summary, row.body_text, row.title], query_runs)
            if query_runs
            else None,
        )
        for row in session.execute(stmt.limit(page.size).offset(page.offset))
    ]
    return Page[ArticleBrief](items=items, total=total, page=page.page, size=page.size)


def get_published(session: Session, article_id: int) -> ArticleRead:
    """A public article; its read is counted (a count lost to a busy database is only logged)."""
    row = session.execute(
        _published_versions().where(_public(_now()), Article.id == article_id)
    ).one_or_none()
    if row is None:
        raise ArticleNotFound(f"没有编号为 {article_id} 的文章，或它现在不公开。")
    version, public_from = row
    try:
        with transaction(session, nested=True):
            _count_read(session, article_id)
    except DBAPIError as exc:
        logger.warning("read not counted (%s)", type(exc.orig).__name__)
    return ArticleRead(
        id=article_id,
        column=version.column,
        column_name=COLUMN_NAMES[version.column],
        title=version.title,
        summary=version.summary,
        author=version.author,
        body_html=version.body_html,
        version=version.number,
        published_at=public_from,
    )


def _count_read(session: Session, article_id: int) -> None:
    """An upsert, so concurrent reads never lose a count."""
    insert = dialect_insert(session, ArticleReads).values(
        article_id=article_id, day=today(), count=1
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["article_id", "day"], set_={"count": ArticleReads.count + 1}
        )
    )


def get_image(session: Session, image_id: int) -> bytes:
    """A picture of an article that has been published (its JPEG bytes)."""
    image = session.get(ArticleImage, image_id, options=[undefer(ArticleImage.data)])
    article = session.get(Article, image.article_id) if image is not None else None
    if image is None or article is None or article.published_version_id is None:
        raise ArticleImageNotFound(f"没有编号为 {image_id} 的图片，或它的文章还没有发布。")
    return image.data


# --- staff: who may do what ---------------------------------------------------------------------


def _township_of(staff: Staff) -> str | None:
    """The township a township officer proposes for; None for the county's editors."""
    return staff.region_code if staff.role == Role.township_officer else None


def _check_may_edit(staff: Staff, article: Article) -> None:
    township = _township_of(staff)
    if township is None:
        return
    if article.township_code is None or not regions.contains(township, article.township_code):
        raise OutsideTownship("这篇文章不是您所在乡镇提出的，只能由县里的编辑修改。")


def _check_body(body_md: str, *, article_id: int | None, image_ids: set[int]) -> None:
    """Refuse what the renderer would remove, and pictures that are not this article's."""
    unsafe = rendering.unsafe_parts(body_md)
    if unsafe:
        raise UnsafeMarkdown("正文含有不允许的内容：" + "、".join(unsafe) + "。请删去后再保存。")
    for target in _PICTURE.findall(body_md):
        ours = _OUR_IMAGE.fullmatch(target)
        if ours is None:
            raise UnsafeMarkdown(
                f"图片 {target[:60]} 不是本系统的图片：请先上传到这篇文章，再插入它给出的地址。"
            )
        if int(ours.group(1)) not in image_ids:
            raise UnsafeMarkdown(
                f"图片 {ours.group(1)} 不属于这篇文章"
                + ("（新文章请先保存，再上传图片）。" if article_id is None else "。")
            )


def _image_ids(session: Session, article_id: int) -> set[int]:
    return set(
        session.scalars(select(ArticleImage.id).where(ArticleImage.article_id == article_id))
    )


# --- staff: reading ------------------------------------------------------------------------------


def _load(session: Session, article_id: int, *, for_update: bool = False) -> Article:
    stmt = (
        select(Article)
        .where(Article.id == article_id)
        .options(selectinload(Article.versions), selectinload(Article.published_version))
    )
    if for_update:  # serialise writers of one article, so version numbers never collide
        stmt = stmt.with_for_update()
    article = session.scalar(stmt)
    if article is None:
        raise ArticleNotFound(f"没有编号为 {article_id} 的文章。")
    return article


def _admin_view(article: Article) -> ArticleAdminRead:
    published = article.published_version
    now = _now()
    public_now = (
        published is not None
        and article.public_from is not None
        and article.public_from <= now
        and (article.public_until is None or article.public_until > now)
    )
    return ArticleAdminRead(
        id=article.id,
        township_code=article.township_code,
        published_version=published.number if published else None,
        public_now=public_now,
        latest=ArticleVersionRead.model_validate(article.versions[-1]),
        created_at=article.created_at,
        updated_at=article.updated_at,
    )


def get_article(session: Session, article_id: int, *, staff: Staff) -> ArticleAdminRead:
    article = _load(session, article_id)
    _check_may_edit(staff, article)
    return _admin_view(article)


def list_articles(
    session: Session, *, column: str | None, staff: Staff, page: PageParams
) -> Page[ArticleAdminBrief]:
    """Every article with its latest version, newest first; a township officer sees those of
    their township."""
    stmt = versions.latest_versions(
        ArticleVersion, Article, ArticleVersion.article_id, ArticleVersion.article
    ).order_by(Article.updated_at.desc(), Article.id.desc())
    if column is not None:
        stmt = stmt.where(ArticleVersion.column == column)
    township = _township_of(staff)
    if township is not None:
        stmt = stmt.where(Article.township_code == township)
    rows, total = paginate(session, stmt, page)
    items = [
        ArticleAdminBrief(
            id=v.article_id,
            column=v.column,
            title=v.title,
            state=VersionState(v.state),
            version=v.number,
            published_version=v.article.published_version.number
            if v.article.published_version
            else None,
            township_code=v.article.township_code,
            updated_at=v.article.updated_at,
        )
        for v in rows
    ]
    return Page[ArticleAdminBrief](items=items, total=total, page=page.page, size=page.size)


def list_versions(
    session: Session, article_id: int, *, staff: Staff, page: PageParams
) -> Page[ArticleVersionRead]:
    """The history of an article, newest first."""
    _check_may_edit(staff, _load(session, article_id))
    rows, total = paginate(
        session,
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.number.desc()),
        page,
    )
    return Page[ArticleVersionRead](
        items=[ArticleVersionRead.model_validate(v) for v in rows],
        total=total,
        page=page.page,
        size=page.size,
    )


def reads(session: Session, article_id: int, *, staff: Staff) -> ArticleReadsRead:
    _check_may_edit(staff, _load(session, article_id))
    days = session.execute(
        select(ArticleReads.day, ArticleReads.count)
        .where(ArticleReads.article_id == article_id)
        .order_by(ArticleReads.day.desc())
        .limit(366)
    ).all()
    total = session.scalar(
        select(func.coalesce(func.sum(ArticleReads.count), 0)).where(
            ArticleReads.article_id == article_id
        )
    )
    return ArticleReadsRead(
        article_id=article_id,
        total=int(total or 0),
        days=[DayReads(day=day, count=count) for day, count in days],
    )


# --- staff: writing ------------------------------------------------------------------------------


def _snapshot(article: Article, version: ArticleVersion) -> dict[str, Any]:
    """What the audit log keeps of an article: its content and where the version stands."""
    published = article.published_version
    return {
        "version": version.number,
        "state": version.state,
        "published_version": published.number if published else None,
        "township_code": article.township_code,
        **{
            name: value.isoformat() if isinstance(value, datetime) else value
            for name in _CONTENT
            for value in [getattr(version, name)]
        },
    }


def _new_version(
    session: Session, article: Article, content: dict[str, Any], *, actor: Staff
) -> ArticleVersion:
    version = ArticleVersion(
        number=article.versions[-1].number + 1 if article.versions else 1,
        state=VersionState.draft,
        **content,
        body_html=rendering.to_html(content["body_md"], image_src=_OUR_IMAGE),
        body_text=rendering.to_text(content["body_md"]),
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    article.versions.append(version)
    article.updated_at = utcnow()
    session.flush()
    return version


def _audited(
    session: Session,
    article: Article,
    version: ArticleVersion,
    *,
    actor: Staff,
    action: str,
    before: dict[str, Any] | None,
) -> ArticleAdminRead:
    audit.record(
        session,
        actor=actor,
        action=f"article.{action}",
        entity_type=ENTITY,
        entity_id=article.id,
        before=before,
        after=_snapshot(article, version),
    )
    return _admin_view(article)


def create_article(session: Session, *, data: ArticleCreate, actor: Staff) -> ArticleAdminRead:
    """A new article whose only version is a draft: invisible until published."""
    _check_body(data.body_markdown, article_id=None, image_ids=set())
    township = data.township_code or _township_of(actor)
    own = _township_of(actor)
    if own is not None and township != own:
        raise OutsideTownship("乡镇工作人员只能为本乡镇提出文章。")
    if township is not None:
        region = regions.find_region(session, township)
        if region is None or region.level != RegionLevel.township:
            raise ArticleStateInvalid(f"没有区划代码为 {township} 的乡镇（街道）。")
    article = Article(township_code=township)
    session.add(article)
    content = data.model_dump(exclude={"body_markdown", "township_code"}) | {
        "body_md": data.body_markdown
    }
    version = _new_version(session, article, content, actor=actor)
    return _audited(session, article, version, actor=actor, action="create", before=None)


def update_article(
    session: Session, article_id: int, *, data: ArticleUpdate, actor: Staff
) -> ArticleAdminRead:
    """A new draft from the latest version with the given changes (a pending draft or submission
    is superseded; the published version stays public until the new one is published)."""
    article = _load(session, article_id, for_update=True)
    _check_may_edit(actor, article)
    latest = article.versions[-1]
    changes = data.model_dump(exclude_unset=True)
    if "body_markdown" in changes:
        changes["body_md"] = changes.pop("body_markdown")
    for required in ("column", "title", "body_md"):  # these cannot be cleared
        if changes.get(required, "") is None:
            del changes[required]
    for optional in ("summary", "author"):  # null clears these
        if optional in changes and changes[optional] is None:
            changes[optional] = ""
    content = {name: getattr(latest, name) for name in _CONTENT}
    merged = content | changes
    start, end = merged["publish_at"], merged["unpublish_at"]
    if start is not None and end is not None and end <= start:
        raise ArticleStateInvalid("停止公开的时间应晚于开始公开的时间。")
    if merged == content:
        return _admin_view(article)
    _check_body(merged["body_md"], article_id=article.id, image_ids=_image_ids(session, article.id))
    before = _snapshot(article, latest)
    if latest.state in {VersionState.draft, VersionState.submitted}:
        latest.state = VersionState.superseded
    version = _new_version(session, article, merged, actor=actor)
    return _audited(session, article, version, actor=actor, action="update", before=before)


def _transition(
    session: Session,
    article_id: int,
    *,
    actor: Staff,
    action: str,
    change: Callable[[Article], ArticleVersion],
) -> ArticleAdminRead:
    article = _load(session, article_id, for_update=True)
    _check_may_edit(actor, article)
    before = _snapshot(article, article.versions[-1])
    version = change(article)
    article.updated_at = utcnow()
    session.flush()
    return _audited(session, article, version, actor=actor, action=action, before=before)


def submit_article(session: Session, article_id: int, *, actor: Staff) -> ArticleAdminRead:
    """The latest draft, proposed for publication."""

    def submit(article: Article) -> ArticleVersion:
        latest = article.versions[-1]
        if latest.state != VersionState.draft:
            raise ArticleStateInvalid("只有草稿可以提交。请先修改文章，生成新的草稿。")
        latest.state = VersionState.submitted
        latest.submitted_at = utcnow()
        return latest

    return _transition(session, article_id, actor=actor, action="submit", change=submit)


def publish_article(session: Session, article_id: int, *, actor: Staff) -> ArticleAdminRead:
    """The latest draft or submitted version becomes the public one (from its `publish_at`),
    replacing the one before, and is what search finds."""

    def publish(article: Article) -> ArticleVersion:
        latest = article.versions[-1]
        if latest.state not in {VersionState.draft, VersionState.submitted}:
            raise ArticleStateInvalid("最新的版本已经发布或已撤下：请先修改文章，再发布新版本。")
        previous = article.published_version
        if previous is not None:
            previous.state = VersionState.superseded
        now = utcnow()
        latest.state = VersionState.published
        latest.submitted_at = latest.submitted_at or now
        latest.published_at = now
        article.published_version = latest
        article.column = latest.column
        article.public_from = latest.publish_at or now
        article.public_until = latest.unpublish_at
        session.flush()
        search.write(
            session,
            KIND,
            article.id,
            title=latest.title,
            summary=latest.summary,
            body=latest.body_text,
        )
        return latest

    return _transition(session, article_id, actor=actor, action="publish", change=publish)


def unpublish_article(session: Session, article_id: int, *, actor: Staff) -> ArticleAdminRead:
    """Take the article off the public API and out of search; its versions stay."""

    def withdraw(article: Article) -> ArticleVersion:
        published = article.published_version
        if published is None:
            raise ArticleStateInvalid("这篇文章没有发布，无需撤下。")
        published.state = VersionState.withdrawn
        article.published_version = None
        article.column = article.public_from = article.public_until = None
        session.flush()
        search.remove(session, KIND, article.id)
        return published

    return _transition(session, article_id, actor=actor, action="unpublish", change=withdraw)


def add_images(
    session: Session, article_id: int, *, uploads: list[Upload], actor: Staff
) -> ImageList:
    """Each upload as a picture of the article (no metadata, at most 1080 px wide); the first
    that is not a readable JPEG or PNG refuses them all."""
    article = _load(session, article_id, for_update=True)
    _check_may_edit(actor, article)
    if not uploads:
        raise ImageInvalid("请选择要上传的图片（字段 images）。")
    if len(uploads) > MAX_IMAGES:
        raise ImageInvalid(f"一次最多上传 {MAX_IMAGES} 张图片。")
    try:
        pictures = images.photos_for_phones(
            [u.data for u in uploads], max_bytes=IMAGE_MAX_BYTES, max_width=IMAGE_WIDTH
        )
    except images.PhotoRefused as exc:
        raise ImageInvalid(str(exc)) from exc
    added = [
        ArticleImage(article_id=article.id, width=width, height=height, data=data)
        for data, width, height in pictures
    ]
    session.add_all(added)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="article.images",
        entity_type=ENTITY,
        entity_id=article.id,
        after={"images": [{"id": i.id, "width": i.width, "height": i.height} for i in added]},
    )
    return ImageList(items=[_image_read(i) for i in added])


def _image_read(image: ArticleImage) -> ImageRead:
    url = IMAGE_URL.format(id=image.id)
    return ImageRead(
        id=image.id, width=image.width, height=image.height, url=url, markdown=f"![图片]({url})"
    )


def list_images(session: Session, article_id: int, *, staff: Staff) -> ImageList:
    _check_may_edit(staff, _load(session, article_id))
    rows = session.scalars(
        select(ArticleImage).where(ArticleImage.article_id == article_id).order_by(ArticleImage.id)
    )
    return ImageList(items=[_image_read(i) for i in rows])
