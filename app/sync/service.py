"""The nightly sync from the 一卡通 feed.

Invariants:
- Each page is stored in one transaction together with the cursor after it and the run's
  counters, so a crash at any point loses nothing and duplicates nothing on the next run.
- Bad records never block good ones: they are quarantined with a reason, without any ID number
  or full name in clear.
- At most one sync runs at a time across every worker and machine: a lease row in the database,
  renewed with each page and by a heartbeat while the run lives, lapsing soon after its holder
  dies (LIANYUN_SYNC_LEASE_SECONDS). A page stored under a lease another has taken is rolled
  back.
- A run never stays `running` while its process lives: whatever goes wrong ends it as `failed`
  with a Chinese reason and the counters of the pages stored; the cursor stays where the last
  stored page left it. A run whose process died is marked `failed` by the next run.
- The same record and version again with the same content is a no-op; with other content it
  is quarantined (`version_conflict`): the platform sent two truths.
"""

import contextlib
import gc
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings, get_settings
from app.db.base import dialect_insert, utcnow
from app.db.engines import bulk_write_session_scope, session_scope
from app.db.sqlite import writers_waiting
from app.errors import Conflict, NotFound
from app.pagination import PageParams, paginate
from app.regions.models import Region, RegionLevel
from app.staff.models import Staff
from app.subsidies import service as subsidies_service
from app.subsidies.schemas import PayoutIn
from app.sync.client import FeedClient, FeedError
from app.sync.models import RejectedRecord, SyncCursor, SyncLease, SyncRun
from app.sync.pipeline import CheckedPage, PageStream
from app.sync.records import RecordChecker, Rejection, payload_to_payout, version_conflict

logger = logging.getLogger(__name__)

FEED = "yikatong"
LEASE = "payout-sync"
HEARTBEATS_PER_LEASE = 6
PAGE_SIZE = 5000
# Pages are committed in groups (one commit per page wrote the same index pages to the WAL again
# and again): up to this many records or this many seconds, and always before waiting for the
# feed, so that the write lock is never held while idle. A crash re-fetches at most one group.
COMMIT_RECORDS = 50_000
COMMIT_SECONDS = 0.5


class SyncAlreadyRunning(Conflict):
    code = "sync_running"
    title = "同步正在进行"


class FeedNotConfigured(Conflict):
    code = "feed_not_configured"
    title = "未配置一卡通接口"


class LeaseLost(Exception):
    """Another run took the lease (this one stalled past its expiry): stop writing."""


# --- the lease -----------------------------------------------------------------------------


def acquire_lease(
    holder: str, *, seconds: int | None = None, session: Session | None = None
) -> bool:
    """Take the lease for `holder` (for `seconds`, by default LIANYUN_SYNC_LEASE_SECONDS) if it
    is free, expired or theirs already; in its own transaction, or in `session`'s (a request
    that must not wait on itself for the lock)."""
    if seconds is None:
        seconds = get_settings().sync_lease_seconds
    if session is None:
        with session_scope().begin() as own:
            return _acquire(own, holder, seconds)
    return _acquire(session, holder, seconds)


def _acquire(session: Session, holder: str, seconds: int) -> bool:
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    taken = session.execute(  # type: ignore[attr-defined]
        update(SyncLease)
        .where(SyncLease.name == LEASE, (SyncLease.expires_at < now) | (SyncLease.holder == holder))
        .values(holder=holder, expires_at=expires)
    ).rowcount
    if taken:
        return True
    session.execute(
        dialect_insert(session, SyncLease.__table__)
        .values(name=LEASE, holder=holder, expires_at=expires)
        .on_conflict_do_nothing()
    )
    current = session.scalar(select(SyncLease.holder).where(SyncLease.name == LEASE))
    return current == holder


def renew_lease(session: Session, holder: str, *, seconds: int) -> bool:
    """Whether `holder` still held the lease, now for `seconds` more."""
    renewed = session.execute(  # type: ignore[attr-defined]
        update(SyncLease)
        .where(SyncLease.name == LEASE, SyncLease.holder == holder)
        .values(expires_at=utcnow() + timedelta(seconds=seconds))
    ).rowcount
    return bool(renewed)


def take_lease(session: Session | None = None, *, seconds: int | None = None) -> str:
    """A new holder id that now holds the lease, or SyncAlreadyRunning."""
    holder = uuid.uuid4().hex
    if not acquire_lease(holder, seconds=seconds, session=session):
        raise SyncAlreadyRunning("另一个同步正在进行，请等它结束后再试。")
    return holder


