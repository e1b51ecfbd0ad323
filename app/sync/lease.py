"""The sync lease: at most one writer of payouts at a time, across every worker and machine.

One row in `sync_lease` names its holder and when it lapses. Every function here works in the
caller's transaction, so the lease is taken, checked and given up together with what the caller
writes (a staff request records its run and takes the lease in one commit; the quarantine
replay holds it for its own transaction). A run holds it for its whole length with `held`:
a heartbeat renews it in transactions of its own while the run lives, so the lease of a run
whose process died lapses within LIANYUN_SYNC_LEASE_SECONDS, and each page checks it (`keep`)
in its own transaction before writing, so a run that stalled past its lease writes nothing
once another has it.
"""

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.base import dialect_insert, utcnow
from app.db.engines import session_scope
from app.errors import Conflict
from app.sync.models import SyncLease

logger = logging.getLogger(__name__)

NAME = "payout-sync"
HEARTBEATS_PER_LEASE = 6


class SyncAlreadyRunning(Conflict):
    code = "sync_running"
    title = "同步正在进行"


class LeaseLost(Exception):
    """Another run took the lease (this one stalled past its expiry): stop writing."""


def acquire(session: Session, holder: str, *, seconds: int) -> bool:
    """Take the lease for `holder` for `seconds` if it is free, lapsed or theirs already."""
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    taken = session.execute(  # type: ignore[attr-defined]
        update(SyncLease)
        .where(SyncLease.name == NAME, (SyncLease.expires_at < now) | (SyncLease.holder == holder))
        .values(holder=holder, expires_at=expires)
    ).rowcount
    if taken:
        return True
    session.execute(
        dialect_insert(session, SyncLease.__table__)
        .values(name=NAME, holder=holder, expires_at=expires)
        .on_conflict_do_nothing()
    )
    current = session.scalar(select(SyncLease.holder).where(SyncLease.name == NAME))
    return current == holder


def take(session: Session, *, seconds: int) -> str:
    """A new holder id that now holds the lease, or SyncAlreadyRunning."""
    holder = uuid.uuid4().hex
    if not acquire(session, holder, seconds=seconds):
        raise SyncAlreadyRunning("另一个同步正在进行，请等它结束后再试。")
    return holder


def renew(session: Session, holder: str, *, seconds: int) -> bool:
    """Whether `holder` still held the lease, now for `seconds` more."""
    renewed = session.execute(  # type: ignore[attr-defined]
        update(SyncLease)
        .where(SyncLease.name == NAME, SyncLease.holder == holder)
        .values(expires_at=utcnow() + timedelta(seconds=seconds))
    ).rowcount
    return bool(renewed)


def keep(session: Session, holder: str, *, seconds: int) -> None:
    """Renew the lease before writing under it; LeaseLost if another holds it now."""
    if not renew(session, holder, seconds=seconds):
        raise LeaseLost


def release(session: Session, holder: str) -> None:
    session.execute(
        update(SyncLease)
        .where(SyncLease.name == NAME, SyncLease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )


@contextmanager
def held(holder: str | None, *, seconds: int) -> Iterator[str]:
    """The lease held for a run while the context lasts: taken now (SyncAlreadyRunning if
    another holds it) unless the caller took it already as `holder` (a staff request), renewed
    by the heartbeat, given up at the end however the context is left."""
    if holder is None:
        with session_scope().begin() as session:
            holder = take(session, seconds=seconds)
    try:
        with _Heartbeat(holder, seconds=seconds):
            yield holder
    finally:
        with session_scope().begin() as session:
            release(session, holder)


class _Heartbeat:
    """Renews `holder`'s lease from a thread of its own, every `seconds / HEARTBEATS_PER_LEASE`:
    a run waiting for a slow feed keeps its lease. A renewal that fails (the database busy or
    away) is tried again at the next beat."""

    def __init__(self, holder: str, *, seconds: int) -> None:
        self.holder = holder
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lianyun-sync-lease", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / HEARTBEATS_PER_LEASE):
            try:
                with session_scope().begin() as session:
                    renewed = renew(session, self.holder, seconds=self.seconds)
            except Exception as exc:
                logger.warning("sync lease not renewed", extra={"reason": type(exc).__name__})
                continue
            if not renewed:  # taken by another: the run's next group finds out
                logger.warning("sync lease taken by another run", extra={"reason": "LeaseLost"})
                return
