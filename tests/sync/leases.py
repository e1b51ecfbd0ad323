"""The sync lease taken and given up as another worker would: in a transaction of its own, or in
`session`'s."""

from sqlalchemy.orm import Session

from app.config import get_settings
from app.db.engines import session_scope
from app.sync import lease


def acquire_lease(holder: str, *, session: Session | None = None) -> bool:
    if session is None:
        with session_scope().begin() as own:
            return acquire_lease(holder, session=own)
    return lease.acquire(session, holder, seconds=get_settings().sync_lease_seconds)


def release_lease(holder: str, *, session: Session | None = None) -> None:
    if session is None:
        with session_scope().begin() as own:
            release_lease(holder, session=own)
        return
    lease.release(session, holder)
