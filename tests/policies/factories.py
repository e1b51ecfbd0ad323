"""Typed policy factories: they flush, never commit."""

from itertools import count

from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.policies import rendering, service
from app.policies.models import Policy, PolicyVersion, VersionState

_numbers = count(1)


def make_policy(
    session: Session,
    *,
    title: str = "测试补助",
    summary: str = "这是一条测试用的政策。",
    body_md: str = "## 谁能享受\n\n测试用的正文。\n",
    category_code: str = "01",
    department: str = "县民政局",
    items: list[str] | None = None,
    published: bool = True,
) -> Policy:
    """A policy with one version, published (and indexed for search) unless `published` is
    False, in which case the version is a draft."""
    now = utcnow()
    policy = Policy(slug=f"test-policy-{next(_numbers)}")
    version = PolicyVersion(
        number=1,
        state=VersionState.published if published else VersionState.draft,
        category_code=category_code,
        title=title,
        summary=summary,
        department=department,
        items=items or [],
        body_md=body_md,
        body_html=rendering.to_html(body_md),
        body_text=rendering.to_text(body_md),
        submitted_at=now if published else None,
        published_at=now if published else None,
    )
    policy.versions.append(version)
    if published:
        policy.published_version = version
    session.add(policy)
    session.flush()
    if published:
        service.write_search(session, policy.id, version)
    return policy
