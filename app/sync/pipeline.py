"""Fetching and checking the feed's pages in a child process while the sync stores them.

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
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from operator import attrgetter
from typing import IO, Any

from app.subsidies.schemas import PayoutIn
from app.sync.client import FeedClient, FeedError, FeedUnavailable
from app.sync.records import RecordChecker, Rejection

_FIELDS = attrgetter(*PayoutIn.__slots__)  # a tuple pickles far faster than a dataclass


@dataclass(frozen=True)
class CheckedPage:
    next_cursor: str
    has_more: bool
    fetched: int
    good: list[PayoutIn]
    bad: list[Rejection]


def checked_pages(
    client: FeedClient,
    checker: RecordChecker,
    cursor: str | None,
    page_size: int,
    max_pages: int | None,
) -> Iterator[CheckedPage]:
    """The feed's pages from `cursor`, checked; a FeedError of the child is raised here."""
    child = subprocess.Popen(
        [sys.executable, "-m", "app.sync.pipeline"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert child.stdin is not None and child.stdout is not None  # noqa: S101 (PIPE given)
    try:
        # The token and the pepper go through the pipe, never on a command line.
        pickle.dump((client, checker, cursor, page_size, max_pages), child.stdin)
        child.stdin.close()
        while True:
            try:
                item = pickle.load(child.stdout)  # noqa: S301 (our own child)
            except EOFError:
                raise FeedUnavailable("读取一卡通数据的子进程意外退出，本次同步中止。") from None
            if isinstance(item, BaseException):
                raise item
            cursor_after, has_more, fetched, good, bad = item
            yield CheckedPage(cursor_after, has_more, fetched, [PayoutIn(*g) for g in good], bad)
            if not has_more:
                return
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


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
            upcoming = fetcher.submit(client.fetch_page, cursor, page_size)
            fetched_pages = 0
            while True:
                page = upcoming.result()
                fetched_pages += 1
                more = page.has_more and (max_pages is None or fetched_pages < max_pages)
                if more:
                    upcoming = fetcher.submit(client.fetch_page, page.next_cursor, page_size)
                good: list[tuple[Any, ...]] = []
                bad: list[Rejection] = []
                for raw in page.records:
                    result = checker.check(raw)
                    if isinstance(result, Rejection):
                        bad.append(result)
                    else:
                        good.append(_FIELDS(result))
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
        while True:
            if self.broken:
                raise BrokenPipeError
            try:
                self.items.put(data, timeout=1.0)
                return
            except queue.Full:
                continue

    def __enter__(self) -> "_Writer":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        while self.thread.is_alive():
            try:
                self.items.put(None, timeout=1.0)
                break
            except queue.Full:
                continue
        self.thread.join()


def main() -> None:
    client, checker, cursor, page_size, max_pages = pickle.load(sys.stdin.buffer)  # noqa: S301
    with contextlib.suppress(BrokenPipeError):  # the parent is gone
        produce(client, checker, cursor, page_size, max_pages, sys.stdout.buffer)


if __name__ == "__main__":
    main()
