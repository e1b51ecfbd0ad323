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
from sqlalchemy import select

from app.config import get_settings
from app.db import session_scope, utcnow
from app.sync import service
from app.sync.models import SyncLease, SyncRun
from tests.faults.feed import Blocking
from tests.faults.test_feed import client_for
from tests.sync.feed_server import TOKEN, TinyFeed, serving
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
                get_settings(), trigger="cli", client=client_for(url), page_size=5
            )
        except service.SyncAlreadyRunning:
            return None

    # Before, the dead run's lease was held for 300 s; now it lapses within LEASE_SECONDS.
    resumed = wait_for(next_run, seconds=30)
    assert (resumed.outcome, resumed.cursor_start, resumed.created) == ("succeeded", "5", 5)
    dead = first_run()
    assert dead is not None and dead.outcome == "failed"
    assert dead.error is not None and "进程意外退出" in dead.error
    assert (dead.pages, dead.fetched, dead.created) == (1, 5, 5)  # its counters kept


def test_a_live_sync_keeps_its_lease_past_its_expiry_while_the_feed_is_slow(
    held_feed: tuple[Blocking, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    held, url = held_feed
    monkeypatch.setenv("LIANYUN_SYNC_LEASE_SECONDS", str(LEASE_SECONDS))
    get_settings.cache_clear()
    runs: list[SyncRun] = []
    worker = threading.Thread(
        target=lambda: runs.append(
            service.run_sync(get_settings(), trigger="cli", client=client_for(url), page_size=5)
        )
    )
    worker.start()
    try:
        assert held.entered.wait(60)
        # The first page stored (its transaction renewed the lease too), the second held.
        wait_for(lambda: (run := first_run()) is not None and run.pages == 1)
        with session_scope()() as session:
            first_expiry = session.scalars(select(SyncLease.expires_at)).one()
        wait_for(lambda: utcnow() > first_expiry + timedelta(seconds=1))
        assert not service.acquire_lease("an-intruder")  # renewed by the run's heartbeat
    finally:
        held.release.set()
        worker.join()
    assert runs[0].outcome == "succeeded" and runs[0].created == 10
