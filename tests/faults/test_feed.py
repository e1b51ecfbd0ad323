"""The sync against a platform that loops, lies, stalls or sends too much, over real HTTP on
127.0.0.1. Whatever it does, the run ends (never left `running`) with a Chinese reason, the
cursor stays after the last page stored, and the lease is free for the next run."""

import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from app.config import get_settings
from app.db.engines import session_scope
from app.subsidies.models import Payout
from app.sync import service, steps
from app.sync.client import FeedClient, FeedPageTooLarge
from app.sync.models import RejectedRecord, SyncCursor, SyncRun
from tests.faults.feed import Looping, Oversized, Trickling, gzip_page, gzipped, page, raw
from tests.sync.feed_server import TOKEN, Answer, TinyFeed, serving
from tests.sync.leases import acquire_lease, release_lease
from tests.sync.test_service import record

ATTEMPTS = 4


def feed_client(url: str, **options: Any) -> FeedClient:
    options = {"max_attempts": ATTEMPTS, "backoff_initial": 0.01, "backoff_max": 0.05, **options}
    return FeedClient(url, TOKEN, **options)


@pytest.fixture
def feed(committed_db: str) -> Iterator[tuple[TinyFeed, str]]:
    """Ten good records; a test puts its fault in `answers`, mostly at cursor "5" (after a
    first page of five is stored)."""
    tiny = TinyFeed([record(n) for n in range(1, 11)])
    with serving(tiny) as url:
        yield tiny, url


def sync(url: str, **options: Any) -> SyncRun:
    return service.run_sync(
        get_settings(), trigger="cli", client=feed_client(url, **options), page_size=5
    )


def assert_failed_cleanly(run: SyncRun, *, cursor: str, says: str) -> None:
    with session_scope()() as session:
        stored = session.get_one(SyncRun, run.id)
        saved = session.get_one(SyncCursor, steps.FEED).cursor
        lines = session.scalar(select(func.count()).select_from(Payout))
    assert stored.outcome == "failed" and stored.finished_at is not None
    assert stored.error is not None and says in stored.error, stored.error
    assert saved == cursor == stored.cursor_end
    assert lines == stored.created  # what the stored pages brought, no more
    assert acquire_lease("the-next-run")  # free
    release_lease("the-next-run")


# --- it loops ------------------------------------------------------------------------------


def test_a_page_that_keeps_its_own_cursor_is_asked_a_few_times_then_the_run_fails(
    feed: tuple[TinyFeed, str],
) -> None:
    tiny, url = feed
    tiny.answers["5"] = Looping("5")
    run = sync(url)
    assert_failed_cleanly(run, cursor="5", says="已经走过的游标")
    assert tiny.requests_at["5"] == ATTEMPTS
    assert run.created == 5


def test_a_cursor_that_cycles_fails_the_run(feed: tuple[TinyFeed, str]) -> None:
    tiny, url = feed
    tiny.records += [record(n) for n in range(11, 16)]
    tiny.answers["10"] = Looping("5")  # 0 → 5 → 10 → 5 → 10 …
    run = sync(url)
    assert_failed_cleanly(run, cursor="10", says="已经走过的游标")
    assert tiny.requests_at["5"] == 1 and tiny.requests_at["10"] == ATTEMPTS
    assert run.created == 10


def test_an_empty_last_page_that_keeps_its_cursor_is_the_end_not_a_loop(
    feed: tuple[TinyFeed, str],
) -> None:
    _, url = feed
    first = sync(url)
    again = sync(url)  # nothing new: the page at "10" is empty and leads to "10"
    assert (first.outcome, again.outcome) == ("succeeded", "succeeded")
    assert (again.cursor_start, again.cursor_end, again.fetched) == ("10", "10", 0)


# --- it lies -------------------------------------------------------------------------------


def test_the_same_version_with_other_content_is_quarantined_and_the_same_content_is_not(
    feed: tuple[TinyFeed, str],
) -> None:
    tiny, url = feed
    tiny.records += [record(3), record(4, amount="999.00")]  # within one run
    first = sync(url)
    tiny.records += [record(5), record(6, status="reversed")]  # on a later night
    second = sync(url)
    assert (first.outcome, second.outcome) == ("succeeded", "succeeded")
    assert (first.created, first.unchanged, first.rejected) == (10, 1, 1)
    assert (second.unchanged, second.rejected) == (1, 1)
    with session_scope()() as session:
        rejected = list(session.scalars(select(RejectedRecord).order_by(RejectedRecord.id)))
        kept = dict(session.execute(select(Payout.record_id, Payout.amount_fen)).all())
        statuses = set(session.scalars(select(Payout.status)))
    assert [(r.record_id, r.version, r.reason) for r in rejected] == [
        (record(4)["record_id"], 1, "version_conflict"),
        (record(6)["record_id"], 1, "version_conflict"),
    ]
    assert "内容却与先前收到的不同" in rejected[0].message
    assert rejected[0].payload["amount_fen"] == 99900  # the other truth, for staff to see
    assert set(kept.values()) == {14300} and statuses == {"paid"}  # the first truth stays


def test_has_more_without_a_next_cursor_fails_the_run(feed: tuple[TinyFeed, str]) -> None:
    tiny, url = feed
    tiny.answers["5"] = page([record(6)], None, True)
    run = sync(url)
    assert_failed_cleanly(run, cursor="5", says="缺少 records、next_cursor 或 has_more")
    assert tiny.requests_at["5"] == ATTEMPTS