def record_staff_run(session: Session, *, actor: Staff) -> SyncRun:
    """A run a staff member starts, recorded (with who) and audited in the request's
    transaction; `run_sync(..., run_id=run.id)` carries it on once that has committed."""
    run = SyncRun(trigger="admin", started_by_id=actor.id, outcome="running")
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="sync.start",
        entity_type="sync_run",
        entity_id=run.id,
        after={"trigger": run.trigger, "outcome": run.outcome, "started_by_id": actor.id},
    )
    return run


class LeaseHeartbeat:
    """Renews `holder`'s lease from a thread of its own, every `seconds / HEARTBEATS_PER_LEASE`,
    while the context lasts: a run waiting for a slow feed keeps its lease, and the lease of a
    run whose process died lapses within `seconds`. A renewal that fails (the database busy
    or away) is tried again at the next beat."""

    def __init__(self, holder: str, *, seconds: int) -> None:
        self.holder = holder
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lianyun-sync-lease", daemon=True)

    def __enter__(self) -> "LeaseHeartbeat":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / HEARTBEATS_PER_LEASE):
            try:
                with session_scope().begin() as session:
                    renewed = renew_lease(session, self.holder, seconds=self.seconds)
            except Exception as exc:
                logger.warning("sync lease not renewed", extra={"reason": type(exc).__name__})
                continue
            if not renewed:  # taken by another: the run's next page finds out
                logger.warning("sync lease taken by another run", extra={"reason": "LeaseLost"})
                return


def feed_settings(settings: Settings) -> tuple[str, str]:
    """The feed's URL and token, or FeedNotConfigured saying what to set."""
    url = settings.feed_url
    token = settings.feed_token.get_secret_value() if settings.feed_token else ""
    if not url or not token:
        raise FeedNotConfigured("请设置 LIANYUN_FEED_URL 和 LIANYUN_FEED_TOKEN。")
    if not url.startswith(("http://", "https://")):
        raise FeedNotConfigured(f"LIANYUN_FEED_URL 应以 http:// 或 https:// 开头：{url[:60]}")
    return url, token


def release_lease(holder: str, *, session: Session | None = None) -> None:
    """Give the lease up, in its own transaction or in `session`'s (as in `acquire_lease`)."""
    if session is None:
        with session_scope().begin() as own:
            release_lease(holder, session=own)
        return
    session.execute(
        update(SyncLease)
        .where(SyncLease.name == LEASE, SyncLease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )


# --- a run ---------------------------------------------------------------------------------


def village_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Region.code).where(Region.level == RegionLevel.village)))


def _rejected_row(run_id: int | None, rejection: Rejection) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "received_at": utcnow(),
        "record_id": rejection.record_id,
        "version": rejection.version,
        "reason": rejection.reason,
        "message": rejection.message,
        "replayable": rejection.replayable,
        "payload": rejection.payload,
    }


def _store_page(
    session: Session, run_id: int, page: CheckedPage, known_persons: subsidies_service.KnownPersons
) -> dict[str, int]:
    counts = subsidies_service.store_payouts(session, page.good, known_persons=known_persons)
    bad = [*page.bad, *map(version_conflict, counts.conflicts)]
    if bad:
        session.execute(insert(RejectedRecord), [_rejected_row(run_id, r) for r in bad])
    return {
        "fetched": page.fetched,
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "rejected": len(bad),
    }


def _advance(session: Session, run_id: int, cursor: str, counts: dict[str, int]) -> None:
    """The cursor after a stored page and the run's counters, in the page's transaction."""
    session.execute(
        update(SyncCursor).where(SyncCursor.feed == FEED).values(cursor=cursor, updated_at=utcnow())
    )
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(
            pages=SyncRun.pages + 1,
            cursor_end=cursor,
            **{k: getattr(SyncRun, k) + v for k, v in counts.items()},
        )
    )


def _mark_abandoned_runs(session: Session, *, starting: int | None) -> None:
    """Runs left `running` by a process that died (we hold the lease, so none is alive but
    the one `starting`)."""
    statement = update(SyncRun).where(SyncRun.outcome == "running")
    if starting is not None:
        statement = statement.where(SyncRun.id != starting)
    session.execute(
        statement.values(
            outcome="failed",
            finished_at=utcnow(),
            error="进程意外退出，同步中断；已从上次保存的位置继续。",
        )
    )


