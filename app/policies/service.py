"""Policies: the 11 categories of 惠民惠农 policies, their versions, search and staff editing.

Invariants:
- What a policy says lives in its versions, numbered from 1; versions are never changed in
  content nor deleted, so the history stays readable. Every edit adds a new draft version.
- A version goes draft → submitted → published. A policy is public only while
  `published_version_id` points at its published version; a published version is replaced only
  by publishing a newer one (it becomes `superseded`), and `unpublish` withdraws it.
- The public API shows published versions only; a draft is never visible to villagers.
- The search index holds exactly the published version of each public policy.
- Every staff write, and every import (as the system), goes through the audit log.
- Importing the same content files again changes nothing; a changed file becomes a new
  published version of its policy.
"""

import functools
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml  # type: ignore[import-untyped]
from pydantic import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, defer, selectinload

from app import search
from app.audit import service as audit
from app.audit.service import Actor
from app.db.base import utcnow
from app.db.fastpath import FastSelect, ReadConnection
from app.errors import Conflict, InvalidState, NotFound
from app.pagination import Page, PageParams, paginate
from app.policies import rendering, versions
from app.policies.models import Policy, PolicyVersion, VersionState
from app.policies.schemas import (
    ImportSummary,
    PolicyAdminBrief,
    PolicyAdminRead,
    PolicyBrief,
    PolicyCategoryList,
    PolicyCategoryRead,
    PolicyCreate,
    PolicyFile,
    PolicyRead,
    PolicyUpdate,
    PolicyVersionRead,
)
from app.subsidies.categories import CATEGORIES, category_name

CONTENT_DIR = Path(__file__).parent / "content"
ENTITY = "policy"
_CONTENT_FIELDS = ("category_code", "title", "summary", "department", "items", "body_md")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n(.*)\Z", re.DOTALL)
_FRONT_MATTER_KEYS = {"category", "title", "items", "department", "summary", "demo_figures"}


def _not_found(policy_id: int) -> NotFound:
    return NotFound(f"没有编号为 {policy_id} 的政策，或它尚未发布。")


def _published() -> Select[PolicyVersion]:
    """Published versions of public policies, bodies deferred."""
    return (
        select(PolicyVersion)
        .join(Policy, Policy.published_version_id == PolicyVersion.id)
        .options(defer(PolicyVersion.body_md), defer(PolicyVersion.body_html))
    )


# --- public ------------------------------------------------------------------------------------


def category_counts(session: Session) -> PolicyCategoryList:
    counts: dict[str, int] = {
        code: n
        for code, n in session.execute(
            select(PolicyVersion.category_code, func.count())
            .join(Policy, Policy.published_version_id == PolicyVersion.id)
            .group_by(PolicyVersion.category_code)
        )
    }
    return PolicyCategoryList(
        items=[
            PolicyCategoryRead(code=code, name=name, policy_count=counts.get(code, 0))
            for code, name in CATEGORIES.items()
        ]
    )


def list_published(
    session: Session, *, category: str | None, q: str | None, page: PageParams
) -> Page[PolicyBrief]:
    """Published policies by category; with `q`, those matching it, best first (title matches
    before the rest, then by the database's relevance score), each with a marked snippet."""
    stmt = _published()
    if category is not None:
        stmt = stmt.where(PolicyVersion.category_code == category)
    query_runs = search.runs(q) if q else []
    if q and not query_runs:  # only punctuation: nothing can match
        return Page[PolicyBrief](items=[], total=0, page=page.page, size=page.size)
    if query_runs:
        hits = search.hits(session, "policy", query_runs)
        stmt = stmt.join(hits, hits.c.ref_id == Policy.id).order_by(hits.c.score.desc(), Policy.id)
    else:
        stmt = stmt.options(defer(PolicyVersion.body_text)).order_by(
            PolicyVersion.category_code, Policy.id
        )
    rows, total = paginate(session, stmt, page)
    items = [
        PolicyBrief(
            id=v.policy_id,
            category_code=v.category_code,
            category_name=category_name(v.category_code),
            title=v.title,
            summary=v.summary,
            department=v.department,
            published_at=v.published_at,
            snippet=search.snippet([v.summary, v.body_text, v.title], query_runs)
            if query_runs
            else None,
        )
        for v in rows
    ]
    return Page[PolicyBrief](items=items, total=total, page=page.page, size=page.size)


def get_published(session: Session, policy_id: int) -> PolicyRead:
    policy = session.get(Policy, policy_id, options=[selectinload(Policy.published_version)])
    if policy is None or policy.published_version is None:
        raise _not_found(policy_id)
    version = policy.published_version
    return PolicyRead(
        id=policy.id,
        slug=policy.slug,
        category_code=version.category_code,
        category_name=category_name(version.category_code),
        title=version.title,
        summary=version.summary,
        department=version.department,
        items=version.items,
        body_html=version.body_html,
        version=version.number,
        published_at=version.published_at or policy.updated_at,
    )


