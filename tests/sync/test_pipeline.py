"""The child process that fetches and checks the feed: it never outlives the sync, and a child
that dies is a failed run, never a hang."""

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.sync.client import FeedClient, FeedUnavailable
from app.sync.pages import FeedJob
from app.sync.pipeline import PageStream
from app.sync.records import RecordChecker
from tests.factories import SANGUANZHAI
from tests.sync.feed_server import TOKEN, TinyFeed, serving
from tests.sync.test_service import record

CHECKER = RecordChecker(pepper=b"test-pepper", villages={SANGUANZHAI})


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def test_pages_arrive_checked_in_order() -> None:
    tiny = TinyFeed([record(n) for n in range(1, 12)] + ["not an object"])
    with (
        serving(tiny) as url,
        PageStream(FeedJob(FeedClient(url, TOKEN), CHECKER, None, 5, None)) as pages,
    ):
        received = list(pages)
    assert [p.next_cursor for p in received] == ["5", "10", "12"]
    assert [len(p.good) for p in received] == [5, 5, 1]
    assert received[-1].bad[0].reason == "not_an_object"


def test_a_child_killed_mid_run_fails_the_run_without_hanging() -> None:
    tiny = TinyFeed([record(n) for n in range(1, 200)])
    with serving(tiny) as url:
        stream = PageStream(FeedJob(FeedClient(url, TOKEN), CHECKER, None, 1, None))
        with stream:
            pages = iter(stream)
            next(pages)
            before = children_of(os.getpid())
            assert len(before) == 1
            for pid in before:
                os.kill(pid, signal.SIGKILL)
            with pytest.raises(FeedUnavailable, match="子进程意外退出"):
                for _ in pages:
                    pass


def test_the_child_ends_when_the_sync_process_is_gone() -> None:
    """The child waits on a feed that never answers; its parent dies (its stdin closes)."""
    hanging = TinyFeed([record(1)], failures={"0": [503] * 1000})
    with serving(hanging) as url:
        client = FeedClient(url, TOKEN, max_attempts=1000, backoff_initial=0.2, backoff_max=0.2)
        child = subprocess.Popen(
            [sys.executable, "-m", "app.sync.pipeline"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert child.stdin is not None
        pickle.dump((client, CHECKER, None, 10, None), child.stdin)
        child.stdin.flush()
        deadline = time.monotonic() + 30
        while hanging.requests < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is None and hanging.requests >= 2  # busy retrying
        child.stdin.close()  # what the kernel does when the sync process dies
        assert child.wait(timeout=10) == 0


def test_a_child_that_hangs_fails_the_run_once_the_next_page_is_overdue() -> None:
    """The heartbeat kept the lease of a run whose child hung: the wait for the next page had
    no end."""
    tiny = TinyFeed([record(n) for n in range(1, 200)])
    failures: list[FeedUnavailable] = []
    with serving(tiny) as url:
        client = FeedClient(url, TOKEN, timeout=0.2, max_attempts=2, backoff_max=0.05)
        with PageStream(FeedJob(client, CHECKER, None, 1, None)) as stream:
            pages = iter(stream)
            next(pages)
            (child,) = children_of(os.getpid())
            os.kill(child, signal.SIGSTOP)  # hung

            def read_on() -> None:
                try:
                    for _ in pages:
                        pass
                except FeedUnavailable as exc:
                    failures.append(exc)

            reader = threading.Thread(target=read_on)
            reader.start()
            reader.join(timeout=120)
            gave_up = not reader.is_alive()
            os.kill(child, signal.SIGKILL)  # ends the wait of a reader that would not give up
            reader.join()
    assert gave_up
    assert len(failures) == 1 and "秒内没有交出下一页" in str(failures[0])