@contextlib.contextmanager
def _gc_paused() -> Iterator[Callable[[], object]]:
    """Automatic garbage collection off while pages are stored; call what it yields after each
    commit. Storing allocates millions of short-lived objects (records, rows), and the
    collections they set off cost time although reference counting frees nearly all of them
    (see docs/performance.md#collector-paused-while-storing); the young collection after a
    commit frees the rare cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: gc.collect(1)
    finally:
        if was_enabled:
            gc.enable()


def run_sync(
    settings: Settings,
    *,
    trigger: str,
    client: FeedClient | None = None,
    page_size: int = PAGE_SIZE,
    max_pages: int | None = None,
    holder: str | None = None,
    commit_records: int = COMMIT_RECORDS,
    run_id: int | None = None,
) -> SyncRun:
    """One run from the saved cursor to the end of the feed. Raises SyncAlreadyRunning when
    another holds the lease (pass `holder` when the caller took it already); any failure ends
    the run as `failed` (returned, not raised; an interrupt such as KeyboardInterrupt is raised
    again once the run is marked). Pages are committed in groups (see COMMIT_RECORDS), each
    group with the cursor after its last page. `run_id` is a run recorded already
    (`record_staff_run`)."""
    seconds = settings.sync_lease_seconds
    if client is None and run_id is None:
        client = _feed_client(settings)  # FeedNotConfigured before anything is recorded
    if holder is None:
        holder = take_lease(seconds=seconds)
    try:
        with LeaseHeartbeat(holder, seconds=seconds):
            outcome, error, interrupted = "failed", None, None
            try:
                run_id, cursor, checker = _start_run(
                    settings, trigger, run_id, holder=holder, lease_seconds=seconds
                )
                logger.info("sync started", extra={"run_id": run_id, "trigger": trigger})
                _store_feed(
                    PageStream(
                        client or _feed_client(settings), checker, cursor, page_size, max_pages
                    ),
                    run_id,
                    holder,
                    commit_records=commit_records,
                    lease_seconds=seconds,
                )
                outcome = "succeeded"
            except BaseException as exc:
                if run_id is None:  # a new run not recorded: nothing to end
                    raise
                error = _failure_message(exc)
                # Its kind only: a message or traceback could carry a record's values.
                logger.log(
                    logging.WARNING if isinstance(exc, FeedError) else logging.ERROR,
                    "sync failed",
                    extra={"run_id": run_id, "reason": type(exc).__name__},
                )
                if not isinstance(exc, Exception):
                    interrupted = exc
            finished = _finish_run(run_id, outcome, error)
        logger.info(
            "sync finished",
            extra={"run_id": run_id, "outcome": outcome, "fetched": finished.fetched},
        )
        if interrupted is not None:
            raise interrupted
        return finished
    finally:
        release_lease(holder)


def _feed_client(settings: Settings) -> FeedClient:
    return FeedClient(*feed_settings(settings), max_page_bytes=settings.feed_max_page_bytes)


def _start_run(
    settings: Settings, trigger: str, run_id: int | None, *, holder: str, lease_seconds: int
) -> tuple[int, str | None, RecordChecker]:
    """Renew the lease (LeaseLost if another holds it: a run started by staff may begin after
    its lease lapsed), mark the runs of dead processes, then start the run `run_id` (recorded
    already) or a new one from the saved cursor."""
    with session_scope().begin() as session:
        if not renew_lease(session, holder, seconds=lease_seconds):
            raise LeaseLost
        _mark_abandoned_runs(session, starting=run_id)
        state = session.get(SyncCursor, FEED) or SyncCursor(feed=FEED, cursor=None)
        session.add(state)
        run = session.get_one(SyncRun, run_id) if run_id else SyncRun(trigger=trigger)
        run.cursor_start = run.cursor_end = state.cursor
        session.add(run)
        session.flush()
        checker = RecordChecker(
            pepper=subsidies_service.pepper(settings), villages=village_codes(session)
        )
        return run.id, state.cursor, checker


def _store_feed(
    stream: PageStream, run_id: int, holder: str, *, commit_records: int, lease_seconds: int
) -> None:
    """Store the stream's pages, committing them in groups. When the feed fails, the pages
    stored before are committed with their cursor (each is whole and checked); on any other
    error what is uncommitted is rolled back, and the cursor stays after the last page
    committed."""
    known_persons = subsidies_service.KnownPersons()
    with stream, bulk_write_session_scope()() as session, _gc_paused() as collect:
        uncommitted, since = 0, time.monotonic()
        for page in _pages_committing_on_feed_failure(stream, session):
            # The lease first: a run that stalled past it writes nothing once another has it.
            if not renew_lease(session, holder, seconds=lease_seconds):
                raise LeaseLost
            counts = _store_page(session, run_id, page, known_persons)
            _advance(session, run_id, page.next_cursor, counts)
            uncommitted += page.fetched + 1
            # Commit before waiting for the feed (no lock held while idle), often enough that
            # other writers would wait at most about COMMIT_SECONDS, and at once when one
            # waits: they wait about a page.
            if (
                uncommitted >= commit_records
                or time.monotonic() - since >= COMMIT_SECONDS
                or not stream.ready
                or writers_waiting(session)
            ):
                session.commit()
                collect()
                uncommitted, since = 0, time.monotonic()
        session.commit()


def _pages_committing_on_feed_failure(
    stream: PageStream, session: Session
) -> Iterator[CheckedPage]:
    """The stream's pages; a FeedError is raised once the pages stored so far are committed."""
    try:
        yield from stream
    except FeedError:
        session.commit()
        raise


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, FeedError | FeedNotConfigured):
        return str(exc)
    if isinstance(exc, LeaseLost):
        return "同步租约已被另一次同步接管（本次同步停顿过久），本次同步中止；未保存的页已撤回。"
    return (
        f"同步意外出错（{type(exc).__name__}），本次同步中止；已保存的页不受影响，"
        "下次同步从上次保存的位置继续。"
    )