# Table columns (Core, not ORM): it runs on every subsidy lookup.
_policy, _version = Policy.__table__, PolicyVersion.__table__
# Run on the driver's cursor (see FastSelect): every villager's lookup asks for it, and
# SQLAlchemy's per-execution work costs more than the query (docs/performance.md#compiled-selects).
_ITEMS = FastSelect(
    select(_policy.c.id, _version.c["items"])
    .join(_version, _policy.c.published_version_id == _version.c.id)
    .order_by(_policy.c.id.desc())
)


def policy_ids_by_item(connection: ReadConnection) -> Mapping[str, int]:
    """Payout item name (as the 一卡通 feed spells it) → id of the published policy that covers
    it; the lowest id when two do. Read on every lookup; the items' JSON is parsed once for as
    long as the published policies' rows stay the same (`_ids_by_item`)."""
    rows = _ITEMS.rows(connection)
    # The driver's own type: JSON text from SQLite (the rows are the cache's key as they are),
    # a list from psycopg (made a tuple, to be hashed).
    if rows and not isinstance(rows[0][1], str):
        rows = [(policy_id, tuple(items)) for policy_id, items in rows]
    return _ids_by_item(tuple(rows))


@functools.lru_cache(maxsize=8)
def _ids_by_item(rows: tuple[tuple[int, str | tuple[str, ...]], ...]) -> Mapping[str, int]:
    return MappingProxyType(
        {
            item: policy_id
            for policy_id, items in rows
            for item in (json.loads(items) if isinstance(items, str) else items)
        }
    )


# --- staff -------------------------------------------------------------------------------------


def _fields(policy: Policy, version: PolicyVersion) -> dict[str, Any]:
    """What the audit log keeps of a policy: its public fields and where the version stands."""
    published = policy.published_version
    return {
        "slug": policy.slug,
        "version": version.number,
        "state": version.state,
        "published_version": published.number if published else None,
        **{name: getattr(version, name) for name in _CONTENT_FIELDS},
    }


def _admin_view(policy: Policy) -> PolicyAdminRead:
    published = policy.published_version
    return PolicyAdminRead(
        id=policy.id,
        slug=policy.slug,
        published_version=published.number if published else None,
        latest=PolicyVersionRead.model_validate(policy.versions[-1]),
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


def _load(session: Session, policy_id: int, *, for_update: bool = False) -> Policy:
    stmt = (
        select(Policy)
        .where(Policy.id == policy_id)
        .options(selectinload(Policy.versions), selectinload(Policy.published_version))
    )
    if for_update:  # serialise writers of one policy, so version numbers never collide
        stmt = stmt.with_for_update()
    policy = session.scalar(stmt)
    if policy is None:
        raise NotFound(f"没有编号为 {policy_id} 的政策。")
    return policy


def _add_version(
    session: Session,
    policy: Policy,
    content: dict[str, Any],
    *,
    state: VersionState,
    actor: Actor | None,
) -> PolicyVersion:
    now = utcnow()
    version = PolicyVersion(
        number=policy.versions[-1].number + 1 if policy.versions else 1,
        state=state,
        **content,
        body_html=rendering.to_html(content["body_md"]),
        body_text=rendering.to_text(content["body_md"]),
        created_by_id=actor.id if actor else None,
        created_at=now,
        submitted_at=now if state != VersionState.draft else None,
        published_at=now if state == VersionState.published else None,
    )
    policy.versions.append(version)
    policy.updated_at = now
    session.flush()
    return version


def _publish(session: Session, policy: Policy, version: PolicyVersion) -> None:
    previous = policy.published_version
    if previous is not None and previous is not version:
        previous.state = VersionState.superseded
    version.state = VersionState.published
    version.published_at = utcnow()
    policy.published_version = version
    session.flush()
    write_search(session, policy.id, version)


def write_search(session: Session, policy_id: int, version: PolicyVersion) -> None:
    """Index `version` as the searchable text of the policy."""
    search.write(
        session,
        "policy",
        policy_id,
        title=version.title,
        summary=version.summary,
        body=version.body_text,
    )


def _record(
    session: Session,
    policy: Policy,
    *,
    actor: Actor | None,
    action: str,
    before: dict[str, Any] | None,
    version: PolicyVersion,
) -> None:
    """The audit entry of an action on a policy, `version` being the one it left behind."""
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=ENTITY,
        entity_id=policy.id,
        before=before,
        after=_fields(policy, version),
    )


