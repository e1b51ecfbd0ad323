"""Running the sync outside a request: the nightly job (scheduled by app.scheduler) and a run
started by staff. Every worker schedules the nightly job; the database lease lets exactly one of
them run it."""

import logging
import threading

from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.sync import service
from app.sync.client import FeedError

logger = logging.getLogger(__name__)


def run_scheduled_sync() -> None:
    settings = get_settings()
    try:
        service.run_sync(settings, trigger="schedule")
    except service.SyncAlreadyRunning:
        logger.info("scheduled sync skipped: another worker holds the lease")
    except (service.FeedNotConfigured, FeedError) as exc:
        logger.warning("scheduled sync not run: %s", type(exc).__name__)


def start_in_background(settings: Settings, trigger: str, session: Session) -> None:
    """Take the lease now, in the request's transaction (so that a second call is refused at
    once), then run in a thread, which goes on once the request has committed."""
    service.feed_settings(settings)
    holder = service.take_lease(session, seconds=settings.sync_lease_seconds)

    def work() -> None:
        try:
            service.run_sync(settings, trigger=trigger, holder=holder)
        except Exception:
            logger.exception("sync started by staff failed")
            service.release_lease(holder)

    threading.Thread(target=work, name="lianyun-sync", daemon=True).start()
