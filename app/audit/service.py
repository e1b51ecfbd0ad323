"""The audit log: every staff write goes through `record`, in the same transaction as the write.

Entries are never updated or deleted through the API. `before`/`after` hold what the caller
passes, so callers pass public fields only (never a password hash or a token).
"""

from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.audit.schemas import AuditFilter
from app.pagination import PageParams, paginate

SYSTEM_ACTOR = "system"


class Actor(Protocol):
    id: int
    username: str


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_username=actor.username if actor else SYSTEM_ACTOR,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session, *, filters: AuditFilter, page: PageParams
) -> tuple[list[AuditEntry], int]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if filters.action:
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == filters.actor_id)
    if filters.entity_type:
        stmt = stmt.where(AuditEntry.entity_type == filters.entity_type)
    if filters.entity_id:
        stmt = stmt.where(AuditEntry.entity_id == filters.entity_id)
    if filters.since:
        stmt = stmt.where(AuditEntry.at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEntry.at < filters.until)
    return paginate(session, stmt, page)
