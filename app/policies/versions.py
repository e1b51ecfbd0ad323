"""What policies and articles share as versioned documents: the statement of each one's latest
version (a draft being edited, or the published one), for the staff's lists."""

from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import InstrumentedAttribute, defer, selectinload


def latest_versions(
    version: Any, owner: Any, owner_id: InstrumentedAttribute[int], to_owner: Any
) -> Select[Any]:
    """Every `owner`'s latest `version` (the highest `number`), joined to its owner, without the
    large bodies, with the owner and its published version loaded: `version` is the versions'
    model, `owner_id` its column naming the owner, `to_owner` its relationship to the owner."""
    latest = (
        select(owner_id, func.max(version.number).label("number")).group_by(owner_id).subquery()
    )
    return (
        select(version)
        .join(
            latest,
            and_(latest.c[owner_id.key] == owner_id, latest.c.number == version.number),
        )
        .join(owner, owner.id == owner_id)
        .options(
            defer(version.body_md),
            defer(version.body_html),
            defer(version.body_text),
            selectinload(to_owner).selectinload(owner.published_version),
        )
    )
