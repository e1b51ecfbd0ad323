import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.config import get_settings
from app.db.engines import session_scope
from app.main import create_app
from app.scheduler import start_scheduler
from app.staff.models import Role
from app.sync import scheduler
from app.sync.models import SyncRun
from tests.factories import auth_headers, make_staff
from tests.sync.feed_server import TOKEN, TinyFeed, serving
from tests.sync.leases import acquire_lease
from tests.sync.test_service import record


def test_the_nightly_job_runs_at_the_configured_time_in_the_county_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIANYUN_FEED_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LIANYUN_SYNC_CRON", "30 2 * * *")
    get_settings.cache_clear()
    try:
        job_scheduler = start_scheduler(get_settings())
        job = job_scheduler.get_job("payout-sync")
        next_run = job.next_run_time.astimezone(ZoneInfo("Asia/Shanghai"))
        job_scheduler.shutdown()  # waits for a started job: its log line must not outlive the test
    finally:
        get_settings.cache_clear()
    assert (next_run.hour, next_run.minute) == (2, 30)
    assert next_run > datetime.now(ZoneInfo("Asia/Shanghai"))


def test_no_feed_no_sync_job_but_tips_are_still_purged() -> None:
    job_scheduler = start_scheduler(get_settings())
    try:
        assert job_scheduler.get_job("payout-sync") is None
        purge = job_scheduler.get_job("tips-purge")
        assert purge.next_run_time.astimezone(ZoneInfo("Asia/Shanghai")).hour == 3
    finally:
        job_scheduler.shutdown()  # waits for a started job: its log line must not outlive the test


def test_a_scheduled_run_yields_to_one_already_running(
    committed_db: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIANYUN_FEED_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LIANYUN_FEED_TOKEN", "token")
    get_settings.cache_clear()
    assert acquire_lease("another-worker")
    with caplog.at_level("INFO"):
        scheduler.run_scheduled_sync()
    assert "another worker holds the lease" in caplog.text
    with session_scope()() as session:
        assert session.scalars(select(SyncRun)).all() == []


def test_an_admin_starts_a_run_now(committed_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(TinyFeed([record(1), record(2)])) as url:
        monkeypatch.setenv("LIANYUN_FEED_URL", url)
        monkeypatch.setenv("LIANYUN_FEED_TOKEN", TOKEN)
        get_settings.cache_clear()
        with session_scope().begin() as session:
            admin = make_staff(session, role=Role.county_admin)
            headers = auth_headers(admin)
        with TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client:
            response = client.post("/api/v1/admin/sync/runs", headers=headers)
            assert response.status_code == 202
            run_id = response.json()["run_id"]
            deadline = time.monotonic() + 10
            runs: list[dict[str, object]] = []
            while time.monotonic() < deadline:
                runs = client.get("/api/v1/admin/sync/runs", headers=headers).json()["items"]
                if runs and runs[0]["outcome"] != "running":
                    break
                time.sleep(0.05)
    assert [run["id"] for run in runs] == [run_id]  # the run the request recorded, carried on
    assert runs[0]["outcome"] == "succeeded" and runs[0]["trigger"] == "admin"
    assert runs[0]["created"] == 2
    assert runs[0]["started_by_id"] == admin.id
    with session_scope()() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "sync.start")).one()
    assert (entry.actor_id, entry.actor_username) == (admin.id, admin.username)
    assert (entry.entity_type, entry.entity_id) == ("sync_run", str(run_id))


def test_a_second_start_while_one_runs_is_refused(
    committed_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIANYUN_FEED_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LIANYUN_FEED_TOKEN", "token")
    get_settings.cache_clear()
    with session_scope().begin() as session:
        headers = auth_headers(make_staff(session, role=Role.county_admin))
    assert acquire_lease("a-run-in-progress")
    with TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client:
        response = client.post("/api/v1/admin/sync/runs", headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "sync_running"
