"""Where the sync's checked pages come from.

A `PageSource` fetches the feed from a cursor and checks each record (app.sync.records), page
after page; the run stores what it yields. Two sources:
- `PageStream` (app.sync.pipeline): a child process fetches and checks while this process
  stores. The nightly run uses it: checking costs about as much as storing.
- `FeedPages` here: fetches and checks in the caller's thread, one page at a time. For tests
  and small feeds, where a child process costs more than it saves.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, Self

from app.subsidies.schemas import PayoutIn
from app.sync.client import FeedClient, FeedPage, cursor_key
from app.sync.records import RecordChecker, Rejection


@dataclass(frozen=True)
class CheckedPage:
    next_cursor: str
    has_more: bool
    fetched: int
    good: list[PayoutIn]
    bad: list[Rejection]


class PageSource(Protocol):
    """A context manager; iterate for the checked pages, up to the end of the feed or
    `max_pages`. A FeedError is raised from the iteration; leaving the context ends whatever
    the source started."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *_exc: object) -> None: ...

    def __iter__(self) -> Iterator[CheckedPage]: ...

    @property
    def ready(self) -> bool:
        """Whether the next page is here already (storing it will not wait for the feed)."""


class FeedJob(NamedTuple):
    """What a page source does: fetch the feed from `cursor` in pages of `page_size` (at most
    `max_pages` of them) and check each record with `checker`."""

    client: FeedClient
    checker: RecordChecker
    cursor: str | None
    page_size: int
    max_pages: int | None


PageSourceFactory = Callable[[FeedJob], PageSource]


def check_records(checker: RecordChecker, records: list[Any]) -> tuple[list[Any], list[Rejection]]:
    """A page's records checked: the good ones as plain tuples (they pickle far faster than
    named tuples), and the rejections."""
    good: list[tuple[Any, ...]] = []
    bad: list[Rejection] = []
    for raw in records:
        result = checker.check(raw)
        if isinstance(result, Rejection):
            bad.append(result)
        else:
            good.append(tuple(result))
    return good, bad


def is_last(page: FeedPage, pages_fetched: int, max_pages: int | None) -> bool:
    return not page.has_more or (max_pages is not None and pages_fetched >= max_pages)


class FeedPages:
    """The feed fetched and checked in this thread, a page when the run asks for it."""

    def __init__(self, job: FeedJob) -> None:
        self._job = job

    ready = False  # the next page is fetched when asked for

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass  # the client is the caller's

    def __iter__(self) -> Iterator[CheckedPage]:
        client, checker, cursor, page_size, max_pages = self._job
        visited = {cursor_key(cursor or "")}
        fetched_pages = 0
        while True:
            page = client.fetch_next_page(cursor, page_size, visited)
            fetched_pages += 1
            more = not is_last(page, fetched_pages, max_pages)
            good, bad = check_records(checker, page.records)
            yield CheckedPage(
                page.next_cursor, more, len(page.records), list(map(PayoutIn._make, good)), bad
            )
            if not more:
                return
            cursor = page.next_cursor
