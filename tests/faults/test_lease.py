"""The sync's lease: a dead run's lapses soon (a heartbeat renews it while the run lives), and
the next run marks the dead one failed. A real `lianyun sync` process is killed with SIGKILL."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select, text, update

from app.config import get_settings
from app.db.base import utcnow
from app.db.engines import engine_for, session_scope
from app.sync import scheduler, service
from app.sync.lease import SyncAlreadyRunning
from app.sync.models import SyncLease, SyncRun
from tests.factories import make_staff
from tests.faults.feed import Blocking
from tests.faults.test_feed import feed_client
from tests.sync.feed_server import TOKEN, TinyFeed, serving
from tests.sync.leases import acquire_lease, release_lease
from tests.sync.test_service import record

LEASE_SECONDS = 2
_T = TypeVar("_T")


def wait_for(condition: Callable[[], _T | None], *, seconds: float = 30.0) -> _T:
    """What `condition` returns once it is truthy; fails past `seconds`."""
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)
    return found


def first_run() -> SyncRun | None:
    with session_scope()() as session:
        return session.scalars(select(SyncRun).order_by(SyncRun.id)).first()


@pytest.fixture
def held_feed(committed_db: str) -> Iterator[tuple[Blocking, str]]:
    """Ten records in pages of five; the second page is held until released."""
    tiny = TinyFeed([record(n) for n in range(1, 11)])
    held = Blocking(then=lambda _receive, send: tiny.serve_page(send, "5", 5))
    tiny.answers["5"] = held
    with serving(tiny) as url:
        yield held, url
        held.release.set()


def test_a_killed_sync_s_lease_lapses_and_the_next_run_marks_it_failed(
    held_feed: tuple[Blocking, str],
) -> None:
    held, url = held_feed
    env = {
        **os.environ,
        "LIANYUN_FEED_URL": url,
        "LIANYUN_FEED_TOKEN": TOKEN,
        "LIANYUN_SYNC_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "sync", "--limit", "5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert held.entered.wait(60)
        wait_for(lambda: (run := first_run()) is not None and run.pages == 1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    held.release.set()

    def next_run() -> SyncRun | None:
        try:
            return service.run_sync(
                get_settings(), trigger="cli", client=feed_client(url), page_size=5
            )
        except SyncAlreadyRunning:
            return None

    # Before, the dead run's lease was held for 300 s; now it lapses within LEASE_SECONDS.
    resumed = wait_for(next_run, seconds=30)
    assert (resumed.outcome, resumed.cursor_start, resumed.created) == ("succeeded", "5", 5)
    dead = first_run()
    assert dead is not None and dead.outcome == "failed"
    assert dead.error is not None and "进程意外退出" in dead.error
    assert (dead.pages, dead.fetched, dead.created) == (1, 5, 5)  # its counters kept


def sync_in_thread(url: str) -> tuple[threading.Thread, list[SyncRun]]:
    """A sync of pages of five from `url`, started in a thread; the run lands in the list."""
    runs: list[SyncRun] = []
    worker = threading.Thread(
        target=lambda: runs.append(
            service.run_sync(get_settings(), trigger="cli", client=feed_client(url), page_size=5)
        )
    )
    worker.start()
    return worker, runs


def test_a_live_sync_keeps_its_lease_past_its_expiry_while_the_feed_is_slow(
    held_feed: tuple[Blocking, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    held, url = held_feed
    monkeypatch.setenv("LIANYUN_SYNC_LEASE_SECONDS", str(LEASE_SECONDS))
    get_settings.cache_clear()
    worker, runs = sync_in_thread(url)
    try:
        assert held.entered.wait(60)
        # The first page stored (its transaction renewed the lease too), the second held.
        wait_for(lambda: (run := first_run()) is not None and run.pages == 1)
        with session_scope()() as session:
            first_expiry = session.scalars(select(SyncLease.expires_at)).one()
        wait_for(lambda: utcnow() > first_expiry + timedelta(seconds=1))
        assert not acquire_lease("an-intruder")  # renewed by the run's heartbeat
    finally:
        held.release.set()
        worker.join()
    assert runs[0].outcome == "succeeded" and runs[0].created == 10


def record_a_staff_run(holder: str) -> int:
    """What a staff member's request commits: the lease taken and the run recorded."""
    with session_scope().begin() as session:
        assert acquire_lease(holder, session=session)
        return service.record_staff_run(session, actor=make_staff(session)).id


