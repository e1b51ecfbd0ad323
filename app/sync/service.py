"""The nightly sync from the 一卡通 feed: `run_sync` holds the lease (app.sync.lease) and takes
the run's steps (app.sync.steps) over a page source (app.sync.pages); staff see its runs and
replay what it quarantined.

Invariants:
- Each page is stored in the transaction of its group of pages, together with the cursor after
  it and the run's counters, so a crash at any point loses nothing and duplicates nothing on
  the next run.
- Bad records never block good ones: they are quarantined with a reason, without any ID number
  or full name in clear.
- At most one sync runs at a time across every worker and machine: a lease row in the database,
  renewed with each page and by a heartbeat while the run lives, lapsing soon after its holder
  dies (LIANYUN_SYNC_LEASE_SECONDS). A page stored under a lease another has taken is rolled
  back.
- A run never stays `running` while its process lives: whatever goes wrong ends it as `failed`
  with a Chinese reason and the counters of the pages stored; the cursor stays where the last
  stored page left it. A run whose process died is marked `failed` by the next run.
- After a run that succeeded, an incremental screening of what it stored (app.screening.runs.
  screen_after_sync), still inside its lease; a screening that fails is recorded as failed and
  leaves the sync succeeded. Then, succeeded or not, the screening runs owed because a list or
  a standard changed while the run held the lease (app.screening.runs.run_owed).
- The same record and version again with the same content is a no-op; with other content it
  is quarantined (`version_conflict`): the platform sent two truths.
"""

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.db.base import utcnow
from app.errors import Conflict, NotFound
from app.pagination import PageParams, paginate
from app.screening import runs as screening_runs
from app.staff.models import Staff
from app.subsidies import service as subsidies_service
from app.subsidies.schemas import PayoutIn
from app.sync import lease, steps
from app.sync.client import FeedClient, FeedError
from app.sync.models import RejectedRecord, SyncRun
from app.sync.pages import FeedJob, PageSource, PageSourceFactory
from app.sync.pipeline import PageStream
from app.sync.records import RecordChecker, Rejection, payload_to_payout

logger = logging.getLogger(__name__)

PAGE_SIZE = 5000


class FeedNotConfigured(Conflict):
    code = "feed_not_configured"
    title = "未配置一卡通接口"


def feed_settings(settings: Settings) -> tuple[str, str]:
    """The feed's URL and token, or FeedNotConfigured saying what to set."""
    url = settings.feed_url
    token = settings.feed_token.get_secret_value() if settings.feed_token else ""
    if not url or not token:
        raise FeedNotConfigured("请设置 LIANYUN_FEED_URL 和 LIANYUN_FEED_TOKEN。")
    if not url.startswith(("http://", "https://")):
        raise FeedNotConfigured(f"LIANYUN_FEED_URL 应以 http:// 或 https:// 开头：{url[:60]}")
    return url, token


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


# --- a run ---------------------------------------------------------------------------------


def run_sync(
    settings: Settings,
    *,
    trigger: str,
    client: FeedClient | None = None,
    page_size: int = PAGE_SIZE,
    max_pages: int | None = None,
    holder: str | None = None,
    commit_records: int = steps.COMMIT_RECORDS,
    run_id: int | None = None,
    pages: PageSourceFactory = PageStream,
) -> SyncRun:
    """One run from the saved cursor to the end of the feed, under the lease (SyncAlreadyRunning
    when another holds it; pass `holder` when the caller took it already). Any failure ends
    the run as `failed` (returned, not raised; an interrupt such as KeyboardInterrupt is raised
    again once the run is marked). `run_id` is a run recorded already (`record_staff_run`);
    `pages` makes the page source (the child process by default, app.sync.pages)."""
    if client is None and run_id is None:
        client = _feed_client(settings)  # FeedNotConfigured before anything is recorded
    with lease.held(holder, seconds=settings.sync_lease_seconds) as holder:
        finished, interrupted = _run_to_end(
            settings,
            trigger,
            run_id,
            holder,
            lambda run: pages(
                FeedJob(
                    client or _feed_client(settings), run.checker, run.cursor, page_size, max_pages
                )
            ),
            steps.CommitPolicy(records=commit_records),
        )
        if finished.outcome == "succeeded":  # in the lease: no payout changes under it
            screening_runs.screen_after_sync(finished.id)
        # Runs owed because a list or a standard changed while this run held the lease.
        screening_runs.run_owed()
    logger.info(
        "sync finished",
        extra={"run_id": finished.id, "outcome": finished.outcome, "fetched": finished.fetched},
    )
    if interrupted is not None:
        raise interrupted
    return finished


def _run_to_end(
    settings: Settings,
    trigger: str,
    run_id: int | None,
    holder: str,
    source_for: Callable[[steps.Run], PageSource],
    policy: steps.CommitPolicy,
) -> tuple[SyncRun, BaseException | None]:
    """The steps, and the run ended with its outcome; an interrupt is handed back to raise."""
    outcome, error, interrupted = "failed", None, None
    try:
        run = steps.start(
            settings, trigger, run_id, holder=holder, lease_seconds=settings.sync_lease_seconds
        )
        run_id = run.id
        logger.info("sync started", extra={"run_id": run_id, "trigger": trigger})
        steps.store_pages(source_for(run), run, policy)
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
    return steps.finish(run_id, outcome, error), interrupted


def _feed_client(settings: Settings) -> FeedClient:
    return FeedClient(*feed_settings(settings), max_page_bytes=settings.feed_max_page_bytes)


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, FeedError | FeedNotConfigured):
        return str(exc)
    if isinstance(exc, lease.LeaseLost):
        return "同步租约已被另一次同步接管（本次同步停顿过久），本次同步中止；未保存的页已撤回。"
    return (
        f"同步意外出错（{type(exc).__name__}），本次同步中止；已保存的页不受影响，"
        "下次同步从上次保存的位置继续。"
    )


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
    holder = lease.take(session, seconds=lease_seconds)
    stmt = select(RejectedRecord).where(
        RejectedRecord.replayable.is_(True), RejectedRecord.resolved_at.is_(None)
    )
    if ids:
        stmt = stmt.where(RejectedRecord.id.in_(ids))
    rows = list(session.scalars(stmt.order_by(RejectedRecord.id)))
    checker = RecordChecker(pepper=b"", villages=steps.village_codes(session))
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
    lease.release(session, holder)
    return summary