def _act(
    session: Session,
    policy_id: int,
    *,
    actor: Actor,
    action: str,
    applies_to: Callable[[Policy], PolicyVersion],
    change: Callable[[Policy, PolicyVersion], PolicyVersion | None],
) -> PolicyAdminRead:
    """One staff action on a policy: lock it, find the version the action applies to
    (`applies_to` raises InvalidState when there is none), keep how it stood, change it, and
    record both in the audit log. `change` returns the version it leaves behind, or None when
    it changed nothing (no audit entry then)."""
    policy = _load(session, policy_id, for_update=True)
    version = applies_to(policy)
    before = _fields(policy, version)
    after = change(policy, version)
    if after is not None:
        _record(session, policy, actor=actor, action=action, before=before, version=after)
    return _admin_view(policy)


def _latest(policy: Policy) -> PolicyVersion:
    return policy.versions[-1]


def _latest_in(state: VersionState, refusal: str) -> Callable[[Policy], PolicyVersion]:
    """The policy's latest version, which must be in `state` (else `refusal`, 409)."""

    def latest(policy: Policy) -> PolicyVersion:
        version = policy.versions[-1]
        if version.state != state:
            raise InvalidState(refusal)
        return version

    return latest


_latest_draft = _latest_in(VersionState.draft, "只有草稿可以提交。请先修改政策，生成新的草稿。")
_latest_submitted = _latest_in(VersionState.submitted, "只有已提交的版本可以发布。请先提交草稿。")


def _published_version(policy: Policy) -> PolicyVersion:
    published = policy.published_version
    if published is None:
        raise InvalidState("这条政策没有发布，无需撤下。")
    return published


def get_policy(session: Session, policy_id: int) -> PolicyAdminRead:
    return _admin_view(_load(session, policy_id))


def list_policies(
    session: Session, *, category: str | None, page: PageParams
) -> Page[PolicyAdminBrief]:
    """Every policy, published or not, with its latest version."""
    stmt = versions.latest_versions(
        PolicyVersion, Policy, PolicyVersion.policy_id, PolicyVersion.policy
    ).order_by(PolicyVersion.category_code, Policy.id)
    if category is not None:
        stmt = stmt.where(PolicyVersion.category_code == category)
    rows, total = paginate(session, stmt, page)
    items = []
    for v in rows:
        published = v.policy.published_version
        items.append(
            PolicyAdminBrief(
                id=v.policy_id,
                slug=v.policy.slug,
                category_code=v.category_code,
                title=v.title,
                state=VersionState(v.state),
                version=v.number,
                published_version=published.number if published else None,
                updated_at=v.policy.updated_at,
            )
        )
    return Page[PolicyAdminBrief](items=items, total=total, page=page.page, size=page.size)


def list_versions(session: Session, policy_id: int, *, page: PageParams) -> Page[PolicyVersionRead]:
    """The history of a policy, newest first."""
    _load(session, policy_id)
    rows, total = paginate(
        session,
        select(PolicyVersion)
        .where(PolicyVersion.policy_id == policy_id)
        .order_by(PolicyVersion.number.desc()),
        page,
    )
    return Page[PolicyVersionRead](
        items=[PolicyVersionRead.model_validate(v) for v in rows],
        total=total,
        page=page.page,
        size=page.size,
    )


def create_policy(session: Session, *, data: PolicyCreate, actor: Actor) -> PolicyAdminRead:
    """A new policy whose only version is a draft: invisible until published."""
    slug = data.slug or f"policy-{secrets.token_hex(4)}"
    if session.scalar(select(Policy.id).where(Policy.slug == slug)) is not None:
        raise Conflict(f"英文短名 {slug} 已被其他政策使用。")
    policy = Policy(slug=slug)
    session.add(policy)
    version = _add_version(
        session,
        policy,
        data.model_dump(include=set(_CONTENT_FIELDS)),
        state=VersionState.draft,
        actor=actor,
    )
    _record(session, policy, actor=actor, action="policy.create", before=None, version=version)
    return _admin_view(policy)


def update_policy(
    session: Session, policy_id: int, *, data: PolicyUpdate, actor: Actor
) -> PolicyAdminRead:
    """A new draft version from the latest one with the given changes. A pending draft or
    submission it replaces becomes `superseded`; the published version stays public."""

    def add_draft(policy: Policy, latest: PolicyVersion) -> PolicyVersion | None:
        content = {name: getattr(latest, name) for name in _CONTENT_FIELDS}
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if all(content[name] == value for name, value in changes.items()):
            return None
        if latest.state in {VersionState.draft, VersionState.submitted}:
            latest.state = VersionState.superseded
        return _add_version(
            session, policy, {**content, **changes}, state=VersionState.draft, actor=actor
        )

    return _act(
        session,
        policy_id,
        actor=actor,
        action="policy.update",
        applies_to=_latest,
        change=add_draft,
    )