def test_a_staff_run_that_starts_after_its_lease_was_taken_leaves_the_live_run_alone(
    held_feed: tuple[Blocking, str],
) -> None:
    """The thread of a staff run started late: its lease had lapsed and another run held it.
    It marked that live run failed as if its process had died, then stored pages."""
    _, url = held_feed
    late = record_a_staff_run("the-late-request")
    release_lease("the-late-request")  # lapsed
    assert acquire_lease("a-live-run")
    with session_scope().begin() as session:
        live = SyncRun(trigger="schedule", outcome="running")
        session.add(live)
    run = service.run_sync(
        get_settings(),
        trigger="admin",
        holder="the-late-request",
        run_id=late,
        client=feed_client(url),
        page_size=5,
    )
    assert (run.id, run.outcome, run.fetched) == (late, "failed", 0)
    assert run.error is not None and "租约已被另一次同步接管" in run.error
    with session_scope()() as session:
        assert session.get_one(SyncRun, live.id).outcome == "running"
    assert not acquire_lease("an-intruder")  # still the live run's


def test_a_staff_run_that_fails_before_its_first_page_is_ended_with_its_reason(
    committed_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The feed's settings gone between the request and the run: the run stayed `running`,
    to be called a dead process's by the next run, and the error was logged with its
    traceback."""
    run_id = record_a_staff_run("a-staff-request")
    with caplog.at_level("INFO"):
        scheduler.run_in_thread(get_settings(), holder="a-staff-request", run_id=run_id)
        run = wait_for(
            lambda: (found := first_run()) is not None and found.outcome != "running" and found
        )
    assert run.id == run_id and run.outcome == "failed"
    assert run.error is not None and "LIANYUN_FEED_URL" in run.error
    assert all(entry.exc_info is None for entry in caplog.records)
    wait_for(lambda: acquire_lease("the-next-run"))  # let go


def test_a_run_whose_lease_was_taken_while_it_waited_writes_no_more_pages(
    held_feed: tuple[Blocking, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The lease was checked after the page was written: a run that stalled past its lease
    wrote persons and payouts (and waited on the new holder's locks) before it found out. On
    PostgreSQL the new holder's locks on those tables made that run wait until they were let
    go; SQLite has one write lock, so there nothing can be held that the page's writes alone
    would wait for."""
    held, url = held_feed
    monkeypatch.setenv("LIANYUN_SYNC_LEASE_SECONDS", str(LEASE_SECONDS))
    get_settings.cache_clear()
    caplog.set_level("WARNING", logger="app.sync.lease")
    worker, _ = sync_in_thread(url)
    try:
        assert held.entered.wait(60)
        wait_for(lambda: (run := first_run()) is not None and run.pages == 1)
        with session_scope().begin() as session:  # the run stalled past its lease
            session.execute(
                update(SyncLease).values(
                    holder="a-new-holder", expires_at=utcnow() + timedelta(minutes=5)
                )
            )
        wait_for(lambda: "sync lease taken by another run" in caplog.messages)
        with engine_for(get_settings().database_url).connect() as new_holder:
            if new_holder.dialect.name == "postgresql":
                new_holder.execute(text("LOCK TABLE person, payout IN EXCLUSIVE MODE"))
            held.release.set()
            ended = wait_for(
                lambda: (run := first_run()) is not None and run.outcome != "running" and run
            )
            new_holder.rollback()
    finally:
        held.release.set()
        worker.join()
    assert ended.outcome == "failed" and ended.error is not None
    assert "租约已被另一次同步接管" in ended.error
    assert (ended.pages, ended.created) == (1, 5)
