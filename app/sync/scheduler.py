"""Running the sync outside a request: the nightly job (scheduled by app.scheduler) and a run
started by staff. Every worker schedules the nightly job; the database lease lets exactly one of
them run it."""

import logging
import threading

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.staff.models import Staff
from app.sync import lease, service
from app.sync.client import FeedError
from app.sync.models import SyncRun

logger = logging.getLogger(__name__)


def run_scheduled_sync() -> None:
    settings = get_settings()
    try:
        service.run_sync(settings, trigger="schedule")
    except lease.SyncAlreadyRunning:
        logger.info("scheduled sync skipped: another worker holds the lease")
    except (service.FeedNotConfigured, FeedError) as exc:
        logger.warning("scheduled sync not run: %s", type(exc).__name__)


def start_in_background(
    settings: Settings, *, session: Session, actor: Staff, background: BackgroundTasks
) -> SyncRun:
    """Take the lease and record the run (who started it, audited) in the request's
    transaction, so that a second call is refused at once; the run goes on in a thread started
    after the response, so after the request has committed the run and the lease."""
    service.feed_settings(settings)
    holder = lease.take(session, seconds=settings.sync_lease_seconds)
    run = service.record_staff_run(session, actor=actor)
    background.add_task(run_in_thread, settings, holder=holder, run_id=run.id)
    return run


def run_in_thread(settings: Settings, *, holder: str, run_id: int) -> None:
    def work() -> None:
        try:
            service.run_sync(settings, trigger="admin", holder=holder, run_id=run_id)
        except Exception as exc:  # run_sync ended the run and let the lease go where it could
            # Its kind only: a message or traceback could carry a record's values.
            logger.error(
                "sync started by staff failed",
                extra={"run_id": run_id, "reason": type(exc).__name__},
            )

    threading.Thread(target=work, name="lianyun-sync", daemon=True).start()