def test_the_last_page_s_cursor_is_where_the_next_night_resumes(
    feed: tuple[TinyFeed, str],
) -> None:
    tiny, url = feed
    tiny.answers["5"] = page([record(6)], "6", False)  # says it is the end, names a cursor
    first = sync(url)
    del tiny.answers["5"]
    second = sync(url)
    assert (first.outcome, first.cursor_end, first.created) == ("succeeded", "6", 6)
    assert (second.cursor_start, second.created, second.outcome) == ("6", 4, "succeeded")


def test_malformed_json_is_retried_then_fails_the_run(feed: tuple[TinyFeed, str]) -> None:
    tiny, url = feed
    tiny.answers["5"] = raw(b'{"records": [{"record_id": "PC2026')
    run = sync(url)
    assert_failed_cleanly(run, cursor="5", says="不是完整的 JSON")
    assert tiny.requests_at["5"] == ATTEMPTS


@pytest.mark.parametrize(
    "answer",
    [
        page([record(6)], "6\u0000", True),
        raw(b'{"records": [], "next_cursor": "6\\ud800", "has_more": true}'),
        page([record(6)], "6" * 5000, True),
    ],
    ids=["nul", "lone-surrogate", "too-long"],
)
def test_a_cursor_the_database_cannot_keep_fails_the_run(
    feed: tuple[TinyFeed, str], answer: Answer
) -> None:
    """On PostgreSQL a NUL in a text column raised inside the page's transaction: the run was
    left `running`, and every later run crashed on the same page."""
    tiny, url = feed
    tiny.answers["5"] = answer
    run = sync(url)
    assert_failed_cleanly(run, cursor="5", says="游标")
    tiny.answers.clear()  # the platform mends it: the next run goes on from "5"
    assert sync(url).outcome == "succeeded"


# --- it stalls -----------------------------------------------------------------------------


def _trickling(times: int) -> Trickling:
    body = {"records": [record(n) for n in range(6, 11)], "next_cursor": "10", "has_more": False}
    # About 2.5 s for the whole body, though a chunk comes every 0.05 s.
    return Trickling(body, pause=0.05, step=len(str(body)) // 50, times=times)


def test_a_body_that_trickles_past_the_timeout_is_cut_off_and_fails_the_run(
    feed: tuple[TinyFeed, str],
) -> None:
    tiny, url = feed
    tiny.answers["5"] = _trickling(times=99)
    run = sync(url, timeout=0.5, max_attempts=2)
    assert_failed_cleanly(run, cursor="5", says="秒内读完")
    assert tiny.requests_at["5"] == 2


def test_a_body_that_trickled_once_is_asked_for_again(feed: tuple[TinyFeed, str]) -> None:
    tiny, url = feed
    tiny.answers["5"] = _trickling(times=1)
    run = sync(url, timeout=0.5)
    assert (run.outcome, run.created, tiny.requests_at["5"]) == ("succeeded", 10, 2)


# --- it sends too much ---------------------------------------------------------------------


@pytest.mark.parametrize("declare_length", [True, False], ids=["declared", "chunked"])
def test_a_page_past_the_size_cap_fails_the_run_without_being_read_whole(
    feed: tuple[TinyFeed, str], monkeypatch: pytest.MonkeyPatch, declare_length: bool
) -> None:
    tiny, url = feed
    huge = Oversized(32 * 1024 * 1024, declare_length=declare_length)
    tiny.answers["5"] = huge
    monkeypatch.setenv("LIANYUN_FEED_URL", url)
    monkeypatch.setenv("LIANYUN_FEED_TOKEN", TOKEN)
    monkeypatch.setenv("LIANYUN_FEED_MAX_PAGE_BYTES", str(1024 * 1024))
    get_settings.cache_clear()
    run = service.run_sync(get_settings(), trigger="cli", page_size=5)
    assert_failed_cleanly(run, cursor="5", says="超过了 1048576 字节的上限")
    assert tiny.requests_at["5"] == 1  # not asked again: it would only be as large
    assert huge.sent < huge.total // 4  # the client stopped reading


def test_a_gzip_bomb_is_not_inflated_past_the_size_cap(feed: tuple[TinyFeed, str]) -> None:
    """The cap counted decoded bytes after httpx had inflated a whole chunk: 64 KiB sent
    became about 64 MiB in memory before the check (now: about the cap)."""
    tiny, url = feed
    page_json = json.dumps({"records": [], "next_cursor": "5", "has_more": False}).encode()
    tiny.answers["5"] = gzip_page(gzipped(page_json, padding=256 * 1024 * 1024))
    cap = 1024 * 1024
    client = feed_client(url, max_page_bytes=cap, max_attempts=1)
    tracemalloc.start()
    try:
        with pytest.raises(FeedPageTooLarge, match="超过了 1048576 字节的上限"):
            client.fetch_page("5", 5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()
    assert peak < 8 * cap


def test_a_gzipped_page_is_read(feed: tuple[TinyFeed, str]) -> None:
    tiny, url = feed
    body = {"records": [record(n) for n in range(6, 11)], "next_cursor": "10", "has_more": False}
    tiny.answers["5"] = gzip_page(gzipped(json.dumps(body).encode(), padding=100_000))
    run = sync(url)
    assert (run.outcome, run.created, run.cursor_end) == ("succeeded", 10, "10")