def submit_policy(session: Session, policy_id: int, *, actor: Actor) -> PolicyAdminRead:
    """The latest draft, submitted for publication."""

    def submit(policy: Policy, latest: PolicyVersion) -> PolicyVersion:
        latest.state = VersionState.submitted
        latest.submitted_at = utcnow()
        policy.updated_at = utcnow()
        session.flush()
        return latest

    return _act(
        session,
        policy_id,
        actor=actor,
        action="policy.submit",
        applies_to=_latest_draft,
        change=submit,
    )


def publish_policy(session: Session, policy_id: int, *, actor: Actor) -> PolicyAdminRead:
    """The latest, submitted version becomes the public one, replacing the one before."""

    def publish(policy: Policy, latest: PolicyVersion) -> PolicyVersion:
        _publish(session, policy, latest)
        policy.updated_at = utcnow()
        return latest

    return _act(
        session,
        policy_id,
        actor=actor,
        action="policy.publish",
        applies_to=_latest_submitted,
        change=publish,
    )


def unpublish_policy(session: Session, policy_id: int, *, actor: Actor) -> PolicyAdminRead:
    """Take the policy off the public API and out of search; its versions stay."""

    def withdraw(policy: Policy, published: PolicyVersion) -> PolicyVersion:
        published.state = VersionState.withdrawn
        policy.published_version = None
        policy.updated_at = utcnow()
        session.flush()
        search.remove(session, "policy", policy.id)
        return published

    return _act(
        session,
        policy_id,
        actor=actor,
        action="policy.unpublish",
        applies_to=_published_version,
        change=withdraw,
    )


# --- content files ----------------------------------------------------------------------------


def read_file(path: Path) -> PolicyFile:
    """One content file: YAML front matter, then the Markdown body. Raises ValueError."""
    raw = path.read_bytes()
    found = _FRONT_MATTER.match(raw.decode("utf-8").replace("\r\n", "\n"))
    if found is None:
        raise ValueError(f"{path.name}：开头缺少 --- 包围的 YAML 头")
    meta = yaml.safe_load(found.group(1))
    if not isinstance(meta, dict):
        raise ValueError(f"{path.name}：YAML 头应为键值对")
    unknown = set(meta) - _FRONT_MATTER_KEYS
    if unknown:
        raise ValueError(f"{path.name}：YAML 头中有不认识的键 {', '.join(sorted(unknown))}")
    try:
        content = PolicyCreate(
            slug=path.stem,
            category_code=meta.get("category"),
            title=meta.get("title"),
            summary=meta.get("summary"),
            department=meta.get("department"),
            items=meta.get("items") or [],
            body_md=found.group(2).strip() + "\n",
        )
    except ValidationError as exc:
        fields = "、".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise ValueError(f"{path.name}：以下内容缺失或格式不对：{fields}") from None
    return PolicyFile(slug=path.stem, digest=hashlib.sha256(raw).hexdigest(), content=content)


def read_content(directory: Path = CONTENT_DIR) -> list[PolicyFile]:
    """Every `*.md` file of `directory` but README.md, in name order."""
    if not directory.is_dir():
        raise ValueError(f"找不到目录 {directory}")
    return [read_file(path) for path in sorted(directory.glob("*.md")) if path.name != "README.md"]


def import_policies(session: Session, directory: Path = CONTENT_DIR) -> ImportSummary:
    """Publish the content files as the system. A file seen before, unchanged, is skipped (even
    if staff have since edited its policy); a changed one becomes a new published version, and
    a staff draft or submission pending on that policy is superseded (kept in the history)."""
    files = read_content(directory)
    existing = {
        p.slug: p
        for p in session.scalars(
            select(Policy)
            .where(Policy.slug.in_([f.slug for f in files]))
            .options(selectinload(Policy.versions), selectinload(Policy.published_version))
        )
    }
    created = updated = unchanged = 0
    for file in files:
        policy = existing.get(file.slug)
        if policy is not None and policy.source_digest == file.digest:
            unchanged += 1
            continue
        before = None
        if policy is None:
            policy = Policy(slug=file.slug)
            session.add(policy)
            created += 1
        else:
            before = _fields(policy, policy.versions[-1])
            for pending in policy.versions:
                if pending.state in {VersionState.draft, VersionState.submitted}:
                    pending.state = VersionState.superseded
            updated += 1
        policy.source_digest = file.digest
        version = _add_version(
            session,
            policy,
            file.content.model_dump(include=set(_CONTENT_FIELDS)),
            state=VersionState.submitted,
            actor=None,
        )
        _publish(session, policy, version)
        _record(session, policy, actor=None, action="policy.import", before=before, version=version)
    return ImportSummary(created=created, updated=updated, unchanged=unchanged)
