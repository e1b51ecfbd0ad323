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
import subprocess
import sys
from collections.abc import Iterator
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
    """The child's work: each page, checked, pickled to `out`; then a FeedError, if any."""
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
            _send(out, (page.next_cursor, more, len(page.records), good, bad))
            if not more:
                return
            cursor = page.next_cursor
    except FeedError as exc:
        _send(out, exc)
    except BrokenPipeError:  # the parent is gone
        return
    except Exception as exc:  # reported by its kind only: no values
        _send(out, FeedUnavailable(f"检查一卡通数据时出错（{type(exc).__name__}），本次同步中止。"))
    finally:
        client.close()


def _send(out: IO[bytes], item: Any) -> None:
    pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


def main() -> None:
    client, checker, cursor, page_size, max_pages = pickle.load(sys.stdin.buffer)  # noqa: S301
    with contextlib.suppress(BrokenPipeError):  # the parent is gone
        produce(client, checker, cursor, page_size, max_pages, sys.stdout.buffer)


if __name__ == "__main__":
    main()
