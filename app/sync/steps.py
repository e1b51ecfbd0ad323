"""The steps of one sync run, in order (`app.sync.service.run_sync` strings them together):

1. `start`: under the lease, mark the runs of dead processes failed and record this run from
   the saved cursor;
2. pages: a page source (app.sync.pages) fetches the feed from that cursor and checks it;
3. `store_pages`: each page stored with the cursor after it and the run's counters, the pages
   committed in groups when the `CommitPolicy` says;
4. `finish`: the run's outcome recorded.

A crash at any point loses nothing and doubles nothing: the cursor moves only in the commit
that stores the pages before it.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import collector
from app.config import Settings
from app.db.base import utcnow
from app.db.engines import bulk_write_session, session_scope
from app.db.sqlite import writers_waiting
from app.regions.models import Region, RegionLevel
from app.subsidies import service as subsidies_service
from app.sync import lease
from app.sync.client import FeedError
from app.sync.models import RejectedRecord, SyncCursor, SyncRun
from app.sync.pages import CheckedPage, PageSource
from app.sync.records import RecordChecker, Rejection, version_conflict

FEED = "yikatong"
# Pages are committed in groups (one commit per page wrote the same index pages to the WAL again
# and again): up to this many records or this many seconds. A crash re-fetches at most a group.
COMMIT_RECORDS = 50_000
COMMIT_SECONDS = 0.5


@dataclass
class CommitPolicy:
    """When the pages stored so far are committed: after `records` records (a page counts one
    more, for its cursor) or `seconds`; before waiting for the feed, so that the write lock is
    never held while idle; and at once when another writer waits for SQLite's write lock
    (app.db.sqlite.writers_waiting; never on PostgreSQL), so that it waits about a page."""

    records: int = COMMIT_RECORDS
    seconds: float = COMMIT_SECONDS
    _uncommitted: int = field(default=0, init=False)
    _since: float = field(default_factory=time.monotonic, init=False)

    def due(self, session: Session, *, stored: int, next_page_ready: bool) -> bool:
        """Whether to commit now, `stored` more records having been stored."""
        self._uncommitted += stored
        return (
            self._uncommitted >= self.records
            or time.monotonic() - self._since >= self.seconds
            or not next_page_ready
            or writers_waiting(session)
        )

    def committed(self) -> None:
        self._uncommitted, self._since = 0, time.monotonic()


@dataclass(frozen=True)
class Run:
    """A run once started: what its steps need."""

    id: int
    holder: str
    lease_seconds: int
    cursor: str | None
    checker: RecordChecker


def start(
    settings: Settings, trigger: str, run_id: int | None, *, holder: str, lease_seconds: int
) -> Run:
    """Check the lease is still `holder`'s (LeaseLost if not: a run started by staff may begin
    after its lease lapsed), mark the runs of dead processes failed, then start the run
    `run_id` (recorded already) or a new one, from the saved cursor."""
    with session_scope().begin() as session:
        lease.keep(session, holder, seconds=lease_seconds)
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
        return Run(run.id, holder, lease_seconds, state.cursor, checker)


def village_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Region.code).where(Region.level == RegionLevel.village)))


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


def store_pages(source: PageSource, run: Run, policy: CommitPolicy) -> None:
    """Store the source's pages, committing them in groups as `policy` says. When the feed
    fails, the pages stored before are committed with their cursor (each is whole and
    checked); on any other error what is uncommitted is rolled back, and the cursor stays
    after the last page committed."""
    known_persons = subsidies_service.KnownPersons()
    with source, bulk_write_session() as session, collector.paused() as collect:
        for page in _committing_on_feed_failure(source, session):
            store_page(session, run, page, known_persons)
            if policy.due(session, stored=page.fetched + 1, next_page_ready=source.ready):
                session.commit()
                collect()
                policy.committed()
        session.commit()


def store_page(
    session: Session,
    run: Run,
    page: CheckedPage,
    known_persons: subsidies_service.KnownPersons,
) -> None:
    """One page, in the group's transaction: the lease checked first (a run that stalled past
    it writes nothing once another has it), then its payouts, its rejections, and the cursor
    after it with the run's counters."""
    lease.keep(session, run.holder, seconds=run.lease_seconds)
    counts = subsidies_service.store_payouts(session, page.good, known_persons=known_persons)
    bad = [*page.bad, *map(version_conflict, counts.conflicts)]
    if bad:
        session.execute(insert(RejectedRecord), [rejected_row(run.id, r) for r in bad])
    _advance(
        session,
        run.id,
        page.next_cursor,
        {
            "fetched": page.fetched,
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "rejected": len(bad),
        },
    )


def rejected_row(run_id: int | None, rejection: Rejection) -> dict[str, Any]:
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


def _committing_on_feed_failure(source: PageSource, session: Session) -> Iterator[CheckedPage]:
    """The source's pages; a FeedError is raised once the pages stored so far are committed."""
    try:
        yield from source
    except FeedError:
        session.commit()
        raise


def finish(run_id: int, outcome: str, error: str | None, *, attempts: int = 3) -> SyncRun:
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