def _finish_run(run_id: int, outcome: str, error: str | None, *, attempts: int = 3) -> SyncRun:
    """Record how the run ended. The database may have been what failed (SQLite busy past its
    wait): tried again a second later, a few times."""
    for attempt in range(1, attempts + 1):
        try:
            with session_scope().begin() as session:
                session.execute(
                    update(SyncRun)
                    .where(SyncRun.id == run_id)
                    .values(outcome=outcome, error=error, finished_at=utcnow())
                )
                return session.get_one(SyncRun, run_id)
        except OperationalError:
            if attempt == attempts:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")  # pragma: no cover


# --- staff views ---------------------------------------------------------------------------


def list_runs(session: Session, *, page: PageParams) -> tuple[list[SyncRun], int]:
    return paginate(session, select(SyncRun).order_by(SyncRun.id.desc()), page)


def get_run(session: Session, run_id: int) -> SyncRun:
    run = session.get(SyncRun, run_id)
    if run is None:
        raise NotFound("没有这次同步记录")
    return run


def list_rejected(
    session: Session, *, page: PageParams, reason: str | None, unresolved_only: bool
) -> tuple[list[RejectedRecord], int]:
    stmt = select(RejectedRecord).order_by(RejectedRecord.id.desc())
    if reason:
        stmt = stmt.where(RejectedRecord.reason == reason)
    if unresolved_only:
        stmt = stmt.where(RejectedRecord.resolved_at.is_(None))
    return paginate(session, stmt, page)


_UNREPLAYABLE_CONFLICT = (
    "重新导入时发现，一卡通平台此后送来了同一记录同一版本的另一份内容；已保留那一份。"
    "重新导入无法判断哪一份是真的，这条记录不再重新导入：请向一卡通平台核实，"
    "由平台以新的版本号重新发送正确的内容。"
)


def replay_rejected(
    session: Session, *, ids: list[int] | None, actor: Staff, lease_seconds: int
) -> dict[str, int]:
    """Try the replayable, unresolved rejections again against today's reference data. Holds
    the sync lease for the request's transaction, as every writer of payouts does (see
    `store_payouts`): SyncAlreadyRunning while a sync runs."""
    holder = take_lease(session, seconds=lease_seconds)
    stmt = select(RejectedRecord).where(
        RejectedRecord.replayable.is_(True), RejectedRecord.resolved_at.is_(None)
    )
    if ids:
        stmt = stmt.where(RejectedRecord.id.in_(ids))
    rows = list(session.scalars(stmt.order_by(RejectedRecord.id)))
    checker = RecordChecker(pepper=b"", villages=village_codes(session))
    stored: dict[RejectedRecord, PayoutIn] = {}
    now = utcnow()
    for row in rows:
        result = checker.check_references(payload_to_payout(row.payload))
        if isinstance(result, Rejection):
            row.message = result.message
            row.reason = result.reason
            continue
        stored[row] = result
    counts = subsidies_service.store_payouts(session, list(stored.values()))
    conflicts = set(counts.conflicts)
    replayed = 0
    for row, record in stored.items():
        if record in conflicts:  # the feed has sent this version since, otherwise
            # No replay can settle which truth holds: only the platform can, with a new version.
            row.reason, row.message = "version_conflict", _UNREPLAYABLE_CONFLICT
            row.replayable = False
        else:
            row.resolved_at = now
            replayed += 1
    summary = {"replayed": replayed, "still_rejected": len(rows) - replayed}
    audit.record(
        session,
        actor=actor,
        action="sync.replay",
        entity_type="sync_rejected",
        # The ids go in `after`: entity_id is a short column (64 characters).
        entity_id="selected" if ids else "all",
        after={**summary, "ids": ids} if ids else summary,
    )
    release_lease(holder, session=session)
    return summary
