"""The jobs that run inside `lianyun serve` (APScheduler, Asia/Shanghai):
- the nightly payout sync at LIANYUN_SYNC_CRON, when a feed is configured;
- the daily purge of tips past their retention time (LIANYUN_TIP_RETENTION_DAYS);
- the gauges of overdue 阳光问廉 items and 云端话廉 questions, counted again every few
  minutes (and at start);
- the screening runs owed because a list or a standard changed during a sync, every few minutes
  (app.screening.runs.run_owed_in_lease);
- a full screening of every line at LIANYUN_SCREENING_FULL_CRON (weekly by default), which
  finds and withdraws what the incremental runs after the syncs missed;
- exam attempts past their deadline finalised with what was saved, every minute."""

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from app.config import Settings, get_settings
from app.db.engines import session_scope
from app.exams import service as exams_service
from app.forum import service as forum_service
from app.inquiries import stats as inquiries_stats
from app.observability import INQUIRIES_OVERDUE, QUESTIONS_OVERDUE
from app.schemas import COUNTY_TZ
from app.screening import runs as screening_runs
from app.sync.scheduler import run_scheduled_sync
from app.tips import service as tips_service

logger = logging.getLogger(__name__)
TIMEZONE = "Asia/Shanghai"
PURGE_CRON = "30 3 * * *"
OVERDUE_GAUGE_MINUTES = 5
EXAM_FINALISE_SECONDS = 60
OWED_SCREENING_MINUTES = 5


def run_scheduled_purge() -> None:
    settings = get_settings()
    with session_scope().begin() as session:
        summary = tips_service.purge_expired(
            session, datetime.now(COUNTY_TZ).date(), settings=settings
        )
    logger.info("tips purged", extra={"purged": summary.purged})


def refresh_overdue_gauge() -> None:
    with session_scope().begin() as session:
        INQUIRIES_OVERDUE.set(inquiries_stats.count_overdue(session))
        QUESTIONS_OVERDUE.set(forum_service.count_overdue(session))


def finalise_overdue_attempts() -> None:
    with session_scope().begin() as session:
        finalised = exams_service.finalise_overdue(session)
    if finalised:
        logger.info("exam attempts finalised past their deadline", extra={"finalised": finalised})


def run_owed_screening() -> None:
    screening_runs.run_owed_in_lease(get_settings())


def run_scheduled_full_screening() -> None:
    screening_runs.run_full_in_lease(get_settings())


def start_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=TIMEZONE)
    if settings.feed_url:
        scheduler.add_job(
            run_scheduled_sync,
            CronTrigger.from_crontab(settings.sync_cron, timezone=TIMEZONE),
            id="payout-sync",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
    else:
        logger.info("no LIANYUN_FEED_URL: nightly sync not scheduled")
    scheduler.add_job(
        run_scheduled_purge,
        CronTrigger.from_crontab(PURGE_CRON, timezone=TIMEZONE),
        id="tips-purge",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    scheduler.add_job(
        refresh_overdue_gauge,
        "interval",
        minutes=OVERDUE_GAUGE_MINUTES,
        id="inquiries-overdue-gauge",
        next_run_time=datetime.now(COUNTY_TZ),
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        finalise_overdue_attempts,
        "interval",
        seconds=EXAM_FINALISE_SECONDS,
        id="exams-finalise-overdue",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        run_owed_screening,
        "interval",
        minutes=OWED_SCREENING_MINUTES,
        id="screening-owed",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        run_scheduled_full_screening,
        CronTrigger.from_crontab(settings.screening_full_cron, timezone=TIMEZONE),
        id="screening-full",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    scheduler.start()
    return scheduler
