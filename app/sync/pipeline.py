"""Fetching and checking the feed's pages in a child process while the sync stores them.

Parsing and checking a record costs about as much as storing it, and one Python process runs
one thing at a time; a child process (spawned: it shares no locks or connections with the
server) fetches page after page, checks each record and hands over the results through a
queue of at most two pages, so memory stays bounded however long the feed. The parent alone
writes to the database, so the cursor still moves only with the pages it stored.
"""

import multiprocessing
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from app.subsidies.schemas import PayoutIn
from app.sync.client import FeedClient, FeedError, FeedUnavailable
from app.sync.records import RecordChecker, Rejection

_FIELDS = attrgetter(*PayoutIn.__slots__)  # a tuple pickles far faster than a dataclass
_POLL_SECONDS = 1.0


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
    context = multiprocessing.get_context("spawn")
    pages: Any = context.Queue(maxsize=2)
    child = context.Process(
        target=_produce,
        args=(client, checker, cursor, page_size, max_pages, pages),
        name="lianyun-feed",
    )
    child.start()
    try:
        while True:
            item = _next(pages, child)
            if isinstance(item, BaseException):
                raise item
            cursor_after, has_more, fetched, good, bad = item
            yield CheckedPage(cursor_after, has_more, fetched, [PayoutIn(*g) for g in good], bad)
            if not has_more:
                return
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        pages.close()


def _next(pages: Any, child: Any) -> Any:
    while True:
        try:
            return pages.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if child.is_alive():
                continue
            try:  # what it handed over just before it exited
                return pages.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                return FeedUnavailable("读取一卡通数据的子进程意外退出，本次同步中止。")


def _produce(
    client: FeedClient,
    checker: RecordChecker,
    cursor: str | None,
    page_size: int,
    max_pages: int | None,
    pages: Any,
) -> None:
    fetched_pages = 0
    try:
        while True:
            page = client.fetch_page(cursor, page_size)
            fetched_pages += 1
            more = page.has_more and (max_pages is None or fetched_pages < max_pages)
            good: list[tuple[Any, ...]] = []
            bad: list[Rejection] = []
            for raw in page.records:
                result = checker.check(raw)
                if isinstance(result, Rejection):
                    bad.append(result)
                else:
                    good.append(_FIELDS(result))
            pages.put((page.next_cursor, more, len(page.records), good, bad))
            if not more:
                break
            cursor = page.next_cursor
    except FeedError as exc:
        pages.put(exc)
    finally:
        client.close()
        pages.close()
        pages.join_thread()  # the last page is handed over before the child exits
