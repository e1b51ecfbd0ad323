"""A page source (app.sync.pages) that fetches and checks the feed in a child process while
the sync stores the pages.

Parsing and checking a record costs about as much as storing it, and one Python process runs
one thing at a time. So a child process (`python -m app.sync.pipeline`: a fresh interpreter
that shares no locks or connections with the server and imports only what it needs) fetches
page after page, checks each record and hands the results over a pipe, one pickled page at a
time. The pipe's small buffer holds the child back while the parent stores, so memory stays
bounded however long the feed. Only the parent writes to the database, so the cursor still
moves only with the pages it stored.

The child writes nothing to stderr: a traceback could carry a record's values. Any failure of
its own ends the run as `FeedUnavailable` naming only the kind of error.
"""

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, Self

from app.subsidies.schemas import PayoutIn
from app.sync.client import FeedClient, FeedError, FeedUnavailable, cursor_key
from app.sync.pages import CheckedPage, FeedJob, check_records, is_last
from app.sync.records import RecordChecker

# Beyond the longest the client can take for a page: starting the child, checking the page and
# handing it over.
HANDOVER_SECONDS = 10.0


class PageStream:
    """The child process and what it hands over, as a context manager: iterate for the checked
    pages (a FeedError of the child is raised there); `ready` says whether the next page has
    arrived already. A reader thread unpickles the next page while the caller stores this one.
    A next page that has not come when the client must have given up on it (a hung child) is
    FeedUnavailable: the lease's heartbeat shows only that this process lives. Leaving the
    context, however it is left, ends the child."""

    def __init__(self, job: FeedJob) -> None:
        self._job = job
        self._page_wait = job.client.longest_page_seconds + HANDOVER_SECONDS
        self._pages: queue.Queue[CheckedPage | BaseException] = queue.Queue(maxsize=1)
        self._stopping = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        return not self._pages.empty()

    def __enter__(self) -> Self:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "app.sync.pipeline"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._child.stdin is not None  # noqa: S101 (PIPE given)
        # The token and the pepper go through the pipe, never on a command line. The pipe
        # stays open: the child ends itself when it closes (this process is gone).
        pickle.dump(self._job, self._child.stdin)
        self._child.stdin.flush()
        self._reader = threading.Thread(target=self._read, name="lianyun-feed-reader")
        self._reader.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        child = self._child
        if child is not None:
            if child.poll() is None:
                child.kill()
            child.wait()
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()
        if self._reader is not None:
            self._reader.join()

    def __iter__(self) -> Iterator[CheckedPage]:
        while True:
            try:
                item = self._pages.get(timeout=self._page_wait)
            except queue.Empty:
                raise FeedUnavailable(
                    f"读取一卡通数据的子进程 {self._page_wait:.0f} 秒内没有交出下一页（已卡住），"
                    "本次同步中止；下次同步从上次保存的位置继续。"
                ) from None
            if isinstance(item, BaseException):
                raise item
            yield item
            if not item.has_more:
                return

    def _read(self) -> None:
        assert self._child is not None and self._child.stdout is not None  # noqa: S101
        while not self._stopping.is_set():
            item: CheckedPage | BaseException
            try:
                received = pickle.load(self._child.stdout)  # noqa: S301 (our own child)
            except Exception:  # EOF, a torn pickle, a closed pipe: the child is gone
                received = FeedUnavailable("读取一卡通数据的子进程意外退出，本次同步中止。")
            if isinstance(received, BaseException):
                item = received
            else:
                after, more, fetched, good, bad = received
                item = CheckedPage(after, more, fetched, list(map(PayoutIn._make, good)), bad)
            _put(self._pages, item, give_up=self._stopping.is_set)
            if isinstance(item, BaseException) or not item.has_more:
                return


def produce(
    client: FeedClient,
    checker: RecordChecker,
    cursor: str | None,
    page_size: int,
    max_pages: int | None,
    out: IO[bytes],
) -> None:
    """The child's work: each page, checked, pickled to `out`; then a FeedError, if any. The
    next page is fetched, and the last one written, while this one is checked."""
    with _Writer(out) as send, ThreadPoolExecutor(1) as fetcher:
        try:
            # Only the fetcher's one thread, one page after the other, reads and adds to it.
            visited = {cursor_key(cursor or "")}
            upcoming = fetcher.submit(client.fetch_next_page, cursor, page_size, visited)
            fetched_pages = 0
            while True:
                page = upcoming.result()
                fetched_pages += 1
                more = not is_last(page, fetched_pages, max_pages)
                if more:
                    upcoming = fetcher.submit(
                        client.fetch_next_page, page.next_cursor, page_size, visited
                    )
                good, bad = check_records(checker, page.records)
                send((page.next_cursor, more, len(page.records), good, bad))
                if not more:
                    return
        except FeedError as exc:
            send(exc)
        except BrokenPipeError:  # the parent is gone
            return
        except Exception as exc:  # reported by its kind only: no values
            send(FeedUnavailable(f"检查一卡通数据时出错（{type(exc).__name__}），本次同步中止。"))
        finally:
            client.close()


class _Writer:
    """Writes pickled items to `out` from a thread of its own, up to two items behind, so that
    checking goes on while the parent is busy storing. A gone parent is a BrokenPipeError."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.items: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._run, name="lianyun-feed-writer")
        self.broken = False

    def _run(self) -> None:
        while (data := self.items.get()) is not None:
            try:
                self.out.write(data)
                self.out.flush()
            except BrokenPipeError:
                self.broken = True
                return

    def __call__(self, item: Any) -> None:
        data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        if not _put(self.items, data, give_up=lambda: self.broken):
            raise BrokenPipeError

    def __enter__(self) -> "_Writer":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        _put(self.items, None, give_up=lambda: not self.thread.is_alive())
        self.thread.join()


def _put(items: "queue.Queue[Any]", item: Any, *, give_up: Callable[[], bool]) -> bool:
    """Put `item`, waiting for room, unless `give_up()` turns true first; whether it was put."""
    while not give_up():
        try:
            items.put(item, timeout=0.5)
            return True
        except queue.Full:
            continue
    return False


def _end_with_parent() -> None:
    """The parent keeps our stdin open while it lives; at its end, end too (even mid-request)."""
    sys.stdin.buffer.read()
    os._exit(0)


def main() -> None:
    client, checker, cursor, page_size, max_pages = pickle.load(sys.stdin.buffer)  # noqa: S301
    threading.Thread(target=_end_with_parent, daemon=True).start()
    with contextlib.suppress(BrokenPipeError):  # the parent is gone
        produce(client, checker, cursor, page_size, max_pages, sys.stdout.buffer)


if __name__ == "__main__":
    main()
